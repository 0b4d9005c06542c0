"""ID tokens minted ahead of time by the local OIDC provider's /control/token (so minting is
never measured), and the form bodies of the token exchange."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
FORM_PREFIX = (f"grant_type={quote(GRANT, safe='')}&subject_token_type={quote(ID_TOKEN, safe='')}"
               "&subject_token=")


def exchange_body(id_token: str) -> str:
    return FORM_PREFIX + quote(id_token, safe="")


async def mint(issuer: str, claims: list[dict[str, Any]], *, expires_in: int,
               concurrency: int = 8, tick: Callable[[int], None] | None = None) -> list[str]:
    """One signed ID token per claims object, in order."""
    out: list[str] = [""] * len(claims)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(len(claims)):
        queue.put_nowait(n)
    done = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while True:
            try:
                n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            resp = await client.post(f"{issuer}/control/token",
                                     json={"claims": claims[n], "expiresIn": expires_in})
            resp.raise_for_status()
            out[n] = resp.json()["token"]
            done += 1
            if tick and done % 50 == 0:
                tick(done)

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    if tick:
        tick(done)
    return out
