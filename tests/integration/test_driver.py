"""app.driver on both databases: reads and plain-statement transactions on the driver's own
connections return what SQLAlchemy's session returns, convert values the same way, keep
transactions whole, report errors as SQLAlchemy's exceptions, and never contend with the
process's other writers."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

import app.driver.compiler
from app.db import (
    Database,
    WriteInReadSession,
    is_foreign_key_violation,
    is_unique_violation,
)
from app.errors import InvalidArgument
from models import RoleBinding, Scope, Team, TeamMember, User
from tests.integration.harness import (
    fresh_database,
    postgres_url_or_skip,
    terminate_backend,
)

ORG = "//captain.api.mondoo.app/organizations/drv"
SPACE = "//captain.api.mondoo.app/spaces/drv-space"
TEAM = f"{ORG}/teams/drv-team"
USERS = ("//captain.api.mondoo.app/users/drv-yes", "//captain.api.mondoo.app/users/drv-no")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def db(request, tmp_path_factory):
    async with fresh_database(request.param, tmp_path_factory) as url:
        database = Database(url)
        async with database.transaction() as s:
            s.add(Scope(mrn=ORG, kind="organization", id="drv", name="Org", org_mrn=ORG))
            s.add(Scope(mrn=SPACE, kind="space", id="drv-space", name="Space", parent_mrn=ORG,
                        org_mrn=ORG, space_mrn=SPACE))
            await s.flush()
            s.add(Team(mrn=TEAM, id="drv-team", name="Team", scope_mrn=SPACE, org_mrn=ORG))
            for mrn, verified in zip(USERS, (True, False), strict=True):
                s.add(User(mrn=mrn, id=mrn.rsplit("/", 1)[1], email=f"{mrn[-6:]}@example.com",
                           org_mrn=ORG, issuer="https://idp", subject=mrn,
                           email_verified=verified))
            await s.flush()
            s.add(RoleBinding(scope_mrn=SPACE, identity_mrn=TEAM, role="editor"))
        yield database
        await database.dispose()


async def test_get_answers_a_read_only_record_equal_to_the_orm_object(db: Database):
    async with db.transaction() as s:
        orm = await s.get(Scope, SPACE)
        expected = {c: getattr(orm, c) for c in Scope.model_fields}
    async with db.read() as r:
        got = await r.get(Scope, SPACE)
        assert await r.get(Scope, "//captain.api.mondoo.app/spaces/none") is None
    assert {c: getattr(got, c) for c in Scope.model_fields} == expected
    assert isinstance(got.created_at, datetime)
    with pytest.raises(WriteInReadSession):
        got.name = "changed"


async def test_values_convert_as_through_the_orm(db: Database):
    async with db.read() as r:
        rows = (await r.execute(select(User.mrn, User.email_verified, User.created_at)
                                .where(User.mrn.in_(USERS)).order_by(User.mrn))).all()
    async with db.transaction() as s:
        orm = (await s.execute(select(User.mrn, User.email_verified, User.created_at)
                               .where(User.mrn.in_(USERS)).order_by(User.mrn))).all()
    assert [tuple(r) for r in rows] == [tuple(r) for r in orm]
    verified = {r.mrn: r.email_verified for r in rows}
    assert verified[USERS[0]] is True and verified[USERS[1]] is False


async def test_entities_and_columns_in_one_select(db: Database):
    async with db.read() as r:
        rows = (await r.execute(
            select(RoleBinding.role, Scope).join(Scope, Scope.mrn == RoleBinding.scope_mrn)
            .where(RoleBinding.identity_mrn == TEAM))).all()
        scopes = (await r.execute(select(Scope).where(Scope.org_mrn == ORG)
                                  .order_by(Scope.mrn))).scalars().all()
    assert [(row.role, row.Scope.mrn, row.Scope.parent_mrn) for row in rows] == \
        [("editor", SPACE, ORG)]
    role, scope = rows[0]
    assert (role, scope.kind) == ("editor", "space")
    assert [s.mrn for s in scopes] == [ORG, SPACE]


async def test_in_lists_given_in_the_statement_or_as_a_parameter(db: Database):
    by_param = select(Scope.mrn).where(Scope.mrn.in_(bindparam("m", expanding=True))) \
        .order_by(Scope.mrn)
    async with db.read() as r:
        inline = (await r.execute(select(Scope.mrn).where(Scope.mrn.in_([SPACE, "nope"])))
                  ).scalars().all()
        both = (await r.execute(by_param, {"m": [ORG, SPACE]})).scalars().all()
        none = (await r.execute(by_param, {"m": []})).scalars().all()
    assert inline == [SPACE]
    assert both == [ORG, SPACE]
    assert none == []


async def test_a_statement_built_per_call_compiles_once_per_shape(db: Database, monkeypatch):
    compiled = []
    original = app.driver.compiler._compile
    monkeypatch.setattr(app.driver.compiler, "_compile",
                        lambda *a, **k: compiled.append(a[0]) or original(*a, **k))
    names = []
    async with db.read() as r:
        for mrn in (ORG, SPACE, ORG):
            # A new statement object every time, its value inside: one shape.
            stmt = select(Scope.name, Scope.description).where(Scope.mrn == mrn)
            names.append((await r.execute(stmt)).scalar_one())
    assert names == ["Org", "Space", "Org"]
    assert len(compiled) == 1


_SPACES_NAMED = select(Scope.mrn).where(Scope.kind == "space", Scope.name == bindparam("name"))


async def test_a_statement_built_once_keeps_the_values_written_into_it(db: Database):
    async with db.read() as r:
        for _ in range(2):  # the second time from the compiled-statement cache
            assert (await r.execute(_SPACES_NAMED, {"name": "Space"})).scalars().all() == [
                SPACE]
            assert (await r.execute(_SPACES_NAMED, {"name": "Org"})).scalars().all() == []


async def test_statements_commit_whole_or_not_at_all(db: Database):
    class Stop(Exception):
        pass

    mrn = f"{ORG}/teams/drv-rolled-back"
    with pytest.raises(Stop):
        async with db.statements() as conn:
            await conn.execute(insert(Team), {"mrn": mrn, "id": "rb", "name": "Gone",
                                              "scope_mrn": ORG, "org_mrn": ORG})
            raise Stop
    async with db.read() as r:
        assert await r.get(Team, mrn) is None
    async with db.statements() as conn:
        # created_at and updated_at are the columns' Python-side defaults, as in SQLAlchemy.
        await conn.execute(insert(TeamMember), [
            {"team_mrn": TEAM, "user_mrn": u, "added_by_hand": True} for u in USERS])
    async with db.read() as r:
        members = (await r.execute(select(TeamMember).where(TeamMember.team_mrn == TEAM))
                   ).scalars().all()
    assert sorted(m.user_mrn for m in members) == sorted(USERS)
    assert all(isinstance(m.created_at, datetime) and m.added_by_hand is True for m in members)


async def test_constraint_errors_are_sqlalchemy_errors_and_roll_back(db: Database):
    fresh = f"{ORG}/teams/drv-first"
    with pytest.raises(IntegrityError) as unique:
        async with db.statements() as conn:
            await conn.execute(insert(Team), {"mrn": fresh, "id": "f", "name": "First",
                                              "scope_mrn": ORG, "org_mrn": ORG})
            await conn.execute(insert(Team), {"mrn": TEAM, "id": "dup", "name": "Dup",
                                              "scope_mrn": ORG, "org_mrn": ORG})
    assert is_unique_violation(unique.value)
    with pytest.raises(IntegrityError) as foreign:
        async with db.statements() as conn:
            await conn.execute(insert(Team), {"mrn": f"{ORG}/teams/drv-orphan", "id": "o",
                                              "name": "Orphan", "org_mrn": ORG,
                                              "scope_mrn": f"{ORG}/nowhere"})
    assert is_foreign_key_violation(foreign.value)
    async with db.read() as r:
        assert await r.get(Team, fresh) is None  # the whole transaction was rolled back
    # The connection is usable after both.
    async with db.statements() as conn:
        assert (await conn.execute(select(Team.name).where(Team.mrn == TEAM))).scalar() == "Team"


async def test_reads_see_committed_data_only_and_do_not_wait_for_a_writer(db: Database):
    mrn = f"{ORG}/teams/drv-open"
    async with db.statements() as conn:
        await conn.execute(insert(Team), {"mrn": mrn, "id": "open", "name": "Open",
                                          "scope_mrn": ORG, "org_mrn": ORG})
        # The writer's transaction is open (on SQLite it holds the write lock): a read runs
        # beside it and does not see the uncommitted row.
        async with asyncio.timeout(5), db.read() as r:
            assert await r.get(Team, mrn) is None
    async with db.read() as r:
        assert (await r.get(Team, mrn)).name == "Open"


async def test_writers_of_one_process_take_turns(db: Database):
    """ORM transactions and plain-statement transactions at once: none waits on the database's
    lock (SQLite) or fails; every row is written."""

    async def orm(i: int) -> None:
        async with db.transaction() as s:
            s.add(Team(mrn=f"{ORG}/teams/drv-orm-{i}", id=f"o{i}", name="x", scope_mrn=ORG,
                       org_mrn=ORG))

    async def plain(i: int) -> None:
        async with db.statements() as conn:
            await conn.execute(insert(Team), {"mrn": f"{ORG}/teams/drv-plain-{i}",
                                              "id": f"p{i}", "name": "x", "scope_mrn": ORG,
                                              "org_mrn": ORG})

    await asyncio.gather(*[orm(i) for i in range(15)], *[plain(i) for i in range(15)])
    async with db.read() as r:
        count = len((await r.execute(select(Team.mrn).where(
            Team.mrn.like(f"{ORG}/teams/drv-%-%")))).all())
    assert count == 30


async def test_reads_refuse_driver_sql_that_writes(db: Database):
    async with db.read() as r:
        assert (await r.exec_driver_sql("SELECT 1")).scalar() == 1
        with pytest.raises(WriteInReadSession):
            await r.exec_driver_sql("DELETE FROM team")
        with pytest.raises(WriteInReadSession):
            await r.execute(text("DELETE FROM team"))
    async with db.read() as r:
        assert await r.get(Team, TEAM) is not None


# PostgreSQL: the driver's own pool.


@pytest.fixture
async def pg() -> str:
    return postgres_url_or_skip()


async def _read_pid(db: Database) -> int:
    async with db.read() as r:
        return (await r.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_postgres_a_value_the_database_refuses_is_invalid_argument(pg: str):
    db = Database(pg)
    try:
        with pytest.raises(InvalidArgument):
            async with db.read() as r:
                await r.execute(text("SELECT CAST(:v AS text)"), {"v": "nul\x00byte"})
        assert await _read_pid(db) > 0
    finally:
        await db.dispose()


def count_pings(db: Database, monkeypatch) -> list[int]:
    pings = [0]
    original = db.driver.ping

    async def counting(conn) -> None:
        pings[0] += 1
        await original(conn)

    monkeypatch.setattr(db.driver, "ping", counting)
    return pings


async def test_postgres_reads_reuse_a_busy_connection_without_pinging(pg: str, monkeypatch):
    db = Database(pg, pool_size=1, ping_after_idle=60)
    pings = count_pings(db, monkeypatch)
    try:
        assert len({await _read_pid(db) for _ in range(5)}) == 1
        assert pings[0] == 0
    finally:
        await db.dispose()


async def test_postgres_a_connection_the_server_closed_is_replaced_before_use(pg: str,
                                                                             monkeypatch):
    """asyncpg notices a connection the server closed: the pool replaces it, no ping needed,
    and the request itself succeeds."""
    db = Database(pg, pool_size=1, ping_after_idle=3600)
    pings = count_pings(db, monkeypatch)
    try:
        before = await _read_pid(db)
        await terminate_backend(before)
        await asyncio.sleep(0.1)
        assert await _read_pid(db) != before
        assert pings[0] == 0
    finally:
        await db.dispose()


async def test_postgres_an_idle_connection_found_dead_by_the_ping_is_replaced(pg: str,
                                                                              monkeypatch):
    """A connection dead without the client noticing (a proxy's idle timeout drops it
    silently): the ping after idle time finds out, and the request goes on with a new one."""
    db = Database(pg, pool_size=1, ping_after_idle=0.05)
    pinged = []
    original = db.driver.ping

    async def silently_dropped(conn) -> None:
        pinged.append(conn)
        if len(pinged) == 1:
            conn.terminate()  # what the ping would then meet: a closed connection
        await original(conn)

    monkeypatch.setattr(db.driver, "ping", silently_dropped)
    try:
        before = await _read_pid(db)
        await asyncio.sleep(0.1)
        after = await _read_pid(db)
        assert len(pinged) == 1 and after != before
    finally:
        await db.dispose()


async def test_postgres_at_most_pool_size_connections_and_every_caller_served(pg: str):
    db = Database(pg, pool_size=2)

    async def slow_pid() -> int:
        async with db.read() as r:
            return (await r.execute(text("SELECT pg_backend_pid() FROM pg_sleep(0.05)"))
                    ).scalar_one()

    try:
        pids = await asyncio.gather(*[slow_pid() for _ in range(8)])
        assert len(pids) == 8 and len(set(pids)) <= 2
    finally:
        await db.dispose()


async def test_postgres_a_read_cancelled_mid_statement_leaves_no_broken_connection(pg: str):
    db = Database(pg, pool_size=1)

    async def sleep_long() -> None:
        async with db.read() as r:
            await r.execute(text("SELECT pg_sleep(5)"))

    try:
        before = await _read_pid(db)
        task = asyncio.create_task(sleep_long())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(3):
            after = await _read_pid(db)  # a new connection: the cancelled one was closed
        assert after != before
    finally:
        await db.dispose()
