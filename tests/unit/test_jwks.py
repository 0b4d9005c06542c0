"""Unit tests for app.login.jwks.KeyCache: discovery and JWKS over a mock HTTP transport.

The cache's clock is a fake one the tests move by hand; every HTTP request is counted.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk

from app.errors import InvalidToken
from app.login.jwks import (
    DEFAULT_TTL,
    MAX_TTL,
    MIN_TTL,
    REFETCH_INTERVAL,
    KeyCache,
    ttl_from_cache_control,
)

ISSUER = "https://idp.example.com"
DISCOVERY = f"{ISSUER}/.well-known/openid-configuration"
JWKS_URI = f"{ISSUER}/keys"


def _jwk(kid: str) -> dict[str, Any]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    data = jwk.construct(pem, "RS256").public_key().to_dict()
    return {**{k: (v.decode() if isinstance(v, bytes) else v) for k, v in data.items()},
            "kid": kid}


KEY_A, KEY_B = _jwk("kid-a"), _jwk("kid-b")


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProvider:
    """Answers discovery and JWKS requests as told, and counts them."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = [KEY_A]
        self.jwks_status = 200
        self.jwks_cache_control: str | None = "max-age=300"
        self.jwks_body: bytes | None = None  # raw body instead of the key set
        self.jwks_down = False  # connection refused
        self.discovery: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": JWKS_URI}
        self.discovery_status = 200
        self.discovery_cache_control: str | None = "max-age=3600"
        self.discovery_down = False
        self.delay = 0.0
        self.requests: list[str] = []

    def count(self, url: str) -> int:
        return self.requests.count(url)

    async def handler(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        if self.delay:
            await asyncio.sleep(self.delay)
        if url == DISCOVERY:
            if self.discovery_down:
                raise httpx.ConnectError("connection refused", request=request)
            headers = {"cache-control": self.discovery_cache_control} \
                if self.discovery_cache_control else {}
            return httpx.Response(self.discovery_status, json=self.discovery, headers=headers)
        if url == JWKS_URI:
            if self.jwks_down:
                raise httpx.ConnectError("connection refused", request=request)
            headers = {"cache-control": self.jwks_cache_control} \
                if self.jwks_cache_control else {}
            if self.jwks_body is not None:
                return httpx.Response(self.jwks_status, content=self.jwks_body, headers=headers)
            return httpx.Response(self.jwks_status, json={"keys": self.keys}, headers=headers)
        return httpx.Response(404)


@pytest.fixture
def idp() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def cache(idp: FakeProvider, clock: Clock):
    http = httpx.AsyncClient(transport=httpx.MockTransport(idp.handler))
    yield KeyCache(http, clock=clock)
    await http.aclose()


# --------------------------------------------------------------------------- ttl_from_cache_control


def test_bounds() -> None:
    assert MIN_TTL <= DEFAULT_TTL <= MAX_TTL
    assert REFETCH_INTERVAL <= MIN_TTL


@pytest.mark.parametrize(("header", "ttl"), [
    (None, DEFAULT_TTL),
    ("", DEFAULT_TTL),
    ("public", DEFAULT_TTL),
    ("max-age=300", 300.0),
    ("public, max-age=120", 120.0),
    ("Max-Age=120", 120.0),
    ("max-age=0", MIN_TTL),
    ("max-age=1", MIN_TTL),
    (f"max-age={int(MIN_TTL)}", MIN_TTL),
    (f"max-age={int(MAX_TTL)}", MAX_TTL),
    ("max-age=999999999999", MAX_TTL),
    ("max-age=" + "9" * 400, MAX_TTL),
    ("no-store", MIN_TTL),
    ("no-cache", MIN_TTL),
    ("no-store, max-age=86400", MIN_TTL),
    ("max-age=86400, no-cache", MIN_TTL),
    ("max-age=-5", DEFAULT_TTL),
    ("max-age=abc", DEFAULT_TTL),
    ("s-maxage=5000", DEFAULT_TTL),
])
def test_ttl_from_cache_control(header: str | None, ttl: float) -> None:
    assert ttl_from_cache_control(header) == ttl


# --------------------------------------------------------------------------- JWKS caching


async def test_keys_served_from_cache_while_fresh(cache: KeyCache, idp: FakeProvider,
                                                  clock: Clock) -> None:
    first = await cache.keys(JWKS_URI)
    assert set(first) == {"kid-a"}
    for _ in range(50):
        clock.advance(5)  # 250 s < max-age=300
        assert set(await cache.keys(JWKS_URI)) == {"kid-a"}
    assert idp.count(JWKS_URI) == 1


async def test_keys_refetched_after_expiry(cache: KeyCache, idp: FakeProvider,
                                           clock: Clock) -> None:
    await cache.keys(JWKS_URI)
    idp.keys = [KEY_B]
    clock.advance(299)
    assert set(await cache.keys(JWKS_URI)) == {"kid-a"}
    assert idp.count(JWKS_URI) == 1
    clock.advance(2)
    assert set(await cache.keys(JWKS_URI)) == {"kid-b"}
    assert idp.count(JWKS_URI) == 2
    clock.advance(10)
    await cache.keys(JWKS_URI)
    assert idp.count(JWKS_URI) == 2


async def test_huge_max_age_capped_at_max_ttl(cache: KeyCache, idp: FakeProvider,
                                              clock: Clock) -> None:
    idp.jwks_cache_control = "max-age=31536000"
    await cache.keys(JWKS_URI)
    clock.advance(MAX_TTL - 1)
    await cache.keys(JWKS_URI)
    assert idp.count(JWKS_URI) == 1
    clock.advance(2)
    await cache.keys(JWKS_URI)
    assert idp.count(JWKS_URI) == 2


@pytest.mark.parametrize("cache_control", ["no-store", "no-cache", "max-age=0"])
async def test_uncacheable_jwks_still_not_fetched_per_request(
        cache: KeyCache, idp: FakeProvider, clock: Clock, cache_control: str) -> None:
    idp.jwks_cache_control = cache_control
    for _ in range(20):
        await cache.keys(JWKS_URI)
        clock.advance(1)
    assert idp.count(JWKS_URI) == 1
    clock.advance(MIN_TTL)
    await cache.keys(JWKS_URI)
    assert idp.count(JWKS_URI) == 2


async def test_concurrent_lookups_on_empty_cache_fetch_once(cache: KeyCache,
                                                            idp: FakeProvider) -> None:
    idp.delay = 0.02
    results = await asyncio.gather(*(cache.keys(JWKS_URI) for _ in range(20)))
    assert all(set(r) == {"kid-a"} for r in results)
    assert idp.count(JWKS_URI) == 1


async def test_key_sets_cached_per_uri(cache: KeyCache, idp: FakeProvider) -> None:
    await cache.keys(JWKS_URI)
    with pytest.raises(InvalidToken):
        await cache.keys(f"{ISSUER}/other-keys")  # 404 there: nothing borrowed from JWKS_URI
    assert idp.count(JWKS_URI) == 1


# --------------------------------------------------------------------------- unknown kid


async def test_unknown_kid_refetches_once_per_interval(cache: KeyCache, idp: FakeProvider,
                                                       clock: Clock) -> None:
    assert set(await cache.keys(JWKS_URI)) == {"kid-a"}  # fetched at t0
    idp.keys = [KEY_A, KEY_B]  # the provider rotates
    clock.advance(REFETCH_INTERVAL - 1)
    assert await cache.keys_after_unknown_kid(JWKS_URI) is None  # too soon after t0
    assert idp.count(JWKS_URI) == 1
    clock.advance(1)
    fresh = await cache.keys_after_unknown_kid(JWKS_URI)
    assert fresh is not None and set(fresh) == {"kid-a", "kid-b"}
    assert idp.count(JWKS_URI) == 2
    # A flood of unknown kids right after: no request at all.
    for _ in range(20):
        clock.advance(1)
        assert await cache.keys_after_unknown_kid(JWKS_URI) is None
    assert idp.count(JWKS_URI) == 2
    # The refetched keys are also what keys() serves now.
    assert set(await cache.keys(JWKS_URI)) == {"kid-a", "kid-b"}
    assert idp.count(JWKS_URI) == 2
    clock.advance(REFETCH_INTERVAL)
    assert await cache.keys_after_unknown_kid(JWKS_URI) is not None
    assert idp.count(JWKS_URI) == 3


async def test_two_unknown_kids_in_a_row_cause_one_request(cache: KeyCache, idp: FakeProvider,
                                                           clock: Clock) -> None:
    await cache.keys(JWKS_URI)
    clock.advance(REFETCH_INTERVAL + 1)
    first = await cache.keys_after_unknown_kid(JWKS_URI)
    second = await cache.keys_after_unknown_kid(JWKS_URI)
    assert first is not None and second is None
    assert idp.count(JWKS_URI) == 2


async def test_concurrent_unknown_kids_cause_one_request(cache: KeyCache, idp: FakeProvider,
                                                         clock: Clock) -> None:
    await cache.keys(JWKS_URI)
    clock.advance(REFETCH_INTERVAL + 1)
    idp.delay = 0.02
    results = await asyncio.gather(*(cache.keys_after_unknown_kid(JWKS_URI) for _ in range(10)))
    assert sum(r is not None for r in results) == 1
    assert idp.count(JWKS_URI) == 2


async def test_unknown_kid_refetch_counts_failed_attempts(cache: KeyCache, idp: FakeProvider,
                                                          clock: Clock) -> None:
    """A provider that is down is not hammered either: failed attempts also use up the interval."""
    await cache.keys(JWKS_URI)
    clock.advance(REFETCH_INTERVAL + 1)
    idp.jwks_status = 503
    stale = await cache.keys_after_unknown_kid(JWKS_URI)
    assert stale is not None and set(stale) == {"kid-a"}
    assert idp.count(JWKS_URI) == 2
    clock.advance(1)
    assert await cache.keys_after_unknown_kid(JWKS_URI) is None
    assert idp.count(JWKS_URI) == 2


# --------------------------------------------------------------------------- provider down


@pytest.mark.parametrize("failure", ["500", "503", "connect", "not-json", "no-keys-list"])
async def test_provider_down_serves_last_keys(cache: KeyCache, idp: FakeProvider, clock: Clock,
                                              failure: str) -> None:
    await cache.keys(JWKS_URI)
    if failure == "connect":
        idp.jwks_down = True
    elif failure == "not-json":
        idp.jwks_body = b"<html>maintenance</html>"
    elif failure == "no-keys-list":
        idp.jwks_body = b'{"error": "unavailable"}'
    else:
        idp.jwks_status = int(failure)
    clock.advance(301)
    assert set(await cache.keys(JWKS_URI)) == {"kid-a"}  # stale, not an error
    assert idp.count(JWKS_URI) == 2
    # Not retried on every request while down ...
    for _ in range(10):
        clock.advance(2)
        assert set(await cache.keys(JWKS_URI)) == {"kid-a"}
    assert idp.count(JWKS_URI) == 2
    # ... but retried after a short pause, and new keys are used once it is back.
    clock.advance(REFETCH_INTERVAL)
    idp.jwks_down, idp.jwks_body, idp.jwks_status = False, None, 200
    idp.keys = [KEY_B]
    assert set(await cache.keys(JWKS_URI)) == {"kid-b"}
    assert idp.count(JWKS_URI) == 3


@pytest.mark.parametrize("failure", ["500", "connect", "not-json"])
async def test_first_fetch_failing_is_invalid_token(cache: KeyCache, idp: FakeProvider,
                                                    failure: str) -> None:
    if failure == "connect":
        idp.jwks_down = True
    elif failure == "not-json":
        idp.jwks_body = b"not json"
    else:
        idp.jwks_status = 500
    with pytest.raises(InvalidToken, match="keys could not be fetched") as info:
        await cache.keys(JWKS_URI)
    assert JWKS_URI in info.value.message


async def test_first_fetch_failing_keeps_failing_within_the_pause(
        cache: KeyCache, idp: FakeProvider, clock: Clock) -> None:
    idp.jwks_status = 500
    with pytest.raises(InvalidToken):
        await cache.keys(JWKS_URI)
    clock.advance(1)
    with pytest.raises(InvalidToken, match="keys could not be fetched"):
        await cache.keys(JWKS_URI)


async def test_first_fetch_failing_retried_after_pause(cache: KeyCache, idp: FakeProvider,
                                                       clock: Clock) -> None:
    idp.jwks_status = 500
    with pytest.raises(InvalidToken):
        await cache.keys(JWKS_URI)
    idp.jwks_status = 200
    clock.advance(max(REFETCH_INTERVAL, MIN_TTL) + 1)
    assert set(await cache.keys(JWKS_URI)) == {"kid-a"}
    assert idp.count(JWKS_URI) == 2


async def test_on_fetch_reports_success_and_failure(idp: FakeProvider, clock: Clock) -> None:
    seen: list[tuple[str, bool]] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(idp.handler)) as http:
        cache = KeyCache(http, clock=clock, on_fetch=lambda uri, ok: seen.append((uri, ok)))
        await cache.keys(JWKS_URI)
        idp.jwks_status = 500
        clock.advance(301)
        await cache.keys(JWKS_URI)
    assert seen == [(JWKS_URI, True), (JWKS_URI, False)]


# --------------------------------------------------------------------------- discovery


async def test_discovery_returns_jwks_uri(cache: KeyCache, idp: FakeProvider) -> None:
    assert await cache.jwks_uri(ISSUER) == JWKS_URI
    assert idp.requests == [DISCOVERY]


async def test_discovery_cached(cache: KeyCache, idp: FakeProvider, clock: Clock) -> None:
    for _ in range(10):
        assert await cache.jwks_uri(ISSUER) == JWKS_URI
        clock.advance(60)  # 600 s < max-age=3600
    assert idp.count(DISCOVERY) == 1
    idp.discovery = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/keys-v2"}
    clock.advance(3600)
    assert await cache.jwks_uri(ISSUER) == f"{ISSUER}/keys-v2"
    assert idp.count(DISCOVERY) == 2


async def test_discovery_without_cache_control_cached_default_ttl(
        cache: KeyCache, idp: FakeProvider, clock: Clock) -> None:
    idp.discovery_cache_control = None
    await cache.jwks_uri(ISSUER)
    clock.advance(DEFAULT_TTL - 1)
    await cache.jwks_uri(ISSUER)
    assert idp.count(DISCOVERY) == 1


@pytest.mark.parametrize("issuer_in_doc", [
    "https://evil.example.com", ISSUER + "/", "HTTPS://IDP.EXAMPLE.COM", None, ["x"]])
async def test_discovery_issuer_mismatch(cache: KeyCache, idp: FakeProvider,
                                         issuer_in_doc: Any) -> None:
    idp.discovery = {"issuer": issuer_in_doc, "jwks_uri": JWKS_URI}
    with pytest.raises(InvalidToken, match="does not name issuer 'https://idp.example.com'"):
        await cache.jwks_uri(ISSUER)
    assert idp.count(JWKS_URI) == 0


@pytest.mark.parametrize("doc", [{"issuer": ISSUER}, {"issuer": ISSUER, "jwks_uri": 5},
                                 ["issuer", ISSUER]])
async def test_discovery_without_jwks_uri(cache: KeyCache, idp: FakeProvider, doc: Any) -> None:
    idp.discovery = doc
    with pytest.raises(InvalidToken, match="jwks_uri"):
        await cache.jwks_uri(ISSUER)


@pytest.mark.parametrize("failure", ["404", "500", "connect"])
async def test_discovery_unreadable_first_time(cache: KeyCache, idp: FakeProvider,
                                               failure: str) -> None:
    if failure == "connect":
        idp.discovery_down = True
    else:
        idp.discovery_status = int(failure)
    with pytest.raises(InvalidToken, match="discovery document could not be read") as info:
        await cache.jwks_uri(ISSUER)
    assert DISCOVERY in info.value.message


async def test_discovery_down_after_expiry_serves_cached_jwks_uri(
        cache: KeyCache, idp: FakeProvider, clock: Clock) -> None:
    await cache.jwks_uri(ISSUER)
    idp.discovery_down = True
    clock.advance(3601)
    assert await cache.jwks_uri(ISSUER) == JWKS_URI
    assert idp.count(DISCOVERY) == 2


async def test_discovery_mismatch_after_expiry_is_not_masked_by_cache(
        cache: KeyCache, idp: FakeProvider, clock: Clock) -> None:
    await cache.jwks_uri(ISSUER)
    idp.discovery = {"issuer": "https://evil.example.com", "jwks_uri": "https://evil.example.com/k"}
    clock.advance(3601)
    with pytest.raises(InvalidToken, match="does not name issuer"):
        await cache.jwks_uri(ISSUER)
