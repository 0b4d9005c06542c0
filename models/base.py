"""Column helpers shared by the tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field

from app.clock import now


def created_at() -> datetime:
    return Field(default_factory=now, sa_type=DateTime(timezone=True), nullable=False)


def updated_at() -> datetime:
    return Field(default_factory=now, sa_type=DateTime(timezone=True), nullable=False)
