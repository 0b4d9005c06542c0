from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from models.base import created_at


class AuditEvent(SQLModel, table=True):
    """Something that changed who has access, with who or what caused it."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at()
    #: Who acted: an API token or user MRN, or "login-hook" for sign-in sync.
    actor: str = Field(max_length=500)
    action: str = Field(max_length=64, index=True)
    org_mrn: str | None = Field(default=None, max_length=400, index=True)
    #: The user (or other identity) the change is about.
    subject_mrn: str | None = Field(default=None, max_length=500, index=True)
    #: The team (or other object) changed.
    target_mrn: str | None = Field(default=None, max_length=500)
    mapping_mrn: str | None = Field(default=None, max_length=500)
    claim: str | None = Field(default=None, max_length=200)
    value: str | None = Field(default=None, max_length=400)
    details: str | None = Field(default=None, sa_type=Text)  # JSON
