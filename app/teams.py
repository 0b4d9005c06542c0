"""Teams: create, update, delete, read."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import Access, access_for, load_scope
from app.audit import record
from app.authz import Action
from app.bindings import replace_roles
from app.clock import now
from app.db import Database, add_unique
from app.errors import AlreadyExists, NotFound
from app.identities import Identity
from app.listing import keyset_page
from app.mrn import check_id, parse_team, parse_team_owner_scope, team_mrn
from app.pagination import Page
from app.principals import Principal
from app.roles import parse_roles
from app.secrets import new_id
from app.validation import check_description, check_email, check_name
from models import RoleBinding, Scope, Team, TeamExternalGroupMapping, TeamMember


async def team_in_reach(
    session: AsyncSession, access: Access, mrn: str, action: Action, *, field: str = "teamMrn"
) -> tuple[Team, Scope]:
    """The team and its scope, if the caller may do ``action`` there; else NOT_FOUND/FORBIDDEN."""
    ref = parse_team(mrn, field=field)
    team = await session.get(Team, ref.mrn)
    scope = await load_scope(session, team.scope_mrn) if team else None
    access.require(action, scope, f"team {ref.mrn} not found")
    return team, scope


async def create_team(
    db: Database, principal: Principal, *, name: str, scope_mrn: str, id: str | None = None,
    description: str | None = None, email: str | None = None, roles: list[str] | None = None,
) -> Team:
    ref = parse_team_owner_scope(scope_mrn)
    team_id = check_id(id, "team id") if id else new_id()
    name = check_name(name)
    description = check_description(description)
    email = check_email(email)
    role_names = parse_roles(roles or [])
    async with db.transaction() as session:
        access = await access_for(session, principal)
        scope = await load_scope(session, ref.mrn)
        hidden = f"scope {ref.mrn} not found"
        access.require(Action.MANAGE_TEAMS, scope, hidden)
        if role_names:
            access.require(Action.SET_ROLES, scope, hidden)
        mrn = team_mrn(scope.mrn, team_id)
        conflict = f"team {mrn} already exists: choose another id, or update it with updateTeam"
        if await session.get(Team, mrn) is not None:
            raise AlreadyExists(conflict)
        team = Team(mrn=mrn, id=team_id, name=name, description=description, email=email,
                    scope_mrn=scope.mrn, org_mrn=scope.org_mrn)
        await add_unique(session, team, conflict)
        # Bindings a concurrent setRoles left for an earlier team of this MRN are not this
        # team's: a new team starts with no roles.
        await session.execute(delete(RoleBinding).where(RoleBinding.identity_mrn == mrn))
        record(session, actor=principal.mrn, action="team.created", org_mrn=team.org_mrn,
               target_mrn=team.mrn, details={"after": _view(team)})
        if role_names:
            await replace_roles(session, access, Identity(mrn, "team", home=scope), scope, role_names)
        return team


#: updateTeam without an email leaves the team's email as it is.
KEEP = object()


async def update_team(
    db: Database, principal: Principal, *, mrn: str, name: str, description: str | None,
    email: str | None | object = KEEP,
) -> Team:
    name = check_name(name)
    description = check_description(description)
    if email is not KEEP:
        email = check_email(email)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, mrn, Action.MANAGE_TEAMS, field="mrn")
        before = _view(team)
        team.name, team.description = name, description
        if email is not KEEP:
            team.email = email
        team.updated_at = now()
        session.add(team)
        record(session, actor=principal.mrn, action="team.updated", org_mrn=team.org_mrn,
               target_mrn=team.mrn, details={"before": before, "after": _view(team)})
        return team


async def delete_team(db: Database, principal: Principal, *, mrn: str) -> bool:
    """Delete a team with its role bindings, memberships and external group mappings."""
    async with db.transaction() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, mrn, Action.MANAGE_TEAMS, field="mrn")
        bindings = (await session.execute(
            select(RoleBinding.scope_mrn, RoleBinding.role)
            .where(RoleBinding.identity_mrn == team.mrn).order_by(RoleBinding.scope_mrn)
        )).all()
        members = (await session.execute(
            select(TeamMember.user_mrn, TeamMember.pending_email)
            .where(TeamMember.team_mrn == team.mrn)
        )).all()
        mappings = (await session.execute(
            select(TeamExternalGroupMapping.mrn, TeamExternalGroupMapping.claim,
                   TeamExternalGroupMapping.external_id)
            .where(TeamExternalGroupMapping.team_mrn == team.mrn)
        )).all()
        record(session, actor=principal.mrn, action="team.deleted", org_mrn=team.org_mrn,
               target_mrn=team.mrn, details={
                   "before": _view(team),
                   "bindings": [list(b) for b in bindings],
                   "members": [m.user_mrn or f"<{m.pending_email}>" for m in members],
                   "mappings": [{"mrn": m.mrn, "claim": m.claim or None, "externalId": m.external_id}
                                for m in mappings],
               })
        await session.execute(delete(RoleBinding).where(RoleBinding.identity_mrn == team.mrn))
        await session.execute(delete(TeamMember).where(TeamMember.team_mrn == team.mrn))
        await session.execute(
            delete(TeamExternalGroupMapping).where(TeamExternalGroupMapping.team_mrn == team.mrn)
        )
        await session.delete(team)
        return True


def _view(team: Team) -> dict:
    return {"name": team.name, "description": team.description, "email": team.email,
            "scopeMrn": team.scope_mrn}


async def get_team(db: Database, principal: Principal, mrn: str) -> Team | None:
    """The team, or None when it does not exist or the caller cannot see it."""
    async with db.read() as session:
        access = await access_for(session, principal)
        try:
            team, _ = await team_in_reach(session, access, mrn, Action.READ, field="mrn")
        except NotFound:
            return None
        return team


async def list_teams(
    db: Database, principal: Principal, scope_mrn: str, *, first: int | None = None,
    after: str | None = None,
) -> Page[Team]:
    """The teams that live in an organization or space, in MRN order, a page at a time."""
    ref = parse_team_owner_scope(scope_mrn)
    async with db.read() as session:
        access = await access_for(session, principal)
        access.require(Action.READ, await load_scope(session, ref.mrn), f"scope {ref.mrn} not found")
        return await keyset_page(session, select(Team).where(Team.scope_mrn == ref.mrn),
                                 order=[Team.mrn], first=first, after=after,
                                 key=lambda t: (t.mrn,), row=lambda r: r[0])
