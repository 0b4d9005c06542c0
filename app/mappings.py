"""External group mappings: an identity-provider group mapped to a team."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import Access, access_for
from app.audit import record
from app.authz import Action
from app.bindings import grants_of
from app.db import Database, add_unique
from app.errors import AlreadyExists, InvalidArgument, NotFound
from app.login.sync import Held, plan_mapping_removal
from app.mrn import parse_team
from app.principals import Principal
from app.secrets import new_id
from app.teams import team_in_reach
from app.validation import check_external_id, check_name
from models import Team, TeamExternalGroupMapping, TeamMember, TeamMemberGrant

SEGMENT = "externalgroupmappings"
_MAPPING_RE = re.compile(rf"^(?P<team>.+)/{SEGMENT}/(?P<id>[a-z0-9]+)$")


def mapping_mrn(team_mrn: str, mapping_id: str) -> str:
    return f"{team_mrn}/{SEGMENT}/{mapping_id}"


def parse_mapping_mrn(mrn: str, field: str = "mrn") -> str:
    """Return the team MRN of a mapping MRN, or raise INVALID_ARGUMENT."""
    m = _MAPPING_RE.fullmatch((mrn or "").strip())
    if not m:
        raise InvalidArgument(
            f"malformed {field} {mrn!r}: expected TEAM-MRN/{SEGMENT}/MAPPING-ID", field=field
        )
    return parse_team(m.group("team"), field=field).mrn


async def _mapping_in_reach(
    session: AsyncSession, access: Access, mrn: str, action: Action
) -> tuple[TeamExternalGroupMapping, Team]:
    team_mrn = parse_mapping_mrn(mrn)
    mapping = await session.get(TeamExternalGroupMapping, mrn.strip())
    try:
        team, _ = await team_in_reach(session, access, team_mrn, action, field="mrn")
    except NotFound:
        raise NotFound(f"external group mapping {mrn} not found") from None
    if mapping is None:
        raise NotFound(f"external group mapping {mrn} not found")
    return mapping, team


def check_claim(value: str | None) -> str:
    """A mapping's claim name; "" (or none given) means the provider's groups claim."""
    if value is None or value == "":
        return ""
    claim = check_name(value, "claim")
    if claim != value or any(c.isspace() for c in claim):
        raise InvalidArgument(f"claim {value!r} must be a claim name without spaces",
                              field="claim")
    return claim


async def add_mapping(
    db: Database, principal: Principal, *, team_mrn: str, external_id: str,
    claim: str | None = None,
) -> tuple[TeamExternalGroupMapping, Team]:
    external_id = check_external_id(external_id)
    claim = check_claim(claim)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, team_mrn, Action.MANAGE_TEAMS)
        access.require_grantable(
            await grants_of(session, team.mrn), f"mapping a group to {team.mrn}"
        )
        conflict = f"{external_id!r} is already mapped to {team.mrn}" + (
            f" for claim {claim!r}" if claim else "")
        existing = await session.execute(
            select(TeamExternalGroupMapping.mrn).where(
                TeamExternalGroupMapping.team_mrn == team.mrn,
                TeamExternalGroupMapping.claim == claim,
                TeamExternalGroupMapping.external_id == external_id,
            )
        )
        if existing.first() is not None:
            raise AlreadyExists(conflict)
        mapping = TeamExternalGroupMapping(
            mrn=mapping_mrn(team.mrn, new_id(8)), team_mrn=team.mrn, org_mrn=team.org_mrn,
            external_id=external_id, claim=claim, created_by=principal.mrn,
        )
        await add_unique(session, mapping, conflict)
        record(session, actor=principal.mrn, action="mapping.added", org_mrn=team.org_mrn,
               target_mrn=team.mrn, mapping_mrn=mapping.mrn, claim=claim or None,
               value=external_id)
        return mapping, team


async def remove_mapping(db: Database, principal: Principal, *, mrn: str) -> bool:
    async with db.transaction() as session:
        access = await access_for(session, principal)
        mapping, team = await _mapping_in_reach(session, access, mrn, Action.MANAGE_TEAMS)
        await _revoke_grants_of(session, mapping, team, actor=principal.mrn)
        record(session, actor=principal.mrn, action="mapping.removed", org_mrn=team.org_mrn,
               target_mrn=team.mrn, mapping_mrn=mapping.mrn, claim=mapping.claim or None,
               value=mapping.external_id)
        await session.delete(mapping)
        return True


async def _revoke_grants_of(
    session: AsyncSession, mapping: TeamExternalGroupMapping, team: Team, *, actor: str
) -> None:
    """The users this mapping brought into the team lose what only it justified."""
    rows = (await session.execute(
        select(TeamMember.id, TeamMember.user_mrn, TeamMember.added_by_hand,
               TeamMemberGrant.mapping_mrn)
        .join(TeamMemberGrant, TeamMemberGrant.member_id == TeamMember.id)
        .where(TeamMember.id.in_(
            select(TeamMemberGrant.member_id).where(TeamMemberGrant.mapping_mrn == mapping.mrn)
        ))
    )).all()
    ids: dict[str, int] = {}
    held: dict[str, tuple[bool, set[str]]] = {}
    for member_id, user, hand, granted_by in rows:
        ids[user] = member_id
        held.setdefault(user, (hand, set()))[1].add(granted_by)
    plan = plan_mapping_removal(
        {u: Held(team.mrn, hand, frozenset(g)) for u, (hand, g) in held.items()}, mapping.mrn
    )
    if plan.delete_memberships:
        await session.execute(delete(TeamMember).where(
            TeamMember.id.in_([ids[u] for u in plan.delete_memberships]),
            TeamMember.added_by_hand.is_(False)))
    await session.execute(delete(TeamMemberGrant).where(
        TeamMemberGrant.mapping_mrn == mapping.mrn))
    for (user, _), change in zip(plan.remove_grants, plan.changes, strict=True):
        record(session, actor=actor, action="team_member.sso_removed", org_mrn=team.org_mrn,
               subject_mrn=user, target_mrn=team.mrn, mapping_mrn=mapping.mrn,
               claim=mapping.claim or None, value=mapping.external_id,
               details={"membership": change.membership, "cause": "mapping removed"})


async def get_mapping(
    db: Database, principal: Principal, *, mrn: str
) -> tuple[TeamExternalGroupMapping, Team] | None:
    async with db.transaction() as session:
        access = await access_for(session, principal)
        try:
            return await _mapping_in_reach(session, access, mrn, Action.READ)
        except NotFound:
            return None


async def list_mappings(
    db: Database, principal: Principal, *, team_mrn: str
) -> tuple[list[TeamExternalGroupMapping], Team]:
    async with db.transaction() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, team_mrn, Action.READ)
        rows = await session.execute(
            select(TeamExternalGroupMapping)
            .where(TeamExternalGroupMapping.team_mrn == team.mrn)
            .order_by(TeamExternalGroupMapping.external_id)
        )
        return list(rows.scalars().all()), team
