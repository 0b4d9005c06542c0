"""Sign-in end to end: a real OIDC provider's ID token exchanged for a teamclaims session."""

from __future__ import annotations

from tests.integration.harness import Server
from tests.integration.oidc import Provider
from tests.integration.signin_helpers import new_signin_org


async def test_first_sign_in_creates_user_and_memberships(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    viewers = await s.team("viewers", ["viewer"])
    editors = await s.team("editors", ["editor"])
    await s.team("others")
    await s.map(viewers, "grp-viewers")
    await s.map(editors, "grp-editors")

    resp = await s.sign_in("alice-sub", email="alice@example.com", name="Alice",
                           groups=["grp-viewers", "grp-editors", "unmapped"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert body["expires_in"] > 0
    assert resp.headers["cache-control"] == "no-store"

    me = (await server.ok("{ viewer { mrn email name teams { mrn } } }",
                          token=body["access_token"]))["viewer"]
    assert me["email"] == "alice@example.com" and me["name"] == "Alice"
    assert {t["mrn"] for t in me["teams"]} == {viewers, editors}
    roles = (await server.ok(
        "query($i: String!, $s: String!) { effectiveRoles(identity: $i, scopeMrn: $s) { roles } }",
        {"i": me["mrn"], "s": s.org.mrn}, token=s.org.token))["effectiveRoles"]["roles"]
    assert roles == ["//iam.api.mondoo.app/roles/editor", "//iam.api.mondoo.app/roles/viewer"]


async def test_second_sign_in_removes_exactly_the_lost_group(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    a, b = await s.team("team-a"), await s.team("team-b")
    await s.map(a, "grp-a")
    await s.map(b, "grp-b")
    first = await s.access_token("bob", groups=["grp-a", "grp-b"])
    assert await s.teams_of(first) == {a, b}
    second = await s.access_token("bob", groups=["grp-a"])
    assert await s.teams_of(second) == {a}


def _changes(metrics_text: str, action: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith(f'teamclaims_signin_membership_changes_total{{action="{action}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_sign_in_membership_changes_are_counted(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    a, b = await s.team("count-a"), await s.team("count-b")
    await s.map(a, "grp-ca")
    await s.map(b, "grp-cb")
    before = (await server.client.get(f"{server.base_url}/metrics")).text
    await s.access_token("counted", groups=["grp-ca", "grp-cb"])
    await s.access_token("counted", groups=["grp-ca"])
    after = (await server.client.get(f"{server.base_url}/metrics")).text
    assert _changes(after, "add") - _changes(before, "add") == 2
    assert _changes(after, "remove") - _changes(before, "remove") == 1
