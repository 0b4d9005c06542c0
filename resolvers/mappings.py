"""External group mappings."""

from __future__ import annotations

from app import mappings
from resolvers.context import Info
from resolvers.inputs import AddTeamExternalGroupMappingInput
from resolvers.types import TeamExternalGroupMapping


async def add_mapping(info: Info, input: AddTeamExternalGroupMappingInput) -> TeamExternalGroupMapping:
    row, team = await mappings.add_mapping(
        info.context.db, await info.context.principal(), team_mrn=input.team_mrn,
        external_id=input.external_id, claim=input.claim,
    )
    return TeamExternalGroupMapping.of(row, team)


async def remove_mapping(info: Info, mrn: str) -> bool:
    return await mappings.remove_mapping(info.context.db, await info.context.principal(), mrn=mrn)


async def mapping(info: Info, mrn: str) -> TeamExternalGroupMapping | None:
    found = await mappings.get_mapping(info.context.db, await info.context.principal(), mrn=mrn)
    return TeamExternalGroupMapping.of(*found) if found else None
