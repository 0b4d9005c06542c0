from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, false
from sqlmodel import Field, SQLModel

from models.base import created_at, updated_at


class User(SQLModel, table=True):
    """A person, as one organization's identity provider knows them.

    Created at first sign-in and identified by (organization, issuer, subject), never by
    email: each organization trusts only its own provider, so no organization can sign in
    as, rename or look up another organization's users.
    """

    __tablename__ = "user_account"
    __table_args__ = (
        UniqueConstraint("org_mrn", "issuer", "subject", name="uq_user_org_issuer_subject"),
    )

    mrn: str = Field(primary_key=True, max_length=400)
    id: str = Field(max_length=64)
    email: str = Field(index=True, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    #: The organization whose provider identified the user.
    org_mrn: str | None = Field(default=None, foreign_key="scope.mrn", ondelete="CASCADE",
                                index=True, max_length=400)
    #: The identity provider's issuer and the token's `sub`: who this user is.
    issuer: str | None = Field(default=None, max_length=400)
    subject: str | None = Field(default=None, max_length=255)
    #: Whether the identity provider said the email is verified (`email_verified: true`) at
    #: the last sign-in. Only verified emails ever name a user.
    email_verified: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()
