"""Bearer token -> principal: who is calling."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app import authz
from app.errors import Unauthenticated
from app.secrets import hash_secret
from models import APIToken, RoleBinding, Scope, TeamMember


@dataclass(frozen=True)
class Principal:
    """The caller of an operation."""

    mrn: str
    kind: str  # "api_token" | "user"
    #: An API token's organization: it never reaches any other organization's objects.
    home_org_mrn: str | None = None
    #: The roles bound to the caller, read with its credentials (``app.access.access_for``
    #: uses them for reads; a transaction reads them again).
    grants: authz.Grants | None = field(default=None, compare=False, hash=False)


def parse_authorization(header: str | None) -> str:
    if not header:
        raise Unauthenticated(
            "missing credentials: send 'Authorization: Bearer <API token>'"
        )
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("malformed Authorization header: expected 'Bearer <API token>'")
    return value.strip()


#: Roles bound to an identity, and to the teams it belongs to (built once: every operation
#: reads them).
GRANTS = union_all(
    select(RoleBinding.scope_mrn, RoleBinding.role).where(
        RoleBinding.identity_mrn == bindparam("identity")),
    select(RoleBinding.scope_mrn, RoleBinding.role)
    .join(TeamMember, TeamMember.team_mrn == RoleBinding.identity_mrn)
    .where(TeamMember.user_mrn == bindparam("identity")),
)

#: Built once: every API request runs it. The token and its roles in one statement (an API
#: token is bound roles directly; it is never a team member).
_TOKEN = (
    select(APIToken.mrn, Scope.org_mrn, RoleBinding.scope_mrn, RoleBinding.role)
    .join(Scope, Scope.mrn == APIToken.scope_mrn)
    .outerjoin(RoleBinding, RoleBinding.identity_mrn == APIToken.mrn)
    .where(APIToken.secret_hash == bindparam("secret_hash"))
)


async def principal_for_token(session: AsyncSession, secret: str) -> Principal:
    rows = (await session.execute(_TOKEN, {"secret_hash": hash_secret(secret)})).all()
    if not rows:
        raise Unauthenticated("invalid API token: it is unknown or was deleted")
    return Principal(mrn=rows[0].mrn, kind="api_token", home_org_mrn=rows[0].org_mrn,
                     grants=authz.grants_from((r.scope_mrn, r.role) for r in rows))
