"""Unit tests for app.login.idtoken: ID-token validation with keys made here, no I/O.

Each negative test breaks exactly one rule of OpenID Connect Core §3.1.3.7 / RFC 8725
on an otherwise valid token, and checks that the refusal names the problem.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jose import jwk, jws

from app.errors import InvalidToken
from app.login import idtoken
from app.login.idtoken import (
    ALLOWED_ALGORITHMS,
    LEEWAY_SECONDS,
    Expectations,
    UnknownKey,
    check_claims,
    parse_jwks,
    select_key,
    unverified_header_and_claims,
    validate,
)

ISS = "https://idp.example.com"
AUD = "client-123"
NOW = 1_700_000_000.0
EXPECT = Expectations(ISS, AUD)

# --------------------------------------------------------------------------- keys and tokens


def _pem(private: Any) -> bytes:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def _public_pem(private: Any) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


RSA_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_PRIVATE = ec.generate_private_key(ec.SECP256R1())
RSA_PEM, RSA_OTHER_PEM, EC_PEM = _pem(RSA_PRIVATE), _pem(RSA_OTHER), _pem(EC_PRIVATE)


def public_jwk(pem: bytes, alg: str, kid: str | None, *, with_alg: bool = True,
               **extra: Any) -> dict[str, Any]:
    data = jwk.construct(pem, alg).public_key().to_dict()
    data = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in data.items()}
    if not with_alg:
        data.pop("alg", None)
    if kid is not None:
        data["kid"] = kid
    return {**data, **extra}


def private_jwk(pem: bytes, alg: str, kid: str) -> dict[str, Any]:
    data = jwk.construct(pem, alg).to_dict()
    data = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in data.items()}
    return {**data, "kid": kid}


def keyset(*jwks_: dict[str, Any]) -> dict[str | None, idtoken.PublicKey]:
    return parse_jwks({"keys": list(jwks_)})


RSA_JWK = public_jwk(RSA_PEM, "RS256", "rsa-1")
EC_JWK = public_jwk(EC_PEM, "ES256", "ec-1")
KEYS = keyset(RSA_JWK, EC_JWK)


def good_claims(**over: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": ISS, "aud": AUD, "sub": "user-1", "iat": NOW - 5,
                              "exp": NOW + 300, "nbf": NOW - 5}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not _DROP}


_DROP = object()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value).encode())


def sign(claims: dict[str, Any], pem: bytes = RSA_PEM, alg: str = "RS256",
         kid: str | None = "rsa-1", **headers: Any) -> str:
    """A token signed by python-jose (headers: extra JOSE header parameters)."""
    hdr = dict(headers)
    if kid is not None:
        hdr["kid"] = kid
    return jws.sign(claims, pem, headers=hdr, algorithm=alg)


def assemble(header: dict[str, Any], payload: bytes | str, *, pem: bytes | None = RSA_PEM,
             sign_alg: str = "RS256") -> str:
    """A compact JWS built by hand: the header says what it says, the key signs with sign_alg."""
    if isinstance(payload, str):
        payload = payload.encode()
    signing_input = f"{b64json(header)}.{b64(payload)}"
    sig = b"" if pem is None else jwk.construct(pem, sign_alg).sign(signing_input.encode())
    return f"{signing_input}.{b64(sig)}"


def refused(token: str, match: str, keys: Any = None, now: float = NOW) -> InvalidToken:
    with pytest.raises(InvalidToken, match=match) as info:
        validate(token, KEYS if keys is None else keys, EXPECT, now)
    return info.value


# --------------------------------------------------------------------------- accepted tokens


def test_allow_list_is_asymmetric_only() -> None:
    assert ALLOWED_ALGORITHMS == {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}
    assert LEEWAY_SECONDS == 60


def test_valid_rs256_token() -> None:
    claims = good_claims(email="a@example.com")
    assert validate(sign(claims), KEYS, EXPECT, NOW) == claims


def test_valid_es256_token() -> None:
    claims = good_claims()
    token = sign(claims, EC_PEM, "ES256", "ec-1")
    assert validate(token, KEYS, EXPECT, NOW) == claims


def test_string_audience_accepted() -> None:
    assert validate(sign(good_claims(aud=AUD)), KEYS, EXPECT, NOW)["aud"] == AUD


def test_single_element_audience_list_accepted_without_azp() -> None:
    assert validate(sign(good_claims(aud=[AUD])), KEYS, EXPECT, NOW)["aud"] == [AUD]


def test_several_audiences_with_matching_azp_accepted() -> None:
    claims = good_claims(aud=["other-api", AUD], azp=AUD)
    assert validate(sign(claims), KEYS, EXPECT, NOW) == claims


def test_azp_equal_to_audience_accepted_with_single_audience() -> None:
    assert validate(sign(good_claims(azp=AUD)), KEYS, EXPECT, NOW)["azp"] == AUD


def test_no_kid_accepted_when_provider_has_one_key() -> None:
    keys = keyset(public_jwk(RSA_PEM, "RS256", None))
    claims = good_claims()
    assert validate(sign(claims, kid=None), keys, EXPECT, NOW) == claims


def test_rs512_with_matching_jwk_alg_accepted() -> None:
    keys = keyset(public_jwk(RSA_PEM, "RS512", "rsa-512"))
    claims = good_claims()
    assert validate(sign(claims, alg="RS512", kid="rsa-512"), keys, EXPECT, NOW) == claims


def test_nbf_is_optional() -> None:
    claims = good_claims(nbf=_DROP)
    assert "nbf" not in claims
    assert validate(sign(claims), KEYS, EXPECT, NOW) == claims


def test_sub_of_255_characters_accepted() -> None:
    claims = good_claims(sub="s" * 255)
    assert validate(sign(claims), KEYS, EXPECT, NOW)["sub"] == "s" * 255


# --------------------------------------------------------------------------- signatures


def test_signature_by_another_key_with_the_same_kid() -> None:
    token = sign(good_claims(), RSA_OTHER_PEM, kid="rsa-1")
    refused(token, "signature does not verify")


def test_tampered_payload() -> None:
    header, _payload, sig = sign(good_claims(sub="user-1")).split(".")
    forged = f"{header}.{b64json(good_claims(sub='admin'))}.{sig}"
    refused(forged, "signature does not verify")


def test_signature_removed() -> None:
    header, payload, _sig = sign(good_claims()).split(".")
    refused(f"{header}.{payload}.", "signature does not verify")


def test_signature_from_another_token_swapped_in() -> None:
    victim = sign(good_claims(sub="victim"))
    other = sign(good_claims(sub="other"))
    forged = victim.rsplit(".", 1)[0] + "." + other.rsplit(".", 1)[1]
    refused(forged, "signature does not verify")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_alg_none(alg: str) -> None:
    token = assemble({"alg": alg, "typ": "JWT", "kid": "rsa-1"}, json.dumps(good_claims()),
                     pem=None)
    assert token.endswith(".")
    refused(token, f"algorithm '{alg}' is not accepted")


def test_unsigned_alg_none_without_kid() -> None:
    token = assemble({"alg": "none"}, json.dumps(good_claims()), pem=None)
    refused(token, "algorithm 'none' is not accepted")


@pytest.mark.parametrize("public_format", [
    serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1])
def test_hs256_keyed_with_the_rsa_public_key(public_format: Any) -> None:
    """The classic key-confusion attack: the public key, which anyone has, as an HMAC secret."""
    secret = RSA_PRIVATE.public_key().public_bytes(serialization.Encoding.PEM, public_format)
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': 'rsa-1'})}." \
                    f"{b64json(good_claims(sub='attacker'))}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    refused(f"{signing_input}.{b64(sig)}", "algorithm 'HS256' is not accepted")


def test_hs256_keyed_with_the_public_jwk_modulus() -> None:
    secret = RSA_JWK["n"].encode()
    signing_input = f"{b64json({'alg': 'HS256', 'kid': 'rsa-1'})}.{b64json(good_claims())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    refused(f"{signing_input}.{b64(sig)}", "algorithm 'HS256' is not accepted")


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", "PS256", "PS512", "RS1", "RSA1_5",
                                 "EdDSA", "ES256K", "rs256", "RS256 ", ""])
def test_algorithm_not_in_allow_list(alg: str) -> None:
    token = assemble({"alg": alg, "kid": "rsa-1"}, json.dumps(good_claims()))
    err = refused(token, "algorithm .* is not accepted")
    assert repr(alg) in err.message
    assert "RS256" in err.message  # the message lists what is accepted


@pytest.mark.parametrize("header", [{"kid": "rsa-1"}, {"alg": None, "kid": "rsa-1"},
                                    {"alg": ["RS256"], "kid": "rsa-1"}])
def test_algorithm_missing_or_not_a_string(header: dict[str, Any]) -> None:
    refused(assemble(header, json.dumps(good_claims())), "algorithm .* is not accepted")


def test_ps256_signed_with_the_real_key_still_refused() -> None:
    """Even a genuine signature is refused when its algorithm is not on the list."""
    signing_input = f"{b64json({'alg': 'PS256', 'kid': 'rsa-1'})}.{b64json(good_claims())}"
    sig = RSA_PRIVATE.sign(signing_input.encode(), padding.PSS(
        mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    refused(f"{signing_input}.{b64(sig)}", "algorithm 'PS256' is not accepted")


def test_es256_header_with_rsa_key() -> None:
    """The header's algorithm family must be the key's type (key without alg: only kty counts)."""
    keys = keyset(public_jwk(RSA_PEM, "RS256", "rsa-noalg", with_alg=False))
    token = assemble({"alg": "ES256", "kid": "rsa-noalg"}, json.dumps(good_claims()),
                     pem=EC_PEM, sign_alg="ES256")
    refused(token, "algorithm ES256 does not match its key 'rsa-noalg'", keys)


def test_rs256_header_with_ec_key() -> None:
    keys = keyset(public_jwk(EC_PEM, "ES256", "ec-noalg", with_alg=False))
    token = assemble({"alg": "RS256", "kid": "ec-noalg"}, json.dumps(good_claims()))
    refused(token, "algorithm RS256 does not match its key 'ec-noalg'", keys)


def test_jwk_alg_different_from_header_alg() -> None:
    """The JWK says RS256; a (genuinely RS384-signed) token claiming RS384 is refused."""
    token = sign(good_claims(), alg="RS384", kid="rsa-1")
    refused(token, "algorithm RS384 does not match its key 'rsa-1'")


def test_es384_header_with_es256_jwk() -> None:
    token = assemble({"alg": "ES384", "kid": "ec-1"}, json.dumps(good_claims()),
                     pem=EC_PEM, sign_alg="ES256")
    refused(token, "algorithm ES384 does not match its key 'ec-1'")


def test_rs384_token_accepted_when_jwk_has_no_alg() -> None:
    keys = keyset(public_jwk(RSA_PEM, "RS256", "rsa-noalg", with_alg=False))
    claims = good_claims()
    assert validate(sign(claims, alg="RS384", kid="rsa-noalg"), keys, EXPECT, NOW) == claims


def test_header_alg_must_be_the_algorithm_actually_verified() -> None:
    keys = keyset(public_jwk(RSA_PEM, "RS256", "rsa-noalg", with_alg=False))
    token = assemble({"alg": "RS512", "kid": "rsa-noalg"}, json.dumps(good_claims()),
                     sign_alg="RS256")
    refused(token, "signature does not verify", keys)


# --------------------------------------------------------------------------- key selection


def test_unknown_kid_raises_unknown_key() -> None:
    with pytest.raises(UnknownKey) as info:
        validate(sign(good_claims(), kid="rotated-away"), KEYS, EXPECT, NOW)
    assert info.value.kid == "rotated-away"
    assert not isinstance(info.value, InvalidToken)  # the caller refetches the JWKS once


def test_unknown_kid_with_empty_key_set() -> None:
    with pytest.raises(UnknownKey):
        validate(sign(good_claims(), kid="rsa-1"), {}, EXPECT, NOW)


def test_no_kid_with_several_keys_of_the_type() -> None:
    keys = keyset(public_jwk(RSA_PEM, "RS256", "a"), public_jwk(RSA_OTHER_PEM, "RS256", "b"))
    refused(sign(good_claims(), kid=None), "names no key id \\(kid\\).*several keys", keys)


def test_no_kid_with_no_key_of_the_type() -> None:
    keys = keyset(EC_JWK)
    # One key, so no kid is needed (OIDC Core §10.1), but it cannot verify an RS256 token.
    refused(sign(good_claims(), kid=None), "does not match its key", keys)


@pytest.mark.parametrize("kid", [1, ["rsa-1"], {"k": "rsa-1"}, True])
def test_kid_not_a_string(kid: Any) -> None:
    token = assemble({"alg": "RS256", "kid": kid}, json.dumps(good_claims()))
    refused(token, "kid is not a string")


@pytest.mark.parametrize("param", ["jku", "x5u", "jwk"])
def test_key_carrying_header_parameters_refused(param: str) -> None:
    """RFC 8725 §3.10: keys come from the configured JWKS, never from the token."""
    value: Any = "https://attacker.example/keys.json"
    if param == "jwk":
        value = public_jwk(RSA_OTHER_PEM, "RS256", "rsa-1")
    # Signed by the genuine key: refused for the header parameter alone.
    token = sign(good_claims(), **{param: value})
    refused(token, f"header carries '{param}'")


def test_jwk_header_with_attacker_key_refused() -> None:
    """The token embeds the attacker's key and is signed with it."""
    token = sign(good_claims(), RSA_OTHER_PEM, jwk=public_jwk(RSA_OTHER_PEM, "RS256", "rsa-1"))
    refused(token, "header carries 'jwk'")


@pytest.mark.parametrize("crit", [["exp"], ["b64"], []])
def test_crit_header_refused(crit: list[str]) -> None:
    token = sign(good_claims(), crit=crit, exp=NOW + 100)
    refused(token, "critical header parameters")


# --------------------------------------------------------------------------- issuer


@pytest.mark.parametrize("iss", ["https://evil.example.com", ISS + "/", ISS.upper(),
                                 "http://idp.example.com", ""])
def test_wrong_issuer(iss: str) -> None:
    err = refused(sign(good_claims(iss=iss)), "issuer .* is not the configured issuer")
    assert repr(iss) in err.message


def test_issuer_missing() -> None:
    refused(sign(good_claims(iss=_DROP)), "issuer None is not the configured issuer")


@pytest.mark.parametrize("iss", [[ISS], {"iss": ISS}, 1])
def test_issuer_not_a_string(iss: Any) -> None:
    refused(sign(good_claims(iss=iss)), "is not the configured issuer")


# --------------------------------------------------------------------------- audience, azp


@pytest.mark.parametrize("aud", ["other-client", ["other-client"], ["a", "b"], [], "",
                                 AUD.upper(), AUD + " "])
def test_audience_not_containing_ours(aud: Any) -> None:
    refused(sign(good_claims(aud=aud, azp=AUD)), "not meant for this server.*'client-123'")


@pytest.mark.parametrize("aud", [_DROP, None, 123, {"aud": AUD}, [AUD, 5], [[AUD]]])
def test_audience_missing_or_malformed(aud: Any) -> None:
    refused(sign(good_claims(aud=aud)), "no valid 'aud' claim")


def test_several_audiences_without_azp() -> None:
    refused(sign(good_claims(aud=[AUD, "other-api"])), "several audiences but no 'azp'")


@pytest.mark.parametrize("aud", [AUD, [AUD], [AUD, "other-api"]])
def test_azp_not_our_audience(aud: Any) -> None:
    err = refused(sign(good_claims(aud=aud, azp="other-api")), "authorized party \\(azp\\)")
    assert "'other-api'" in err.message


# --------------------------------------------------------------------------- time


def test_expired_beyond_leeway() -> None:
    refused(sign(good_claims(exp=NOW - LEEWAY_SECONDS - 1, iat=NOW - 600)), "has expired")


def test_expired_long_ago() -> None:
    refused(sign(good_claims(exp=NOW - 86400, iat=NOW - 90000)), "has expired")


@pytest.mark.parametrize("late", [1, 30, LEEWAY_SECONDS])
def test_expired_within_leeway_accepted(late: int) -> None:
    claims = good_claims(exp=NOW - late, iat=NOW - 600)
    assert validate(sign(claims), KEYS, EXPECT, NOW) == claims


def test_nbf_in_the_future_beyond_leeway() -> None:
    refused(sign(good_claims(nbf=NOW + LEEWAY_SECONDS + 1)), "not valid yet \\(nbf")


@pytest.mark.parametrize("early", [1, 30, LEEWAY_SECONDS])
def test_nbf_in_the_future_within_leeway_accepted(early: int) -> None:
    claims = good_claims(nbf=NOW + early)
    assert validate(sign(claims), KEYS, EXPECT, NOW) == claims


def test_iat_in_the_future_beyond_leeway() -> None:
    refused(sign(good_claims(iat=NOW + LEEWAY_SECONDS + 1, exp=NOW + 3600)),
            "issued in the future \\(iat\\)")


def test_iat_in_the_future_within_leeway_accepted() -> None:
    claims = good_claims(iat=NOW + 30)
    assert validate(sign(claims), KEYS, EXPECT, NOW) == claims


@pytest.mark.parametrize("name", ["exp", "iat"])
def test_required_time_claim_missing(name: str) -> None:
    refused(sign(good_claims(**{name: _DROP})), f"has no '{name}' claim")


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", [True, False, str(int(NOW + 300)), [NOW + 300],
                                   {"t": NOW + 300}])
def test_time_claim_not_a_number(name: str, value: Any) -> None:
    refused(sign(good_claims(**{name: value})), f"'{name}' claim is not a number")


def test_exp_true_is_not_one_second_after_the_epoch_but_not_a_number() -> None:
    """bool is an int in Python: exp=true must not pass as 1 (nor iat=false as 0)."""
    refused(sign(good_claims(exp=True)), "'exp' claim is not a number")
    refused(sign(good_claims(iat=False)), "'iat' claim is not a number")


@pytest.mark.parametrize(("name", "literal"), [("exp", "NaN"), ("exp", "Infinity"),
                                               ("iat", "NaN")])
def test_non_finite_time_claims_refused(name: str, literal: str) -> None:
    claims = good_claims(**{name: float(literal.replace("Infinity", "inf"))})
    payload = json.dumps(claims, allow_nan=True)
    assert literal in payload
    token = assemble({"alg": "RS256", "kid": "rsa-1"}, payload)  # genuinely signed
    refused(token, f"'{name}'")


def test_exp_beyond_float_range_is_not_a_crash() -> None:
    payload = json.dumps(good_claims()).replace(str(NOW + 300), "1" + "0" * 400)
    assert "0" * 400 in payload
    token = assemble({"alg": "RS256", "kid": "rsa-1"}, payload)
    try:
        validate(token, KEYS, EXPECT, NOW)
    except InvalidToken:
        pass  # refusing is fine; accepting a far-future exp is fine too; crashing is not


# --------------------------------------------------------------------------- subject


@pytest.mark.parametrize("sub", [_DROP, "", "s" * 256, None, 42, ["user-1"], {"id": "x"}, True])
def test_sub_missing_empty_too_long_or_not_a_string(sub: Any) -> None:
    refused(sign(good_claims(sub=sub)), "no valid 'sub' claim")


# --------------------------------------------------------------------------- compact serialisation


@pytest.mark.parametrize("token", [
    "", "abc", "a.b", "a.b.c.d", "a.b.c.d.e", "...", 12345, None,
    b"eyJhbGciOiJSUzI1NiJ9.e30.sig",
])
def test_not_three_parts(token: Any) -> None:
    refused(token, "not a signed JWT|not base64url")


def test_two_parts_message() -> None:
    header, payload, _ = sign(good_claims()).split(".")
    refused(f"{header}.{payload}", "not a signed JWT \\(compact JWS, three parts\\)")


def test_jwe_five_parts_refused() -> None:
    refused("a.b.c.d.e", "three parts")


@pytest.mark.parametrize("header_segment", ["", "eyJ@bGciOiJSUzI1NiJ9", "eyJhbGci OiJ9",
                                            b64json({"alg": "RS256"}) + "=="])
def test_header_not_base64url(header_segment: str) -> None:
    _, payload, sig = sign(good_claims()).split(".")
    refused(f"{header_segment}.{payload}.{sig}", "header is not base64url")


@pytest.mark.parametrize("raw", [b"not json", b"{\"alg\": ", b"\xff\xfe"])
def test_header_not_json(raw: bytes) -> None:
    _, payload, sig = sign(good_claims()).split(".")
    refused(f"{b64(raw)}.{payload}.{sig}", "header is not JSON")


@pytest.mark.parametrize("value", [["RS256"], "RS256", 1, None])
def test_header_not_an_object(value: Any) -> None:
    _, payload, sig = sign(good_claims()).split(".")
    refused(f"{b64json(value)}.{payload}.{sig}", "header is not a JSON object")


def test_payload_not_base64url() -> None:
    header, _, sig = sign(good_claims()).split(".")
    refused(f"{header}.pay load.{sig}", "payload is not base64url")


def test_payload_not_json() -> None:
    token = assemble({"alg": "RS256", "kid": "rsa-1"}, b"definitely not json")
    refused(token, "payload is not JSON")


def test_payload_not_an_object() -> None:
    token = assemble({"alg": "RS256", "kid": "rsa-1"}, json.dumps(["iss", ISS]))
    refused(token, "payload is not a JSON object")


def test_unverified_header_and_claims_parses_without_trusting() -> None:
    token = sign(good_claims(sub="peek"), RSA_OTHER_PEM)  # wrong key: still readable
    header, claims = unverified_header_and_claims(token)
    assert header["alg"] == "RS256" and header["kid"] == "rsa-1"
    assert claims["sub"] == "peek"


# --------------------------------------------------------------------------- check_claims, select_key


def test_check_claims_passes_good_claims() -> None:
    check_claims(good_claims(), EXPECT, NOW)


def test_select_key_picks_by_kid() -> None:
    assert select_key({"alg": "ES256", "kid": "ec-1"}, KEYS).kty == "EC"
    assert select_key({"alg": "RS256", "kid": "rsa-1"}, KEYS).kty == "RSA"


# --------------------------------------------------------------------------- parse_jwks


def test_parse_jwks_keeps_signature_keys() -> None:
    keys = parse_jwks({"keys": [RSA_JWK, EC_JWK, public_jwk(RSA_OTHER_PEM, "RS256", "sig",
                                                             use="sig")]})
    assert set(keys) == {"rsa-1", "ec-1", "sig"}
    assert keys["rsa-1"].kty == "RSA" and keys["rsa-1"].alg == "RS256"
    assert keys["ec-1"].kty == "EC" and keys["ec-1"].alg == "ES256"


def test_parse_jwks_ignores_encryption_keys() -> None:
    keys = parse_jwks({"keys": [public_jwk(RSA_PEM, "RS256", "enc", with_alg=False, use="enc"),
                                public_jwk(EC_PEM, "ES256", "enc-ec", with_alg=False, use="enc"),
                                RSA_JWK]})
    assert set(keys) == {"rsa-1"}


@pytest.mark.parametrize("use", ["enc", "SIG", "", 1])
def test_parse_jwks_ignores_use_other_than_sig(use: Any) -> None:
    assert parse_jwks({"keys": [public_jwk(RSA_PEM, "RS256", "k", use=use)]}) == {}


def test_parse_jwks_ignores_unknown_key_types() -> None:
    keys = parse_jwks({"keys": [
        {"kty": "oct", "kid": "hmac", "k": b64(b"shared-secret"), "alg": "HS256"},
        {"kty": "oct", "kid": "hmac-noalg", "k": b64(b"shared-secret")},
        {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(b"\x00" * 32)},
        {"kid": "no-kty", "n": RSA_JWK["n"], "e": RSA_JWK["e"]},
        {**RSA_JWK, "kty": "rsa", "kid": "lowercase"},
        EC_JWK,
    ]})
    assert set(keys) == {"ec-1"}


@pytest.mark.parametrize("alg", ["HS256", "PS256", "RS1", "RSA-OAEP", "none", "EdDSA"])
def test_parse_jwks_ignores_keys_whose_alg_is_not_allowed(alg: str) -> None:
    assert parse_jwks({"keys": [{**RSA_JWK, "alg": alg}]}) == {}


def test_hs256_token_refused_even_if_jwks_published_an_oct_key() -> None:
    secret = b"shared-secret"
    keys = parse_jwks({"keys": [{"kty": "oct", "kid": "hmac", "k": b64(secret)}]})
    assert keys == {}
    token = jws.sign(good_claims(), secret, headers={"kid": "hmac"}, algorithm="HS256")
    with pytest.raises(InvalidToken, match="'HS256' is not accepted"):
        validate(token, keys, EXPECT, NOW)


@pytest.mark.parametrize("doc", [None, [], "keys", {}, {"keys": {}}, {"keys": "x"}])
def test_parse_jwks_rejects_documents_without_a_keys_list(doc: Any) -> None:
    with pytest.raises(ValueError, match="'keys' list"):
        parse_jwks(doc)


def test_parse_jwks_skips_malformed_entries() -> None:
    keys = parse_jwks({"keys": ["x", 1, None, {"kty": "RSA", "kid": "no-n"},
                                {"kty": "EC", "kid": "bad", "crv": "P-256", "x": "AA", "y": "AA"},
                                RSA_JWK]})
    assert set(keys) == {"rsa-1"}


@pytest.mark.parametrize(("pem", "alg", "private_fields"), [
    (RSA_PEM, "RS256", {"d", "p", "q", "dp", "dq", "qi"}),
    (EC_PEM, "ES256", {"d"}),
])
def test_parse_jwks_strips_private_parts(pem: bytes, alg: str, private_fields: set[str]) -> None:
    leaked = private_jwk(pem, alg, "leaked")
    assert private_fields <= set(leaked)
    key = parse_jwks({"keys": [leaked]})["leaked"]
    assert key.key_for(alg).is_public()
    assert not private_fields & set(key.key_for(alg).to_dict())
    with pytest.raises(Exception):  # noqa: B017 - a public key cannot sign
        key.key_for(alg).sign(b"data")
    # ... and it still verifies what the private key signed.
    claims = good_claims()
    token = sign(claims, pem, alg, "leaked")
    assert validate(token, {"leaked": key}, EXPECT, NOW) == claims


def test_parse_jwks_ec_key_without_alg_gets_curve_algorithm() -> None:
    keys = parse_jwks({"keys": [public_jwk(EC_PEM, "ES256", "ec", with_alg=False)]})
    assert keys["ec"].alg is None
    claims = good_claims()
    assert validate(sign(claims, EC_PEM, "ES256", "ec"), keys, EXPECT, NOW) == claims


def test_no_kid_with_one_key_of_each_type_is_refused() -> None:
    """OpenID Connect Core §10.1: several keys (of any types) mean the token must name one."""
    refused(sign(good_claims(), kid=None), "names no key id", keyset(RSA_JWK, EC_JWK))
