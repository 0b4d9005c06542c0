"""Teams and their members."""

from __future__ import annotations

import strawberry

from app import members, teams
from resolvers.context import Info
from resolvers.inputs import (
    AddTeamMemberInput,
    CreateTeamInput,
    RemoveTeamMemberInput,
    UpdateTeamInput,
)
from resolvers.types import AddTeamMemberPayload, RemoveTeamMemberPayload, Team, TeamMember


async def create_team(info: Info, input: CreateTeamInput) -> Team:
    ctx = info.context
    row = await teams.create_team(
        ctx.db, await ctx.principal(), name=input.name, scope_mrn=input.scope_mrn, id=input.id,
        description=input.description, email=input.email, roles=input.roles,
    )
    return Team.of(row)


async def update_team(info: Info, input: UpdateTeamInput) -> Team:
    ctx = info.context
    email = teams.KEEP if input.email is strawberry.UNSET else input.email
    row = await teams.update_team(ctx.db, await ctx.principal(), mrn=input.mrn, name=input.name,
                                  description=input.description, email=email)
    return Team.of(row)


async def delete_team(info: Info, mrn: str) -> bool:
    return await teams.delete_team(info.context.db, await info.context.principal(), mrn=mrn)


async def team(info: Info, mrn: str) -> Team | None:
    row = await teams.get_team(info.context.db, await info.context.principal(), mrn)
    return Team.of(row) if row else None


async def add_team_member(info: Info, input: AddTeamMemberInput) -> AddTeamMemberPayload:
    r = await members.add_team_member(
        info.context.db, await info.context.principal(), team_mrn=input.team_mrn,
        identity=input.identity, member_mrn=input.member_mrn, email=input.email,
    )
    return AddTeamMemberPayload(created_pending=r.created_pending, member_mrn=r.member_mrn)


async def remove_team_member(info: Info, input: RemoveTeamMemberInput) -> RemoveTeamMemberPayload:
    mrn = await members.remove_team_member(
        info.context.db, await info.context.principal(), team_mrn=input.team_mrn,
        identity=input.identity, member_mrn=input.member_mrn, email=input.email,
    )
    return RemoveTeamMemberPayload(member_mrn=mrn)


async def team_member(info: Info, team_mrn: str, identity: str) -> TeamMember | None:
    m = await members.get_team_member(info.context.db, await info.context.principal(),
                                      team_mrn=team_mrn, identity=identity)
    return TeamMember.of(m) if m else None
