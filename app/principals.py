"""Bearer token -> principal: who is calling."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.errors import Unauthenticated
from app.secrets import hash_secret
from models import APIToken, Scope


@dataclass(frozen=True)
class Principal:
    """The caller of an operation."""

    mrn: str
    kind: str  # "api_token" | "user"
    #: An API token's organization: it never reaches any other organization's objects.
    home_org_mrn: str | None = None


def parse_authorization(header: str | None) -> str:
    if not header:
        raise Unauthenticated(
            "missing credentials: send 'Authorization: Bearer <API token>'"
        )
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("malformed Authorization header: expected 'Bearer <API token>'")
    return value.strip()


#: Built once: every API request runs it (statement construction costs more than the lookup).
_TOKEN = (
    select(APIToken.mrn, Scope.org_mrn)
    .join(Scope, Scope.mrn == APIToken.scope_mrn)
    .where(APIToken.secret_hash == bindparam("secret_hash"))
)


async def principal_for_token(session: AsyncSession, secret: str) -> Principal:
    row = (await session.execute(_TOKEN, {"secret_hash": hash_secret(secret)})).first()
    if row is None:
        raise Unauthenticated("invalid API token: it is unknown or was deleted")
    return Principal(mrn=row.mrn, kind="api_token", home_org_mrn=row.org_mrn)
