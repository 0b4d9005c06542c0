"""app.db on both databases: reads outside a transaction refuse to write, and pooled PostgreSQL
connections are pinged only after they have been idle (a dead one is replaced before use)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import insert, select, text, update

from app.db import Database, WriteInReadSession
from models import Scope
from tests.integration.harness import (
    fresh_database,
    postgres_url_or_skip,
    terminate_backend,
)

ORG = "//captain.api.mondoo.app/organizations/dbtest"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def url(request, tmp_path_factory):
    async with fresh_database(request.param, tmp_path_factory) as value:
        db = Database(value)
        async with db.transaction() as s:
            await s.execute(insert(Scope.__table__).values(
                mrn=ORG, kind="organization", id="dbtest", name="Before", org_mrn=ORG))
        await db.dispose()
        yield value


async def scope_name(db: Database) -> str:
    async with db.read() as s:
        return (await s.execute(select(Scope.name).where(Scope.mrn == ORG))).scalar_one()


@pytest.fixture
async def db(url: str):
    database = Database(url)
    yield database
    await database.dispose()


async def test_read_sees_committed_data(db: Database):
    assert await scope_name(db) == "Before"
    async with db.transaction() as s:
        await s.execute(update(Scope).where(Scope.mrn == ORG).values(name="After"))
    assert await scope_name(db) == "After"
    async with db.transaction() as s:
        await s.execute(update(Scope).where(Scope.mrn == ORG).values(name="Before"))


async def _orm_update(s) -> None:
    await s.execute(update(Scope).where(Scope.mrn == ORG).values(name="Written"))


async def _text_update(s) -> None:
    await s.execute(text("UPDATE scope SET name = 'Written' WHERE mrn = :m"), {"m": ORG})


async def _flush_object(s) -> None:
    scope = await s.get(Scope, ORG)
    scope.name = "Written"
    await s.flush()


@pytest.mark.parametrize("write", [_orm_update, _text_update, _flush_object],
                         ids=["update statement", "textual update", "flushed object"])
async def test_read_refuses_to_write(db: Database, write):
    with pytest.raises(WriteInReadSession):
        async with db.read() as s:
            await write(s)
    assert await scope_name(db) == "Before"


async def test_read_allows_textual_reads(db: Database):
    async with db.read() as s:
        got = (await s.execute(text("  select name from scope where mrn = :m"),
                               {"m": ORG})).scalar_one()
        with_cte = (await s.execute(text(
            "WITH s AS (SELECT name FROM scope WHERE mrn = :m) SELECT name FROM s"),
            {"m": ORG})).scalar_one()
    assert got == with_cte == "Before"


@pytest.fixture
def postgres_url() -> str:
    """The test server's own database: these tests only ask the server about connections."""
    return postgres_url_or_skip()


async def test_read_opens_no_transaction_on_postgresql(postgres_url: str):
    # (SQLite begins a transaction only when a statement writes: nothing to observe there.)
    db = Database(postgres_url)
    try:
        async with db.read() as s:
            # Outside a transaction PostgreSQL gives every statement its own: two calls of
            # txid_current() in two statements name two different transactions.
            first = (await s.execute(text("SELECT txid_current()"))).scalar_one()
            second = (await s.execute(text("SELECT txid_current()"))).scalar_one()
        assert first != second
        async with db.transaction() as s:
            first = (await s.execute(text("SELECT txid_current()"))).scalar_one()
            second = (await s.execute(text("SELECT txid_current()"))).scalar_one()
        assert first == second
    finally:
        await db.dispose()


def count_pings(db: Database, monkeypatch) -> list[int]:
    pings = [0]
    original = db.engine.dialect.do_ping

    def counting(dbapi_connection):
        pings[0] += 1
        return original(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counting)
    return pings


async def backend_pid(db: Database) -> int:
    async with db.transaction() as s:
        return (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_connection_used_moments_ago_is_not_pinged(postgres_url: str, monkeypatch):
    db = Database(postgres_url, pool_size=1, ping_after_idle=60)
    pings = count_pings(db, monkeypatch)
    try:
        pids = {await backend_pid(db) for _ in range(5)}
        assert len(pids) == 1
        assert pings[0] == 0
    finally:
        await db.dispose()


async def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(postgres_url: str,
                                                                   monkeypatch):
    db = Database(postgres_url, pool_size=1, ping_after_idle=0.05)
    pings = count_pings(db, monkeypatch)
    try:
        before = await backend_pid(db)
        await terminate_backend(before)
        await asyncio.sleep(0.1)
        # The pooled connection is dead: the ping finds out and the pool connects anew, so
        # the request itself succeeds.
        after = await backend_pid(db)
        assert after != before
        assert pings[0] >= 1
    finally:
        await db.dispose()


async def test_without_idle_time_a_dead_connection_fails_once_then_recovers(postgres_url: str):
    """The cost of not pinging busy connections: a server restart fails the request that
    meets a dead connection; SQLAlchemy then replaces it, and the next request works."""
    db = Database(postgres_url, pool_size=1, ping_after_idle=3600)
    try:
        before = await backend_pid(db)
        await terminate_backend(before)
        await asyncio.sleep(0.1)
        with pytest.raises(Exception):  # noqa: B017 - the driver's disconnect error
            await backend_pid(db)
        assert await backend_pid(db) != before
    finally:
        await db.dispose()
