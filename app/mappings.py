"""External group mappings: an identity-provider group mapped to a team."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import Access, access_for
from app.authz import Action
from app.bindings import grants_of
from app.db import Database, add_unique
from app.errors import AlreadyExists, InvalidArgument, NotFound
from app.mrn import parse_team
from app.principals import Principal
from app.secrets import new_id
from app.teams import team_in_reach
from app.validation import check_external_id
from models import Team, TeamExternalGroupMapping

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


async def add_mapping(
    db: Database, principal: Principal, *, team_mrn: str, external_id: str
) -> tuple[TeamExternalGroupMapping, Team]:
    external_id = check_external_id(external_id)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, team_mrn, Action.MANAGE_TEAMS)
        access.require_grantable(
            await grants_of(session, team.mrn), f"mapping a group to {team.mrn}"
        )
        conflict = f"{external_id!r} is already mapped to {team.mrn}"
        existing = await session.execute(
            select(TeamExternalGroupMapping.mrn).where(
                TeamExternalGroupMapping.team_mrn == team.mrn,
                TeamExternalGroupMapping.external_id == external_id,
            )
        )
        if existing.first() is not None:
            raise AlreadyExists(conflict)
        mapping = TeamExternalGroupMapping(
            mrn=mapping_mrn(team.mrn, new_id(8)), team_mrn=team.mrn, org_mrn=team.org_mrn,
            external_id=external_id, created_by=principal.mrn,
        )
        await add_unique(session, mapping, conflict)
        return mapping, team


async def remove_mapping(db: Database, principal: Principal, *, mrn: str) -> bool:
    async with db.transaction() as session:
        access = await access_for(session, principal)
        mapping, _ = await _mapping_in_reach(session, access, mrn, Action.MANAGE_TEAMS)
        await session.delete(mapping)
        return True


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
