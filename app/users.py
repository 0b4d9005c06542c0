"""Signed-in users: who am I, forced logout, and where a user's access comes from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import authz
from app.access import Access, access_for, chain_of, load_scope
from app.audit import record
from app.authz import Action
from app.clock import now
from app.db import Database
from app.errors import Forbidden, InvalidArgument, NotFound
from app.listing import keyset_page
from app.mrn import ScopeKind, is_user_mrn, parse_scope
from app.pagination import Page
from app.principals import Principal
from app.search import TEXT, TIME, clauses, parse_query
from app.sessions import revoke_sessions
from models import (
    LoginClaims,
    RoleBinding,
    Scope,
    Team,
    TeamMember,
    TeamMemberGrant,
    User,
)


@dataclass(frozen=True)
class TeamRef:
    mrn: str
    name: str


@dataclass(frozen=True)
class ViewerInfo:
    mrn: str
    email: str | None
    name: str | None
    teams: list[TeamRef]


@dataclass(frozen=True)
class Source:
    role: str
    scope_mrn: str  # where the binding is
    kind: str  # "DIRECT" | "TEAM_MANUAL" | "TEAM_MAPPING"
    team_mrn: str | None = None
    mapping_mrn: str | None = None
    claim: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ScopeAccess:
    scope_mrn: str
    org_mrn: str
    roles: list[str]  # effective here (bound here or above), most privileged first
    in_force: str | None  # the highest of them: the one that decides
    sources: list[Source]


@dataclass(frozen=True)
class AccessSummary:
    user_mrn: str
    email: str | None
    name: str | None
    scopes: list[ScopeAccess]


async def viewer(db: Database, principal: Principal) -> ViewerInfo | None:
    """The signed-in user; None for an API token (it is not a person)."""
    if principal.kind != "user":
        return None
    async with db.read() as session:
        user = await session.get(User, principal.mrn)
        if user is None:
            return None
        rows = (await session.execute(
            select(Team.mrn, Team.name).join(TeamMember, TeamMember.team_mrn == Team.mrn)
            .where(TeamMember.user_mrn == user.mrn, Team.org_mrn == principal.home_org_mrn)
            .order_by(Team.mrn)
        )).all()
        return ViewerInfo(user.mrn, user.email or None, user.name, [TeamRef(*r) for r in rows])


def _owned_orgs(access: Access) -> list[str]:
    orgs = {m for m in access.grants if "/organizations/" in m and m.count("/") == 4}
    if access.principal.home_org_mrn:
        orgs = {o for o in orgs if o == access.principal.home_org_mrn}
    return sorted(o for o in orgs if "owner" in authz.roles_on(access.grants, (o,)))


async def _user_in_orgs(session: AsyncSession, user_mrn: str, orgs: list[str]) -> bool:
    signed_in = (await session.execute(select(LoginClaims.user_mrn).where(
        LoginClaims.user_mrn == user_mrn, LoginClaims.org_mrn.in_(orgs)))).first()
    member = (await session.execute(
        select(TeamMember.id).join(Team, Team.mrn == TeamMember.team_mrn)
        .where(TeamMember.user_mrn == user_mrn, Team.org_mrn.in_(orgs)))).first()
    bound = (await session.execute(
        select(RoleBinding.id).join(Scope, Scope.mrn == RoleBinding.scope_mrn)
        .where(RoleBinding.identity_mrn == user_mrn, Scope.org_mrn.in_(orgs)))).first()
    return bool(signed_in or member or bound)


def _check_user_mrn(value: str) -> str:
    value = (value or "").strip()
    if not is_user_mrn(value):
        raise InvalidArgument(
            f"malformed userMrn {value!r}: expected //captain.api.mondoo.app/users/USER-ID",
            field="userMrn",
        )
    return value


async def force_logout(db: Database, principal: Principal, *, user_mrn: str) -> int:
    """End every session of the user in the organizations the caller owns; returns how many."""
    user_mrn = _check_user_mrn(user_mrn)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        orgs = _owned_orgs(access)
        hidden = NotFound(f"user {user_mrn} not found")
        if not orgs:
            if access.grants:
                raise Forbidden("forceLogout needs the 'owner' role on an organization")
            raise hidden
        if await session.get(User, user_mrn) is None or not await _user_in_orgs(
            session, user_mrn, orgs
        ):
            raise hidden
        count = await revoke_sessions(session, user_mrn=user_mrn, org_mrns=orgs)
        for org in orgs:
            record(session, actor=principal.mrn, action="session.forced_logout", org_mrn=org,
                   subject_mrn=user_mrn, details={"sessions_ended": count})
        return count


async def access_summary(db: Database, principal: Principal, *, user_mrn: str) -> AccessSummary:
    user_mrn = _check_user_mrn(user_mrn)
    async with db.read() as session:
        access = await access_for(session, principal)
        user = await session.get(User, user_mrn)
        if user is None:
            raise NotFound(f"user {user_mrn} not found")
        # Teams the user is in, and why.
        member_rows = (await session.execute(
            select(TeamMember.team_mrn, TeamMember.added_by_hand, TeamMemberGrant.mapping_mrn,
                   TeamMemberGrant.claim, TeamMemberGrant.value)
            .outerjoin(TeamMemberGrant, TeamMemberGrant.member_id == TeamMember.id)
            .where(TeamMember.user_mrn == user_mrn)
        )).all()
        why: dict[str, list[tuple[str, str | None, str | None, str | None]]] = {}
        for team, hand, mapping, claim, value in member_rows:
            reasons = why.setdefault(team, [])
            if hand and ("TEAM_MANUAL", None, None, None) not in reasons:
                reasons.append(("TEAM_MANUAL", None, None, None))
            if mapping:
                reasons.append(("TEAM_MAPPING", mapping, claim, value))
        bindings = (await session.execute(
            select(RoleBinding.scope_mrn, RoleBinding.role, RoleBinding.identity_mrn)
            .where(or_(RoleBinding.identity_mrn == user_mrn,
                       RoleBinding.identity_mrn.in_(list(why) or [""])))
        )).all()
        scope_rows = (await session.execute(
            select(Scope).where(Scope.mrn.in_({b[0] for b in bindings} or {""}))
        )).scalars().all()
        scopes = {s.mrn: s for s in scope_rows if access.can_read(s)}
        sources: dict[str, list[Source]] = {}
        for scope_mrn, role, identity in bindings:
            if scope_mrn not in scopes:
                continue
            if identity == user_mrn:
                sources.setdefault(scope_mrn, []).append(Source(role, scope_mrn, "DIRECT"))
                continue
            for kind, mapping, claim, value in why.get(identity, []):
                sources.setdefault(scope_mrn, []).append(
                    Source(role, scope_mrn, kind, identity, mapping, claim or None, value))
        if not sources and not await _visible(session, access, user_mrn):
            raise NotFound(f"user {user_mrn} not found")
        in_effect = authz.roles_by_scope(
            sources, {m: chain_of(scopes[m]) for m in sources}, lambda src: src.role)
        out = [ScopeAccess(r.scope_mrn, scopes[r.scope_mrn].org_mrn or r.scope_mrn, r.roles,
                           r.in_force, r.sources) for r in in_effect]
        return AccessSummary(user.mrn, user.email or None, user.name, out)


async def _visible(session: AsyncSession, access: Access, user_mrn: str) -> bool:
    """Whether the user has anything to do with an organization the caller can read."""
    scopes = (await session.execute(
        select(Scope).where(Scope.mrn.in_(list(access.grants) or [""]))
    )).scalars().all()
    org_mrns = sorted({s.org_mrn for s in scopes if s.org_mrn and access.can_read(s)})
    return bool(org_mrns) and await _user_in_orgs(session, user_mrn, org_mrns)


#: runZero's keywords for the user list (group_* name a team the user is in).
USER_KEYWORDS = {
    "id": TEXT, "email": TEXT, "created_at": TIME, "updated_at": TIME, "group_id": TEXT,
    "group_name": TEXT, "sso_attribute": TEXT, "sso_value": TEXT,
}


@dataclass(frozen=True)
class UserRow:
    user: User
    team_count: int
    sso_team_count: int  # of those, teams held through a mapping
    last_sign_in_at: datetime | None


async def search_users(
    db: Database, principal: Principal, *, scope_mrn: str, query: str | None = None,
    first: int | None = None, after: str | None = None,
) -> Page[UserRow]:
    """Users of an organization (signed in, or in one of its teams) or of a space's teams."""
    ref = parse_scope(scope_mrn)
    if ref.kind is ScopeKind.WORKSPACE:
        raise InvalidArgument("list the users of an organization or a space", field="scopeMrn")
    terms = parse_query(query, keys=USER_KEYWORDS, now=now())
    async with db.read() as session:
        access = await access_for(session, principal)
        scope = await load_scope(session, ref.mrn)
        access.require(Action.READ, scope, f"scope {ref.mrn} not found")
        org = scope.org_mrn
        in_teams = (Team.org_mrn == org) if ref.kind is ScopeKind.ORGANIZATION else (
            Team.scope_mrn == ref.mrn)
        members = select(TeamMember.user_mrn).join(Team, Team.mrn == TeamMember.team_mrn).where(
            in_teams, TeamMember.user_mrn.is_not(None))
        population = members
        if ref.kind is ScopeKind.ORGANIZATION:
            population = members.union(
                select(LoginClaims.user_mrn).where(LoginClaims.org_mrn == org))
        stmt = select(User).where(User.mrn.in_(population))
        for t in terms:
            if t.key == "id":
                stmt = stmt.where(or_(User.id == t.value, User.mrn == t.value))
            elif t.key in ("group_id", "group_name"):
                col = Team.id if t.key == "group_id" else Team.name
                stmt = stmt.where(User.mrn.in_(
                    select(TeamMember.user_mrn).join(Team, Team.mrn == TeamMember.team_mrn)
                    .where(in_teams, col == t.value)))
            elif t.key in ("sso_attribute", "sso_value"):
                # The claims of the last sign-in are kept as JSON: {"claim": ["value", ...]}.
                needle = json.dumps(str(t.value)) + (":" if t.key == "sso_attribute" else "")
                stmt = stmt.where(User.mrn.in_(
                    select(LoginClaims.user_mrn).where(
                        LoginClaims.org_mrn == org,
                        LoginClaims.claims.contains(needle, autoescape=True))))
        rest = [t for t in terms if t.key in (None, "email", "created_at", "updated_at")]
        stmt = stmt.where(*clauses(rest, {
            "email": User.email, "created_at": User.created_at, "updated_at": User.updated_at,
        }, [User.email, User.name]))
        found = await keyset_page(session, stmt, order=[User.created_at, User.mrn], first=first,
                                  after=after, key=lambda u: (u.created_at, u.mrn),
                                  row=lambda r: r[0])
        mrns = [u.mrn for u in found.items]
        counts: dict[str, tuple[int, int]] = {}
        if mrns:
            sso = select(TeamMemberGrant.member_id).where(
                TeamMemberGrant.member_id == TeamMember.id).exists()
            rows = (await session.execute(
                select(TeamMember.user_mrn, func.count(), func.sum(case((sso, 1), else_=0)))
                .join(Team, Team.mrn == TeamMember.team_mrn)
                .where(TeamMember.user_mrn.in_(mrns), in_teams)
                .group_by(TeamMember.user_mrn)
            )).all()
            counts = {u: (int(n), int(s or 0)) for u, n, s in rows}
        seen = dict((await session.execute(
            select(LoginClaims.user_mrn, LoginClaims.signed_in_at).where(
                LoginClaims.org_mrn == org, LoginClaims.user_mrn.in_(mrns or [""]))
        )).all())
        return Page(
            [UserRow(u, *counts.get(u.mrn, (0, 0)), seen.get(u.mrn)) for u in found.items],
            found.has_next_page, found.end_cursor,
        )
