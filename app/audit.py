"""The audit trail: one row per change that decides access, written in the same transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEvent

#: The actor of changes made by sign-in sync.
LOGIN_HOOK = "login-hook"


def record(
    session: AsyncSession, *, actor: str, action: str, org_mrn: str | None = None,
    subject_mrn: str | None = None, target_mrn: str | None = None,
    mapping_mrn: str | None = None, claim: str | None = None, value: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(AuditEvent(
        actor=actor, action=action, org_mrn=org_mrn, subject_mrn=subject_mrn,
        target_mrn=target_mrn, mapping_mrn=mapping_mrn, claim=claim, value=value,
        details=json.dumps(details, sort_keys=True, default=str) if details else None,
    ))
