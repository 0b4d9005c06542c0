"""Operational endpoints and logs: /readyz, /metrics, X-Request-ID, JSON logs without secrets.

Against the shared real server (SQLite and PostgreSQL), against in-process apps on databases
put in a state the real server would never start on (behind head, unreachable), and against a
server of this module's own whose stderr is captured.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app.db import Database
from app.main import create_app
from app.migrate import alembic_config, head_revision
from app.settings import Settings
from tests.integration.conftest import PG_URL, REQUIRE_PG
from tests.integration.harness import (
    BIN,
    Server,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    run_cli,
)
from tests.integration.oidc import Provider
from tests.integration.signin_helpers import new_signin_org

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


async def scrape(client: httpx.AsyncClient, base_url: str) -> dict[tuple, float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    resp = await client.get(f"{base_url}/metrics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    out: dict[tuple, float] = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def requests_key(method: str, route: str, status: int) -> tuple:
    return ("teamclaims_http_requests_total",
            (("method", method), ("route", route), ("status", str(status))))


def exchanges_key(outcome: str, error: str) -> tuple:
    return ("teamclaims_token_exchanges_total", (("error", error), ("outcome", outcome)))


def delta(after: dict, before: dict, key: tuple) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


# --------------------------------------------------------------------------- /readyz


async def test_readyz_is_ready_on_a_migrated_database(server: Server):
    resp = await server.client.get(f"{server.base_url}/readyz")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "ready"}
    assert resp.headers["cache-control"] == "no-store"
    health = await server.client.get(f"{server.base_url}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_database(request, tmp_path) -> str:
    """The URL of a new, empty database on each backend (not migrated)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/readyz.db"
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("TEAMCLAIMS_TEST_POSTGRES_URL is not set but TEAMCLAIMS_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL tests skipped: TEAMCLAIMS_TEST_POSTGRES_URL is not set")
    url, name = await create_postgres_database(PG_URL)
    yield url
    await drop_postgres_database(PG_URL, name)


async def readyz_in_process(database_url: str) -> httpx.Response:
    """GET /readyz from an app started in this process (no lifespan: it needs no database)."""
    app = create_app(Settings(database_url=database_url))
    services = app.state.services
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://teamclaims") as client:
            return await client.get("/readyz")
    finally:
        await services.db.dispose()


async def set_revision(database_url: str, revision: str) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as s:
            await s.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    finally:
        await db.dispose()


def assert_not_ready(resp: httpx.Response, check: str) -> dict:
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["status"] == "not ready" and body["failed"] == check, body
    assert isinstance(body["reason"], str) and body["reason"]
    assert "Traceback" not in resp.text and 'File "' not in resp.text
    return body


async def test_readyz_is_not_ready_until_migrated_and_when_behind_head(fresh_database: str):
    head = head_revision()
    previous = ScriptDirectory.from_config(alembic_config("")).get_revision(head).down_revision
    assert isinstance(previous, str)

    # Never migrated: no alembic_version table at all.
    body = assert_not_ready(await readyz_in_process(fresh_database), "migrations")
    assert "not migrated" in body["reason"]

    await asyncio.to_thread(run_cli, fresh_database, "migrate")
    resp = await readyz_in_process(fresh_database)
    assert resp.status_code == 200 and resp.json() == {"status": "ready"}

    # The database says it is one revision behind what this code needs.
    await set_revision(fresh_database, previous)
    body = assert_not_ready(await readyz_in_process(fresh_database), "migrations")
    assert previous in body["reason"] and head in body["reason"]

    # An unknown (newer) revision is not ready either.
    await set_revision(fresh_database, "ffffffffffff")
    assert_not_ready(await readyz_in_process(fresh_database), "migrations")

    await set_revision(fresh_database, head)
    assert (await readyz_in_process(fresh_database)).status_code == 200


async def test_readyz_is_not_ready_when_the_database_is_unreachable(tmp_path: Path):
    # SQLite: a file in a directory that does not exist cannot be opened.
    missing = f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/teamclaims.db"
    assert_not_ready(await readyz_in_process(missing), "database")

    # PostgreSQL: nothing listens on the port. The password must not leak into the answer.
    port = free_port()
    resp = await readyz_in_process(
        f"postgresql+asyncpg://teamclaims:hunter2-password@127.0.0.1:{port}/teamclaims")
    body = assert_not_ready(resp, "database")
    assert "hunter2" not in resp.text and str(port) not in body["reason"]


# --------------------------------------------------------------------------- /metrics


async def test_metrics_count_requests_by_route_template(server: Server):
    before = await scrape(server.client, server.base_url)
    for _ in range(3):
        assert (await server.client.get(f"{server.base_url}/healthz")).status_code == 200
    raw_path = "/no/such/path-7f3a9c"
    assert (await server.client.get(f"{server.base_url}{raw_path}")).status_code == 404
    gql = await server.client.get(f"{server.base_url}/query", params={"query": "{ __typename }"},
                                  headers={"Accept": "application/json"})
    assert gql.status_code == 200, gql.text

    resp = await server.client.get(f"{server.base_url}/metrics")
    assert raw_path not in resp.text and "path-7f3a9c" not in resp.text
    after = await scrape(server.client, server.base_url)
    assert delta(after, before, requests_key("GET", "/healthz", 200)) == 3
    assert delta(after, before, requests_key("GET", "<unmatched>", 404)) == 1
    assert delta(after, before, requests_key("GET", "/query", 200)) == 1
    # The two scrapes before this one were counted too.
    assert delta(after, before, requests_key("GET", "/metrics", 200)) == 2
    hist = ("teamclaims_http_request_duration_seconds_count", (("route", "/healthz"),))
    assert delta(after, before, hist) == 3


async def test_metrics_count_token_exchanges_and_jwks_fetches(server: Server, provider: Provider):
    s = await new_signin_org(server, provider)
    before = await scrape(server.client, server.base_url)

    good = await s.sign_in("metrics-user", email="metrics@example.com", groups=["grp-m"])
    assert good.status_code == 200, good.text
    not_a_jwt = await s.exchange("not-a-jwt")
    assert not_a_jwt.status_code == 400 and not_a_jwt.json()["error"] == "invalid_request"
    wrong_grant = await s.exchange(s.id_token("metrics-user"), grant_type="password")
    assert wrong_grant.json()["error"] == "unsupported_grant_type"

    after = await scrape(server.client, server.base_url)
    assert delta(after, before, exchanges_key("ok", "")) == 1
    assert delta(after, before, exchanges_key("refused", "invalid_request")) == 1
    assert delta(after, before, exchanges_key("refused", "unsupported_grant_type")) == 1
    assert delta(after, before, requests_key("POST", "/auth/token", 200)) == 1
    assert delta(after, before, requests_key("POST", "/auth/token", 400)) == 2
    # A sign-in succeeded, so this server fetched the provider's keys at least once.
    assert after[("teamclaims_jwks_fetches_total", (("outcome", "ok"),))] >= 1
    for action in ("add", "remove"):
        assert ("teamclaims_signin_membership_changes_total", (("action", action),)) in after


# --------------------------------------------------------------------------- X-Request-ID


async def test_request_id_is_echoed_or_generated(server: Server):
    url = f"{server.base_url}/healthz"
    echoed = await server.client.get(url, headers={"X-Request-ID": "lb-2f9.A_x"})
    assert echoed.headers["x-request-id"] == "lb-2f9.A_x"
    first = (await server.client.get(url)).headers["x-request-id"]
    second = (await server.client.get(url)).headers["x-request-id"]
    assert GENERATED_ID.fullmatch(first) and GENERATED_ID.fullmatch(second) and first != second
    for insane in ["x" * 65, "has spaces", "semi;colon", "<script>"]:
        got = (await server.client.get(url, headers={"X-Request-ID": insane})).headers[
            "x-request-id"]
        assert GENERATED_ID.fullmatch(got), (insane, got)
    # Errors carry it too.
    missing = await server.client.get(f"{server.base_url}/nope", headers={"X-Request-ID": "r-404"})
    assert missing.status_code == 404 and missing.headers["x-request-id"] == "r-404"


# --------------------------------------------------------------------------- logs


async def test_logs_are_json_lines_with_request_ids_and_never_secrets(tmp_path: Path,
                                                                      provider: Provider):
    url = f"sqlite+aiosqlite:///{tmp_path}/logs.db"
    await asyncio.to_thread(run_cli, url, "migrate")
    out = await asyncio.to_thread(run_cli, url, "bootstrap", "--platform-admin")
    api_secret = out.strip().splitlines()[-1]
    assert api_secret.startswith("tcat_")
    id_token = provider.token({"sub": "log-user", "aud": "no-such-client"})

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TEAMCLAIMS_DATABASE_URL": url, "TEAMCLAIMS_LOG_LEVEL": "info",
           "TEAMCLAIMS_LOG_FORMAT": "json"}
    log_path = tmp_path / "stderr.log"
    with open(log_path, "wb") as stderr:
        proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await client.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                await asyncio.sleep(0.1)

            ok = await client.post(f"{base}/query", json={"query": "{ viewer { mrn } }"},
                                   headers={"Authorization": f"Bearer {api_secret}",
                                            "X-Request-ID": "log-test-query"})
            assert ok.status_code == 200 and ok.headers["x-request-id"] == "log-test-query"
            refused = await client.post(f"{base}/auth/token", headers={
                "X-Request-ID": "log-test-exchange", "Authorization": f"Bearer {id_token}"},
                data={"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                      "subject_token": id_token,
                      "subject_token_type": "urn:ietf:params:oauth:token-type:id_token"})
            assert refused.status_code == 400, refused.text
            forged = await client.post(f"{base}/query", json={"query": "{ viewer { mrn } }"},
                                       headers={"Authorization": f"Bearer {id_token}"})
            assert forged.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    raw = log_path.read_text()
    assert raw.strip(), "the server wrote no logs"
    for secret in (api_secret, api_secret.removeprefix("tcat_"), id_token,
                   id_token.split(".")[1], id_token.split(".")[2]):
        assert secret not in raw
    lines = [json.loads(line) for line in raw.splitlines()]  # every line is one JSON object
    for entry in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= set(entry), entry
    # uvicorn's own lines come through the same handler (without its ANSI-coloured copy).
    assert any(e["logger"].startswith("uvicorn") for e in lines)
    assert not any("color_message" in e for e in lines)

    access = {e["request_id"]: e for e in lines if e["logger"] == "teamclaims.access"}
    query = access["log-test-query"]
    assert (query["method"], query["route"], query["status"]) == ("POST", "/query", 200)
    assert isinstance(query["duration_ms"], int | float) and query["duration_ms"] >= 0
    exchange = access["log-test-exchange"]
    assert (exchange["route"], exchange["status"]) == ("/auth/token", 400)
    # The refusal logged while serving the exchange carries that request's id.
    refusals = [e for e in lines if e["message"].startswith("token exchange refused")]
    assert refusals and refusals[0]["request_id"] == "log-test-exchange"
    # No uvicorn access log: one access line per request, ours.
    assert not any(e["logger"] == "uvicorn.access" for e in lines)
