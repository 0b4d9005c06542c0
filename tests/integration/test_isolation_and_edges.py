"""Organizations stay apart even when they name the same issuer; edge cases of the API."""

from __future__ import annotations

import asyncio
import base64
import json

from tests.integration.harness import Server
from tests.integration.oidc import Provider
from tests.integration.signin_helpers import new_signin_org

ADD_MEMBER = "mutation($i: AddTeamMemberInput!) { addTeamMember(input: $i) { createdPending memberMrn } }"
GET_ROLES = """query($i: String!, $s: String!) {
  getRoles(identity: $i, scopeMrn: $s) { identityMrn identityEmail roles } }"""
EXPLAIN = """query($o: String!, $c: JSON) { explainAccess(orgMrn: $o, claims: $c) {
  userMrn scopes { scopeMrn } } }"""
SET_ROLES = "mutation($i: SetRolesInput!) { setRoles(input: $i) { mrns } }"


async def test_an_organization_naming_anothers_issuer_reaches_none_of_its_users(
    server: Server, provider: Provider
) -> None:
    a = await new_signin_org(server, provider)
    b = await new_signin_org(server, provider)  # same issuer, its own audience (and keys)
    owners = await a.team("a-owners", ["owner"])
    tok_a = await a.access_token("emp-7", email="intern@corp.example", email_verified=True,
                                 groups=[])
    user_a = (await server.ok("{ viewer { mrn email } }", token=tok_a))["viewer"]
    tok_b = await b.access_token("emp-7", email="cfo@corp.example", email_verified=True,
                                 name="CFO", groups=[])
    user_b = (await server.ok("{ viewer { mrn } }", token=tok_b))["viewer"]["mrn"]
    assert user_b != user_a["mrn"]
    # A's user keeps A's provider's word; B's email claim names nobody in A.
    again = (await server.ok("{ viewer { email name } }", token=tok_a))["viewer"]
    assert again == {"email": "intern@corp.example", "name": None}
    added = (await server.ok(ADD_MEMBER, {"i": {"teamMrn": owners, "email": "cfo@corp.example"}},
                             token=a.org.token))["addTeamMember"]
    assert added == {"createdPending": True, "memberMrn": None}
    # B cannot look A's user up by MRN, nor add it to B's teams.
    got = (await server.ok(GET_ROLES, {"i": user_a["mrn"], "s": b.org.mrn},
                           token=b.org.token))["getRoles"]
    assert got["identityEmail"] is None and got["roles"] == []
    b_team = await b.team("b-team")
    err = await server.error(ADD_MEMBER, {"i": {"teamMrn": b_team, "memberMrn": user_a["mrn"]}},
                             token=b.org.token)
    assert err["code"] == "NOT_FOUND"
    # B's dry run for the same sub shows B's user and nothing of A.
    await server.ok(SET_ROLES, {"i": {"scopeMrn": a.org.mrn, "identity": user_a["mrn"],
                                      "roles": ["editor"]}}, token=a.org.token)
    e = (await server.ok(EXPLAIN, {"o": b.org.mrn, "c": {"sub": "emp-7", "groups": []}},
                         token=b.org.token))["explainAccess"]
    assert e["userMrn"] == user_b and e["scopes"] == []


async def test_concurrent_set_roles_never_mix_two_requests(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    for rnd in range(8):
        team = await s.team(f"mix-{rnd}", ["viewer"])
        calls = [server.gql(SET_ROLES, {"i": {"scopeMrn": s.org.mrn, "identity": team,
                                              "roles": roles}}, token=s.org.token)
                 for roles in (["editor"], ["policy-manager"])]
        await asyncio.gather(*calls)
        got = (await server.ok(GET_ROLES, {"i": team, "s": s.org.mrn}, token=s.org.token))[
            "getRoles"]["roles"]
        assert got in (["//iam.api.mondoo.app/roles/editor"],
                       ["//iam.api.mondoo.app/roles/policy-manager"]), got


async def test_update_team_without_email_keeps_it(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    team = (await server.ok(
        "mutation($i: CreateTeamInput!) { createTeam(input: $i) { mrn } }",
        {"i": {"name": "Mail", "scopeMrn": s.org.mrn, "email": "sec@corp.example"}},
        token=s.org.token))["createTeam"]["mrn"]
    upd = "mutation($i: UpdateTeamInput!) { updateTeam(input: $i) { email } }"
    kept = await server.ok(upd, {"i": {"mrn": team, "name": "Mail 2", "description": ""}},
                           token=s.org.token)
    assert kept["updateTeam"]["email"] == "sec@corp.example"
    cleared = await server.ok(upd, {"i": {"mrn": team, "name": "Mail 2", "description": "",
                                          "email": None}}, token=s.org.token)
    assert cleared["updateTeam"]["email"] is None


async def test_emails_match_without_case(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    team = await s.team("case-team")
    pending = (await server.ok(ADD_MEMBER, {"i": {"teamMrn": team,
                                                  "email": "Ada.Lovelace@Contoso.com"}},
                               token=s.org.token))["addTeamMember"]
    assert pending["createdPending"] is True
    tok = await s.access_token("ada", email="ada.lovelace@contoso.com", email_verified=True,
                              groups=[])
    assert await s.teams_of(tok) == {team}


async def test_hostile_search_cursor_and_filter_values(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("edge-team")
    await s.map(team, "grp-edge")
    q = f"query($q: String) {{ teamExternalGroupMappings(scopeMrn: \"{s.org.mrn}\", query: $q) " \
        "{ nodes { mrn } } }"
    assert (await server.ok(q, {"q": "id:%"}, token=s.org.token))[
        "teamExternalGroupMappings"]["nodes"] == []

    def cursor(values: list) -> str:
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")

    for doc, bad in (
        (f'{{ teams(scopeMrn: "{s.org.mrn}", after: "{cursor([5])}") {{ nodes {{ mrn }} }} }}',
         "after"),
        (f'{{ auditEvents(scopeMrn: "{s.org.mrn}", after: "{cursor(["abc"])}") '
         "{ nodes { id } } }", "after"),
        (f'{{ auditEvents(scopeMrn: "{s.org.mrn}", after: "{cursor([1e30])}") '
         "{ nodes { id } } }", "after"),
        (f'{{ auditEvents(scopeMrn: "{s.org.mrn}", filter: {{since: '
         '"0001-01-01T00:00:00+01:00"}) { nodes { id } } }', "since"),
        (f'{{ auditEvents(scopeMrn: "{s.org.mrn}", filter: {{actor: "a\\u0000b"}}) '
         "{ nodes { id } } }", "actor"),
    ):
        err = await server.error(doc, token=s.org.token)
        assert err["code"] == "INVALID_ARGUMENT" and err["field"] == bad, (doc, err)


async def test_token_endpoint_refuses_huge_bodies_before_reading_them(server: Server) -> None:
    resp = await server.client.post(f"{server.base_url}/auth/token", content=b"x" * 400_000,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 413 and resp.json()["error"] == "invalid_request"
