"""Sign-in membership sync end to end: ID tokens from a real OIDC provider, over HTTP.

At every sign-in the user's SSO-granted memberships become exactly what the token's claims
justify through the organization's external group mappings; memberships added by hand are
never touched by sync.
"""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
from sqlalchemy import text

from tests.integration.harness import Server
from tests.integration.oidc import Provider, start_provider
from tests.integration.signin_helpers import SignInOrg, new_signin_org

ADD_MEMBER = """mutation($i: AddTeamMemberInput!) {
  addTeamMember(input: $i) { createdPending memberMrn } }"""
REMOVE_MAPPING = "mutation($m: String!) { removeTeamExternalGroupMapping(mrn: $m) }"
VIEWER = "{ viewer { mrn email name teams { mrn name } } }"


# --- helpers ---------------------------------------------------------------------------------


def uid(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


async def rows(server: Server, sql: str, **params) -> list[tuple]:
    async with server.db.transaction() as s:
        return [tuple(r) for r in (await s.execute(text(sql), params)).all()]


async def me(server: Server, access_token: str) -> dict:
    return (await server.ok(VIEWER, token=access_token))["viewer"]


async def sign_in_user(s: SignInOrg, sub: str, **claims) -> tuple[str, str]:
    """(access token, user MRN) of a successful sign-in."""
    token = await s.access_token(sub, **claims)
    return token, (await me(s.server, token))["mrn"]


async def add_member(s: SignInOrg, team_mrn: str, **who: str) -> dict:
    return (await s.server.ok(ADD_MEMBER, {"i": {"teamMrn": team_mrn, **who}},
                              token=s.org.token))["addTeamMember"]


async def memberships(server: Server, user_mrn: str) -> dict[str, tuple[bool, frozenset[str]]]:
    """The user's team_member rows: team -> (added by hand, mapping MRNs of its grants)."""
    got = await rows(server, """
        SELECT m.team_mrn, m.added_by_hand, g.mapping_mrn
        FROM team_member m LEFT JOIN team_member_grant g ON g.member_id = m.id
        WHERE m.user_mrn = :u""", u=user_mrn)
    out: dict[str, tuple[bool, set[str]]] = {}
    for team, hand, mapping in got:
        entry = out.setdefault(team, (bool(hand), set()))
        if mapping is not None:
            entry[1].add(mapping)
    return {t: (h, frozenset(g)) for t, (h, g) in out.items()}


async def team_member_rows(server: Server, user_mrn: str) -> list[str]:
    return sorted(r[0] for r in await rows(
        server, "SELECT team_mrn FROM team_member WHERE user_mrn = :u", u=user_mrn))


async def state(server: Server) -> dict:
    """What a refused sign-in must leave as it was."""
    snap = await server.snapshot()
    for table in ("team_member_grant", "login_session", "login_claims"):
        found = await rows(server, f"SELECT * FROM {table}")
        snap[table] = sorted(found, key=repr)
    return snap


# --- manual memberships ------------------------------------------------------------------------


async def test_manual_membership_survives_sign_ins_that_do_not_justify_it(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    manual, sso = await s.team("manual-team"), await s.team("sso-team")
    await s.map(sso, "grp-sso")
    first, user = await sign_in_user(s, uid("sub"), groups=["grp-sso"])
    assert await s.teams_of(first) == {sso}

    added = await add_member(s, manual, memberMrn=user)
    assert added == {"createdPending": False, "memberMrn": user}
    assert await s.teams_of(first) == {sso, manual}

    sub = (await rows(server, "SELECT subject FROM user_account WHERE mrn = :u", u=user))[0][0]
    for groups in ([], ["unrelated"], ["grp-sso"], []):
        token = await s.access_token(sub, groups=groups)
        expected = {manual, sso} if "grp-sso" in groups else {manual}
        assert await s.teams_of(token) == expected, groups
    assert (await memberships(server, user))[manual] == (True, frozenset())


async def test_membership_both_manual_and_sso_survives_losing_the_group(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("both-team")
    mapping = await s.map(team, "grp-both")
    sub = uid("sub")
    _, user = await sign_in_user(s, sub, groups=["grp-both"])
    assert await memberships(server, user) == {team: (False, frozenset({mapping}))}

    added = await add_member(s, team, memberMrn=user)
    assert added["memberMrn"] == user and added["createdPending"] is False
    assert await memberships(server, user) == {team: (True, frozenset({mapping}))}
    again = await server.error(ADD_MEMBER, {"i": {"teamMrn": team, "memberMrn": user}},
                               token=s.org.token)
    assert again["code"] == "ALREADY_EXISTS", again

    token = await s.access_token(sub, groups=[])
    assert await s.teams_of(token) == {team}
    assert await memberships(server, user) == {team: (True, frozenset())}
    # Regaining the group adds the grant again to the same single membership.
    await s.access_token(sub, groups=["grp-both"])
    assert await memberships(server, user) == {team: (True, frozenset({mapping}))}
    assert await team_member_rows(server, user) == [team]


# --- several mappings, claims, exact matching --------------------------------------------------


async def test_two_mappings_to_one_team(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("two-maps")
    m1, m2 = await s.map(team, "grp-one"), await s.map(team, "grp-two")
    sub = uid("sub")
    token, user = await sign_in_user(s, sub, groups=["grp-one", "grp-two"])
    assert await s.teams_of(token) == {team}
    assert await memberships(server, user) == {team: (False, frozenset({m1, m2}))}

    token = await s.access_token(sub, groups=["grp-two"])
    assert await s.teams_of(token) == {team}
    assert await memberships(server, user) == {team: (False, frozenset({m2}))}

    token = await s.access_token(sub, groups=["grp-one"])
    assert await s.teams_of(token) == {team}
    assert await memberships(server, user) == {team: (False, frozenset({m1}))}

    token = await s.access_token(sub, groups=[])
    assert await s.teams_of(token) == set()
    assert await memberships(server, user) == {}


async def test_mapping_with_a_claim_matches_only_that_claim(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    sec = await s.team("security-dept")
    grp = await s.team("security-group")
    await s.map(sec, "security", claim="department")
    await s.map(grp, "security")  # the groups claim
    sub = uid("sub")

    token = await s.access_token(sub, groups=[], department="security")
    assert await s.teams_of(token) == {sec}
    token = await s.access_token(sub, groups=[], department=["sales", "security"])
    assert await s.teams_of(token) == {sec}
    token = await s.access_token(sub, groups=[], department="sales")
    assert await s.teams_of(token) == set()
    token = await s.access_token(sub, groups=["security"])
    assert await s.teams_of(token) == {grp}
    token = await s.access_token(sub, groups=["security"], team="security",
                                 department="Security")
    assert await s.teams_of(token) == {grp}
    token = await s.access_token(sub, groups=["security"], department="security")
    assert await s.teams_of(token) == {sec, grp}


async def test_matching_is_exact_and_case_sensitive(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("exact")
    await s.map(team, "grp")
    sub = uid("sub")
    token = await s.access_token(sub, groups=[" grp", "GRP", "grp ", "Grp", "grp-x", "xgrp"])
    assert await s.teams_of(token) == set()
    token = await s.access_token(sub, groups=["GRP", "grp"])
    assert await s.teams_of(token) == {team}
    token = await s.access_token(sub, groups=["GRP"])
    assert await s.teams_of(token) == set()


async def test_single_string_groups_claim(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    a, b = await s.team("single-a"), await s.team("single-b")
    await s.map(a, "grp-a")
    await s.map(b, "grp-b")
    sub = uid("sub")
    token = await s.access_token(sub, groups="grp-a")
    assert await s.teams_of(token) == {a}
    token = await s.access_token(sub, groups="grp-b")
    assert await s.teams_of(token) == {b}


async def test_empty_groups_list_removes_sso_memberships(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    a, b, manual = await s.team("empty-a"), await s.team("empty-b"), await s.team("empty-m")
    await s.map(a, "grp-a")
    await s.map(b, "grp-b")
    sub = uid("sub")
    token, user = await sign_in_user(s, sub, groups=["grp-a", "grp-b"])
    await add_member(s, manual, memberMrn=user)
    assert await s.teams_of(token) == {a, b, manual}
    token = await s.access_token(sub, groups=[])
    assert await s.teams_of(token) == {manual}
    assert await team_member_rows(server, user) == [manual]


async def test_memberships_of_another_organization_are_not_touched(
        server: Server, provider: Provider):
    s1 = await new_signin_org(server, provider)
    s2 = await new_signin_org(server, provider)
    t1, t2 = await s1.team("org-one"), await s2.team("org-two")
    await s1.map(t1, "grp-shared")
    await s2.map(t2, "grp-shared")
    sub = uid("sub")
    _, user = await sign_in_user(s1, sub, groups=["grp-shared"])
    assert await team_member_rows(server, user) == [t1]
    _, user2 = await sign_in_user(s2, sub, groups=["grp-shared"])
    # Each organization knows the person through its own provider: two users, one per org.
    assert user != user2
    assert await team_member_rows(server, user) == [t1]
    assert await team_member_rows(server, user2) == [t2]
    await s1.access_token(sub, groups=[])
    assert await team_member_rows(server, user) == []
    assert await team_member_rows(server, user2) == [t2]


# --- missing groups claim ----------------------------------------------------------------------


async def test_missing_claim_fail_refuses_and_changes_nothing(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)  # missingClaim defaults to FAIL
    team = await s.team("fail-team")
    await s.map(team, "grp-fail")
    sub = uid("sub")
    await s.access_token(sub, groups=["grp-fail"], email="fail@example.com")
    before = await state(server)

    resp = await s.sign_in(sub, email="changed@example.com", name="Changed")
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["error"] == "invalid_request"
    assert "'groups'" in body["error_description"]
    assert "access_token" not in body
    assert await state(server) == before

    # A first sign-in without the claim creates no user either.
    resp = await s.sign_in(uid("newcomer"), email="new@example.com")
    assert resp.status_code == 400, resp.text
    assert await state(server) == before
    # A groups claim that is not a list of strings (null here) counts as absent.
    resp = await s.sign_in(sub, groups=None)
    assert resp.status_code == 400, resp.text
    assert "'groups'" in resp.json()["error_description"]
    assert await state(server) == before


async def test_missing_claim_fail_names_the_configured_claim(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    await s.configure(groupsClaim="roles", missingClaim="FAIL")
    team = await s.team("roles-team")
    await s.map(team, "role-x")
    sub = uid("sub")
    token = await s.access_token(sub, roles=["role-x"], groups=["ignored"])
    assert await s.teams_of(token) == {team}
    before = await state(server)
    resp = await s.sign_in(sub, groups=["role-x"])  # groups is not the configured claim
    assert resp.status_code == 400, resp.text
    assert "'roles'" in resp.json()["error_description"]
    assert await state(server) == before


async def test_missing_claim_keep_signs_in_and_keeps_memberships(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    assert (await s.configure(missingClaim="KEEP"))["missingClaim"] == "KEEP"
    a, b = await s.team("keep-a"), await s.team("keep-b")
    await s.map(a, "grp-a")
    await s.map(b, "grp-b")
    sub = uid("sub")
    token, user = await sign_in_user(s, sub, groups=["grp-a", "grp-b"])
    held = await memberships(server, user)

    resp = await s.sign_in(sub)
    assert resp.status_code == 200, resp.text
    assert await s.teams_of(resp.json()["access_token"]) == {a, b}
    assert await memberships(server, user) == held
    # A present claim still syncs.
    token = await s.access_token(sub, groups=["grp-b"])
    assert await s.teams_of(token) == {b}
    # A newcomer without the claim signs in, with no SSO memberships.
    token, newcomer = await sign_in_user(s, uid("newcomer"))
    assert await s.teams_of(token) == set()
    assert await memberships(server, newcomer) == {}


async def test_missing_claim_clear_removes_sso_memberships(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    assert (await s.configure(missingClaim="CLEAR"))["missingClaim"] == "CLEAR"
    a, manual = await s.team("clear-a"), await s.team("clear-m")
    await s.map(a, "grp-a")
    sub = uid("sub")
    token, user = await sign_in_user(s, sub, groups=["grp-a"])
    await add_member(s, manual, memberMrn=user)
    assert await s.teams_of(token) == {a, manual}

    resp = await s.sign_in(sub)
    assert resp.status_code == 200, resp.text
    assert await s.teams_of(resp.json()["access_token"]) == {manual}
    assert await team_member_rows(server, user) == [manual]


# --- Entra ID group overage --------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["FAIL", "KEEP", "CLEAR"])
async def test_group_overage_is_refused_and_changes_nothing(
        server: Server, provider: Provider, policy: str):
    s = await new_signin_org(server, provider)
    await s.configure(missingClaim=policy)
    team = await s.team("overage")
    await s.map(team, "grp-o")
    sub = uid("sub")
    token = await s.access_token(sub, groups=["grp-o"])
    assert await s.teams_of(token) == {team}
    before = await state(server)

    resp = await s.sign_in(sub, _claim_names={"groups": "src1"}, _claim_sources={
        "src1": {"endpoint": "https://graph.windows.net/tenant/users/x/getMemberObjects"}})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["error"] == "invalid_request"
    description = body["error_description"].lower()
    assert "overage" in description
    assert "groups" in description
    assert "assigned to the application" in description  # how to fix it at the provider
    assert await state(server) == before
    assert await s.teams_of(token) == {team}


# --- removing a mapping --------------------------------------------------------------------------


async def test_removing_a_mapping_revokes_only_what_it_alone_justified(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    a, b = await s.team("rm-a"), await s.team("rm-b")
    m1, m2, mb = await s.map(a, "grp-1"), await s.map(a, "grp-2"), await s.map(b, "grp-b")

    only, u_only = await sign_in_user(s, uid("only"), groups=["grp-1", "grp-b"])
    two, u_two = await sign_in_user(s, uid("two"), groups=["grp-1", "grp-2"])
    hand, u_hand = await sign_in_user(s, uid("hand"), groups=["grp-1"])
    await add_member(s, a, memberMrn=u_hand)
    other, u_other = await sign_in_user(s, uid("other"), groups=["grp-2"])

    assert await server.ok(REMOVE_MAPPING, {"m": m1}, token=s.org.token) == {
        "removeTeamExternalGroupMapping": True}

    # Immediately, with the sessions opened before the removal.
    assert await s.teams_of(only) == {b}
    assert await s.teams_of(two) == {a}
    assert await s.teams_of(hand) == {a}
    assert await s.teams_of(other) == {a}
    assert await memberships(server, u_only) == {b: (False, frozenset({mb}))}
    assert await memberships(server, u_two) == {a: (False, frozenset({m2}))}
    assert await memberships(server, u_hand) == {a: (True, frozenset())}
    assert await memberships(server, u_other) == {a: (False, frozenset({m2}))}
    assert not await rows(server, "SELECT 1 FROM team_member_grant WHERE mapping_mrn = :m", m=m1)

    audit = await rows(server, """
        SELECT subject_mrn, target_mrn, mapping_mrn, claim, value, details FROM audit_event
        WHERE action = 'team_member.sso_removed' AND mapping_mrn = :m""", m=m1)
    by_user = {r[0]: r for r in audit}
    assert set(by_user) == {u_only, u_two, u_hand}
    assert all(r[1] == a and r[4] == "grp-1" for r in audit)
    assert json.loads(by_user[u_only][5])["membership"] == "deleted"
    assert json.loads(by_user[u_two][5])["membership"] == "kept"
    assert json.loads(by_user[u_hand][5])["membership"] == "kept"

    # The group no longer leads anywhere at the next sign-in.
    sub = (await rows(server, "SELECT subject FROM user_account WHERE mrn = :u", u=u_only))[0][0]
    token = await s.access_token(sub, groups=["grp-1", "grp-b"])
    assert await s.teams_of(token) == {b}


# --- pending memberships -------------------------------------------------------------------------


@pytest.mark.parametrize("verified", [True, False, None])
async def test_pending_membership_needs_a_verified_email(
        server: Server, provider: Provider, verified: bool | None):
    s = await new_signin_org(server, provider)
    team = await s.team("pending")
    email = f"{uid('new')}@example.com"
    added = await add_member(s, team, email=email)
    assert added == {"createdPending": True, "memberMrn": None}

    claims: dict = {"email": email, "groups": []}
    if verified is not None:
        claims["email_verified"] = verified
    token, user = await sign_in_user(s, uid("sub"), **claims)
    pending = await rows(server, "SELECT user_mrn FROM team_member WHERE pending_email = :e",
                         e=email)
    claimed = await rows(server, """
        SELECT actor, target_mrn FROM audit_event
        WHERE action = 'team_member.pending_claimed' AND subject_mrn = :u""", u=user)
    if verified:
        assert await s.teams_of(token) == {team}
        assert await memberships(server, user) == {team: (True, frozenset())}
        assert pending == []
        assert claimed == [("login-hook", team)]
    else:
        assert await s.teams_of(token) == set()
        assert await memberships(server, user) == {}
        assert pending == [(None,)]
        assert claimed == []


async def test_claimed_pending_membership_is_manual(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("pending-manual")
    email = f"{uid('new')}@example.com"
    await add_member(s, team, email=email)
    sub = uid("sub")
    token = await s.access_token(sub, email=email, email_verified=True, groups=[])
    assert await s.teams_of(token) == {team}
    token = await s.access_token(sub, email=email, email_verified=True, groups=[])
    assert await s.teams_of(token) == {team}


async def test_pending_membership_is_not_claimed_through_another_organization(
        server: Server, provider: Provider):
    s1 = await new_signin_org(server, provider)
    s2 = await new_signin_org(server, provider)
    team = await s1.team("pending-org1")
    email = f"{uid('new')}@example.com"
    await add_member(s1, team, email=email)
    _, user = await sign_in_user(s2, uid("sub"), email=email, email_verified=True, groups=[])
    assert await memberships(server, user) == {}
    assert await rows(server, "SELECT user_mrn FROM team_member WHERE pending_email = :e",
                      e=email) == [(None,)]


# --- identity: (issuer, sub) ---------------------------------------------------------------------


async def test_same_email_with_another_sub_is_another_user(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("ident")
    await s.map(team, "grp-i")
    email = f"{uid('same')}@example.com"
    first, u1 = await sign_in_user(s, uid("sub1"), email=email, email_verified=True,
                                   groups=["grp-i"])
    second, u2 = await sign_in_user(s, uid("sub2"), email=email, email_verified=True, groups=[])
    assert u1 != u2
    assert await s.teams_of(first) == {team}
    assert await s.teams_of(second) == set()
    assert len(await rows(server, "SELECT mrn FROM user_account WHERE email = :e", e=email)) == 2
    # The same sub with another email is still the same user.
    sub = (await rows(server, "SELECT subject FROM user_account WHERE mrn = :u", u=u1))[0][0]
    third, u3 = await sign_in_user(s, sub, email=f"{uid('moved')}@example.com",
                                   groups=["grp-i"])
    assert u3 == u1
    assert await s.teams_of(third) == {team}


async def test_provider_changes_to_the_user_are_stored_and_stamped(server: Server,
                                                                   provider: Provider):
    s = await new_signin_org(server, provider)
    sub = uid("sub")
    _, user = await sign_in_user(s, sub, email=f"{uid('old')}@example.com", name="Old Name",
                                 email_verified=True, groups=[])
    (created, updated_before, *_), = await rows(
        server, "SELECT created_at, updated_at FROM user_account WHERE mrn = :u", u=user)
    # The same claims again change nothing, not even the timestamp.
    await sign_in_user(s, sub, email=(await rows(
        server, "SELECT email FROM user_account WHERE mrn = :u", u=user))[0][0],
        name="Old Name", email_verified=True, groups=[])
    assert (await rows(server, "SELECT updated_at FROM user_account WHERE mrn = :u",
                       u=user))[0][0] == updated_before
    await asyncio.sleep(0.01)
    new_email = f"{uid('NEW')}@Example.com"
    _, same = await sign_in_user(s, sub, email=new_email, name="New Name", groups=[])
    assert same == user
    (email, name, verified, created_after, updated_after), = await rows(server, """
        SELECT email, name, email_verified, created_at, updated_at FROM user_account
        WHERE mrn = :u""", u=user)
    assert (email, name, bool(verified)) == (new_email.casefold(), "New Name", False)
    assert created_after == created
    assert updated_after > updated_before


@pytest.fixture(scope="module")
def other_provider() -> Provider:
    """A second, independent identity provider (another issuer)."""
    p = start_provider()
    yield p
    p.stop()


async def test_same_sub_from_another_issuer_is_another_user(
        server: Server, provider: Provider, other_provider: Provider):
    assert other_provider.issuer != provider.issuer
    s1 = await new_signin_org(server, provider)
    s2 = await new_signin_org(server, other_provider)
    t1, t2 = await s1.team("iss-one"), await s2.team("iss-two")
    await s1.map(t1, "grp")
    await s2.map(t2, "grp")
    sub = uid("sub")
    tok1, u1 = await sign_in_user(s1, sub, groups=["grp"])
    tok2, u2 = await sign_in_user(s2, sub, groups=["grp"])
    assert u1 != u2
    assert await team_member_rows(server, u1) == [t1]
    assert await team_member_rows(server, u2) == [t2]
    assert await s1.teams_of(tok1) == {t1}
    assert await s2.teams_of(tok2) == {t2}


# --- audit -------------------------------------------------------------------------------------


async def test_audit_records_every_membership_added_and_removed(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    a, b = await s.team("audit-a"), await s.team("audit-b")
    ma = await s.map(a, "grp-a")
    mb = await s.map(b, "security", claim="department")
    sub = uid("sub")
    _, user = await sign_in_user(s, sub, groups=["grp-a"], department="security")
    c = await s.team("audit-c")
    mc = await s.map(c, "grp-c")

    def events(action: str):
        return rows(server, """
            SELECT actor, org_mrn, target_mrn, mapping_mrn, claim, value, details FROM audit_event
            WHERE subject_mrn = :u AND action = :a ORDER BY id""", u=user, a=action)

    added = await events("team_member.sso_added")
    assert {(r[2], r[3], r[4] or "", r[5]) for r in added} == {
        (a, ma, "", "grp-a"), (b, mb, "department", "security")}
    assert len(added) == 2
    assert all(r[0] == "login-hook" and r[1] == s.org.mrn for r in added)
    assert all(json.loads(r[6])["membership"] == "created" for r in added)

    # Nothing changes: nothing is recorded.
    await s.access_token(sub, groups=["grp-a"], department="security")
    assert len(await events("team_member.sso_added")) == 2
    assert await events("team_member.sso_removed") == []

    # A grant added to a membership held by hand: the membership is kept.
    await add_member(s, c, memberMrn=user)
    await s.access_token(sub, groups=["grp-a", "grp-c"], department="security")
    added = await events("team_member.sso_added")
    assert len(added) == 3
    assert (added[-1][2], added[-1][3], added[-1][4] or "", added[-1][5]) == (c, mc, "", "grp-c")
    assert json.loads(added[-1][6])["membership"] == "kept"

    await s.access_token(sub, groups=[], department="sales")
    removed = await events("team_member.sso_removed")
    assert {(r[2], r[3], r[4] or "", r[5], json.loads(r[6])["membership"]) for r in removed} == {
        (a, ma, "", "grp-a", "deleted"), (b, mb, "department", "security", "deleted"),
        (c, mc, "", "grp-c", "kept")}
    assert len(removed) == 3
    assert all(r[0] == "login-hook" and r[1] == s.org.mrn for r in removed)


# --- concurrency and size ------------------------------------------------------------------------


async def test_concurrent_first_sign_ins_make_one_user(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    a, b = await s.team("burst-a"), await s.team("burst-b")
    ma, mb = await s.map(a, "grp-a"), await s.map(b, "grp-b")
    pending = await s.team("burst-pending")
    sub = uid("burst")
    await add_member(s, pending, email=f"{sub}@example.com")
    id_token = s.id_token(sub, email=f"{sub}@example.com", email_verified=True,
                          groups=["grp-a", "grp-b"])
    responses = await asyncio.gather(*(s.exchange(id_token) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]

    users = await rows(server, "SELECT mrn FROM user_account WHERE issuer = :i AND subject = :s",
                       i=provider.issuer, s=sub)
    assert len(users) == 1
    user = users[0][0]
    assert await team_member_rows(server, user) == sorted([a, b, pending])
    assert await memberships(server, user) == {a: (False, frozenset({ma})),
                                               b: (False, frozenset({mb})),
                                               pending: (True, frozenset())}
    assert await rows(server, "SELECT id FROM team_member WHERE pending_email = :e",
                      e=f"{sub}@example.com") == []
    added = await rows(server, """SELECT target_mrn FROM audit_event
        WHERE subject_mrn = :u AND action = 'team_member.sso_added'""", u=user)
    assert sorted(added) == sorted([(a,), (b,)])
    grants = await rows(server, """
        SELECT g.mapping_mrn FROM team_member_grant g JOIN team_member m ON m.id = g.member_id
        WHERE m.user_mrn = :u""", u=user)
    assert sorted(grants) == sorted([(ma,), (mb,)])
    for r in responses:
        assert await s.teams_of(r.json()["access_token"]) == {a, b, pending}


async def test_two_hundred_groups(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    first, last = await s.team("many-first"), await s.team("many-last")
    await s.map(first, "group-000")
    await s.map(last, "group-199")
    groups = [f"group-{i:03d}" for i in range(200)]
    token, user = await sign_in_user(s, uid("sub"), groups=groups)
    assert await s.teams_of(token) == {first, last}
    token = await s.access_token(
        (await rows(server, "SELECT subject FROM user_account WHERE mrn = :u", u=user))[0][0],
        groups=groups[:199])
    assert await s.teams_of(token) == {first}
