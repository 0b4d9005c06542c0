"""The database side of sign-in sync: load what the planner needs, apply its plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, case, delete, select, text

from app.audit import LOGIN_HOOK, event, record_many
from app.clock import now
from app.db import Executor, dialect_name, insert_or_ignore, upsert_insert
from app.login.claims import ClaimValues
from app.login.sync import Held, Match, Plan
from models import LoginClaims, Team, TeamMember, TeamMemberGrant


@dataclass(frozen=True)
class Grant:
    """A mapping grant the user holds: its row, and the claim value that matched."""

    id: int
    claim: str
    value: str


@dataclass
class Holdings:
    """The user's memberships in an organization's teams, as the planner and the writer see them."""

    held: list[Held] = field(default_factory=list)
    member_ids: dict[str, int] = field(default_factory=dict)  # by team
    grants: dict[tuple[str, str], Grant] = field(default_factory=dict)  # by (team, mapping)


_HELD = (
    select(TeamMember.id, TeamMember.team_mrn, TeamMember.added_by_hand,
           TeamMemberGrant.id, TeamMemberGrant.mapping_mrn, TeamMemberGrant.claim,
           TeamMemberGrant.value)
    .join(Team, Team.mrn == TeamMember.team_mrn)
    .outerjoin(TeamMemberGrant, TeamMemberGrant.member_id == TeamMember.id)
    .where(TeamMember.user_mrn == bindparam("user"), Team.org_mrn == bindparam("org"))
)


async def held_memberships(session: Executor, user_mrn: str, org_mrn: str) -> Holdings:
    """The user's memberships in the organization's teams, with their mapping grants."""
    rows = (await session.execute(_HELD, {"user": user_mrn, "org": org_mrn})).all()
    out = Holdings()
    by_hand: dict[str, bool] = {}
    mappings: dict[str, set[str]] = {}
    for member_id, team, hand, grant_id, mapping, claim, value in rows:
        out.member_ids[team], by_hand[team] = member_id, hand
        mappings.setdefault(team, set())
        if mapping is not None:
            mappings[team].add(mapping)
            out.grants[(team, mapping)] = Grant(grant_id, claim, value)
    out.held = [Held(t, by_hand[t], frozenset(g)) for t, g in mappings.items()]
    return out


#: The claim -> mapping lookup. The token's claims travel as one parameter, the JSON document
#: the sign-in stores anyway (``{claim: [value, ...]}``, ``ClaimValues.document``): the
#: statement text never changes (a prepared, cached plan), the database parses the JSON in C
#: (the driver encoded arrays element by element in Python), and every (claim, value) is one
#: probe of ``ix_mapping_org_claim_value``, however many mappings the organization has.
#: PostgreSQL: OFFSET 0 keeps the probe a subquery run per value; joined directly, the
#: planner's guess of 100 x 100 values would pick a hash join over every mapping instead.
_MATCH_POSTGRESQL = text(
    "SELECT m.mrn, m.team_mrn, m.claim, m.external_id"
    " FROM json_each(CAST(:claims AS json)) AS c"
    " CROSS JOIN LATERAL json_array_elements_text(c.value) AS v(value)"
    " CROSS JOIN LATERAL (SELECT t.mrn, t.team_mrn, t.claim, t.external_id"
    " FROM team_external_group_mapping AS t"
    " WHERE t.org_mrn = :org AND t.claim = c.key AND t.external_id = v.value OFFSET 0) AS m"
)
#: CROSS JOIN keeps the values as the outer loop: without table statistics SQLite would
#: otherwise walk all of the organization's mappings and scan the values for each.
_MATCH_SQLITE = text(
    "SELECT m.mrn, m.team_mrn, m.claim, m.external_id"
    " FROM json_each(:claims) AS c CROSS JOIN json_each(c.value) AS v"
    " CROSS JOIN team_external_group_mapping AS m"
    " WHERE m.org_mrn = :org AND m.claim = c.key AND m.external_id = v.value"
)


async def matching_mappings(session: Executor, org_mrn: str, values: ClaimValues) -> list[Match]:
    """Mappings of the organization that the claim values satisfy: one indexed lookup per pair."""
    if not values.pairs:
        return []
    statement = _MATCH_POSTGRESQL if dialect_name(session) == "postgresql" else _MATCH_SQLITE
    result = await session.execute(statement, {"org": org_mrn, "claims": values.document})
    return [Match(*r) for r in result.all()]


#: The statements of applying a plan, built once (lists travel as expanding parameters).
_CREATED = select(TeamMember.team_mrn, TeamMember.id).where(
    TeamMember.user_mrn == bindparam("user"),
    TeamMember.team_mrn.in_(bindparam("teams", expanding=True)))
_REMOVE_GRANTS = delete(TeamMemberGrant).where(
    TeamMemberGrant.id.in_(bindparam("ids", expanding=True)))
#: A membership also added by hand stays (the plan never deletes one, and this makes sure).
_DELETE_MEMBERSHIPS = delete(TeamMember).where(
    TeamMember.id.in_(bindparam("ids", expanding=True)), TeamMember.added_by_hand.is_(False))


async def apply_plan(
    session: Executor, *, user_mrn: str, org_mrn: str, plan: Plan, holdings: Holdings,
    also_audit: Sequence[dict[str, Any]] = (),
) -> None:
    """Write a sync plan and its audit events (in the caller's transaction): a few statements
    whatever the number of changes. ``also_audit``: more audit rows (from ``app.audit.event``)
    for the same batch."""
    member_ids = holdings.member_ids
    if plan.create_memberships:
        teams = sorted(plan.create_memberships)
        await insert_or_ignore(session, TeamMember, [
            {"team_mrn": t, "user_mrn": user_mrn, "added_by_hand": False} for t in teams])
        created = await session.execute(_CREATED, {"user": user_mrn, "teams": teams})
        member_ids = {**member_ids, **dict(created.all())}
    if plan.add_grants:
        await insert_or_ignore(session, TeamMemberGrant, [
            {"member_id": member_ids[m.team_mrn], "mapping_mrn": m.mapping_mrn, "claim": m.claim,
             "value": m.value}
            for m in plan.add_grants
        ])
    if plan.remove_grants:
        await session.execute(_REMOVE_GRANTS, {"ids": sorted(
            holdings.grants[key].id for key in plan.remove_grants)})
    if plan.delete_memberships:
        await session.execute(_DELETE_MEMBERSHIPS, {"ids": sorted(
            member_ids[t] for t in plan.delete_memberships)})
    events = []
    for c in plan.changes:
        if c.action == "add":
            claim, value = c.claim, c.value
        else:
            grant = holdings.grants.get((c.team_mrn, c.mapping_mrn))
            claim, value = (grant.claim, grant.value) if grant else (None, None)
        events.append(event(
            actor=LOGIN_HOOK,
            action="team_member.sso_added" if c.action == "add" else "team_member.sso_removed",
            org_mrn=org_mrn, subject_mrn=user_mrn, target_mrn=c.team_mrn,
            mapping_mrn=c.mapping_mrn, claim=claim or None, value=value,
            details={"membership": c.membership}))
    await record_many(session, [*events, *also_audit])


def _keep_claims_statement(dialect: str):
    table = LoginClaims.__table__
    stmt = upsert_insert(dialect)(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.user_mrn, table.c.org_mrn],
        set_={
            "claims": case((table.c.claims == stmt.excluded.claims, table.c.claims),
                           else_=stmt.excluded.claims),
            "signed_in_at": stmt.excluded.signed_in_at,
        },
    )


#: Built once per dialect: building an ON CONFLICT statement costs more than running it.
_KEEP_CLAIMS = {name: _keep_claims_statement(name) for name in ("postgresql", "sqlite")}


async def keep_claims(session: Executor, *, user_mrn: str, org_mrn: str, claims: str) -> None:
    """Store what the sign-in read (JSON) and when: one upsert. An unchanged document is kept
    as it is (PostgreSQL then reuses its stored value instead of writing it again)."""
    await session.execute(_KEEP_CLAIMS[dialect_name(session)], {
        "user_mrn": user_mrn, "org_mrn": org_mrn, "claims": claims, "signed_in_at": now()})
