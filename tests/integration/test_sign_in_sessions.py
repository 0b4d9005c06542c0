"""What a sign-in produces: sessions, their access tokens, forced logout, the viewer, the
published keys, the access summary; and the identity-provider configuration itself."""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from jose.exceptions import JOSEError
from sqlalchemy import text

from tests.integration.harness import Server
from tests.integration.oidc import Provider
from tests.integration.signin_helpers import SignInOrg, new_signin_org

VIEWER = "{ viewer { mrn email name teams { mrn name } } }"
FORCE_LOGOUT = "mutation($u: String!) { forceLogout(userMrn: $u) }"
ADD_MEMBER = """mutation($i: AddTeamMemberInput!) {
  addTeamMember(input: $i) { createdPending memberMrn } }"""
SET_ROLES = "mutation($i: SetRolesInput!) { setRoles(input: $i) { mrns } }"
CREATE_SPACE = "mutation($i: CreateSpaceInput!) { createSpace(input: $i) { mrn } }"
CREATE_TEAM = "mutation($i: CreateTeamInput!) { createTeam(input: $i) { mrn } }"
ACCESS_SUMMARY = """query($u: String!) { accessSummary(userMrn: $u) {
  userMrn email name
  scopes { scopeMrn orgMrn roles inForce
           sources { role scopeMrn kind teamMrn mappingMrn claim value } } } }"""
PROVIDER_FIELDS = "orgMrn issuer audience groupsClaim jwksUri missingClaim createdAt updatedAt"
SET_PROVIDER = f"""mutation($i: SetOidcProviderInput!) {{
  setOidcProvider(input: $i) {{ {PROVIDER_FIELDS} }} }}"""
GET_PROVIDER = f"query($o: String!) {{ oidcProvider(orgMrn: $o) {{ {PROVIDER_FIELDS} }} }}"
REMOVE_PROVIDER = "mutation($o: String!) { removeOidcProvider(orgMrn: $o) }"
ROLE = "//iam.api.mondoo.app/roles/"


def uid(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


async def signed_in(s: SignInOrg, sub: str, **claims) -> tuple[str, dict]:
    token = await s.access_token(sub, **claims)
    return token, (await s.server.ok(VIEWER, token=token))["viewer"]


async def unauthenticated(server: Server, token: str) -> None:
    err = await server.error(VIEWER, token=token)
    assert err["code"] == "UNAUTHENTICATED", err


async def open_sessions(server: Server, user_mrn: str) -> int:
    async with server.db.transaction() as s:
        return (await s.execute(text(
            "SELECT COUNT(*) FROM login_session WHERE user_mrn = :u AND revoked_at IS NULL"),
            {"u": user_mrn})).scalar_one()


# --- the access token ----------------------------------------------------------------------------


async def test_access_token_works_as_bearer_and_viewer_answers(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    a, b = await s.team("view-a"), await s.team("view-b")
    await s.team("view-c")
    await s.map(a, "grp-a")
    await s.map(b, "grp-b")
    email = f"{uid('v')}@example.com"
    token, me = await signed_in(s, uid("sub"), email=email, name="Vera Viewer",
                                groups=["grp-a", "grp-b"])
    assert me["mrn"].startswith("//captain.api.mondoo.app/users/")
    assert me["email"] == email and me["name"] == "Vera Viewer"
    assert sorted(me["teams"], key=lambda t: t["mrn"]) == sorted(
        [{"mrn": a, "name": "View A"}, {"mrn": b, "name": "View B"}], key=lambda t: t["mrn"])
    resp = await server.post({"query": VIEWER}, token=token)
    assert resp.status_code == 200 and resp.json()["data"]["viewer"]["mrn"] == me["mrn"]


async def test_viewer_is_null_for_an_api_token(server: Server, org):
    assert await server.ok(VIEWER, token=org.token) == {"viewer": None}
    assert await server.ok(VIEWER, token=server.platform_token) == {"viewer": None}


async def test_garbage_and_forged_access_tokens_are_unauthenticated(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    token, _ = await signed_in(s, uid("sub"), groups=[])
    head, body, sig = token.split(".")
    await unauthenticated(server, f"{head}.{body}.{sig[:-4]}AAAA")
    claims = jwt.get_unverified_claims(token)
    kid = jwt.get_unverified_header(token)["kid"]
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    forged = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})
    await unauthenticated(server, forged)
    # Key ids nobody has, or that no key could have: refused like any forgery, never a 500.
    for other in ("0123456789abcdef", "\x00" * 16, "k" * 5000, kid.upper()):
        await unauthenticated(server, jwt.encode(claims, pem, algorithm="RS256",
                                                 headers={"kid": other}))
    await server.ok(VIEWER, token=token)  # the real one still works


async def test_jwks_publishes_the_key_that_verifies_access_tokens(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    token, me = await signed_in(s, uid("sub"), groups=[])
    resp = await server.client.get(f"{server.base_url}/.well-known/jwks.json")
    assert resp.status_code == 200
    keys = resp.json()["keys"]
    assert keys and all(not ({"d", "p", "q", "dp", "dq", "qi"} & k.keys()) for k in keys)
    kid = jwt.get_unverified_header(token)["kid"]
    published = [k for k in keys if k["kid"] == kid]
    assert len(published) == 1 and published[0]["kty"] == "RSA"
    claims = jwt.decode(token, published[0], algorithms=["RS256"], audience="teamclaims")
    assert claims["sub"] == me["mrn"]
    assert claims["org"] == s.org.mrn
    assert claims["exp"] > claims["iat"]
    # The published key does not verify a token signed by another key.
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    forged = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})
    try:
        jwt.decode(forged, published[0], algorithms=["RS256"], audience="teamclaims")
    except JOSEError:
        pass
    else:
        raise AssertionError("a token signed by another key verified with the published key")


# --- forced logout -------------------------------------------------------------------------------


GET_ROLES = """query($identity: String!, $scopeMrn: String!) {
  getRoles(identity: $identity, scopeMrn: $scopeMrn) { roles } }"""


async def test_a_users_roles_are_read_with_its_session_on_every_request(
        server: Server, provider: Provider):
    """A signed-in user's roles come from its teams and its own bindings, read with the
    session on each request: a role taken from the team counts from the next request on."""
    s = await new_signin_org(server, provider)
    readers = await s.team("readers", ["viewer"])
    await s.map(readers, "grp-readers")
    token, me = await signed_in(s, uid("reader"), groups=["grp-readers"])
    read = {"identity": readers, "scopeMrn": s.org.mrn}
    assert (await server.ok(GET_ROLES, read, token=token))["getRoles"]["roles"] == [
        ROLE + "viewer"]
    await server.ok(SET_ROLES, {"i": {"scopeMrn": s.org.mrn, "identity": readers,
                                      "roles": []}}, token=s.org.token)
    assert (await server.error(GET_ROLES, read, token=token))["code"] == "NOT_FOUND"
    await server.ok(SET_ROLES, {"i": {"scopeMrn": s.org.mrn, "identity": me["mrn"],
                                      "roles": ["viewer"]}}, token=s.org.token)
    assert (await server.ok(GET_ROLES, read, token=token))["getRoles"]["roles"] == []


async def test_force_logout_ends_sessions_and_sign_in_works_again(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    sub = uid("sub")
    first, me = await signed_in(s, sub, groups=[])
    second, _ = await signed_in(s, sub, groups=[])
    assert await open_sessions(server, me["mrn"]) == 2

    ended = await server.ok(FORCE_LOGOUT, {"u": me["mrn"]}, token=s.org.token)
    assert ended == {"forceLogout": 2}
    await unauthenticated(server, first)
    await unauthenticated(server, second)
    assert await open_sessions(server, me["mrn"]) == 0

    third, again = await signed_in(s, sub, groups=[])
    assert again["mrn"] == me["mrn"]
    assert await server.ok(FORCE_LOGOUT, {"u": me["mrn"]}, token=s.org.token) == {
        "forceLogout": 1}
    await unauthenticated(server, third)
    assert await server.ok(FORCE_LOGOUT, {"u": me["mrn"]}, token=s.org.token) == {
        "forceLogout": 0}

    async with server.db.transaction() as session:
        audit = (await session.execute(text(
            "SELECT actor, org_mrn FROM audit_event WHERE action = 'session.forced_logout' "
            "AND subject_mrn = :u"), {"u": me["mrn"]})).all()
        org_tokens = set((await session.execute(text(
            "SELECT mrn FROM api_token WHERE scope_mrn = :o"), {"o": s.org.mrn})).scalars())
    assert len(audit) == 3
    assert all(r[0] in org_tokens and r[1] == s.org.mrn for r in audit), audit


async def test_force_logout_by_a_user_who_is_owner(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    owners = await s.team("owners", ["owner"])
    await s.map(owners, "grp-owners")
    admin, _ = await signed_in(s, uid("admin"), groups=["grp-owners"])
    victim, me = await signed_in(s, uid("victim"), groups=[])
    assert await server.ok(FORCE_LOGOUT, {"u": me["mrn"]}, token=admin) == {"forceLogout": 1}
    await unauthenticated(server, victim)
    await server.ok(VIEWER, token=admin)


async def test_force_logout_ends_only_the_owners_organization_sessions(
        server: Server, provider: Provider):
    s1 = await new_signin_org(server, provider)
    s2 = await new_signin_org(server, provider)
    sub = uid("sub")
    in_one, me = await signed_in(s1, sub, groups=[])
    in_two, me2 = await signed_in(s2, sub, groups=[])
    assert me["mrn"] != me2["mrn"]  # one user per organization
    assert await server.ok(FORCE_LOGOUT, {"u": me["mrn"]}, token=s1.org.token) == {
        "forceLogout": 1}
    await unauthenticated(server, in_one)
    assert (await server.ok(VIEWER, token=in_two))["viewer"]["mrn"] == me2["mrn"]
    # The first organization's owner cannot reach the second organization's user at all.
    err = await server.error(FORCE_LOGOUT, {"u": me2["mrn"]}, token=s1.org.token)
    assert err["code"] == "NOT_FOUND"


async def test_force_logout_refused_to_non_owners(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    viewers = await s.team("viewers", ["viewer"])
    await s.map(viewers, "grp-viewers")
    token, me = await signed_in(s, uid("sub"), groups=["grp-viewers"])
    editor = await server.token_for(s.org.mrn, ["editor"], via=s.org.token)

    err = await server.error(FORCE_LOGOUT, {"u": me["mrn"]}, token=editor)
    assert err["code"] == "FORBIDDEN", err
    err = await server.error(FORCE_LOGOUT, {"u": me["mrn"]}, token=token)  # a viewer, itself
    assert err["code"] == "FORBIDDEN", err
    await server.ok(VIEWER, token=token)
    assert await open_sessions(server, me["mrn"]) == 1


async def test_force_logout_by_another_organizations_owner_is_not_found(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    token, me = await signed_in(s, uid("sub"), groups=[])
    other = await server.new_org("Other organization")
    err = await server.error(FORCE_LOGOUT, {"u": me["mrn"]}, token=other.token)
    assert err["code"] == "NOT_FOUND", err
    missing = "//captain.api.mondoo.app/users/nosuchuser00"
    err_missing = await server.error(FORCE_LOGOUT, {"u": missing}, token=other.token)
    assert err_missing["code"] == "NOT_FOUND"
    assert err["message"].replace(me["mrn"], "X") == err_missing["message"].replace(missing, "X")
    await server.ok(VIEWER, token=token)
    assert await open_sessions(server, me["mrn"]) == 1


# --- organization boundary -----------------------------------------------------------------------


async def test_session_cannot_read_another_organizations_objects(
        server: Server, provider: Provider):
    s1 = await new_signin_org(server, provider)
    s2 = await new_signin_org(server, provider)
    t1 = await s1.team("home-team", ["editor"])
    t2 = await s2.team("away-team", ["editor"])
    await s1.map(t1, "grp")
    await s2.map(t2, "grp")
    sub = uid("sub")
    home, me = await signed_in(s1, sub, groups=["grp"])
    away, _ = await signed_in(s2, sub, groups=["grp"])  # the same user is an editor there too
    assert [t["mrn"] for t in (await server.ok(VIEWER, token=home))["viewer"]["teams"]] == [t1]
    assert [t["mrn"] for t in (await server.ok(VIEWER, token=away))["viewer"]["teams"]] == [t2]
    assert me["teams"] == [{"mrn": t1, "name": "Home Team"}]

    team_q = "query($m: String!) { team(mrn: $m) { mrn } }"
    org_q = "query($m: String!) { organization(mrn: $m) { mrn } }"
    assert await server.ok(team_q, {"m": t1}, token=home) == {"team": {"mrn": t1}}
    assert await server.ok(team_q, {"m": t2}, token=away) == {"team": {"mrn": t2}}
    assert await server.ok(org_q, {"m": s1.org.mrn}, token=home) == {
        "organization": {"mrn": s1.org.mrn}}

    missing_team = f"{s2.org.mrn}/teams/no-such-team"
    missing_org = "//captain.api.mondoo.app/organizations/org-nosuch00"
    assert await server.ok(team_q, {"m": t2}, token=home) == {"team": None}
    assert await server.ok(team_q, {"m": missing_team}, token=home) == {"team": None}
    assert await server.ok(org_q, {"m": s2.org.mrn}, token=home) == {"organization": None}
    assert await server.ok(org_q, {"m": missing_org}, token=home) == {"organization": None}

    real = await server.error(ADD_MEMBER, {"i": {"teamMrn": t2, "email": "x@example.com"}},
                              token=home)
    fake = await server.error(ADD_MEMBER, {"i": {"teamMrn": missing_team,
                                                 "email": "x@example.com"}}, token=home)
    assert real["code"] == fake["code"] == "NOT_FOUND"
    assert real["message"].replace(t2, "X") == fake["message"].replace(missing_team, "X")
    async with server.db.transaction() as session:
        assert (await session.execute(text(
            "SELECT COUNT(*) FROM team_member WHERE pending_email = 'x@example.com' "
            "AND team_mrn = :t"), {"t": t2})).scalar_one() == 0


# --- access summary ------------------------------------------------------------------------------


def source(role: str, scope: str, kind: str, team: str | None = None,
           mapping: str | None = None, claim: str | None = None,
           value: str | None = None) -> tuple:
    return (ROLE + role, scope, kind, team, mapping, claim, value)


def sources_of(scope_access: dict) -> set[tuple]:
    return {(x["role"], x["scopeMrn"], x["kind"], x["teamMrn"], x["mappingMrn"], x["claim"],
             x["value"]) for x in scope_access["sources"]}


async def test_access_summary_shows_roles_with_their_sources(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    org = s.org.mrn
    space = (await server.ok(CREATE_SPACE, {"i": {"name": "Space", "orgMrn": org}},
                             token=s.org.token))["createSpace"]["mrn"]
    t_groups = await s.team("by-group", ["viewer"])
    t_claim = await s.team("by-claim", ["policy-editor"])
    t_manual = (await server.ok(CREATE_TEAM, {"i": {
        "name": "By hand", "id": "by-hand", "scopeMrn": space, "roles": ["editor"]}},
        token=s.org.token))["createTeam"]["mrn"]
    m_groups = await s.map(t_groups, "grp-view")
    m_claim = await s.map(t_claim, "security", claim="department")
    sub = uid("sub")
    email = f"{sub}@example.com"
    _, me = await signed_in(s, sub, email=email, name="Sam", groups=["grp-view"],
                            department="security")
    user = me["mrn"]
    await server.ok(SET_ROLES, {"i": {"scopeMrn": org, "identity": user,
                                      "roles": ["exceptions-requester"]}}, token=s.org.token)
    await server.ok(ADD_MEMBER, {"i": {"teamMrn": t_manual, "memberMrn": user}},
                    token=s.org.token)

    summary = (await server.ok(ACCESS_SUMMARY, {"u": user}, token=s.org.token))["accessSummary"]
    assert (summary["userMrn"], summary["email"], summary["name"]) == (user, email, "Sam")
    by_scope = {a["scopeMrn"]: a for a in summary["scopes"]}
    assert set(by_scope) == {org, space}

    org_sources = {
        source("viewer", org, "TEAM_MAPPING", t_groups, m_groups, None, "grp-view"),
        source("policy-editor", org, "TEAM_MAPPING", t_claim, m_claim, "department", "security"),
        source("exceptions-requester", org, "DIRECT"),
    }
    assert by_scope[org]["orgMrn"] == org
    assert sources_of(by_scope[org]) == org_sources
    assert by_scope[org]["roles"] == [ROLE + "policy-editor", ROLE + "exceptions-requester",
                                      ROLE + "viewer"]
    assert by_scope[org]["inForce"] == ROLE + "policy-editor"

    assert by_scope[space]["orgMrn"] == org
    assert sources_of(by_scope[space]) == org_sources | {
        source("editor", space, "TEAM_MANUAL", t_manual)}
    assert by_scope[space]["roles"][0] == ROLE + "editor"
    assert set(by_scope[space]["roles"]) == {ROLE + r for r in (
        "editor", "policy-editor", "exceptions-requester", "viewer")}
    assert by_scope[space]["inForce"] == ROLE + "editor"

    # Losing the claims takes the mapped sources away; the rest stays.
    await s.access_token(sub, groups=[], department="sales")
    summary = (await server.ok(ACCESS_SUMMARY, {"u": user}, token=s.org.token))["accessSummary"]
    by_scope = {a["scopeMrn"]: a for a in summary["scopes"]}
    assert sources_of(by_scope[org]) == {source("exceptions-requester", org, "DIRECT")}
    assert by_scope[org]["inForce"] == ROLE + "exceptions-requester"
    assert sources_of(by_scope[space]) == {source("exceptions-requester", org, "DIRECT"),
                                           source("editor", space, "TEAM_MANUAL", t_manual)}
    assert by_scope[space]["inForce"] == ROLE + "editor"


async def test_access_summary_of_a_membership_both_manual_and_mapped(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("both", ["editor"])
    mapping = await s.map(team, "grp-both")
    _, me = await signed_in(s, uid("sub"), groups=["grp-both"])
    await server.ok(ADD_MEMBER, {"i": {"teamMrn": team, "memberMrn": me["mrn"]}},
                    token=s.org.token)
    summary = (await server.ok(ACCESS_SUMMARY, {"u": me["mrn"]},
                               token=s.org.token))["accessSummary"]
    [org_access] = summary["scopes"]
    assert sources_of(org_access) == {
        source("editor", s.org.mrn, "TEAM_MANUAL", team),
        source("editor", s.org.mrn, "TEAM_MAPPING", team, mapping, None, "grp-both"),
    }
    assert org_access["roles"] == [ROLE + "editor"]
    assert org_access["inForce"] == ROLE + "editor"


async def test_access_summary_hidden_from_another_organization(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    team = await s.team("hidden", ["viewer"])
    await s.map(team, "grp")
    _, me = await signed_in(s, uid("sub"), groups=["grp"])
    other = await server.new_org("Other")
    err = await server.error(ACCESS_SUMMARY, {"u": me["mrn"]}, token=other.token)
    assert err["code"] == "NOT_FOUND", err


# --- the identity-provider configuration ---------------------------------------------------------


async def test_oidc_provider_round_trip(server: Server, provider: Provider, org):
    audience = uid("client")
    jwks = f"{provider.issuer}/jwks"
    got = (await server.ok(SET_PROVIDER, {"i": {
        "orgMrn": org.mrn, "issuer": provider.issuer, "audience": audience,
        "groupsClaim": "roles", "jwksUri": jwks, "missingClaim": "KEEP"}},
        token=org.token))["setOidcProvider"]
    assert {k: got[k] for k in ("orgMrn", "issuer", "audience", "groupsClaim", "jwksUri",
                                "missingClaim")} == {
        "orgMrn": org.mrn, "issuer": provider.issuer, "audience": audience,
        "groupsClaim": "roles", "jwksUri": jwks, "missingClaim": "KEEP"}
    assert got["createdAt"] and got["updatedAt"]
    assert (await server.ok(GET_PROVIDER, {"o": org.mrn}, token=org.token))["oidcProvider"] == got

    # Sign-in works with it.
    s = SignInOrg(server, provider, org, audience)
    assert (await s.sign_in(uid("sub"), roles=["r"])).status_code == 200

    updated = (await server.ok(SET_PROVIDER, {"i": {
        "orgMrn": org.mrn, "issuer": provider.issuer, "audience": audience,
        "missingClaim": "CLEAR"}}, token=org.token))["setOidcProvider"]
    assert (updated["groupsClaim"], updated["jwksUri"], updated["missingClaim"]) == (
        "groups", None, "CLEAR")
    assert updated["createdAt"] == got["createdAt"]
    assert (await server.ok(GET_PROVIDER, {"o": org.mrn}, token=org.token))[
        "oidcProvider"] == updated

    viewer = await server.token_for(org.mrn, ["viewer"], via=org.token)
    assert (await server.ok(GET_PROVIDER, {"o": org.mrn}, token=viewer))["oidcProvider"] == updated
    other = await server.new_org("Other")
    assert await server.ok(GET_PROVIDER, {"o": org.mrn}, token=other.token) == {
        "oidcProvider": None}

    assert await server.ok(REMOVE_PROVIDER, {"o": org.mrn}, token=org.token) == {
        "removeOidcProvider": True}
    assert await server.ok(GET_PROVIDER, {"o": org.mrn}, token=org.token) == {
        "oidcProvider": None}
    resp = await s.sign_in(uid("sub"), groups=[])
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"
    err = await server.error(REMOVE_PROVIDER, {"o": org.mrn}, token=org.token)
    assert err["code"] == "NOT_FOUND", err


async def test_only_an_owner_may_set_or_remove_the_provider(
        server: Server, provider: Provider, org):
    audience = uid("client")
    editor = await server.token_for(org.mrn, ["editor"], via=org.token)
    inp = {"orgMrn": org.mrn, "issuer": provider.issuer, "audience": audience}
    err = await server.error(SET_PROVIDER, {"i": inp}, token=editor)
    assert err["code"] == "FORBIDDEN", err
    assert await server.ok(GET_PROVIDER, {"o": org.mrn}, token=org.token) == {
        "oidcProvider": None}

    await server.ok(SET_PROVIDER, {"i": inp}, token=org.token)
    err = await server.error(SET_PROVIDER, {"i": {**inp, "missingClaim": "CLEAR"}}, token=editor)
    assert err["code"] == "FORBIDDEN", err
    err = await server.error(REMOVE_PROVIDER, {"o": org.mrn}, token=editor)
    assert err["code"] == "FORBIDDEN", err
    got = (await server.ok(GET_PROVIDER, {"o": org.mrn}, token=org.token))["oidcProvider"]
    assert got["missingClaim"] == "FAIL"

    other = await server.new_org("Other")
    err = await server.error(SET_PROVIDER, {"i": inp}, token=other.token)
    assert err["code"] == "NOT_FOUND", err


async def test_another_organization_cannot_take_the_same_issuer_and_audience(
        server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    other = await server.new_org("Other")
    err = await server.error(SET_PROVIDER, {"i": {
        "orgMrn": other.mrn, "issuer": provider.issuer, "audience": s.audience}},
        token=other.token)
    assert err["code"] == "ALREADY_EXISTS", err
    assert await server.ok(GET_PROVIDER, {"o": other.mrn}, token=other.token) == {
        "oidcProvider": None}
    # The first organization keeps it, and its users still sign in there.
    token, me = await signed_in(s, uid("sub"), groups=[])
    assert jwt.get_unverified_claims(token)["org"] == s.org.mrn
    # Another audience at the same issuer is fine.
    await server.ok(SET_PROVIDER, {"i": {
        "orgMrn": other.mrn, "issuer": provider.issuer, "audience": uid("client")}},
        token=other.token)
