from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at


class RoleBinding(SQLModel, table=True):
    """One role of one identity (user, team or API token) on one scope."""

    __tablename__ = "role_binding"
    __table_args__ = (
        UniqueConstraint("scope_mrn", "identity_mrn", "role", name="uq_role_binding"),
    )

    id: int | None = Field(default=None, primary_key=True)
    scope_mrn: str = Field(foreign_key="scope.mrn", ondelete="CASCADE", index=True, max_length=400)
    identity_mrn: str = Field(index=True, max_length=400)
    role: str = Field(max_length=64)
    created_at: datetime = created_at()


class APIToken(SQLModel, table=True):
    """An API token: an identity of an organization or space. Only a hash of its secret is kept."""

    __tablename__ = "api_token"

    mrn: str = Field(primary_key=True, max_length=500)
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    description: str | None = None
    scope_mrn: str = Field(foreign_key="scope.mrn", ondelete="CASCADE", index=True, max_length=400)
    secret_hash: str = Field(unique=True, max_length=128)
    created_by: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at()
