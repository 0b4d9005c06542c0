"""Reading the audit trail: events of a scope, filtered, newest first, in pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select

from app.access import access_for, load_scope
from app.authz import Action
from app.db import Database
from app.errors import InvalidArgument
from app.listing import keyset_page
from app.mrn import ScopeKind, parse_scope
from app.pagination import Page
from app.principals import Principal
from app.validation import has_control_characters
from models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    actions: list[str] | None = None  # exact action names, e.g. team_member.sso_added
    actor: str | None = None
    subject_mrn: str | None = None
    target_mrn: str | None = None
    since: str | None = None  # RFC 3339
    until: str | None = None


def _instant(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.strip()).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(f"{field} {value!r} is not an RFC 3339 time "
                              "(2026-01-31T10:00:00Z)", field=field) from None
    if datetime.fromisoformat(value.strip()).tzinfo is None:
        raise InvalidArgument(f"{field} {value!r} needs a time zone (Z for UTC)", field=field)
    return dt


async def list_events(
    db: Database, principal: Principal, *, scope_mrn: str, filter: AuditFilter | None = None,
    first: int | None = None, after: str | None = None,
) -> Page[AuditEvent]:
    """An organization's events; for a space, the events about it and what lives in it."""
    ref = parse_scope(scope_mrn)
    f = filter or AuditFilter()
    for name, text_value in (("actor", f.actor), ("subjectMrn", f.subject_mrn),
                             ("targetMrn", f.target_mrn), *(("actions", a) for a in f.actions or [])):
        if text_value is not None and (len(text_value) > 500 or has_control_characters(text_value)):
            raise InvalidArgument(f"filter {name} {text_value!r} is not a valid value", field=name)
    since, until = _instant(f.since, "since"), _instant(f.until, "until")
    E = AuditEvent
    async with db.read() as session:
        access = await access_for(session, principal)
        scope = await load_scope(session, ref.mrn)
        access.require(Action.READ, scope, f"scope {ref.mrn} not found")
        stmt = select(E).where(E.org_mrn == scope.org_mrn)
        if ref.kind is not ScopeKind.ORGANIZATION:
            stmt = stmt.where(or_(E.target_mrn == ref.mrn,
                                  E.target_mrn.startswith(ref.mrn + "/", autoescape=True)))
        if f.actions:
            stmt = stmt.where(E.action.in_(f.actions))
        if f.actor:
            stmt = stmt.where(E.actor == f.actor)
        if f.subject_mrn:
            stmt = stmt.where(E.subject_mrn == f.subject_mrn)
        if f.target_mrn:
            stmt = stmt.where(E.target_mrn == f.target_mrn)
        if since:
            stmt = stmt.where(E.at >= since)
        if until:
            stmt = stmt.where(E.at < until)
        return await keyset_page(session, stmt, order=[E.id], first=first, after=after,
                                 key=lambda e: (e.id,), descending=True, row=lambda r: r[0])
