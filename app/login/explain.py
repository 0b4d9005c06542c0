"""Dry runs: what a sign-in would do for given claims, and what a mapping change would do.

explain_access runs the same claim rules and the same decision as a real sign-in
(``read_claims``, ``decide_sync``) and writes nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import access_for, chain_of, load_scope
from app.authz import Action, ScopeRoles, roles_by_scope
from app.db import Database
from app.errors import AppError, InvalidArgument, NotFound
from app.login import claims as claim_rules
from app.login.exchange import decide_sync, read_claims, verify
from app.login.jwks import KeyCache
from app.login.providers import MissingClaimPolicy
from app.login.sync import Match
from app.mappings import check_claim
from app.mrn import ScopeKind, parse_scope, parse_team
from app.principals import Principal
from app.validation import check_external_id
from models import (
    LoginClaims,
    OidcProvider,
    RoleBinding,
    Scope,
    Team,
    TeamExternalGroupMapping,
    TeamMember,
    TeamMemberGrant,
    User,
)

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: Users listed by name in a preview (the counts are always complete).
PREVIEW_SAMPLE = 100


@dataclass(frozen=True)
class NearMiss:
    kind: str  # CASE_OR_SPACE | DISPLAY_NAME_FOR_OBJECT_ID | UNREAD_CLAIM
    message: str
    claim: str | None = None
    value: str | None = None
    mapping_mrn: str | None = None


@dataclass(frozen=True)
class RoleFrom:
    role: str
    scope_mrn: str
    via_mrn: str  # the user or the team the role is bound to


@dataclass
class Explanation:
    org_mrn: str
    user_mrn: str | None  # the existing user the claims name, if any
    outcome: str  # "SIGN_IN" | "REFUSED"
    refusal: str | None
    matched: list[Match] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)  # teams the user would be in
    would_add: list[Match] = field(default_factory=list)
    would_remove: list[tuple[str, str]] = field(default_factory=list)  # (team, mapping)
    scopes: list[ScopeRoles[RoleFrom]] = field(default_factory=list)
    near_misses: list[NearMiss] = field(default_factory=list)


def _org(org_mrn: str):
    ref = parse_scope(org_mrn, field="orgMrn")
    if ref.kind is not ScopeKind.ORGANIZATION:
        raise InvalidArgument(f"orgMrn {org_mrn!r} must be an organization MRN", field="orgMrn")
    return ref


async def explain_access(
    db: Database, keys: KeyCache, principal: Principal, *, org_mrn: str,
    claims: dict[str, Any] | None = None, id_token: str | None = None,
) -> Explanation:
    ref = _org(org_mrn)
    if (claims is None) == (id_token is None):
        raise InvalidArgument("give exactly one of claims and idToken", field="claims")
    async with db.read() as session:
        access = await access_for(session, principal)
        access.require(Action.MANAGE_TEAMS, await load_scope(session, ref.mrn),
                       f"organization {ref.mrn} not found")
        provider = await session.get(OidcProvider, ref.mrn)
    if id_token is not None:
        verified = await verify(db, keys, id_token)  # exactly the sign-in's validation
        if verified.provider.org_mrn != ref.mrn:
            raise InvalidArgument("this ID token is for another organization's provider",
                                  field="idToken")
        claims = verified.claims
    if not isinstance(claims, dict):
        raise InvalidArgument("claims must be a JSON object, as in an ID token's payload",
                              field="claims")
    groups_claim = provider.groups_claim if provider else "groups"
    policy = MissingClaimPolicy(provider.missing_claim) if provider else MissingClaimPolicy.FAIL
    async with db.read() as session:
        user_mrn = None
        if provider is not None and isinstance(claims.get("sub"), str):
            user_mrn = (await session.execute(select(User.mrn).where(
                User.org_mrn == ref.mrn, User.issuer == provider.issuer,
                User.subject == claims["sub"]))).scalar()
        mappings = (await session.execute(
            select(TeamExternalGroupMapping).where(TeamExternalGroupMapping.org_mrn == ref.mrn)
        )).scalars().all()
        try:
            reading = read_claims(claims, groups_claim=groups_claim, missing_claim=policy)
        except AppError as refused:
            out = Explanation(ref.mrn, user_mrn, "REFUSED", refused.message)
            out.near_misses = near_misses(claims, groups_claim, mappings,
                                          claim_rules.extract(claims, groups_claim))
            return out
        decision = await decide_sync(session, user_mrn=user_mrn, org_mrn=ref.mrn, reading=reading)
        out = Explanation(ref.mrn, user_mrn, "SIGN_IN", None, matched=decision.matches,
                          would_add=decision.plan.add_grants,
                          would_remove=decision.plan.remove_grants)
        current = {h.team_mrn for h in decision.held}
        if reading.keep:
            teams = current
        else:
            manual = {h.team_mrn for h in decision.held if h.added_by_hand}
            teams = manual | {m.team_mrn for m in decision.matches}
        out.teams = sorted(teams)
        out.scopes = await _roles(session, ref.mrn, user_mrn, out.teams)
        out.near_misses = near_misses(claims, groups_claim, mappings, reading.values)
        return out


async def _roles(session: AsyncSession, org_mrn: str, user_mrn: str | None,
                 teams: list[str]) -> list[ScopeRoles[RoleFrom]]:
    """Roles in the organization only: nothing bound elsewhere is shown."""
    identities = list(teams) + ([user_mrn] if user_mrn else [])
    if not identities:
        return []
    rows = (await session.execute(
        select(RoleBinding.scope_mrn, RoleBinding.role, RoleBinding.identity_mrn)
        .join(Scope, Scope.mrn == RoleBinding.scope_mrn)
        .where(RoleBinding.identity_mrn.in_(identities), Scope.org_mrn == org_mrn)
    )).all()
    scopes = {s.mrn: s for s in (await session.execute(
        select(Scope).where(Scope.mrn.in_({r[0] for r in rows} or {""})))).scalars()}
    by_scope: dict[str, list[RoleFrom]] = {}
    for scope_mrn, role, via in rows:
        by_scope.setdefault(scope_mrn, []).append(RoleFrom(role, scope_mrn, via))
    return roles_by_scope(by_scope, {m: chain_of(scopes[m]) for m in by_scope},
                          lambda src: src.role)


def near_misses(claims: dict[str, Any], groups_claim: str,
                mappings: list[TeamExternalGroupMapping],
                values: claim_rules.ClaimValues) -> list[NearMiss]:
    """What silently fails elsewhere: almost-matches and values nobody reads. Pure."""
    out: list[NearMiss] = []
    exact = {(m.claim, m.external_id) for m in mappings}
    read_claims_ = {m.claim for m in mappings}
    by_folded: dict[tuple[str, str], list[TeamExternalGroupMapping]] = {}
    for m in mappings:
        by_folded.setdefault((m.claim, m.external_id.strip().casefold()), []).append(m)
    for claim, value in sorted(values.pairs):
        if (claim, value) in exact:
            continue
        for m in by_folded.get((claim, value.strip().casefold()), []):
            out.append(NearMiss(
                "CASE_OR_SPACE",
                f"{_claim_label(claim, groups_claim)} value {value!r} differs from mapping "
                f"{m.mrn}'s {m.external_id!r} only in case or surrounding spaces; matching is "
                "exact, so it does not match",
                claim or groups_claim, value, m.mrn))
    group_values = [v for c, v in values.pairs if c == claim_rules.GROUPS]
    if group_values and all(_UUID.fullmatch(v) for v in group_values):
        for m in mappings:
            if m.claim == "" and not _UUID.fullmatch(m.external_id):
                out.append(NearMiss(
                    "DISPLAY_NAME_FOR_OBJECT_ID",
                    f"mapping {m.mrn} maps {m.external_id!r}, which looks like a group's display "
                    "name, but the provider emits group object ids (UUIDs): map the object id",
                    groups_claim, m.external_id, m.mrn))
    mapped_values = {m.external_id: m for m in mappings}
    for claim, value in sorted(values.pairs):
        if claim in (claim_rules.GROUPS, groups_claim) or claim in read_claims_:
            continue
        if value in mapped_values:
            m = mapped_values[value]
            out.append(NearMiss(
                "UNREAD_CLAIM",
                f"{value!r} appears in claim {claim!r}, which no mapping reads; mapping {m.mrn} "
                f"looks for it in {_claim_label(m.claim, groups_claim)}",
                claim, value, m.mrn))
    return out


def _claim_label(claim: str, groups_claim: str) -> str:
    return f"the groups claim {groups_claim!r}" if claim == "" else f"claim {claim!r}"


@dataclass(frozen=True)
class MappingPreview:
    users_gaining: int
    users_losing: int
    gaining: list[str]  # user MRNs (at most PREVIEW_SAMPLE)
    losing: list[str]
    team_mrn: str


async def preview_mapping_change(
    db: Database, principal: Principal, *, action: str, team_mrn: str | None = None,
    external_id: str | None = None, claim: str | None = None, mapping_mrn: str | None = None,
) -> MappingPreview:
    """Who would gain or lose the team, judged by the claims of each user's last sign-in."""
    from app.mappings import parse_mapping_mrn

    async with db.read() as session:
        access = await access_for(session, principal)
        if action == "ADD":
            if not team_mrn or external_id is None:
                raise InvalidArgument("ADD needs teamMrn and externalId", field="teamMrn")
            ref = parse_team(team_mrn)
            value, claim_name = check_external_id(external_id), check_claim(claim)
        elif action == "REMOVE":
            if not mapping_mrn:
                raise InvalidArgument("REMOVE needs mappingMrn", field="mappingMrn")
            ref = parse_team(parse_mapping_mrn(mapping_mrn, "mappingMrn"))
        else:
            raise InvalidArgument("action must be ADD or REMOVE", field="action")
        team = await session.get(Team, ref.mrn)
        scope = await load_scope(session, team.scope_mrn) if team else None
        access.require(Action.READ, scope, f"team {ref.mrn} not found")
        members = {r[0]: (r[1], r[2]) for r in (await session.execute(
            select(TeamMember.user_mrn, TeamMember.added_by_hand, TeamMember.id)
            .where(TeamMember.team_mrn == team.mrn, TeamMember.user_mrn.is_not(None))
        )).all()}
        if action == "ADD":
            gaining = []
            # The documents that hold the value as a JSON string at all (the database scans
            # the text), then the ones that hold it under the claim (parsed here).
            rows = await session.execute(
                select(LoginClaims.user_mrn, LoginClaims.claims).where(
                    LoginClaims.org_mrn == team.org_mrn,
                    LoginClaims.claims.contains(json.dumps(value), autoescape=True)))
            for user, stored in rows.all():
                if user in members:
                    continue
                if value in json.loads(stored).get(claim_name, []):
                    gaining.append(user)
            gaining.sort()
            return MappingPreview(len(gaining), 0, gaining[:PREVIEW_SAMPLE], [], team.mrn)
        mapping = await session.get(TeamExternalGroupMapping, mapping_mrn.strip())
        if mapping is None:
            raise NotFound(f"external group mapping {mapping_mrn} not found")
        grants = (await session.execute(
            select(TeamMember.user_mrn, TeamMemberGrant.mapping_mrn)
            .join(TeamMemberGrant, TeamMemberGrant.member_id == TeamMember.id)
            .where(TeamMember.team_mrn == team.mrn)
        )).all()
        by_user: dict[str, set[str]] = {}
        for user, granted_by in grants:
            by_user.setdefault(user, set()).add(granted_by)
        losing = sorted(u for u, g in by_user.items()
                        if g == {mapping.mrn} and not members.get(u, (True, 0))[0])
        return MappingPreview(0, len(losing), [], losing[:PREVIEW_SAMPLE], team.mrn)

