from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at, updated_at


class User(SQLModel, table=True):
    """A person. Created at first sign-in; found by MRN (or, for convenience, by email)."""

    __tablename__ = "user_account"

    mrn: str = Field(primary_key=True, max_length=400)
    id: str = Field(max_length=64)
    email: str = Field(index=True, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()
