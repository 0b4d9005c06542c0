from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import created_at, updated_at


class Team(SQLModel, table=True):
    __tablename__ = "team"

    mrn: str = Field(primary_key=True, max_length=400)
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    description: str | None = None
    email: str | None = Field(default=None, max_length=320)
    scope_mrn: str = Field(foreign_key="scope.mrn", ondelete="CASCADE", index=True, max_length=400)
    org_mrn: str = Field(index=True, max_length=400)
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()


class TeamMember(SQLModel, table=True):
    """A user in a team, or a pending membership for an email with no account yet."""

    __tablename__ = "team_member"
    __table_args__ = (
        UniqueConstraint("team_mrn", "user_mrn", name="uq_team_member_user"),
        UniqueConstraint("team_mrn", "pending_email", name="uq_team_member_pending_email"),
        # Sign-in claims pending memberships by email: only the few pending rows are indexed.
        Index("ix_team_member_pending_email", "pending_email",
              postgresql_where=text("pending_email IS NOT NULL"),
              sqlite_where=text("pending_email IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_mrn: str = Field(foreign_key="team.mrn", ondelete="CASCADE", index=True, max_length=400)
    user_mrn: str | None = Field(
        default=None, foreign_key="user_account.mrn", ondelete="CASCADE", index=True,
        max_length=400,
    )
    pending_email: str | None = Field(default=None, max_length=320)
    #: Added by a person (addTeamMember) rather than by a claim mapping at sign-in.
    added_by_hand: bool = True
    created_at: datetime = created_at()


class TeamMemberGrant(SQLModel, table=True):
    """A mapping that justifies a membership: the claim value a sign-in matched."""

    __tablename__ = "team_member_grant"
    __table_args__ = (
        UniqueConstraint("member_id", "mapping_mrn", name="uq_member_grant_mapping"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="team_member.id", ondelete="CASCADE", index=True)
    mapping_mrn: str = Field(
        foreign_key="team_external_group_mapping.mrn", ondelete="CASCADE", index=True,
        max_length=500,
    )
    claim: str = Field(max_length=200)
    value: str = Field(max_length=400)
    created_at: datetime = created_at()
