"""The database side of sign-in sync: load what the planner needs, apply its plan."""

from __future__ import annotations

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import LOGIN_HOOK, record
from app.db import insert_or_ignore
from app.login.claims import ClaimValues
from app.login.sync import Held, Match, Plan
from models import Team, TeamExternalGroupMapping, TeamMember, TeamMemberGrant

#: Rows per IN (...) list: keeps every statement well under the drivers' parameter limits.
_CHUNK = 1000


async def held_memberships(
    session: AsyncSession, user_mrn: str, org_mrn: str
) -> tuple[list[Held], dict[str, int], dict[tuple[str, str], tuple[str, str]]]:
    """The user's memberships in the organization's teams, with their mapping grants.

    Returns the memberships, membership ids by team, and (claim, value) by (team, mapping).
    """
    rows = (await session.execute(
        select(TeamMember.id, TeamMember.team_mrn, TeamMember.added_by_hand,
               TeamMemberGrant.mapping_mrn, TeamMemberGrant.claim, TeamMemberGrant.value)
        .join(Team, Team.mrn == TeamMember.team_mrn)
        .outerjoin(TeamMemberGrant, TeamMemberGrant.member_id == TeamMember.id)
        .where(TeamMember.user_mrn == user_mrn, Team.org_mrn == org_mrn)
    )).all()
    ids: dict[str, int] = {}
    by_hand: dict[str, bool] = {}
    grants: dict[str, set[str]] = {}
    why: dict[tuple[str, str], tuple[str, str]] = {}
    for member_id, team, hand, mapping, claim, value in rows:
        ids[team], by_hand[team] = member_id, hand
        grants.setdefault(team, set())
        if mapping is not None:
            grants[team].add(mapping)
            why[(team, mapping)] = (claim, value)
    held = [Held(t, by_hand[t], frozenset(g)) for t, g in grants.items()]
    return held, ids, why


async def matching_mappings(session: AsyncSession, org_mrn: str, values: ClaimValues) -> list[Match]:
    """Mappings of the organization that the claim values satisfy: indexed (claim, value) lookups."""
    pairs = sorted(values.pairs)
    out: list[Match] = []
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start:start + _CHUNK]
        rows = (await session.execute(
            select(TeamExternalGroupMapping.mrn, TeamExternalGroupMapping.team_mrn,
                   TeamExternalGroupMapping.claim, TeamExternalGroupMapping.external_id)
            .where(TeamExternalGroupMapping.org_mrn == org_mrn,
                   tuple_(TeamExternalGroupMapping.claim,
                          TeamExternalGroupMapping.external_id).in_(chunk))
        )).all()
        out.extend(Match(*r) for r in rows)
    return out


async def apply_plan(
    session: AsyncSession, *, user_mrn: str, org_mrn: str, plan: Plan, member_ids: dict[str, int],
    why: dict[tuple[str, str], tuple[str, str]],
) -> None:
    """Write a sync plan and its audit events (in the caller's transaction)."""
    if plan.create_memberships:
        await insert_or_ignore(session, TeamMember, [
            {"team_mrn": t, "user_mrn": user_mrn, "added_by_hand": False}
            for t in sorted(plan.create_memberships)
        ])
        created = await session.execute(
            select(TeamMember.team_mrn, TeamMember.id).where(
                TeamMember.user_mrn == user_mrn,
                TeamMember.team_mrn.in_(sorted(plan.create_memberships)),
            )
        )
        member_ids = {**member_ids, **dict(created.all())}
    if plan.add_grants:
        await insert_or_ignore(session, TeamMemberGrant, [
            {"member_id": member_ids[m.team_mrn], "mapping_mrn": m.mapping_mrn, "claim": m.claim,
             "value": m.value}
            for m in plan.add_grants
        ])
    for team, mapping in plan.remove_grants:
        await session.execute(delete(TeamMemberGrant).where(
            TeamMemberGrant.member_id == member_ids[team], TeamMemberGrant.mapping_mrn == mapping))
    if plan.delete_memberships:
        await session.execute(delete(TeamMember).where(
            TeamMember.id.in_([member_ids[t] for t in plan.delete_memberships]),
            TeamMember.added_by_hand.is_(False),
        ))
    for c in plan.changes:
        claim, value = (c.claim, c.value) if c.action == "add" else why.get(
            (c.team_mrn, c.mapping_mrn), (None, None))
        record(session, actor=LOGIN_HOOK,
               action="team_member.sso_added" if c.action == "add" else "team_member.sso_removed",
               org_mrn=org_mrn, subject_mrn=user_mrn, target_mrn=c.team_mrn,
               mapping_mrn=c.mapping_mrn, claim=claim or None, value=value,
               details={"membership": c.membership})
