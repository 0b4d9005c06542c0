"""The database side of sign-in (app.login.store, app.login.exchange, app.mappings) on both
databases: the claim -> mapping lookup, applying a plan, keeping the last claims, the advisory
lock between sign-ins and mapping removals, and claiming pending memberships by email.

Teams, mappings and members are created over HTTP on the real server; the store functions are
then called directly on ``server.db`` (the same database, from the test process).
"""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
from sqlalchemy import select, text

from app.clock import as_utc
from app.db import advisory_lock, mappings_lock_key
from app.login.claims import GROUPS, ClaimValues
from app.login.store import apply_plan, held_memberships, keep_claims, matching_mappings
from app.login.sync import Match
from app.login.sync import plan as plan_sync
from app.mappings import remove_mapping
from app.principals import principal_for_token
from models import LoginClaims
from tests.integration.harness import Org, Server
from tests.integration.oidc import Provider
from tests.integration.signin_helpers import (
    ADD_MAPPING,
    CREATE_TEAM,
    SignInOrg,
    new_signin_org,
)

ADD_MEMBER = """mutation($i: AddTeamMemberInput!) {
  addTeamMember(input: $i) { createdPending memberMrn } }"""
VIEWER = "{ viewer { mrn email teams { mrn } } }"

#: Values that must survive the trip through a text[] parameter (PostgreSQL) or a JSON
#: document read back with json_extract (SQLite) unchanged.
ODD_VALUES = [
    'a"b', "\\", "[1]", "\U0001F600", "caf\u00e9", '{"x": 1}', "a,b", "{x}", "NULL", "null",
    "1", "'quoted'", "back\\\\slash\\\"quote", "$[0]", "%_", "nbsp\u00a0inside",
]


# --- helpers ---------------------------------------------------------------------------------


def uid(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


async def rows(server: Server, sql: str, **params) -> list[tuple]:
    async with server.db.transaction() as s:
        return [tuple(r) for r in (await s.execute(text(sql), params)).all()]


async def new_team(server: Server, org: Org, team_id: str) -> str:
    return (await server.ok(CREATE_TEAM, {"i": {"id": team_id, "name": team_id,
                                                "scopeMrn": org.mrn}},
                            token=org.token))["createTeam"]["mrn"]


async def new_mapping(server: Server, org: Org, team_mrn: str, external_id: str,
                      claim: str | None = None) -> str:
    inp = {"teamMrn": team_mrn, "externalId": external_id}
    if claim:
        inp["claim"] = claim
    data = await server.ok(ADD_MAPPING, {"i": inp}, token=org.token)
    assert data["addTeamExternalGroupMapping"]["externalId"] == external_id
    return data["addTeamExternalGroupMapping"]["mrn"]


async def add_member(server: Server, org: Org, team_mrn: str, **who: str) -> dict:
    return (await server.ok(ADD_MEMBER, {"i": {"teamMrn": team_mrn, **who}},
                            token=org.token))["addTeamMember"]


async def match(server: Server, org_mrn: str, pairs: set[tuple[str, str]]) -> set[Match]:
    async with server.db.transaction() as s:
        found = await matching_mappings(s, org_mrn, ClaimValues(frozenset(pairs), True))
    assert len(found) == len(set(found)), f"duplicate matches: {found}"
    return set(found)


async def grants(server: Server, user_mrn: str) -> dict[int, tuple[str, str, str, str]]:
    """The user's grants: id -> (team, mapping, claim, value)."""
    got = await rows(server, """
        SELECT g.id, m.team_mrn, g.mapping_mrn, g.claim, g.value
        FROM team_member_grant g JOIN team_member m ON m.id = g.member_id
        WHERE m.user_mrn = :u""", u=user_mrn)
    return {gid: (team, mapping, claim, value) for gid, team, mapping, claim, value in got}


async def memberships(server: Server, user_mrn: str) -> dict[str, bool]:
    """The user's team_member rows: team -> added by hand."""
    got = await rows(server, "SELECT team_mrn, added_by_hand FROM team_member WHERE user_mrn = :u",
                     u=user_mrn)
    return {team: bool(hand) for team, hand in got}


async def sso_audit(server: Server, user_mrn: str, action: str) -> list[tuple]:
    got = await rows(server, """
        SELECT actor, org_mrn, target_mrn, mapping_mrn, claim, value, details
        FROM audit_event WHERE subject_mrn = :u AND action = :a""", u=user_mrn, a=action)
    return sorted(((actor, org, team, mapping, claim, value,
                    json.loads(details)["membership"] if details else None)
                   for actor, org, team, mapping, claim, value, details in got), key=repr)


async def sync(server: Server, user_mrn: str, org_mrn: str, pairs: set[tuple[str, str]]):
    """One sign-in's decision and write, as exchange does it, in one transaction."""
    async with server.db.transaction() as s:
        holdings = await held_memberships(s, user_mrn, org_mrn)
        matches = await matching_mappings(s, org_mrn, ClaimValues(frozenset(pairs), True))
        plan = plan_sync(holdings.held, matches)
        await apply_plan(s, user_mrn=user_mrn, org_mrn=org_mrn, plan=plan, holdings=holdings)
    return holdings, plan


async def sync_in(s, user_mrn: str, org_mrn: str, pairs: set[tuple[str, str]]) -> None:
    """``sync`` inside an open transaction."""
    holdings = await held_memberships(s, user_mrn, org_mrn)
    matches = await matching_mappings(s, org_mrn, ClaimValues(frozenset(pairs), True))
    await apply_plan(s, user_mrn=user_mrn, org_mrn=org_mrn,
                     plan=plan_sync(holdings.held, matches), holdings=holdings)


def require_postgres(server: Server) -> None:
    if server.backend != "postgres":
        pytest.skip("advisory locks exist only on PostgreSQL: on SQLite advisory_lock() is a "
                    "no-op because a process's transactions already run one at a time, so "
                    "there is no concurrent waiter to observe")


async def advisory_waiters(server: Server) -> int:
    """Advisory lock requests in this database that are waiting (not granted)."""
    got = await rows(server, """
        SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""")
    return got[0][0]


async def wait_until_blocked(server: Server, task: asyncio.Task, *, waiters: int = 1) -> None:
    """Wait until ``task`` waits on an advisory lock (or has finished, which the caller checks)."""
    for _ in range(200):
        if task.done() or await advisory_waiters(server) >= waiters:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # and give it time to (wrongly) get past the lock


# --- (a) matching_mappings ---------------------------------------------------------------------


async def test_matching_mappings_returns_exactly_the_mappings_of_the_pairs(
        server: Server, org: Org):
    other = await server.new_org()
    ours, theirs = await new_team(server, org, "match-ours"), await new_team(server, other,
                                                                              "match-theirs")
    grp = await new_mapping(server, org, ours, "grp-shared")
    dept = await new_mapping(server, org, ours, "security", claim="department")
    named_groups = await new_mapping(server, org, ours, "grp-named", claim="groups")
    unmatched = await new_mapping(server, org, ours, "never-sent")
    # Another organization, the same external ids and claims: never a match for ``org``.
    foreign_grp = await new_mapping(server, other, theirs, "grp-shared")
    foreign_dept = await new_mapping(server, other, theirs, "security", claim="department")

    got = await match(server, org.mrn, {
        (GROUPS, "grp-shared"), ("department", "security"), ("groups", "grp-named"),
        # near misses: a value under the wrong claim, case, surrounding space
        (GROUPS, "security"), ("department", "grp-shared"), ("department", "Security"),
        (GROUPS, " grp-shared"), (GROUPS, "grp-named"), ("team", "never-sent"),
    })
    assert got == {
        Match(grp, ours, GROUPS, "grp-shared"),
        Match(dept, ours, "department", "security"),
        Match(named_groups, ours, "groups", "grp-named"),
    }
    assert unmatched not in {m.mapping_mrn for m in got}

    got = await match(server, other.mrn, {(GROUPS, "grp-shared"), ("department", "security")})
    assert got == {Match(foreign_grp, theirs, GROUPS, "grp-shared"),
                   Match(foreign_dept, theirs, "department", "security")}

    # Only the department pair: only the department mapping.
    assert await match(server, org.mrn, {("department", "security")}) == {
        Match(dept, ours, "department", "security")}


async def test_matching_mappings_with_no_pairs_is_empty(server: Server, org: Org):
    team = await new_team(server, org, "match-empty")
    await new_mapping(server, org, team, "grp-any")
    await new_mapping(server, org, team, "x", claim="department")
    assert await match(server, org.mrn, set()) == set()
    async with server.db.transaction() as s:
        assert await matching_mappings(s, org.mrn, ClaimValues(frozenset(), False)) == []


async def test_matching_mappings_values_with_special_characters(server: Server, org: Org):
    team = await new_team(server, org, "match-odd")
    other_team = await new_team(server, org, "match-odd-dept")
    by_value: dict[str, str] = {}
    for v in ODD_VALUES:
        by_value[v] = await new_mapping(server, org, team, v)
    dept = {v: await new_mapping(server, org, other_team, v, claim="department")
            for v in ('a"b', "\U0001F600", "[1]")}

    # Each value alone matches its own mapping, and only it.
    for v in ODD_VALUES:
        assert await match(server, org.mrn, {(GROUPS, v)}) == {
            Match(by_value[v], team, GROUPS, v)}, v

    # All of them at once, plus the department ones and values that only look alike.
    pairs = {(GROUPS, v) for v in ODD_VALUES} | {("department", v) for v in dept}
    pairs |= {(GROUPS, "a\\\"b"), (GROUPS, "\\\\"), (GROUPS, "[ 1]"), (GROUPS, "[\"1\"]"),
              (GROUPS, "\U0001F601"), (GROUPS, "cafe\u0301"), ("department", "NULL")}
    expected = {Match(m, team, GROUPS, v) for v, m in by_value.items()}
    expected |= {Match(m, other_team, "department", v) for v, m in dept.items()}
    assert await match(server, org.mrn, pairs) == expected

    # The stored value is what comes back, byte for byte.
    stored = dict(await rows(server, """
        SELECT mrn, external_id FROM team_external_group_mapping WHERE team_mrn = :t""",
                             t=team))
    assert stored == {m: v for v, m in by_value.items()}


async def test_matching_mappings_many_pairs(server: Server, org: Org):
    team = await new_team(server, org, "match-many")
    wanted = {f"grp-{i:03d}": await new_mapping(server, org, team, f"grp-{i:03d}")
              for i in range(0, 40, 4)}
    pairs = {(GROUPS, f"grp-{i:03d}") for i in range(40)} | {
        ("department", f"grp-{i:03d}") for i in range(40)}
    assert await match(server, org.mrn, pairs) == {
        Match(m, team, GROUPS, v) for v, m in wanted.items()}


# --- (b) apply_plan ------------------------------------------------------------------------------


async def test_apply_plan_removes_exactly_the_planned_grants_and_audits_each_change(
        server: Server, org: Org):
    a, b, c = [await new_team(server, org, t) for t in ("plan-a", "plan-b", "plan-c")]
    m1 = await new_mapping(server, org, a, "g1")
    m2 = await new_mapping(server, org, a, "g2")
    m3 = await new_mapping(server, org, b, "g3")
    m4 = await new_mapping(server, org, c, "sec", claim="department")
    everything = {(GROUPS, "g1"), (GROUPS, "g2"), (GROUPS, "g3"), ("department", "sec")}
    user = await server.create_user(f"{uid('plan')}@example.com", signed_in_to=org.mrn)
    bystander = await server.create_user(f"{uid('plan')}@example.com", signed_in_to=org.mrn)

    # First sync: everything is added, one audit row per grant, with claim and value.
    for who in (user, bystander):
        _, plan = await sync(server, who, org.mrn, everything)
        assert len(plan.changes) == 4
    assert set((await grants(server, user)).values()) == {
        (a, m1, GROUPS, "g1"), (a, m2, GROUPS, "g2"), (b, m3, GROUPS, "g3"),
        (c, m4, "department", "sec")}
    assert await sso_audit(server, user, "team_member.sso_added") == sorted([
        ("login-hook", org.mrn, a, m1, None, "g1", "created"),
        ("login-hook", org.mrn, a, m2, None, "g2", "created"),
        ("login-hook", org.mrn, b, m3, None, "g3", "created"),
        ("login-hook", org.mrn, c, m4, "department", "sec", "created"),
    ], key=repr)
    # Team C is also held by hand from now on: losing its grant must not remove it.
    assert (await add_member(server, org, c, memberMrn=user))["memberMrn"] == user

    before_user, before_bystander = await grants(server, user), await grants(server, bystander)
    holdings, plan = await sync(server, user, org.mrn, {(GROUPS, "g2"), (GROUPS, "unrelated")})
    assert sorted(plan.remove_grants) == sorted([(a, m1), (b, m3), (c, m4)])
    assert plan.delete_memberships == {b}
    removed_ids = {holdings.grants[k].id for k in plan.remove_grants}
    assert len(removed_ids) == 3

    after_user = await grants(server, user)
    assert after_user == {gid: g for gid, g in before_user.items() if gid not in removed_ids}
    assert set(after_user.values()) == {(a, m2, GROUPS, "g2")}
    # The other user's grants of the same mappings are untouched, ids included.
    assert await grants(server, bystander) == before_bystander
    assert await memberships(server, user) == {a: False, c: True}
    assert await memberships(server, bystander) == {a: False, b: False, c: False}

    assert await sso_audit(server, user, "team_member.sso_removed") == sorted([
        ("login-hook", org.mrn, a, m1, None, "g1", "kept"),
        ("login-hook", org.mrn, b, m3, None, "g3", "deleted"),
        ("login-hook", org.mrn, c, m4, "department", "sec", "kept"),
    ], key=repr)
    assert await sso_audit(server, bystander, "team_member.sso_removed") == []

    # The same sign-in again changes nothing and writes no audit row.
    _, plan = await sync(server, user, org.mrn, {(GROUPS, "g2")})
    assert plan.changes == []
    assert await grants(server, user) == after_user
    assert len(await sso_audit(server, user, "team_member.sso_removed")) == 3
    assert len(await sso_audit(server, user, "team_member.sso_added")) == 4


async def test_held_memberships_are_per_organization(server: Server, org: Org):
    other = await server.new_org()
    ours = await new_team(server, org, "held-ours")
    theirs = await new_team(server, other, "held-theirs")
    mine = await new_mapping(server, org, ours, "g-held")
    await new_mapping(server, other, theirs, "g-held")
    user = await server.create_user(f"{uid('held')}@example.com", signed_in_to=org.mrn)
    await sync(server, user, org.mrn, {(GROUPS, "g-held")})
    async with server.db.transaction() as s:
        here = await held_memberships(s, user, org.mrn)
        there = await held_memberships(s, user, other.mrn)
    assert [(h.team_mrn, h.added_by_hand, h.grants) for h in here.held] == [
        (ours, False, frozenset({mine}))]
    assert set(here.member_ids) == {ours}
    assert set(here.grants) == {(ours, mine)}
    assert here.grants[(ours, mine)].claim == GROUPS
    assert here.grants[(ours, mine)].value == "g-held"
    assert there.held == [] and there.member_ids == {} and there.grants == {}


# --- (c) keep_claims -----------------------------------------------------------------------------


async def stored_claims(server: Server, user: str) -> dict[str, tuple[str, object]]:
    async with server.db.transaction() as s:
        got = (await s.execute(select(LoginClaims).where(LoginClaims.user_mrn == user))).scalars()
        return {r.org_mrn: (r.claims, as_utc(r.signed_in_at)) for r in got}


async def keep(server: Server, user: str, org_mrn: str, claims: str) -> None:
    async with server.db.transaction() as s:
        await keep_claims(s, user_mrn=user, org_mrn=org_mrn, claims=claims)


async def test_keep_claims_inserts_keeps_and_replaces(server: Server, org: Org):
    other = await server.new_org()
    user = await server.create_user(f"{uid('claims')}@example.com")
    assert await stored_claims(server, user) == {}
    first = json.dumps({"": ["g1", 'a"b', "\U0001F600"], "department": ["sec"]}, sort_keys=True)
    second = json.dumps({"": ["g2"]}, sort_keys=True)

    await keep(server, user, org.mrn, first)
    got = await stored_claims(server, user)
    assert set(got) == {org.mrn}
    assert got[org.mrn][0] == first
    t1 = got[org.mrn][1]

    await asyncio.sleep(0.01)
    await keep(server, user, org.mrn, first)
    got = await stored_claims(server, user)
    assert got[org.mrn][0] == first
    t2 = got[org.mrn][1]
    assert t2 > t1

    await asyncio.sleep(0.01)
    await keep(server, user, org.mrn, second)
    got = await stored_claims(server, user)
    assert got[org.mrn][0] == second
    t3 = got[org.mrn][1]
    assert t3 > t2

    # Another organization is another row; the first one is left as it is.
    await keep(server, user, other.mrn, first)
    got = await stored_claims(server, user)
    assert got[org.mrn] == (second, t3)
    assert got[other.mrn][0] == first
    assert await rows(server, "SELECT count(*) FROM login_claims WHERE user_mrn = :u",
                      u=user) == [(2,)]


async def test_sign_in_keeps_the_claims_it_read(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    sub = uid("sub")
    token = await s.access_token(sub, groups=["g1", 'q"uote'], department="sec")
    user = (await server.ok(VIEWER, token=token))["viewer"]["mrn"]
    got = await stored_claims(server, user)
    doc, t1 = got[s.org.mrn]
    assert json.loads(doc)[GROUPS] == sorted(["g1", 'q"uote'])
    assert json.loads(doc)["department"] == ["sec"]

    await asyncio.sleep(0.01)
    await s.access_token(sub, groups=['q"uote', "g1"], department="sec")
    doc2, t2 = (await stored_claims(server, user))[s.org.mrn]
    assert doc2 == doc and t2 > t1

    await s.access_token(sub, groups=["g3"], department="sec")
    doc3, t3 = (await stored_claims(server, user))[s.org.mrn]
    assert json.loads(doc3)[GROUPS] == ["g3"] and t3 > t2


# --- (d) remove_mapping waits for in-flight sign-ins (PostgreSQL) --------------------------------


async def test_remove_mapping_waits_for_the_shared_mappings_lock(server: Server, org: Org):
    require_postgres(server)
    team = await new_team(server, org, "lock-team")
    kept_team = await new_team(server, org, "lock-kept")
    mapping = await new_mapping(server, org, team, "g-lock")
    other_mapping = await new_mapping(server, org, kept_team, "g-lock-other")
    early = await server.create_user(f"{uid('early')}@example.com", signed_in_to=org.mrn)
    late = await server.create_user(f"{uid('late')}@example.com", signed_in_to=org.mrn)
    await sync(server, early, org.mrn, {(GROUPS, "g-lock"), (GROUPS, "g-lock-other")})
    assert set(await memberships(server, early)) == {team, kept_team}
    async with server.db.transaction() as s:
        principal = await principal_for_token(s, org.token)

    async with server.db.transaction() as s:
        # What a sign-in of this organization holds for its whole transaction.
        await advisory_lock(s, f"{org.mrn}\nhttps://idp.test\n{uid('sub')}",
                            shared=(mappings_lock_key(org.mrn),))
        removal = asyncio.create_task(remove_mapping(server.db, principal, mrn=mapping))
        try:
            await wait_until_blocked(server, removal)
            assert not removal.done(), "remove_mapping did not wait for the sign-in's lock"
            # The sign-in goes on: it matched the mapping and writes its grant.
            await sync_in(s, late, org.mrn, {(GROUPS, "g-lock")})
        except BaseException:
            removal.cancel()
            raise
    assert await asyncio.wait_for(removal, timeout=30) is True

    # The removal ran after the sign-in: it saw and revoked what the sign-in wrote too.
    assert await rows(server, "SELECT mrn FROM team_external_group_mapping WHERE mrn = :m",
                      m=mapping) == []
    assert await rows(server, "SELECT id FROM team_member_grant WHERE mapping_mrn = :m",
                      m=mapping) == []
    assert await memberships(server, late) == {}
    assert await memberships(server, early) == {kept_team: False}
    assert set((await grants(server, early)).values()) == {
        (kept_team, other_mapping, GROUPS, "g-lock-other")}
    revoked = await rows(server, """
        SELECT subject_mrn, actor FROM audit_event
        WHERE action = 'team_member.sso_removed' AND mapping_mrn = :m""", m=mapping)
    assert sorted(revoked) == sorted([(early, principal.mrn), (late, principal.mrn)])


async def test_two_removals_of_one_mapping_waiting_on_the_lock_remove_it_once(
    server: Server, org: Org,
):
    require_postgres(server)
    team = await new_team(server, org, "twice-team")
    mapping = await new_mapping(server, org, team, "g-twice")
    async with server.db.transaction() as s:
        principal = await principal_for_token(s, org.token)

    async with server.db.transaction() as s:
        await advisory_lock(s, f"{org.mrn}\nhttps://idp.test\n{uid('sub')}",
                            shared=(mappings_lock_key(org.mrn),))
        first = asyncio.create_task(remove_mapping(server.db, principal, mrn=mapping))
        await wait_until_blocked(server, first)
        second = asyncio.create_task(remove_mapping(server.db, principal, mrn=mapping))
        try:
            await wait_until_blocked(server, second, waiters=2)
        except BaseException:
            first.cancel()
            second.cancel()
            raise
    results = await asyncio.gather(first, second, return_exceptions=True)

    # One removal removed it; the other, having waited, finds it gone: NOT_FOUND, no audit.
    assert sorted(type(r).__name__ for r in results) == ["NotFound", "bool"]
    assert True in results
    removed = await rows(server, """
        SELECT count(*) FROM audit_event WHERE action = 'mapping.removed' AND mapping_mrn = :m""",
                         m=mapping)
    assert removed == [(1,)]


async def test_remove_mapping_of_another_organization_does_not_wait(server: Server, org: Org):
    require_postgres(server)
    other = await server.new_org()
    team = await new_team(server, other, "lock-elsewhere")
    mapping = await new_mapping(server, other, team, "g-elsewhere")
    async with server.db.transaction() as s:
        principal = await principal_for_token(s, other.token)
    async with server.db.transaction() as s:
        await advisory_lock(s, uid("identity"), shared=(mappings_lock_key(org.mrn),))
        # Only ``org``'s mappings are held: removing one of ``other``'s goes through.
        assert await asyncio.wait_for(remove_mapping(server.db, principal, mrn=mapping),
                                      timeout=30) is True
    assert await rows(server, "SELECT mrn FROM team_external_group_mapping WHERE mrn = :m",
                      m=mapping) == []


async def test_sign_in_waits_for_a_mapping_removal_in_flight(server: Server, provider: Provider):
    require_postgres(server)
    s = await new_signin_org(server, provider)
    team = await s.team("lock-signin")
    await s.map(team, "g-signin")
    id_token = s.id_token(uid("sub"), groups=["g-signin"])

    # Another sign-in's shared hold does not stop this one.
    async with server.db.transaction() as session:
        await advisory_lock(session, uid("identity"), shared=(mappings_lock_key(s.org.mrn),))
        resp = await asyncio.wait_for(s.exchange(id_token), timeout=30)
        assert resp.status_code == 200, resp.text

    # A removal's exclusive hold does.
    id_token = s.id_token(uid("sub"), groups=["g-signin"])
    async with server.db.transaction() as session:
        await advisory_lock(session, mappings_lock_key(s.org.mrn))
        signing_in = asyncio.create_task(s.exchange(id_token))
        try:
            await wait_until_blocked(server, signing_in)
            assert not signing_in.done(), "the sign-in did not wait for the mappings lock"
        except BaseException:
            signing_in.cancel()
            raise
    resp = await asyncio.wait_for(signing_in, timeout=30)
    assert resp.status_code == 200, resp.text
    assert await s.teams_of(resp.json()["access_token"]) == {team}


# --- (e) pending memberships by email ------------------------------------------------------------


async def pending_rows(server: Server, email: str) -> list[tuple]:
    return sorted(await rows(server, """
        SELECT team_mrn, user_mrn, pending_email, added_by_hand FROM team_member
        WHERE pending_email = :e""", e=email))


async def test_pending_membership_claimed_only_in_the_signing_in_organization(
        server: Server, provider: Provider):
    a = await new_signin_org(server, provider)
    b = await new_signin_org(server, provider)
    a1, a2 = await a.team("pending-a1"), await a.team("pending-a2")
    b1 = await b.team("pending-b1")
    email = f"{uid('pending')}@example.com"
    for s, team in ((a, a1), (a, a2), (b, b1)):
        added = await add_member(server, s.org, team, email=email)
        assert added == {"createdPending": True, "memberMrn": None}
    # Someone else's pending membership in org A is not touched either.
    bystander = f"{uid('other')}@example.com"
    await add_member(server, a.org, a1, email=bystander)

    token = await a.access_token(uid("sub"), email=email.upper(), email_verified=True,
                                 groups=[])
    user = (await server.ok(VIEWER, token=token))["viewer"]["mrn"]
    assert await a.teams_of(token) == {a1, a2}
    assert await memberships(server, user) == {a1: True, a2: True}
    # Org B's pending membership for the same email is still pending.
    assert await pending_rows(server, email) == [(b1, None, email, True)]
    assert await pending_rows(server, bystander) == [(a1, None, bystander, True)]
    claimed = await rows(server, """
        SELECT target_mrn, org_mrn FROM audit_event
        WHERE action = 'team_member.pending_claimed' AND subject_mrn = :u""", u=user)
    assert sorted(claimed) == sorted([(a1, a.org.mrn), (a2, a.org.mrn)])

    # Signing in to org B (another user there) claims org B's, and leaves org A's user alone.
    token_b = await b.access_token(uid("sub"), email=email, email_verified=True, groups=[])
    user_b = (await server.ok(VIEWER, token=token_b))["viewer"]["mrn"]
    assert user_b != user
    assert await b.teams_of(token_b) == {b1}
    assert await pending_rows(server, email) == []
    assert await memberships(server, user) == {a1: True, a2: True}
    assert await memberships(server, user_b) == {b1: True}


async def test_pending_membership_of_a_team_the_user_already_holds_by_sso(
        server: Server, provider: Provider):
    s: SignInOrg = await new_signin_org(server, provider)
    team = await s.team("pending-sso")
    mapping = await s.map(team, "g-pending")
    sub, email = uid("sub"), f"{uid('pending')}@example.com"
    token = await s.access_token(sub, groups=["g-pending"])  # no email yet
    user = (await server.ok(VIEWER, token=token))["viewer"]["mrn"]
    assert await memberships(server, user) == {team: False}
    await add_member(server, s.org, team, email=email)  # nobody has the email: pending

    token = await s.access_token(sub, groups=["g-pending"], email=email, email_verified=True)
    assert await s.teams_of(token) == {team}
    # One membership, now also by hand, still with its grant; the pending row is gone.
    assert await memberships(server, user) == {team: True}
    assert {g[1] for g in (await grants(server, user)).values()} == {mapping}
    assert await pending_rows(server, email) == []
    token = await s.access_token(sub, groups=[], email=email, email_verified=True)
    assert await s.teams_of(token) == {team}


async def test_pending_email_index_exists(server: Server):
    if server.backend == "postgres":
        got = await rows(server, """
            SELECT indexdef FROM pg_indexes
            WHERE tablename = 'team_member' AND indexname = 'ix_team_member_pending_email'""")
    else:
        got = await rows(server, """
            SELECT sql FROM sqlite_master
            WHERE type = 'index' AND name = 'ix_team_member_pending_email'""")
    assert len(got) == 1, got
    definition = got[0][0].lower()
    assert "pending_email" in definition
    assert "where" in definition and "is not null" in definition


async def test_pending_lookup_probes_the_pending_email_index(server: Server):
    """The sign-in's pending-membership lookups are one probe of the partial index, whatever the
    number of teams: planned from the statements the sign-in runs (SQLite has no table statistics
    here, the case where a join to the organization's teams walked every team instead). The
    user lookup asks the same index whether any membership waits for the email."""
    from app.login.exchange import _FIND_USER, _PENDING

    params = {"email": "x@example.com", "org": "o", "issuer": "i", "subject": "s"}
    for statement in (_PENDING, _FIND_USER):
        async with server.db.statements() as conn:
            compiled = statement.compile(dialect=conn.dialect)
            args = tuple(params[name] for name in compiled.positiontup)
            if server.backend == "postgres":
                await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plan = (await conn.exec_driver_sql("EXPLAIN " + str(compiled), args)).all()
            else:
                plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                                   args)).all()
        text_plan = "\n".join(str(r[-1]) for r in plan)
        assert "ix_team_member_pending_email" in text_plan, text_plan
        if server.backend == "sqlite":
            assert "SCAN" not in text_plan, text_plan


async def test_matching_mappings_probes_the_index_per_pair_among_many_mappings(
        server: Server, org: Org):
    """With tens of thousands of mappings and table statistics, the lookup is one index probe
    per pair (a hash join over a scan of every mapping would make the cost grow with the
    mappings: the document's 100 x 100 estimated values would make PostgreSQL pick it)."""
    from app.login.store import _MATCH_POSTGRESQL, _MATCH_SQLITE

    team = await new_team(server, org, "match-plan")
    async with server.db.transaction() as s:
        await s.execute(text(
            "INSERT INTO team_external_group_mapping"
            " (mrn, team_mrn, org_mrn, external_id, claim, created_at, updated_at)"
            " SELECT :team || '/mappings/' || x, :team, :org, 'grp-' || x, '',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM (" + (
                "SELECT generate_series(1, 40000) AS x" if server.backend == "postgres" else
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 40000)"
                " SELECT x FROM n") + ") AS series"), {"team": team, "org": org.mrn})
    async with server.db.transaction() as s:
        await s.execute(text("ANALYZE team_external_group_mapping"))
    pairs = [[GROUPS, f"grp-{i}"] for i in range(1, 201)] + [
        ["groups", f"grp-{i}"] for i in range(1, 201)]
    statement = _MATCH_POSTGRESQL if server.backend == "postgres" else _MATCH_SQLITE
    async with server.db.statements() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        params = {"org": org.mrn,
                  "claims": ClaimValues(frozenset(map(tuple, pairs)), True).document}
        args = tuple(params[name] for name in compiled.positiontup)
        explain = "EXPLAIN " if server.backend == "postgres" else "EXPLAIN QUERY PLAN "
        plan = "\n".join(str(r[-1]) for r in (
            await conn.exec_driver_sql(explain + str(compiled), args)).all())
    assert "ix_mapping_org_claim_value" in plan, plan
    assert "Seq Scan on team_external_group_mapping" not in plan, plan
    assert "SCAN m" not in plan, plan
    assert len(await match(server, org.mrn, {tuple(p) for p in pairs})) == 200
