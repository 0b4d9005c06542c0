"""Sign-in configuration and what it produces: providers, viewer, forced logout, access summary."""

from __future__ import annotations

from enum import Enum

import strawberry

from app import users
from app.clock import rfc3339
from app.login import providers
from models import OidcProvider as ProviderRow
from resolvers.context import Info
from resolvers.types import role_mrn

MissingClaimPolicy = strawberry.enum(providers.MissingClaimPolicy,
                                     description="What a sign-in does when the groups claim is absent.")


@strawberry.input
class SetOidcProviderInput:
    org_mrn: str
    issuer: str = strawberry.field(description="Exactly the `iss` of the provider's ID tokens.")
    audience: str = strawberry.field(description="The client id the ID tokens are issued to.")
    groups_claim: str = "groups"
    jwks_uri: str | None = strawberry.field(
        default=None, description="Default: from {issuer}/.well-known/openid-configuration.")
    missing_claim: MissingClaimPolicy = MissingClaimPolicy.FAIL


@strawberry.type
class OidcProvider:
    org_mrn: str
    issuer: str
    audience: str
    groups_claim: str
    jwks_uri: str | None
    missing_claim: MissingClaimPolicy
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: ProviderRow) -> OidcProvider:
        return cls(org_mrn=row.org_mrn, issuer=row.issuer, audience=row.audience,
                   groups_claim=row.groups_claim, jwks_uri=row.jwks_uri,
                   missing_claim=providers.MissingClaimPolicy(row.missing_claim),
                   created_at=rfc3339(row.created_at), updated_at=rfc3339(row.updated_at))


@strawberry.type
class ViewerTeam:
    mrn: str
    name: str


@strawberry.type
class Viewer:
    mrn: str
    email: str | None
    name: str | None
    teams: list[ViewerTeam]


class _AccessSourceKind(Enum):
    DIRECT = "DIRECT"
    TEAM_MANUAL = "TEAM_MANUAL"
    TEAM_MAPPING = "TEAM_MAPPING"


AccessSourceKind = strawberry.enum(
    _AccessSourceKind,
    name="AccessSourceKind",
    description="DIRECT: bound to the user; TEAM_MANUAL: through a team the user was added to "
    "by hand; TEAM_MAPPING: through a team a mapping put the user in at sign-in.",
)


@strawberry.type
class AccessSource:
    role: str
    scope_mrn: str = strawberry.field(description="Where the role is bound.")
    kind: AccessSourceKind
    team_mrn: str | None
    mapping_mrn: str | None
    claim: str | None = strawberry.field(description="Null: the provider's groups claim.")
    value: str | None


@strawberry.type
class ScopeAccess:
    scope_mrn: str
    org_mrn: str
    roles: list[str] = strawberry.field(description="Roles in force here, most privileged first.")
    in_force: str | None = strawberry.field(
        description="The highest privilege among them: the one that decides.")
    sources: list[AccessSource]


@strawberry.type
class AccessSummary:
    user_mrn: str
    email: str | None
    name: str | None
    scopes: list[ScopeAccess]


async def set_oidc_provider(info: Info, input: SetOidcProviderInput) -> OidcProvider:
    row = await providers.set_provider(
        info.context.db, await info.context.principal(), org_mrn=input.org_mrn,
        issuer=input.issuer, audience=input.audience, groups_claim=input.groups_claim,
        jwks_uri=input.jwks_uri, missing_claim=providers.MissingClaimPolicy(input.missing_claim.value),
    )
    return OidcProvider.of(row)


async def oidc_provider(info: Info, org_mrn: str) -> OidcProvider | None:
    row = await providers.get_provider(info.context.db, await info.context.principal(),
                                       org_mrn=org_mrn)
    return OidcProvider.of(row) if row else None


async def remove_oidc_provider(info: Info, org_mrn: str) -> bool:
    return await providers.remove_provider(info.context.db, await info.context.principal(),
                                           org_mrn=org_mrn)


async def viewer(info: Info) -> Viewer | None:
    v = await users.viewer(info.context.db, await info.context.principal())
    if v is None:
        return None
    return Viewer(mrn=v.mrn, email=v.email, name=v.name,
                  teams=[ViewerTeam(mrn=t.mrn, name=t.name) for t in v.teams])


async def force_logout(info: Info, user_mrn: str) -> int:
    return await users.force_logout(info.context.db, await info.context.principal(),
                                    user_mrn=user_mrn)


async def access_summary(info: Info, user_mrn: str) -> AccessSummary:
    s = await users.access_summary(info.context.db, await info.context.principal(),
                                   user_mrn=user_mrn)
    return AccessSummary(
        user_mrn=s.user_mrn, email=s.email, name=s.name,
        scopes=[ScopeAccess(
            scope_mrn=a.scope_mrn, org_mrn=a.org_mrn, roles=[role_mrn(r) for r in a.roles],
            in_force=role_mrn(a.in_force),
            sources=[AccessSource(role=role_mrn(src.role), scope_mrn=src.scope_mrn,
                                  kind=AccessSourceKind[src.kind], team_mrn=src.team_mrn,
                                  mapping_mrn=src.mapping_mrn, claim=src.claim, value=src.value)
                     for src in a.sources],
        ) for a in s.scopes],
    )
