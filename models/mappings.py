from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at, updated_at


class TeamExternalGroupMapping(SQLModel, table=True):
    """An identity-provider group (Entra ID object id, Okta group name) mapped to a team."""

    __tablename__ = "team_external_group_mapping"
    __table_args__ = (
        UniqueConstraint("team_mrn", "external_id", name="uq_mapping_team_external_id"),
        Index("ix_mapping_org_external_id", "org_mrn", "external_id"),
    )

    mrn: str = Field(primary_key=True, max_length=500)
    team_mrn: str = Field(foreign_key="team.mrn", ondelete="CASCADE", index=True, max_length=400)
    org_mrn: str = Field(max_length=400)
    external_id: str = Field(max_length=400)
    created_by: str | None = Field(default=None, max_length=400)
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()
