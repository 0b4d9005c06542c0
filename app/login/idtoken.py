"""ID-token validation (OpenID Connect Core 1.0 §3.1.3.7, RFC 8725). No I/O.

The caller supplies the provider's keys (see ``app.login.jwks``); this module
decides whether a token is acceptable and returns its claims.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jose import jwk, jws
from jose.exceptions import JOSEError

from app.errors import InvalidToken

#: Asymmetric algorithms only (RFC 8725 §3.1-3.2): never `none`, never an HMAC, so a
#: public key can never be used as a shared secret.
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})
_KTY_FOR = {"RS": "RSA", "ES": "EC"}
#: Clock skew tolerated on exp, nbf and iat.
LEEWAY_SECONDS = 60
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Expectations:
    """What a provider's ID tokens must say."""

    issuer: str
    audience: str


class UnknownKey(Exception):
    """The token names a key id the key set does not have (yet): refetch the JWKS once."""

    def __init__(self, kid: str | None) -> None:
        super().__init__(kid)
        self.kid = kid


@dataclass(frozen=True)
class PublicKey:
    kid: str | None
    kty: str
    alg: str | None
    use: str | None
    jwk: dict[str, Any]
    #: python-jose key objects by algorithm, built once each (a JWK without `alg` can
    #: serve several, e.g. RS256 and RS384).
    _by_alg: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_jwk(cls, data: Mapping[str, Any]) -> PublicKey | None:
        """A verification key from a JWK; None for keys that cannot verify signatures."""
        kty, alg, use = data.get("kty"), data.get("alg"), data.get("use")
        if kty not in ("RSA", "EC") or (use not in (None, "sig")):
            return None
        if alg is not None and (alg not in ALLOWED_ALGORITHMS or _KTY_FOR[alg[:2]] != kty):
            return None
        # A private key published by mistake: keep only its public half.
        public = {k: v for k, v in data.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        key = cls(data.get("kid"), kty, alg, use, public)
        if key.key_for(alg or ("RS256" if kty == "RSA" else _ec_alg(public))) is None:
            return None
        return key

    def key_for(self, alg: str) -> Any | None:
        """The key object that verifies ``alg`` signatures (None if the JWK is unusable)."""
        if alg not in self._by_alg:
            try:
                self._by_alg[alg] = jwk.construct(dict(self.jwk), alg)
            except (JOSEError, ValueError, TypeError, KeyError):
                self._by_alg[alg] = None
        return self._by_alg[alg]


def _ec_alg(data: Mapping[str, Any]) -> str:
    return {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}.get(data.get("crv", ""), "ES256")


def parse_jwks(document: Any) -> dict[str | None, PublicKey]:
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ValueError("a JWKS document has a 'keys' list")
    out: dict[str | None, PublicKey] = {}
    for item in keys:
        if isinstance(item, dict) and (k := PublicKey.from_jwk(item)) is not None:
            out[k.kid] = k
    return out


def _check_base64url(segment: str, what: str) -> None:
    if not segment or not _B64URL.fullmatch(segment):
        raise InvalidToken(f"the ID token's {what} is not base64url")


def _b64json(segment: str, what: str) -> dict[str, Any]:
    import base64

    _check_base64url(segment, what)
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken(f"the ID token's {what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"the ID token's {what} is not a JSON object")
    return value


def _parts(token: str) -> list[str]:
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidToken("the subject token is not a signed JWT (compact JWS, three parts)")
    return token.split(".")


def unverified_header_and_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Peek at a compact JWS without trusting it (to pick the provider and key)."""
    header_b64, payload_b64, _sig = _parts(token)
    return _b64json(header_b64, "header"), _b64json(payload_b64, "payload")


def select_key(header: Mapping[str, Any], keys: Mapping[str | None, PublicKey]) -> PublicKey:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise InvalidToken(
            f"the ID token's algorithm {alg!r} is not accepted; accepted: "
            f"{', '.join(sorted(ALLOWED_ALGORITHMS))}"
        )
    if "crit" in header:
        raise InvalidToken("the ID token has critical header parameters this server does not know")
    for forbidden in ("jku", "x5u", "jwk"):
        # Keys come from the configured provider's JWKS only, never from the token itself.
        if forbidden in header:
            raise InvalidToken(f"the ID token's header carries {forbidden!r}; keys come only "
                               "from the provider's JWKS")
    kid = header.get("kid")
    if kid is None:
        # OpenID Connect Core §10.1: without a kid there must be exactly one key.
        if len(keys) != 1:
            raise InvalidToken("the ID token names no key id (kid) and the provider has several keys")
        key = next(iter(keys.values()))
    else:
        if not isinstance(kid, str):
            raise InvalidToken("the ID token's kid is not a string")
        key = keys.get(kid)
        if key is None:
            raise UnknownKey(kid)
    if key.kty != _KTY_FOR[alg[:2]] or (key.alg is not None and key.alg != alg):
        raise InvalidToken(f"the ID token's algorithm {alg} does not match its key {kid!r}")
    return key


def _number(claims: Mapping[str, Any], name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise InvalidToken(f"the ID token has no {name!r} claim")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"the ID token's {name!r} claim is not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidToken(f"the ID token's {name!r} claim is not a finite number")
    return number


def check_claims(claims: Mapping[str, Any], expect: Expectations, now: float) -> None:
    """The claim rules of OpenID Connect Core §3.1.3.7 (items 2-5, 9, 10)."""
    if claims.get("iss") != expect.issuer:
        raise InvalidToken(
            f"the ID token's issuer {claims.get('iss')!r} is not the configured issuer "
            f"{expect.issuer!r}"
        )
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise InvalidToken("the ID token has no valid 'aud' claim")
    if expect.audience not in audiences:
        raise InvalidToken(
            f"the ID token is not meant for this server: its audience {audiences} does not "
            f"contain {expect.audience!r}"
        )
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise InvalidToken("the ID token has several audiences but no 'azp' claim")
    if azp is not None and azp != expect.audience:
        raise InvalidToken(
            f"the ID token's authorized party (azp) {azp!r} is not {expect.audience!r}"
        )
    exp = _number(claims, "exp", required=True)
    if now > exp + LEEWAY_SECONDS:
        raise InvalidToken("the ID token has expired")
    nbf = _number(claims, "nbf", required=False)
    if nbf is not None and now + LEEWAY_SECONDS < nbf:
        raise InvalidToken("the ID token is not valid yet (nbf is in the future)")
    iat = _number(claims, "iat", required=True)
    if now + LEEWAY_SECONDS < iat:
        raise InvalidToken("the ID token was issued in the future (iat)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise InvalidToken("the ID token has no valid 'sub' claim (1 to 255 characters)")


def validate(
    token: str, keys: Mapping[str | None, PublicKey], expect: Expectations, now: float
) -> dict[str, Any]:
    """Verify the signature and claims; return the claims. Raises InvalidToken or UnknownKey."""
    header_b64, payload_b64, _sig = _parts(token)
    header = _b64json(header_b64, "header")
    _check_base64url(payload_b64, "payload")  # decoded once verified
    key = select_key(header, keys)
    try:
        verifier = key.key_for(header["alg"])
        if verifier is None:
            raise InvalidToken(f"the ID token's algorithm {header['alg']} does not fit its key")
        payload = jws.verify(token, verifier, algorithms=[header["alg"]])
    except JOSEError:
        raise InvalidToken("the ID token's signature does not verify") from None
    try:
        claims = json.loads(payload)
    except ValueError:
        raise InvalidToken("the ID token's payload is not JSON") from None
    if not isinstance(claims, dict):
        raise InvalidToken("the ID token's payload is not a JSON object")
    check_claims(claims, expect, now)
    return claims
