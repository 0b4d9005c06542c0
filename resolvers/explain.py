"""Dry runs: explainAccess and previewMappingChange."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON

from app.login import explain
from resolvers.context import Info
from resolvers.types import role_mrn


@strawberry.enum(description="Why a value that looks right does not match.")
class NearMissKind(Enum):
    CASE_OR_SPACE = "CASE_OR_SPACE"
    DISPLAY_NAME_FOR_OBJECT_ID = "DISPLAY_NAME_FOR_OBJECT_ID"
    UNREAD_CLAIM = "UNREAD_CLAIM"


@strawberry.enum
class SignInOutcome(Enum):
    SIGN_IN = "SIGN_IN"
    REFUSED = "REFUSED"


@strawberry.enum
class MappingChangeAction(Enum):
    ADD = "ADD"
    REMOVE = "REMOVE"


@strawberry.type
class MappingMatch:
    mapping_mrn: str
    team_mrn: str
    claim: str | None = strawberry.field(description="Null: the provider's groups claim.")
    value: str


@strawberry.type
class MembershipRemoval:
    team_mrn: str
    mapping_mrn: str


@strawberry.type
class NearMiss:
    kind: NearMissKind
    message: str
    claim: str | None
    value: str | None
    mapping_mrn: str | None


@strawberry.type
class ExplainedRoleSource:
    role: str
    scope_mrn: str
    via_mrn: str


@strawberry.type
class ExplainedScope:
    scope_mrn: str
    roles: list[str]
    in_force: str | None
    sources: list[ExplainedRoleSource]


@strawberry.type
class AccessExplanation:
    org_mrn: str
    user_mrn: str | None = strawberry.field(
        description="The existing user these claims name (issuer and sub), if any.")
    outcome: SignInOutcome
    refusal: str | None
    matched_mappings: list[MappingMatch]
    teams: list[str] = strawberry.field(description="Teams the user would be in after sign-in.")
    would_add: list[MappingMatch]
    would_remove: list[MembershipRemoval]
    scopes: list[ExplainedScope]
    near_misses: list[NearMiss]


@strawberry.input
class PreviewMappingChangeInput:
    action: MappingChangeAction
    team_mrn: str | None = None
    external_id: str | None = None
    claim: str | None = None
    mapping_mrn: str | None = None


@strawberry.type
class MappingChangePreview:
    team_mrn: str
    users_gaining: int
    users_losing: int
    gaining: list[str] = strawberry.field(description="Up to 100 user MRNs.")
    losing: list[str] = strawberry.field(description="Up to 100 user MRNs.")


def _match(m) -> MappingMatch:
    return MappingMatch(mapping_mrn=m.mapping_mrn, team_mrn=m.team_mrn, claim=m.claim or None,
                        value=m.value)


async def explain_access(info: Info, org_mrn: str, claims: JSON | None = None,
                         id_token: str | None = None) -> AccessExplanation:
    ctx = info.context
    e = await explain.explain_access(ctx.db, ctx.services.idp_keys, await ctx.principal(),
                                     org_mrn=org_mrn, claims=claims, id_token=id_token)
    return AccessExplanation(
        org_mrn=e.org_mrn, user_mrn=e.user_mrn, outcome=SignInOutcome(e.outcome),
        refusal=e.refusal, matched_mappings=[_match(m) for m in e.matched], teams=e.teams,
        would_add=[_match(m) for m in e.would_add],
        would_remove=[MembershipRemoval(team_mrn=t, mapping_mrn=m) for t, m in e.would_remove],
        scopes=[ExplainedScope(
            scope_mrn=s.scope_mrn, roles=[role_mrn(r) for r in s.roles], in_force=role_mrn(s.in_force),
            sources=[ExplainedRoleSource(role=role_mrn(x.role), scope_mrn=x.scope_mrn,
                                         via_mrn=x.via_mrn) for x in s.sources],
        ) for s in e.scopes],
        near_misses=[NearMiss(kind=NearMissKind(n.kind), message=n.message, claim=n.claim,
                              value=n.value, mapping_mrn=n.mapping_mrn) for n in e.near_misses],
    )


async def preview_mapping_change(info: Info, input: PreviewMappingChangeInput
                                 ) -> MappingChangePreview:
    p = await explain.preview_mapping_change(
        info.context.db, await info.context.principal(), action=input.action.value,
        team_mrn=input.team_mrn, external_id=input.external_id, claim=input.claim,
        mapping_mrn=input.mapping_mrn,
    )
    return MappingChangePreview(team_mrn=p.team_mrn, users_gaining=p.users_gaining,
                                users_losing=p.users_losing, gaining=p.gaining, losing=p.losing)
