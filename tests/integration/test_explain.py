"""explainAccess and previewMappingChange: dry runs that match what a real sign-in does."""

from __future__ import annotations

from tests.integration.harness import Server
from tests.integration.oidc import Provider
from tests.integration.signin_helpers import new_signin_org

EXPLAIN = """query($o: String!, $c: JSON, $t: String) {
  explainAccess(orgMrn: $o, claims: $c, idToken: $t) {
    userMrn outcome refusal teams
    matchedMappings { mappingMrn teamMrn claim value }
    wouldAdd { teamMrn mappingMrn value }
    wouldRemove { teamMrn mappingMrn }
    scopes { scopeMrn roles inForce sources { role scopeMrn viaMrn } }
    nearMisses { kind claim value mappingMrn message }
  } }"""
PREVIEW = """query($i: PreviewMappingChangeInput!) {
  previewMappingChange(input: $i) { teamMrn usersGaining usersLosing gaining losing } }"""


async def test_dry_run_predicts_the_real_sign_in(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    a, b, c = await s.team("team-a", ["viewer"]), await s.team("team-b"), await s.team("team-c",
                                                                                        ["editor"])
    ma, mb, mc = await s.map(a, "grp-a"), await s.map(b, "grp-b"), await s.map(c, "grp-c")
    first = await s.access_token("carol", email="carol@example.com", groups=["grp-a", "grp-b"])
    user = (await server.ok("{ viewer { mrn } }", token=first))["viewer"]["mrn"]

    before = await server.snapshot()
    claims = {"sub": "carol", "groups": ["grp-b", "grp-c"]}
    e = (await server.ok(EXPLAIN, {"o": s.org.mrn, "c": claims}, token=s.org.token))[
        "explainAccess"]
    assert await server.snapshot() == before, "a dry run writes nothing"
    assert e["userMrn"] == user and e["outcome"] == "SIGN_IN" and e["refusal"] is None
    assert {(m["mappingMrn"], m["value"]) for m in e["matchedMappings"]} == {
        (mb, "grp-b"), (mc, "grp-c")}
    assert e["wouldAdd"] == [{"teamMrn": c, "mappingMrn": mc, "value": "grp-c"}]
    assert e["wouldRemove"] == [{"teamMrn": a, "mappingMrn": ma}]
    assert sorted(e["teams"]) == sorted([b, c])
    [org_scope] = e["scopes"]
    assert org_scope["inForce"] == "//iam.api.mondoo.app/roles/editor"
    assert {x["viaMrn"] for x in org_scope["sources"]} == {c}

    # The real sign-in with the same claims does exactly that.
    second = await s.access_token("carol", email="carol@example.com", groups=["grp-b", "grp-c"])
    assert await s.teams_of(second) == set(e["teams"])


async def test_dry_run_with_a_real_id_token_and_a_hostile_one(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    t = await s.team("tok-team")
    await s.map(t, "grp-t")
    token = s.id_token("dave", groups=["grp-t"])
    e = (await server.ok(EXPLAIN, {"o": s.org.mrn, "t": token}, token=s.org.token))[
        "explainAccess"]
    assert e["teams"] == [t] and e["userMrn"] is None
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    err = await server.error(EXPLAIN, {"o": s.org.mrn, "t": forged}, token=s.org.token)
    assert err["code"] == "INVALID_TOKEN" and "signature" in err["message"]


async def test_refusals_are_explained_not_raised(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    e = (await server.ok(EXPLAIN, {"o": s.org.mrn, "c": {
        "sub": "erin", "_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {}}}},
        token=s.org.token))["explainAccess"]
    assert e["outcome"] == "REFUSED" and "overage" in e["refusal"]
    e = (await server.ok(EXPLAIN, {"o": s.org.mrn, "c": {"sub": "erin"}}, token=s.org.token))[
        "explainAccess"]
    assert e["outcome"] == "REFUSED" and "'groups'" in e["refusal"]


async def test_near_misses(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    t1, t2 = await s.team("near-one"), await s.team("near-two")
    case_mapping = await s.map(t1, "Security-Team")
    await s.map(t2, "4f0c1a52-0000-4000-8000-000000000001")
    e = (await server.ok(EXPLAIN, {"o": s.org.mrn, "c": {
        "sub": "frank", "groups": ["security-team ", "4f0c1a52-0000-4000-8000-000000000002"]}},
        token=s.org.token))["explainAccess"]
    kinds = {(n["kind"], n["mappingMrn"]) for n in e["nearMisses"]}
    assert ("CASE_OR_SPACE", case_mapping) in kinds
    assert e["teams"] == []

    display = await s.map(t1, "Security Viewers")
    unread = await s.map(t2, "auditors")
    e = (await server.ok(EXPLAIN, {"o": s.org.mrn, "c": {
        "sub": "frank", "groups": ["4f0c1a52-0000-4000-8000-000000000003"],
        "roles": ["auditors"]}}, token=s.org.token))["explainAccess"]
    kinds = {(n["kind"], n["mappingMrn"]) for n in e["nearMisses"]}
    assert ("DISPLAY_NAME_FOR_OBJECT_ID", display) in kinds
    assert ("UNREAD_CLAIM", unread) in kinds


async def test_preview_mapping_change(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    t = await s.team("preview-team")
    other = await s.team("preview-other")
    keep = await s.map(other, "grp-x")
    await s.access_token("g1", groups=["grp-new", "grp-x"])
    await s.access_token("g2", groups=["grp-new"])
    await s.access_token("g3", groups=["grp-x"])
    p = (await server.ok(PREVIEW, {"i": {"action": "ADD", "teamMrn": t, "externalId": "grp-new"}},
                         token=s.org.token))["previewMappingChange"]
    assert p["usersGaining"] == 2 and len(p["gaining"]) == 2 and p["usersLosing"] == 0
    p = (await server.ok(PREVIEW, {"i": {"action": "REMOVE", "mappingMrn": keep}},
                         token=s.org.token))["previewMappingChange"]
    assert p["usersLosing"] == 2 and p["teamMrn"] == other
    before = await server.snapshot()
    await server.ok("mutation($m: String!) { removeTeamExternalGroupMapping(mrn: $m) }",
                    {"m": keep}, token=s.org.token)
    after = await server.snapshot()
    lost = {r for r in before["team_member"]} - {r for r in after["team_member"]}
    assert len(lost) == p["usersLosing"]


async def test_preview_gains_only_exact_values_under_the_mapped_claim(
    server: Server, provider: Provider,
) -> None:
    """The stored claims are searched as text first: wildcards, case, quotes and non-ASCII
    values must neither add users nor lose them."""
    s = await new_signin_org(server, provider)
    t = await s.team("preview-exact")
    tricky = 'Grp_100% "ü\\x" a/b //c'
    await s.access_token("exact", groups=[tricky, "other"])
    await s.access_token("case", groups=[tricky.upper()])
    await s.access_token("wildcards", groups=['GrpX100X "ü\\x" a/b //c',
                                                   'Grp_100% "u\\x" a/b //c'])
    await s.access_token("other-claim", groups=["x"], department=[tricky])
    await s.access_token("dept", groups=[], department=["Sec_Ops", "ürity"])
    users = {}
    for sub in ("exact", "other-claim", "dept"):
        e = (await server.ok(EXPLAIN, {"o": s.org.mrn, "c": {"sub": sub, "groups": []}},
                             token=s.org.token))["explainAccess"]
        users[sub] = e["userMrn"]

    async def gaining(external_id: str, claim: str | None = None) -> list[str]:
        inp = {"action": "ADD", "teamMrn": t, "externalId": external_id}
        if claim:
            inp["claim"] = claim
        p = (await server.ok(PREVIEW, {"i": inp}, token=s.org.token))["previewMappingChange"]
        assert p["usersGaining"] == len(p["gaining"])
        return p["gaining"]

    assert await gaining(tricky) == [users["exact"]]
    assert await gaining(tricky, "department") == [users["other-claim"]]
    assert await gaining("ürity", "department") == [users["dept"]]
    assert await gaining("sec_ops", "department") == []
    assert await gaining("Grp_") == []


async def test_explain_needs_editor(server: Server, provider: Provider) -> None:
    s = await new_signin_org(server, provider)
    viewer = await server.token_for(s.org.mrn, ["viewer"], via=s.org.token)
    err = await server.error(EXPLAIN, {"o": s.org.mrn, "c": {"sub": "x", "groups": []}},
                             token=viewer)
    assert err["code"] == "FORBIDDEN"
    other = await server.new_org()
    err = await server.error(EXPLAIN, {"o": s.org.mrn, "c": {"sub": "x", "groups": []}},
                             token=other.token)
    assert err["code"] == "NOT_FOUND"
