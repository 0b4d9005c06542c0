"""The audit trail: one row per change that decides access, written in the same transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import now
from app.db import Executor
from models import AuditEvent

#: The actor of changes made by sign-in sync.
LOGIN_HOOK = "login-hook"


def event(
    *, actor: str, action: str, org_mrn: str | None = None, subject_mrn: str | None = None,
    target_mrn: str | None = None, mapping_mrn: str | None = None, claim: str | None = None,
    value: str | None = None, details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row, as column values."""
    return {
        "at": now(), "actor": actor, "action": action, "org_mrn": org_mrn,
        "subject_mrn": subject_mrn, "target_mrn": target_mrn, "mapping_mrn": mapping_mrn,
        "claim": claim, "value": value,
        "details": json.dumps(details, sort_keys=True, default=str) if details else None,
    }


def record(session: AsyncSession, **fields: Any) -> None:
    """Add one audit row to the session (written with the transaction's next flush).

    Takes the keyword arguments of :func:`event`.
    """
    session.add(AuditEvent(**event(**fields)))


_INSERT = insert(AuditEvent)


async def record_many(session: Executor, events: list[dict[str, Any]]) -> None:
    """Write many audit rows (from :func:`event`) now, in one executemany statement. One batch
    is one change: its rows carry one instant."""
    if events:
        at = now()
        await session.execute(_INSERT, [{**e, "at": at} for e in events])
