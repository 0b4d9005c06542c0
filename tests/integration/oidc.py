"""A real OIDC provider process (npm oauth2-mock-server) for sign-in tests."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent.parent / "oidc"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"


@dataclass
class Provider:
    issuer: str
    kid: str
    process: subprocess.Popen
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def token(self, claims: dict[str, Any], *, kid: str | None = None, expires_in: int = 300,
              header: dict[str, Any] | None = None, remove: list[str] | None = None) -> str:
        """An ID token signed by the provider, with these claims on top of iss/iat/exp/nbf."""
        resp = self.client.post(f"{self.issuer}/control/token", json={
            "claims": claims, "kid": kid, "expiresIn": expires_in, "header": header or {},
            "remove": remove or [],
        })
        resp.raise_for_status()
        return resp.json()["token"]

    def rotate(self) -> str:
        """Add a new signing key and sign with it from now on; returns its kid."""
        resp = self.client.post(f"{self.issuer}/control/rotate", json={})
        resp.raise_for_status()
        self.kid = resp.json()["kid"]
        return self.kid

    def jwks_behaviour(self, *, status: int | None = None, cache_control: str | None = None) -> None:
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = status
        if cache_control is not None:
            body["cacheControl"] = cache_control
        self.client.post(f"{self.issuer}/control/jwks", json=body).raise_for_status()

    def jwks_requests(self) -> int:
        return self.client.get(f"{self.issuer}/control/stats").json()["jwksRequests"]

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_provider() -> Provider:
    if not (HERE / "node_modules" / "oauth2-mock-server").exists():
        raise RuntimeError(f"run `npm ci` in {HERE} first (scripts/test does)")
    proc = subprocess.Popen(["node", str(HERE / "provider.mjs"), "0"], stdout=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 20
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line or time.monotonic() > deadline:
        proc.kill()
        raise RuntimeError("the OIDC provider did not start")
    ready = json.loads(line)
    return Provider(ready["issuer"], ready["kid"], proc)


def exchange(client: httpx.Client | None, base_url: str, id_token: str, **extra: str) -> httpx.Response:
    form = {"grant_type": TOKEN_EXCHANGE, "subject_token": id_token,
            "subject_token_type": ID_TOKEN, **extra}
    c = client or httpx.Client(timeout=30)
    return c.post(f"{base_url}/auth/token", data=form)
