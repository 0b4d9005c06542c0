from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at, updated_at


class Scope(SQLModel, table=True):
    """The platform, an organization, a space or a workspace.

    ``org_mrn`` and ``space_mrn`` are the scope's ancestors (or itself), so the
    chain a binding is inherited along is read from one row.
    """

    __tablename__ = "scope"

    mrn: str = Field(primary_key=True, max_length=400)
    kind: str = Field(max_length=20)
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    description: str | None = None
    parent_mrn: str | None = Field(
        default=None, foreign_key="scope.mrn", ondelete="CASCADE", index=True, max_length=400
    )
    org_mrn: str | None = Field(default=None, index=True, max_length=400)
    space_mrn: str | None = Field(default=None, max_length=400)
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()
