"""GraphQL output types and the functions that map service results onto them."""

from __future__ import annotations

import strawberry

from app import bindings, members, roles, scopes
from app.clock import rfc3339
from app.tokens import IssuedToken
from models import Scope
from models import Team as TeamRow
from models import TeamExternalGroupMapping as MappingRow


def role_mrns(names: list[str]) -> list[str]:
    return [roles.CATALOGUE[n].mrn for n in names]


def role_mrn(name: str | None) -> str | None:
    """A role's MRN from its short name (None stays None)."""
    return roles.CATALOGUE[name].mrn if name else None


@strawberry.type
class Team:
    id: str
    mrn: str
    name: str
    description: str | None
    email: str | None
    scope_mrn: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: TeamRow) -> Team:
        return cls(
            id=row.id, mrn=row.mrn, name=row.name, description=row.description, email=row.email,
            scope_mrn=row.scope_mrn, created_at=rfc3339(row.created_at),
            updated_at=rfc3339(row.updated_at),
        )


@strawberry.type
class TeamExternalGroupMapping:
    mrn: str
    team: Team
    external_id: str
    claim: str | None = strawberry.field(description="Null: the provider's groups claim.")
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: MappingRow, team: TeamRow) -> TeamExternalGroupMapping:
        return cls(mrn=row.mrn, team=Team.of(team), external_id=row.external_id,
                   claim=row.claim or None,
                   created_at=rfc3339(row.created_at), updated_at=rfc3339(row.updated_at))


@strawberry.type
class SetRolesPayload:
    mrns: list[str]
    identity_mrn: str | None = strawberry.field(
        name="identity_mrn", description="The first identity whose roles were set."
    )


@strawberry.type
class GetRolesPayload:
    identity_mrn: str
    identity_email: str | None
    scope_mrn: str
    roles: list[str]

    @classmethod
    def of(cls, r: bindings.RolesOnScope) -> GetRolesPayload:
        return cls(identity_mrn=r.identity_mrn, identity_email=r.identity_email,
                   scope_mrn=r.scope_mrn, roles=role_mrns(r.roles))


@strawberry.type(description="Where one effective role comes from.")
class RoleSource:
    role: str
    scope_mrn: str = strawberry.field(description="The scope the role is bound on.")
    via_mrn: str = strawberry.field(
        description="The identity the role is bound to: the identity asked about, or its team."
    )
    inherited: bool = strawberry.field(
        description="True when bound on a scope above the one asked about."
    )


@strawberry.type
class EffectiveRoles:
    identity_mrn: str
    scope_mrn: str
    roles: list[str] = strawberry.field(description="Role MRNs, most privileged first.")
    sources: list[RoleSource]

    @classmethod
    def of(cls, r: bindings.EffectiveRoles) -> EffectiveRoles:
        return cls(
            identity_mrn=r.identity_mrn, scope_mrn=r.scope_mrn, roles=role_mrns(r.roles),
            sources=[RoleSource(role=roles.CATALOGUE[s.role].mrn, scope_mrn=s.scope_mrn,
                                via_mrn=s.via_mrn, inherited=s.inherited) for s in r.sources],
        )


@strawberry.type
class AddTeamMemberPayload:
    created_pending: bool
    member_mrn: str | None


@strawberry.type
class RemoveTeamMemberPayload:
    member_mrn: str | None


@strawberry.type
class TeamMember:
    mrn: str | None
    email: str
    name: str | None

    @classmethod
    def of(cls, m: members.MemberView) -> TeamMember:
        return cls(mrn=m.mrn, email=m.email, name=m.name)


@strawberry.type
class APIToken:
    mrn: str
    name: str
    description: str | None
    scope_mrn: str
    roles: list[str]
    created_at: str
    secret: str | None = strawberry.field(
        description="The token itself: only in generateAPIToken's answer, never again."
    )

    @classmethod
    def of(cls, t: IssuedToken) -> APIToken:
        return cls(mrn=t.token.mrn, name=t.token.name, description=t.token.description,
                   scope_mrn=t.token.scope_mrn, roles=role_mrns(t.roles),
                   created_at=rfc3339(t.token.created_at), secret=t.secret)


@strawberry.interface
class ScopeFields:
    id: str
    mrn: str
    name: str
    description: str | None
    created_at: str
    updated_at: str


def _scope_fields(row: Scope) -> dict:
    return dict(id=row.id, mrn=row.mrn, name=row.name, description=row.description,
                created_at=rfc3339(row.created_at), updated_at=rfc3339(row.updated_at))


@strawberry.type
class Workspace(ScopeFields):
    space_mrn: str
    owner_mrn: str = strawberry.field(description="The space the workspace belongs to.")

    @classmethod
    def of(cls, row: Scope) -> Workspace:
        return cls(**_scope_fields(row), space_mrn=row.space_mrn or "",
                   owner_mrn=row.space_mrn or "")


@strawberry.type
class Space(ScopeFields):
    org_mrn: str

    @classmethod
    def of(cls, row: Scope) -> Space:
        return cls(**_scope_fields(row), org_mrn=row.org_mrn or "")

    @strawberry.field(description="The workspaces of this space.")
    async def workspaces(self, info: strawberry.Info) -> list[Workspace]:
        ctx = info.context
        rows = await scopes.list_children(ctx.db, await ctx.principal(), self.mrn)
        return [Workspace.of(r) for r in rows]


@strawberry.type
class Organization(ScopeFields):
    @classmethod
    def of(cls, row: Scope) -> Organization:
        return cls(**_scope_fields(row))

    @strawberry.field(description="The spaces of this organization.")
    async def spaces(self, info: strawberry.Info) -> list[Space]:
        ctx = info.context
        rows = await scopes.list_children(ctx.db, await ctx.principal(), self.mrn)
        return [Space.of(r) for r in rows]
