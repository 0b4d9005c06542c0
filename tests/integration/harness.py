"""Real parts for integration tests: a database, a migrated schema, a uvicorn server."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from app.db import Database
from app.migrate import upgrade
from app.mrn import org_mrn

BIN = Path(sys.executable).parent / "teamclaims"
CAPTAIN = "//captain.api.mondoo.app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(database_url: str, *args: str) -> str:
    env = {**os.environ, "TEAMCLAIMS_DATABASE_URL": database_url}
    out = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"teamclaims {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def postgres_url_or_skip() -> str:
    """TEAMCLAIMS_TEST_POSTGRES_URL; without it the test is skipped, or fails when
    TEAMCLAIMS_REQUIRE_POSTGRES=1 (CI)."""
    import pytest

    url = os.environ.get("TEAMCLAIMS_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("TEAMCLAIMS_REQUIRE_POSTGRES") == "1":
            pytest.fail("TEAMCLAIMS_TEST_POSTGRES_URL is not set but PostgreSQL is required")
        pytest.skip("PostgreSQL tests skipped: TEAMCLAIMS_TEST_POSTGRES_URL is not set")
    return url


@asynccontextmanager
async def fresh_database(backend: str, tmp_path_factory: Any) -> AsyncIterator[str]:
    """The URL of a new, migrated database: a SQLite file, or a database on the test
    PostgreSQL server (dropped afterwards)."""
    dropped = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db')}/t.db"
    else:
        url, dropped = await create_postgres_database(postgres_url_or_skip())
    await asyncio.to_thread(upgrade, url)
    try:
        yield url
    finally:
        if dropped:
            await drop_postgres_database(postgres_url_or_skip(), dropped)


async def terminate_backend(pid: int) -> None:
    """End a PostgreSQL server process (a connection), as a restart or an admin would."""
    admin = Database(postgres_url_or_skip())
    try:
        async with admin.read() as r:
            await r.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


async def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """Create a fresh database on the server of ``admin_url``; return (url, name)."""
    name = f"teamclaims_test_{secrets.token_hex(4)}"
    admin = Database(admin_url)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}", name


async def drop_postgres_database(admin_url: str, name: str) -> None:
    admin = Database(admin_url)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


class GraphQLErrorResponse(AssertionError):
    pass


@dataclass
class Org:
    id: str
    mrn: str
    token: str  # an org-scoped API token with the owner role


@dataclass
class Server:
    """A running teamclaims server and a direct handle on its database."""

    backend: str
    database_url: str
    base_url: str
    platform_token: str
    process: subprocess.Popen
    db: Database
    client: httpx.AsyncClient = field(repr=False)

    async def post(self, body: Any, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.post(f"{self.base_url}/query", json=body, headers=headers, **kw)

    async def gql(self, query: str, variables: dict | None = None, *, token: str | None) -> dict:
        """The full GraphQL response (data and errors) as JSON."""
        resp = await self.post({"query": query, "variables": variables or {}}, token=token)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def ok(self, query: str, variables: dict | None = None, *, token: str | None) -> dict:
        """The data of a response that must have no errors."""
        body = await self.gql(query, variables, token=token)
        if body.get("errors"):
            raise GraphQLErrorResponse(f"unexpected errors: {body['errors']}")
        return body["data"]

    async def error(self, query: str, variables: dict | None = None, *, token: str | None) -> dict:
        """The single error of a response that must fail; returns {code, message, ...}."""
        body = await self.gql(query, variables, token=token)
        errors = body.get("errors")
        assert errors, f"expected an error, got {body}"
        assert len(errors) == 1, errors
        err = errors[0]
        return {"code": err.get("extensions", {}).get("code"), "message": err["message"],
                **err.get("extensions", {})}

    async def new_org(self, name: str = "Test organization") -> Org:
        org_id = f"org-{secrets.token_hex(4)}"
        await self.ok(
            "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { mrn } }",
            {"input": {"id": org_id, "name": name}}, token=self.platform_token,
        )
        token = await self.token_for(org_mrn(org_id), ["owner"], via=self.platform_token)
        return Org(org_id, org_mrn(org_id), token)

    async def token_for(self, scope_mrn: str, roles: list[str], *, via: str) -> str:
        data = await self.ok(
            "mutation($input: GenerateAPITokenInput!) { generateAPIToken(input: $input) { secret } }",
            {"input": {"name": f"test {'+'.join(roles)}", "scopeMrn": scope_mrn,
                       "roles": [{"mrn": r} for r in roles]}},
            token=via,
        )
        return data["generateAPIToken"]["secret"]

    async def create_user(self, email: str, name: str | None = None, *,
                          signed_in_to: str | None = None, email_verified: bool = True) -> str:
        """Insert a user as a first sign-in would; returns the user's MRN.

        Users belong to the organization whose provider signed them in: pass ``signed_in_to``
        (an organization MRN); an email names the user there only when ``email_verified``.
        """
        from models import LoginClaims, User

        user_id = secrets.token_hex(6)
        mrn = f"{CAPTAIN}/users/{user_id}"
        async with self.db.transaction() as s:
            s.add(User(mrn=mrn, id=user_id, email=email, name=name, issuer="https://idp.test",
                       subject=user_id, email_verified=email_verified, org_mrn=signed_in_to))
            await s.flush()
            if signed_in_to:
                s.add(LoginClaims(user_mrn=mrn, org_mrn=signed_in_to, claims="{}"))
        return mrn

    async def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every table, in a stable order: to prove a request changed nothing."""
        from sqlmodel import SQLModel

        import models  # noqa: F401  (registers every table)

        tables = sorted(SQLModel.metadata.tables)
        out: dict[str, list[tuple]] = {}
        async with self.db.transaction() as s:
            for t in tables:
                rows = (await s.execute(text(f"SELECT * FROM {t}"))).all()
                out[t] = sorted((tuple(r) for r in rows), key=repr)
        return out


async def start_server(backend: str, database_url: str, *, workers: int = 1,
                       client: httpx.AsyncClient | None = None) -> Server:
    await asyncio.to_thread(run_cli, database_url, "migrate")
    stdout = await asyncio.to_thread(run_cli, database_url, "bootstrap", "--platform-admin")
    platform_token = stdout.strip().splitlines()[-1]
    port = free_port()
    env = {**os.environ, "TEAMCLAIMS_DATABASE_URL": database_url, "TEAMCLAIMS_LOG_LEVEL": "warning"}
    args = [str(BIN), "serve", "--port", str(port)]
    if workers != 1:
        args += ["--workers", str(workers)]
    proc = subprocess.Popen(args, env=env)
    base = f"http://127.0.0.1:{port}"
    client = client or httpx.AsyncClient(timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            if (await client.get(f"{base}/healthz")).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"teamclaims serve did not come up on {backend}")
        await asyncio.sleep(0.1)
    return Server(backend, database_url, base, platform_token, proc, Database(database_url), client)


async def stop_server(server: Server) -> None:
    await server.client.aclose()
    await server.db.dispose()
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
