"""External group mappings: an identity-provider group mapped to a team."""

from __future__ import annotations

import re

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import Access, access_for, load_scope
from app.audit import record
from app.authz import Action
from app.bindings import grants_of
from app.clock import now
from app.db import Database, add_unique, advisory_lock, mappings_lock_key
from app.errors import AlreadyExists, InvalidArgument, NotFound
from app.listing import keyset_page
from app.login.sync import Held, plan_mapping_removal
from app.mrn import ScopeKind, parse_scope, parse_team
from app.pagination import Page
from app.principals import Principal
from app.search import TEXT, TIME, clauses, parse_query
from app.secrets import new_id
from app.teams import team_in_reach
from app.validation import check_external_id, check_name, exactly_one
from models import Team, TeamExternalGroupMapping, TeamMember, TeamMemberGrant, User

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
        # Sign-ins in flight finish first; later ones no longer see the mapping.
        await advisory_lock(session, mappings_lock_key(team.org_mrn))
        still_there = (await session.execute(select(TeamExternalGroupMapping.mrn).where(
            TeamExternalGroupMapping.mrn == mapping.mrn))).first()
        if still_there is None:  # removed by a request that held the lock before this one
            raise NotFound(f"external group mapping {mrn} not found")
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
    async with db.read() as session:
        access = await access_for(session, principal)
        try:
            return await _mapping_in_reach(session, access, mrn, Action.READ)
        except NotFound:
            return None


async def list_mappings(
    db: Database, principal: Principal, *, team_mrn: str
) -> tuple[list[TeamExternalGroupMapping], Team]:
    async with db.read() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, team_mrn, Action.READ)
        rows = await session.execute(
            select(TeamExternalGroupMapping)
            .where(TeamExternalGroupMapping.team_mrn == team.mrn)
            .order_by(TeamExternalGroupMapping.external_id)
        )
        return list(rows.scalars().all()), team


#: runZero's keywords for the mapping list (group_* name the team here).
MAPPING_KEYWORDS = {
    "id": TEXT, "sso_attribute": TEXT, "sso_value": TEXT, "created_at": TIME,
    "updated_at": TIME, "created_by_email": TEXT, "group_id": TEXT, "group_name": TEXT,
}


async def search_mappings(
    db: Database, principal: Principal, *, team_mrn: str | None = None,
    scope_mrn: str | None = None, query: str | None = None, first: int | None = None,
    after: str | None = None,
) -> Page[tuple[TeamExternalGroupMapping, Team]]:
    """Mappings of a team, or of every team in an organization or space, filtered by a query."""
    field, value = exactly_one({"teamMrn": team_mrn, "scopeMrn": scope_mrn})
    terms = parse_query(query, keys=MAPPING_KEYWORDS, now=now())
    M = TeamExternalGroupMapping
    async with db.read() as session:
        access = await access_for(session, principal)
        stmt = select(M, Team).join(Team, Team.mrn == M.team_mrn).outerjoin(
            User, User.mrn == M.created_by)
        if field == "teamMrn":
            team, _ = await team_in_reach(session, access, str(value), Action.READ)
            stmt = stmt.where(M.team_mrn == team.mrn)
        else:
            ref = parse_scope(str(value))
            scope = await load_scope(session, ref.mrn)
            access.require(Action.READ, scope, f"scope {ref.mrn} not found")
            if ref.kind is ScopeKind.ORGANIZATION:
                stmt = stmt.where(M.org_mrn == ref.mrn)
            elif ref.kind is ScopeKind.SPACE:
                stmt = stmt.where(Team.scope_mrn == ref.mrn)
            else:
                raise InvalidArgument("mappings belong to teams of an organization or a space, "
                                      "not a workspace", field="scopeMrn")
        id_terms = [t for t in terms if t.key == "id"]
        for t in id_terms:
            stmt = stmt.where(or_(M.mrn == t.value, M.mrn.endswith(f"/{SEGMENT}/{t.value}", autoescape=True)))
        attr_terms = [t for t in terms if t.key == "sso_attribute"]
        for t in attr_terms:
            # The groups claim is stored as "": its usual name finds it too.
            names = [t.value, ""] if t.value == "groups" else [t.value]
            stmt = stmt.where(M.claim.in_(names))
        rest = [t for t in terms if t.key not in ("id", "sso_attribute")]
        stmt = stmt.where(*clauses(rest, {
            "sso_value": M.external_id, "created_at": M.created_at, "updated_at": M.updated_at,
            "created_by_email": User.email, "group_id": Team.id, "group_name": Team.name,
        }, [M.external_id, M.claim, Team.name, Team.id]))
        return await keyset_page(
            session, stmt, order=[M.created_at, M.mrn], first=first, after=after,
            key=lambda r: (r[0].created_at, r[0].mrn), row=lambda r: (r[0], r[1]),
        )
