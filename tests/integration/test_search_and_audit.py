"""Searching mappings and users with runZero's keywords; the audit trail; cursor pages."""

from __future__ import annotations

from tests.integration.harness import Server
from tests.integration.oidc import Provider
from tests.integration.signin_helpers import new_signin_org

MAPPINGS = """query($s: String, $t: String, $q: String, $f: Int, $a: String) {
  teamExternalGroupMappings(scopeMrn: $s, teamMrn: $t, query: $q, first: $f, after: $a) {
    nodes { mrn externalId claim team { id name } }
    edges { cursor }
    pageInfo { hasNextPage endCursor } } }"""
USERS = """query($s: String!, $q: String, $f: Int, $a: String) {
  users(scopeMrn: $s, query: $q, first: $f, after: $a) {
    nodes { mrn email teamCount ssoTeamCount lastSignInAt } pageInfo { hasNextPage endCursor } } }"""
AUDIT = """query($s: String!, $f: AuditEventFilter, $n: Int, $a: String) {
  auditEvents(scopeMrn: $s, filter: $f, first: $n, after: $a) {
    nodes { id at actor action subjectMrn targetMrn mappingMrn claim value details }
    pageInfo { hasNextPage endCursor } } }"""


async def test_mapping_search_keywords(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    sec = await s.team("security-team")
    ops = await s.team("ops-team")
    m1 = await s.map(sec, "grp-security")
    m2 = await s.map(ops, "grp-ops")
    m3 = await s.map(sec, "security", claim="department")

    async def find(q: str) -> set[str]:
        data = await server.ok(MAPPINGS, {"s": s.org.mrn, "q": q}, token=s.org.token)
        return {n["mrn"] for n in data["teamExternalGroupMappings"]["nodes"]}

    assert await find("") == {m1, m2, m3}
    assert await find("sso_value:grp-ops") == {m2}
    assert await find("group_id:security-team") == {m1, m3}
    assert await find('group_name:"Security Team"') == {m1, m3}
    assert await find("sso_attribute:department") == {m3}
    assert await find("sso_attribute:groups") == {m1, m2}
    assert await find(f"id:{m2.rsplit('/', 1)[1]}") == {m2}
    assert await find("created_at:<1day") == {m1, m2, m3}
    assert await find("created_at:>1day") == set()
    assert await find("SECURITY") == {m1, m3}
    assert await find("group_id:security-team sso_attribute:department") == {m3}
    assert await find("created_by_email:nobody@example.com") == set()

    err = await server.error(MAPPINGS, {"s": s.org.mrn, "q": "group_id:x colour:red"},
                             token=s.org.token)
    assert err["code"] == "INVALID_ARGUMENT" and "colour:red" in err["message"]
    assert err["term"] == "colour:red" and err["position"] == 11
    err = await server.error(MAPPINGS, {"s": s.org.mrn, "q": "created_at:>2wekes"},
                             token=s.org.token)
    assert err["code"] == "INVALID_ARGUMENT" and "created_at:>2wekes" in err["message"]


async def test_mapping_pages_walk_everything_once(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    team = await s.team("paged")
    made = {await s.map(team, f"grp-{i}") for i in range(5)}
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = (await server.ok(MAPPINGS, {"t": team, "f": 2, "a": after}, token=s.org.token))[
            "teamExternalGroupMappings"]
        seen += [n["mrn"] for n in data["nodes"]]
        pages += 1
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert pages == 3 and len(seen) == 5 and set(seen) == made
    err = await server.error(MAPPINGS, {"t": team, "a": "not-a-cursor!"}, token=s.org.token)
    assert err["code"] == "INVALID_ARGUMENT" and err["field"] == "after"
    err = await server.error(MAPPINGS, {"t": team, "f": 0}, token=s.org.token)
    assert err["code"] == "INVALID_ARGUMENT" and err["field"] == "first"


async def test_user_listing_counts_sso_teams_apart(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    a, b, manual = await s.team("list-a"), await s.team("list-b"), await s.team("list-manual")
    await s.map(a, "grp-a")
    await s.map(b, "grp-b")
    tok = await s.access_token("lister", email="lister@example.com", groups=["grp-a", "grp-b"])
    user = (await server.ok("{ viewer { mrn } }", token=tok))["viewer"]["mrn"]
    await s.access_token("other", email="other@example.com", groups=["grp-b"])
    await server.ok("mutation($i: AddTeamMemberInput!) { addTeamMember(input: $i) { memberMrn } }",
                    {"i": {"teamMrn": manual, "memberMrn": user}}, token=s.org.token)
    data = (await server.ok(USERS, {"s": s.org.mrn}, token=s.org.token))["users"]
    by_email = {n["email"]: n for n in data["nodes"]}
    assert set(by_email) == {"lister@example.com", "other@example.com"}
    assert (by_email["lister@example.com"]["teamCount"],
            by_email["lister@example.com"]["ssoTeamCount"]) == (3, 2)
    assert by_email["lister@example.com"]["lastSignInAt"]
    found = (await server.ok(USERS, {"s": s.org.mrn, "q": "group_id:list-a"},
                             token=s.org.token))["users"]["nodes"]
    assert [n["email"] for n in found] == ["lister@example.com"]
    found = (await server.ok(USERS, {"s": s.org.mrn, "q": "sso_value:grp-b"},
                             token=s.org.token))["users"]["nodes"]
    assert {n["email"] for n in found} == {"lister@example.com", "other@example.com"}
    found = (await server.ok(USERS, {"s": s.org.mrn, "q": "OTHER"}, token=s.org.token))[
        "users"]["nodes"]
    assert [n["email"] for n in found] == ["other@example.com"]
    outsider = await server.new_org()
    err = await server.error(USERS, {"s": s.org.mrn}, token=outsider.token)
    assert err["code"] == "NOT_FOUND"


async def test_audit_trail_records_who_did_what_and_why(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("audited", ["viewer"])
    mapping = await s.map(team, "grp-audit")
    tok = await s.access_token("audited-user", groups=["grp-audit"])
    user = (await server.ok("{ viewer { mrn } }", token=tok))["viewer"]["mrn"]
    await server.ok("mutation($m: String!) { removeTeamExternalGroupMapping(mrn: $m) }",
                    {"m": mapping}, token=s.org.token)

    events = (await server.ok(AUDIT, {"s": s.org.mrn, "n": 100}, token=s.org.token))[
        "auditEvents"]["nodes"]
    actions = [e["action"] for e in events]
    assert actions.index("mapping.removed") < actions.index("team_member.sso_added"), \
        "newest first"
    for action in ("team.created", "role_binding.set", "mapping.added",
                   "oidc_provider.set", "session.opened", "team_member.sso_removed"):
        assert action in actions, action
    added = next(e for e in events if e["action"] == "team_member.sso_added")
    assert (added["actor"], added["subjectMrn"], added["targetMrn"], added["mappingMrn"],
            added["value"]) == ("login-hook", user, team, mapping, "grp-audit")
    binding = next(e for e in events if e["action"] == "role_binding.set")
    assert binding["details"] == {"before": [], "after": ["viewer"]}

    only = (await server.ok(AUDIT, {"s": s.org.mrn, "f": {"actions": ["team_member.sso_added"],
                                                          "subjectMrn": user}},
                            token=s.org.token))["auditEvents"]["nodes"]
    assert [e["action"] for e in only] == ["team_member.sso_added"]
    first = (await server.ok(AUDIT, {"s": s.org.mrn, "n": 2}, token=s.org.token))["auditEvents"]
    assert first["pageInfo"]["hasNextPage"]
    rest = (await server.ok(AUDIT, {"s": s.org.mrn, "n": 100,
                                    "a": first["pageInfo"]["endCursor"]},
                            token=s.org.token))["auditEvents"]["nodes"]
    assert [e["id"] for e in first["nodes"]] + [e["id"] for e in rest] == [e["id"] for e in events]
    err = await server.error(AUDIT, {"s": s.org.mrn, "f": {"since": "yesterday"}},
                             token=s.org.token)
    assert err["code"] == "INVALID_ARGUMENT" and err["field"] == "since"
    outsider = await server.new_org()
    err = await server.error(AUDIT, {"s": s.org.mrn}, token=outsider.token)
    assert err["code"] == "NOT_FOUND"


async def test_team_pages(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    made = sorted([await s.team(f"paged-team-{i}") for i in range(5)])
    q = """query($s: String!, $a: String) { teams(scopeMrn: $s, first: 2, after: $a) {
      nodes { mrn } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = (await server.ok(q, {"s": s.org.mrn, "a": after}, token=s.org.token))["teams"]
        seen += [n["mrn"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == made
