"""Integration fixtures: one real server per database backend, shared by the session.

Every test that takes ``server`` (or ``org``) runs on SQLite and on PostgreSQL.
PostgreSQL comes from TEAMCLAIMS_TEST_POSTGRES_URL (scripts/test starts a throwaway
cluster when the server binaries are installed); without it those runs are skipped,
or fail when TEAMCLAIMS_REQUIRE_POSTGRES=1 (CI).
"""

from __future__ import annotations

import os

import pytest

from tests.integration.harness import (
    Org,
    Server,
    create_postgres_database,
    drop_postgres_database,
    start_server,
    stop_server,
)
from tests.integration.oidc import Provider, start_provider

PG_URL = os.environ.get("TEAMCLAIMS_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("TEAMCLAIMS_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def server(request, tmp_path_factory) -> Server:
    backend = request.param
    dropped = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite')}/teamclaims.db"
    else:
        if not PG_URL:
            msg = ("PostgreSQL tests skipped: TEAMCLAIMS_TEST_POSTGRES_URL is not set "
                   "(install Debian's postgresql and run scripts/test, or set the URL)")
            if REQUIRE_PG:
                pytest.fail(msg + " -- but TEAMCLAIMS_REQUIRE_POSTGRES=1")
            pytest.skip(msg)
        url, dropped = await create_postgres_database(PG_URL)
    srv = await start_server(backend, url)
    yield srv
    await stop_server(srv)
    if dropped:
        await drop_postgres_database(PG_URL, dropped)


@pytest.fixture
async def org(server: Server) -> Org:
    """A fresh organization and an owner token scoped to it."""
    return await server.new_org()


@pytest.fixture(scope="session")
def provider() -> Provider:
    """A real OIDC provider process on 127.0.0.1, shared by the session."""
    p = start_provider()
    yield p
    p.stop()
