"""Time in one place: UTC now, and RFC 3339 output."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(dt: datetime) -> str:
    """Format as RFC 3339 in UTC. SQLite hands back naive datetimes: they are UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_utc(dt: datetime) -> datetime:
    """An aware UTC datetime, whichever way the database handed it back."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
