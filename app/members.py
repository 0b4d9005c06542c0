"""Team members added by hand: addTeamMember, removeTeamMember, teamMember."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import Access, access_for
from app.audit import record
from app.authz import Action
from app.bindings import grants_of
from app.db import Database, add_unique
from app.errors import AlreadyExists, InvalidArgument, NotFound
from app.identities import user_by_email
from app.mrn import is_email, is_user_mrn, looks_like_mrn
from app.principals import Principal
from app.teams import team_in_reach
from app.validation import check_email, exactly_one
from models import Team, TeamMember, User


@dataclass(frozen=True)
class MemberRef:
    """Who a member input names: a known user, or an email with no account yet."""

    user: User | None
    email: str | None

    @property
    def label(self) -> str:
        return self.user.mrn if self.user else f"<{self.email}>"


@dataclass(frozen=True)
class AddMemberResult:
    created_pending: bool
    member_mrn: str | None


@dataclass(frozen=True)
class MemberView:
    mrn: str | None
    email: str
    name: str | None


async def _member_ref(
    session: AsyncSession, team: Team, identity: str | None, member_mrn: str | None,
    email: str | None,
) -> MemberRef:
    field, value = exactly_one({"identity": identity, "memberMrn": member_mrn, "email": email})
    value = str(value).strip()
    if field == "email" or (field == "identity" and not looks_like_mrn(value)):
        address = check_email(value, field)
        return MemberRef(await user_by_email(session, address, team.org_mrn), address)
    if not is_user_mrn(value):
        raise InvalidArgument(
            f"malformed {field} {value!r}: a team member is a user, "
            "//captain.api.mondoo.app/users/USER-ID, or an email address",
            field=field,
        )
    user = await session.get(User, value)
    if user is None or user.org_mrn != team.org_mrn:  # users belong to one organization
        raise NotFound(f"user {value} not found")
    return MemberRef(user, user.email)


async def _membership(session: AsyncSession, team: Team, who: MemberRef) -> TeamMember | None:
    if who.user is not None:
        cond = TeamMember.user_mrn == who.user.mrn
    else:
        cond = TeamMember.pending_email == who.email
    rows = await session.execute(select(TeamMember).where(TeamMember.team_mrn == team.mrn, cond))
    return rows.scalars().first()


async def _require_team_grantable(session: AsyncSession, access: Access, team: Team, what: str) -> None:
    access.require_grantable(await grants_of(session, team.mrn), what)


async def add_team_member(
    db: Database, principal: Principal, *, team_mrn: str, identity: str | None = None,
    member_mrn: str | None = None, email: str | None = None,
) -> AddMemberResult:
    async with db.transaction() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, team_mrn, Action.MANAGE_TEAMS)
        who = await _member_ref(session, team, identity, member_mrn, email)
        await _require_team_grantable(session, access, team, f"adding a member to {team.mrn}")
        conflict = f"{who.label} is already a member of {team.mrn}"
        existing = await _membership(session, team, who)
        if existing is not None and existing.added_by_hand:
            raise AlreadyExists(conflict)
        if existing is not None:
            # Held through a mapping so far: from now on also by hand, so sign-in sync
            # never removes it.
            existing.added_by_hand = True
            session.add(existing)
            record(session, actor=principal.mrn, action="team_member.added", org_mrn=team.org_mrn,
                   subject_mrn=existing.user_mrn, target_mrn=team.mrn,
                   details={"was": "sso"})
            return AddMemberResult(created_pending=False, member_mrn=existing.user_mrn)
        row = TeamMember(
            team_mrn=team.mrn,
            user_mrn=who.user.mrn if who.user else None,
            pending_email=None if who.user else who.email,
            added_by_hand=True,
        )
        await add_unique(session, row, conflict)
        record(session, actor=principal.mrn, action="team_member.added", org_mrn=team.org_mrn,
               subject_mrn=row.user_mrn, target_mrn=team.mrn,
               details={"pending_email": row.pending_email} if row.pending_email else None)
        return AddMemberResult(created_pending=who.user is None,
                               member_mrn=who.user.mrn if who.user else None)


async def remove_team_member(
    db: Database, principal: Principal, *, team_mrn: str, identity: str | None = None,
    member_mrn: str | None = None, email: str | None = None,
) -> str | None:
    async with db.transaction() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, team_mrn, Action.MANAGE_TEAMS)
        who = await _member_ref(session, team, identity, member_mrn, email)
        row = await _membership(session, team, who)
        if row is None:
            raise NotFound(f"{who.label} is not a member of {team.mrn}")
        await session.delete(row)
        record(session, actor=principal.mrn, action="team_member.removed", org_mrn=team.org_mrn,
               subject_mrn=row.user_mrn, target_mrn=team.mrn,
               details={"pending_email": row.pending_email} if row.pending_email else None)
        return row.user_mrn


async def get_team_member(
    db: Database, principal: Principal, *, team_mrn: str, identity: str
) -> MemberView | None:
    async with db.read() as session:
        access = await access_for(session, principal)
        team, _ = await team_in_reach(session, access, team_mrn, Action.READ)
        if not looks_like_mrn(identity.strip()) and not is_email(identity.strip()):
            raise InvalidArgument(
                f"malformed identity {identity!r}: expected a user MRN or an email address",
                field="identity",
            )
        try:
            who = await _member_ref(session, team, identity, None, None)
        except NotFound:
            return None
        row = await _membership(session, team, who)
        if row is None:
            return None
        if who.user is not None:
            return MemberView(who.user.mrn, who.user.email, who.user.name)
        return MemberView(None, row.pending_email or "", None)
