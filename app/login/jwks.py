"""Provider metadata and keys over HTTP: discovery and JWKS, cached.

- Keys are cached for the JWKS response's Cache-Control max-age, clamped to
  [MIN_TTL, MAX_TTL] (DEFAULT_TTL when absent; MIN_TTL for `no-cache`/`no-store`).
- A token naming an unknown key id triggers at most one refetch per
  REFETCH_INTERVAL per JWKS URI (key rotation), never a fetch per request.
- When the provider is unreachable, the last keys fetched keep being used.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from app.errors import InvalidToken
from app.login.idtoken import PublicKey, parse_jwks

log = logging.getLogger("teamclaims.jwks")

MIN_TTL = 60.0
MAX_TTL = 24 * 3600.0
DEFAULT_TTL = 600.0
REFETCH_INTERVAL = 30.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.I)


def ttl_from_cache_control(header: str | None) -> float:
    if not header:
        return DEFAULT_TTL
    lowered = header.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return MIN_TTL
    m = _MAX_AGE.search(header)
    if not m:
        return DEFAULT_TTL
    return min(MAX_TTL, max(MIN_TTL, float(m.group(1))))


@dataclass
class _Entry:
    keys: dict[str | None, PublicKey] = field(default_factory=dict)
    fetched_at: float = float("-inf")  # last successful fetch
    attempted_at: float = float("-inf")  # last attempt, successful or not
    expires_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class KeyCache:
    """Discovery documents and key sets of identity providers, per process."""

    def __init__(self, http: httpx.AsyncClient, clock: Callable[[], float] = time.monotonic,
                 on_fetch: Callable[[str, bool], None] | None = None) -> None:
        self.http = http
        self.clock = clock
        self.on_fetch = on_fetch
        self._jwks: dict[str, _Entry] = {}
        self._discovery: dict[str, tuple[str, float]] = {}

    async def jwks_uri(self, issuer: str) -> str:
        """The provider's jwks_uri from {issuer}/.well-known/openid-configuration."""
        cached = self._discovery.get(issuer)
        if cached and cached[1] > self.clock():
            return cached[0]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            resp = await self.http.get(url)
            resp.raise_for_status()
            doc = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            if cached:
                return cached[0]
            raise InvalidToken(
                f"the identity provider's discovery document could not be read ({url}): {exc}"
            ) from None
        if not isinstance(doc, dict) or doc.get("issuer") != issuer or not isinstance(
            doc.get("jwks_uri"), str
        ):
            raise InvalidToken(
                f"the discovery document at {url} does not name issuer {issuer!r} and a jwks_uri"
            )
        ttl = ttl_from_cache_control(resp.headers.get("cache-control"))
        self._discovery[issuer] = (doc["jwks_uri"], self.clock() + ttl)
        return doc["jwks_uri"]

    async def keys(self, jwks_uri: str) -> dict[str | None, PublicKey]:
        """The current keys: cached while fresh; refetched when expired (stale on failure)."""
        entry = self._jwks.setdefault(jwks_uri, _Entry())
        if entry.expires_at > self.clock():
            if entry.fetched_at == float("-inf"):  # never fetched: failing, in a pause
                raise InvalidToken(
                    f"the identity provider's keys could not be fetched ({jwks_uri})")
            return entry.keys
        async with entry.lock:
            if entry.expires_at <= self.clock():
                await self._fetch(jwks_uri, entry)
        if entry.fetched_at == float("-inf"):
            raise InvalidToken(f"the identity provider's keys could not be fetched ({jwks_uri})")
        return entry.keys

    async def keys_after_unknown_kid(self, jwks_uri: str) -> dict[str | None, PublicKey] | None:
        """Refetch once for a key id the cache lacks; None when a refetch ran too recently."""
        entry = self._jwks.setdefault(jwks_uri, _Entry())
        async with entry.lock:
            if self.clock() - entry.attempted_at < REFETCH_INTERVAL:
                return None
            await self._fetch(jwks_uri, entry)
        return entry.keys

    async def _fetch(self, jwks_uri: str, entry: _Entry) -> None:
        entry.attempted_at = self.clock()
        try:
            resp = await self.http.get(jwks_uri)
            resp.raise_for_status()
            keys = parse_jwks(resp.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("JWKS fetch from %s failed: %s; using cached keys", jwks_uri, exc)
            if self.on_fetch:
                self.on_fetch(jwks_uri, False)
            # Serve what we have; try again after a short pause, not on every request.
            entry.expires_at = self.clock() + min(REFETCH_INTERVAL, MIN_TTL)
            return
        if self.on_fetch:
            self.on_fetch(jwks_uri, True)
        entry.keys = keys
        entry.fetched_at = entry.attempted_at
        entry.expires_at = self.clock() + ttl_from_cache_control(resp.headers.get("cache-control"))
