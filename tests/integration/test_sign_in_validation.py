"""Hostile sign-ins over HTTP: the real server, the real OIDC provider process.

Every refused exchange must answer HTTP 400 with an RFC 6749 §5.2 JSON error that names the
problem, and must leave the database exactly as it was (no user, no session, no claims).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from app.login.jwks import REFETCH_INTERVAL
from tests.integration.harness import Server
from tests.integration.oidc import Provider, start_provider
from tests.integration.signin_helpers import SignInOrg, new_signin_org

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
COUNTED = ["user_account", "login_session", "login_claims", "audit_event", "oidc_provider"]


# --------------------------------------------------------------------------- helpers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, sig = token.split(".")
    return json.loads(_unb64(header)), json.loads(_unb64(payload)), sig


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value).encode())


async def db_state(server: Server) -> dict[str, Any]:
    """The harness snapshot plus the sign-in tables it does not cover."""
    state: dict[str, Any] = dict(await server.snapshot())
    async with server.db.transaction() as s:
        for table in COUNTED:
            state[f"count({table})"] = (await s.execute(
                text(f"SELECT count(*) FROM {table}"))).scalar_one()
        state["login_session"] = sorted(
            (tuple(r) for r in (await s.execute(text("SELECT * FROM login_session"))).all()),
            key=repr)
    return state


async def users_with_subject(server: Server, subject: str) -> int:
    async with server.db.transaction() as s:
        return (await s.execute(text("SELECT count(*) FROM user_account WHERE subject = :s"),
                                {"s": subject})).scalar_one()


def assert_oauth_error(resp: httpx.Response, error: str, description: str) -> str:
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers.get("cache-control") == "no-store"
    body = resp.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert re.search(description, body["error_description"]), body
    return body["error_description"]


async def assert_refused(server: Server, send: Callable[[], Awaitable[httpx.Response]], *,
                         description: str, error: str = "invalid_request") -> str:
    before = await db_state(server)
    resp = await send()
    message = assert_oauth_error(resp, error, description)
    assert await db_state(server) == before
    return message


def claims_for(s: SignInOrg, sub: str, **extra: Any) -> dict[str, Any]:
    return {"sub": sub, "aud": s.audience, "groups": [], "email": f"{sub}@example.com", **extra}


def provider_public_pem(provider: Provider, kid: str) -> bytes:
    """The provider's RSA public key for kid, from its published JWKS, as PEM."""
    keys = httpx.get(f"{provider.issuer}/jwks", timeout=10).json()["keys"]
    jwk = next(k for k in keys if k["kid"] == kid)
    n = int.from_bytes(_unb64(jwk["n"]), "big")
    e = int.from_bytes(_unb64(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def new_sub(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture
async def s(server: Server, provider: Provider) -> SignInOrg:
    return await new_signin_org(server, provider)


@pytest.fixture
def own_provider() -> Provider:
    """A provider process of the test's own: its key rotation and request counts are private."""
    p = start_provider()
    yield p
    p.stop()


# --------------------------------------------------------------------------- the oracle works


async def test_valid_token_signs_in_and_changes_the_database(server: Server, s: SignInOrg):
    """The control: the same set-up with a genuine token does create a user and a session."""
    sub = new_sub("control")
    before = await db_state(server)
    resp = await s.exchange(s.provider.token(claims_for(s, sub)))
    assert resp.status_code == 200, resp.text
    after = await db_state(server)
    assert after != before
    assert after["count(user_account)"] == before["count(user_account)"] + 1
    assert after["count(login_session)"] == before["count(login_session)"] + 1
    assert await users_with_subject(server, sub) == 1


# --------------------------------------------------------------------------- hostile tokens


async def test_signature_swapped_from_another_token(server: Server, s: SignInOrg):
    victim = s.provider.token(claims_for(s, new_sub("victim")))
    other = s.provider.token(claims_for(s, new_sub("other")))
    forged = victim.rsplit(".", 1)[0] + "." + other.rsplit(".", 1)[1]
    assert forged != victim
    await assert_refused(server, lambda: s.exchange(forged),
                         description="signature does not verify")


async def test_payload_tampered(server: Server, s: SignInOrg):
    sub = new_sub("mallory")
    header, payload, sig = s.provider.token(claims_for(s, sub)).split(".")
    claims = json.loads(_unb64(payload))
    claims["sub"] = "admin"
    claims["email"] = "admin@example.com"
    forged = f"{header}.{_segment(claims)}.{sig}"
    await assert_refused(server, lambda: s.exchange(forged),
                         description="signature does not verify")
    assert await users_with_subject(server, "admin") == 0


async def test_signature_bit_flipped(server: Server, s: SignInOrg):
    header, payload, sig = s.provider.token(claims_for(s, new_sub("flip"))).split(".")
    raw = bytearray(_unb64(sig))
    raw[len(raw) // 2] ^= 0x01
    await assert_refused(server, lambda: s.exchange(f"{header}.{payload}.{_b64(bytes(raw))}"),
                         description="signature does not verify")


@pytest.mark.parametrize("signature", ["", "AAAA"])
async def test_alg_none(server: Server, s: SignInOrg, signature: str):
    header, claims, _ = _parts(s.provider.token(claims_for(s, new_sub("none"))))
    header["alg"] = "none"
    unsigned = f"{_segment(header)}.{_segment(claims)}.{signature}"
    await assert_refused(server, lambda: s.exchange(unsigned),
                         description="algorithm 'none' is not accepted")
    assert await users_with_subject(server, claims["sub"]) == 0


async def test_hs256_keyed_with_the_providers_public_key(server: Server, s: SignInOrg,
                                                         provider: Provider):
    """Key confusion (RFC 8725 §2.1): HMAC with the published RSA key as the secret."""
    pem = provider_public_pem(provider, provider.kid)
    header, claims, _ = _parts(s.provider.token(claims_for(s, new_sub("hmac"))))
    header["alg"] = "HS256"
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    for secret in (pem, pem.strip()):
        sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{_b64(sig)}"
        await assert_refused(server, lambda t=token: s.exchange(t),
                             description="algorithm 'HS256' is not accepted")
    assert await users_with_subject(server, claims["sub"]) == 0


async def test_wrong_issuer(server: Server, s: SignInOrg):
    evil = "https://evil.example.com"
    token = s.provider.token(claims_for(s, new_sub("iss"), iss=evil))
    assert _parts(token)[1]["iss"] == evil
    await assert_refused(server, lambda: s.exchange(token),
                         description=f"issuer '{re.escape(evil)}'")


async def test_issuer_differing_by_a_trailing_slash(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, new_sub("slash"), iss=s.provider.issuer + "/"))
    await assert_refused(server, lambda: s.exchange(token),
                         description=f"issuer '{re.escape(s.provider.issuer)}/'")


async def test_wrong_audience(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, new_sub("aud"), aud="someone-else"))
    await assert_refused(server, lambda: s.exchange(token),
                         description=r"audience \['someone-else'\]")


async def test_several_audiences_without_azp(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, new_sub("auds"), aud=[s.audience, "other-api"]))
    await assert_refused(server, lambda: s.exchange(token),
                         description="several audiences but no 'azp'")


async def test_azp_not_our_client(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, new_sub("azp"), azp="other-api"))
    await assert_refused(server, lambda: s.exchange(token),
                         description=r"authorized party \(azp\) 'other-api'")


async def test_expired(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, new_sub("exp")), expires_in=-300)
    assert _parts(token)[1]["exp"] < time.time() - 240
    await assert_refused(server, lambda: s.exchange(token), description="has expired")


async def test_not_yet_valid(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, new_sub("nbf"), nbf=int(time.time()) + 3600))
    await assert_refused(server, lambda: s.exchange(token),
                         description=r"not valid yet \(nbf is in the future\)")


async def test_issued_in_the_future(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, new_sub("iat"), iat=int(time.time()) + 3600),
                             expires_in=7200)
    await assert_refused(server, lambda: s.exchange(token),
                         description=r"issued in the future \(iat\)")


@pytest.mark.parametrize("claim", ["exp", "iat"])
async def test_required_time_claim_removed(server: Server, s: SignInOrg, claim: str):
    token = s.provider.token(claims_for(s, new_sub(claim)), remove=[claim])
    assert claim not in _parts(token)[1]
    await assert_refused(server, lambda: s.exchange(token), description=f"no '{claim}' claim")


async def test_exp_as_boolean(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, new_sub("bool"), exp=True))
    await assert_refused(server, lambda: s.exchange(token),
                         description="'exp' claim is not a number")


async def test_unknown_kid(server: Server, s: SignInOrg):
    kid = f"bogus-{secrets.token_hex(4)}"
    token = s.provider.token(claims_for(s, new_sub("kid")), header={"kid": kid})
    assert _parts(token)[0]["kid"] == kid
    await assert_refused(server, lambda: s.exchange(token),
                         description=f"signed with key '{kid}'.*does not publish")


@pytest.mark.parametrize("param", ["jku", "x5u"])
async def test_key_url_in_header(server: Server, s: SignInOrg, param: str):
    token = s.provider.token(claims_for(s, new_sub(param)),
                             header={param: "https://attacker.example/keys.json"})
    await assert_refused(server, lambda: s.exchange(token),
                         description=f"header carries '{param}'")


@pytest.mark.parametrize("sub", [None, ""])
async def test_missing_or_empty_sub(server: Server, s: SignInOrg, sub: str | None):
    if sub is None:
        token = s.provider.token(claims_for(s, "x"), remove=["sub"])
        assert "sub" not in _parts(token)[1]
    else:
        token = s.provider.token(claims_for(s, sub))
    await assert_refused(server, lambda: s.exchange(token), description="no valid 'sub' claim")


async def test_sub_too_long(server: Server, s: SignInOrg):
    token = s.provider.token(claims_for(s, "s" * 256))
    await assert_refused(server, lambda: s.exchange(token), description="no valid 'sub' claim")


@pytest.mark.parametrize("subject_token", ["not-a-jwt", "a.b", "a.b.c.d.e", "e30.e30.",
                                           "!!!.e30.sig"])
async def test_malformed_subject_token(server: Server, s: SignInOrg, subject_token: str):
    await assert_refused(server, lambda: s.exchange(subject_token),
                         description="not a signed JWT|not base64url|issuer")


async def test_token_claiming_another_configured_issuer(server: Server, s: SignInOrg,
                                                        own_provider: Provider):
    """Issuer confusion: our provider's key signs a token that names another org's issuer.

    The server must verify it with that issuer's keys (which never signed it), not accept it.
    """
    other = await server.new_org()
    other_audience = f"client-{secrets.token_hex(4)}"
    await server.ok("""mutation($i: SetOidcProviderInput!) {
        setOidcProvider(input: $i) { orgMrn } }""", {"i": {
        "orgMrn": other.mrn, "issuer": own_provider.issuer, "audience": other_audience}},
        token=other.token)
    sub = new_sub("confused")
    token = s.provider.token({"sub": sub, "aud": other_audience, "groups": [],
                              "iss": own_provider.issuer})
    await assert_refused(server, lambda: s.exchange(token),
                         description=f"signed with key '{s.provider.kid}'.*does not publish")
    assert own_provider.jwks_requests() >= 1  # checked against the other issuer's own keys
    assert await users_with_subject(server, sub) == 0


# --------------------------------------------------------------------------- request-level errors


async def test_wrong_grant_type(server: Server, s: SignInOrg):
    token = s.id_token(new_sub("grant"), groups=[])
    for grant in ("authorization_code", "client_credentials", "", GRANT.upper()):
        await assert_refused(server, lambda g=grant: s.exchange(token, grant_type=g),
                             error="unsupported_grant_type",
                             description=f"grant_type must be {re.escape(GRANT)}")


async def test_missing_grant_type(server: Server, s: SignInOrg):
    token = s.id_token(new_sub("grant"), groups=[])
    form = {"subject_token": token, "subject_token_type": ID_TOKEN}
    await assert_refused(server, lambda: server.client.post(
        f"{server.base_url}/auth/token", data=form), error="unsupported_grant_type",
        description="grant_type must be")


@pytest.mark.parametrize("token_type", [
    "urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:jwt",
    "urn:ietf:params:oauth:token-type:saml2", ""])
async def test_wrong_subject_token_type(server: Server, s: SignInOrg, token_type: str):
    token = s.id_token(new_sub("type"), groups=[])
    await assert_refused(server, lambda: s.exchange(token, subject_token_type=token_type),
                         description=f"subject_token_type must be {re.escape(ID_TOKEN)}")


async def test_missing_subject_token_type(server: Server, s: SignInOrg):
    form = {"grant_type": GRANT, "subject_token": s.id_token(new_sub("type"), groups=[])}
    await assert_refused(server, lambda: server.client.post(
        f"{server.base_url}/auth/token", data=form), description="subject_token_type must be")


@pytest.mark.parametrize("form", [
    {"grant_type": GRANT, "subject_token_type": ID_TOKEN},
    {"grant_type": GRANT, "subject_token_type": ID_TOKEN, "subject_token": ""},
])
async def test_missing_subject_token(server: Server, form: dict[str, str]):
    await assert_refused(server, lambda: server.client.post(
        f"{server.base_url}/auth/token", data=form), description="subject_token is required")


@pytest.mark.parametrize("repeated", ["subject_token", "grant_type", "subject_token_type"])
async def test_repeated_parameter(server: Server, s: SignInOrg, repeated: str):
    token = s.id_token(new_sub("rep"), groups=[])
    form: dict[str, Any] = {"grant_type": GRANT, "subject_token": token,
                            "subject_token_type": ID_TOKEN}
    form[repeated] = [form[repeated], form[repeated]]  # even the same value twice
    await assert_refused(server, lambda: server.client.post(
        f"{server.base_url}/auth/token", data=form), description=r"repeated \(RFC 6749 §3.2\)")


async def test_repeated_subject_token_with_different_values(server: Server, s: SignInOrg):
    good = s.id_token(new_sub("rep"), groups=[])
    form = {"grant_type": GRANT, "subject_token": ["garbage", good],
            "subject_token_type": ID_TOKEN}
    await assert_refused(server, lambda: server.client.post(
        f"{server.base_url}/auth/token", data=form), description="repeated")


async def test_json_body_refused(server: Server, s: SignInOrg):
    form = {"grant_type": GRANT, "subject_token": s.id_token(new_sub("json"), groups=[]),
            "subject_token_type": ID_TOKEN}
    await assert_refused(server, lambda: server.client.post(
        f"{server.base_url}/auth/token", json=form),
        description="application/x-www-form-urlencoded")


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data; boundary=x",
                                          "application/json"])
async def test_form_body_with_wrong_content_type_refused(server: Server, s: SignInOrg,
                                                         content_type: str | None):
    body = httpx.QueryParams({"grant_type": GRANT, "subject_token_type": ID_TOKEN,
                              "subject_token": s.id_token(new_sub("ct"), groups=[])})
    headers = {"content-type": content_type} if content_type else {}
    await assert_refused(server, lambda: server.client.post(
        f"{server.base_url}/auth/token", content=str(body).encode(), headers=headers),
        description="application/x-www-form-urlencoded")


async def test_actor_token_refused(server: Server, s: SignInOrg):
    token = s.id_token(new_sub("actor"), groups=[])
    await assert_refused(server, lambda: s.exchange(token, actor_token=token,
                                                    actor_token_type=ID_TOKEN),
                         description="delegation")


async def test_requested_token_type_other_than_access_token(server: Server, s: SignInOrg):
    token = s.id_token(new_sub("req"), groups=[])
    await assert_refused(server, lambda: s.exchange(
        token, requested_token_type="urn:ietf:params:oauth:token-type:refresh_token"),
        description="requested_token_type can only be")


async def test_issuer_no_organization_configured(server: Server, s: SignInOrg,
                                                 own_provider: Provider):
    """A genuine token from a real provider that no organization trusts."""
    token = own_provider.token({"sub": new_sub("stranger"), "aud": s.audience, "groups": []})
    await assert_refused(server, lambda: s.exchange(token),
                         description=f"no organization accepts ID tokens from issuer "
                                     f"'{re.escape(own_provider.issuer)}'")
    # The server did not even contact an issuer nobody configured.
    assert own_provider.jwks_requests() == 0


# --------------------------------------------------------------------------- keys: rotation, refetch


async def test_unknown_kid_refetch_is_bounded(server: Server, s: SignInOrg, provider: Provider):
    assert (await s.sign_in(new_sub("warm"), groups=[])).status_code == 200  # keys cached
    before = provider.jwks_requests()
    for _ in range(2):
        kid = f"bogus-{secrets.token_hex(4)}"
        token = s.provider.token(claims_for(s, new_sub("bogus")), header={"kid": kid})
        await assert_refused(server, lambda t=token: s.exchange(t),
                             description=f"signed with key '{kid}'")
    assert provider.jwks_requests() - before <= 1
    # A genuine token right after still signs in, with no further JWKS request.
    mid = provider.jwks_requests()
    assert (await s.sign_in(new_sub("after"), groups=[])).status_code == 200
    assert provider.jwks_requests() == mid


async def test_key_rotation(server: Server, own_provider: Provider):
    """The provider adds a key and signs with it; the server picks it up with one refetch.

    Right after the server fetched the key set, a new kid is not refetched (at most one
    refetch per REFETCH_INTERVAL); once the interval has passed, the first token with the new
    kid triggers exactly one JWKS request, and tokens of the old key, still published, verify.
    """
    s = await new_signin_org(server, own_provider)
    old_kid = own_provider.kid
    old_token = own_provider.token(claims_for(s, new_sub("old")))
    resp = await s.exchange(old_token)
    fetched_at = time.monotonic()
    assert resp.status_code == 200, resp.text
    assert own_provider.jwks_requests() == 1

    new_kid = own_provider.rotate()
    assert new_kid != old_kid
    new_token = own_provider.token(claims_for(s, new_sub("new")))
    assert _parts(new_token)[0]["kid"] == new_kid
    # Within the interval: refused without hammering the provider.
    await assert_refused(server, lambda: s.exchange(new_token),
                         description=f"signed with key '{new_kid}'")
    assert own_provider.jwks_requests() == 1

    await asyncio.sleep(max(0.0, fetched_at + REFETCH_INTERVAL + 1.5 - time.monotonic()))
    resp = await s.exchange(new_token)
    assert resp.status_code == 200, resp.text
    assert own_provider.jwks_requests() == 2
    # More tokens of the new key: from the cache.
    assert (await s.exchange(own_provider.token(claims_for(s, new_sub("new2"))))).status_code \
        == 200
    # The old key stays published: its tokens still verify, without another fetch.
    again = own_provider.token(claims_for(s, new_sub("old2")), kid=old_kid)
    assert _parts(again)[0]["kid"] == old_kid
    resp = await s.exchange(again)
    assert resp.status_code == 200, resp.text
    assert own_provider.jwks_requests() == 2
