"""`teamclaims serve --workers N`: several processes on one PostgreSQL database serve as one.

Each worker loads its own signing key at start-up (on an empty database two may each create
one), so a token signed by one worker must verify on every other, and each publishes every key.
Every request here opens a new connection, and one worker is paused while the other serves.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from jose import jwt
from sqlalchemy import text

from tests.integration.harness import BIN, fresh_database, start_server, stop_server
from tests.integration.oidc import Provider
from tests.integration.signin_helpers import VIEWER, new_signin_org


def _workers(pid: int) -> list[int]:
    """The worker processes uvicorn spawned (not multiprocessing's resource tracker)."""
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in children
            if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()]


@contextlib.contextmanager
def paused(pid: int) -> Iterator[None]:
    """Stop a worker for a moment, so the other accepts every new connection. (asyncio lets
    one idle worker take a whole burst, so without this both could not be shown to serve.)"""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def test_two_workers_on_postgresql_serve_as_one(tmp_path_factory,
                                                      provider: Provider) -> None:
    no_reuse = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))
    async with fresh_database("postgres", tmp_path_factory) as url:
        server = await start_server("postgres", url, workers=2, client=no_reuse)
        try:
            workers = _workers(server.process.pid)
            assert len(workers) == 2, "two worker processes"
            one, other = workers
            s = await new_signin_org(server, provider)
            team = await s.team("workers-team", ["viewer"])
            await s.map(team, "grp-workers")
            async with server.db.read() as r:
                kids = {k for (k,) in (await r.execute(text("SELECT kid FROM signing_key"))).all()}
            with paused(other):  # signed in on the one
                token = await s.access_token("w1", groups=["grp-workers"])
                me = (await server.ok(VIEWER, token=token))["viewer"]["mrn"]
                jwks = (await no_reuse.get(f"{server.base_url}/.well-known/jwks.json")).json()
                assert {k["kid"] for k in jwks["keys"]} == kids
            assert jwt.get_unverified_header(token)["kid"] in kids
            with paused(one):  # the token works on the other; a forced logout there ...
                assert await s.teams_of(token) == {team}
                jwks = (await no_reuse.get(f"{server.base_url}/.well-known/jwks.json")).json()
                assert {k["kid"] for k in jwks["keys"]} == kids
                await server.ok("mutation($u: String!) { forceLogout(userMrn: $u) }",
                                {"u": me}, token=s.org.token)
            with paused(other):  # ... ends the session on the one too
                body = await server.gql(VIEWER, token=token)
                assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            # /metrics counts both workers' requests whichever answers: each served the JWKS once.
            jwks_served = ('teamclaims_http_requests_total{method="GET",'
                           'route="/.well-known/jwks.json",status="200"} 2.0')
            for worker in workers:
                with paused(worker):
                    exposition = (await no_reuse.get(f"{server.base_url}/metrics")).text
                    assert jwks_served in exposition.splitlines()
            assert sorted(_workers(server.process.pid)) == sorted(workers), "none restarted"
        finally:
            await stop_server(server)
        assert server.process.returncode is not None


@pytest.mark.parametrize("workers", ["2", "0"])
def test_several_workers_on_sqlite_or_none_are_refused(tmp_path: Path, workers: str) -> None:
    env = {**os.environ, "TEAMCLAIMS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db"}
    out = subprocess.run([str(BIN), "serve", "--port", "1", "--workers", workers], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 2
    assert ("PostgreSQL" if workers == "2" else "1 or more") in out.stderr
    assert not (tmp_path / "t.db").exists(), "refused before touching the database"
