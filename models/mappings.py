from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at, updated_at


class TeamExternalGroupMapping(SQLModel, table=True):
    """An identity-provider group (Entra ID object id, Okta group name) mapped to a team."""

    __tablename__ = "team_external_group_mapping"
    __table_args__ = (
        UniqueConstraint("team_mrn", "claim", "external_id", name="uq_mapping_team_claim_value"),
        # Sign-in looks mappings up by (organization, claim, value): one indexed query.
        Index("ix_mapping_org_claim_value", "org_mrn", "claim", "external_id"),
    )

    mrn: str = Field(primary_key=True, max_length=500)
    team_mrn: str = Field(foreign_key="team.mrn", ondelete="CASCADE", index=True, max_length=400)
    org_mrn: str = Field(max_length=400)
    external_id: str = Field(max_length=400)
    #: The claim to read; "" means the provider's groups claim.
    claim: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    created_by: str | None = Field(default=None, max_length=400)
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()
