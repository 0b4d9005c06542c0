from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at, updated_at


class OidcProvider(SQLModel, table=True):
    """An organization's identity provider: whose ID tokens it accepts, and how it reads them."""

    __tablename__ = "oidc_provider"
    __table_args__ = (UniqueConstraint("issuer", "audience", name="uq_oidc_issuer_audience"),)

    org_mrn: str = Field(primary_key=True, foreign_key="scope.mrn", ondelete="CASCADE",
                         max_length=400)
    issuer: str = Field(max_length=400, index=True)
    audience: str = Field(max_length=400)
    groups_claim: str = Field(default="groups", max_length=200)
    jwks_uri: str | None = Field(default=None, max_length=1000)
    missing_claim: str = Field(default="FAIL", max_length=10)
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()


class LoginClaims(SQLModel, table=True):
    """The claim values of a user's last sign-in to an organization (bounded)."""

    __tablename__ = "login_claims"

    user_mrn: str = Field(primary_key=True, foreign_key="user_account.mrn", ondelete="CASCADE",
                          max_length=400)
    org_mrn: str = Field(primary_key=True, foreign_key="scope.mrn", ondelete="CASCADE",
                         max_length=400)
    claims: str = Field(sa_type=Text)  # JSON: {claim: [values]}; "" is the groups claim
    signed_in_at: datetime = created_at()


class LoginSession(SQLModel, table=True):
    """A signed-in session: access tokens name it, and revoking it ends them all."""

    __tablename__ = "login_session"

    id: str = Field(primary_key=True, max_length=64)
    user_mrn: str = Field(foreign_key="user_account.mrn", ondelete="CASCADE", index=True,
                          max_length=400)
    org_mrn: str = Field(foreign_key="scope.mrn", ondelete="CASCADE", max_length=400)
    created_at: datetime = created_at()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class SigningKey(SQLModel, table=True):
    """A key pair teamclaims signs its access tokens with."""

    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    private_pem: str = Field(sa_type=Text)
    public_jwk: str = Field(sa_type=Text)
    created_at: datetime = created_at()
