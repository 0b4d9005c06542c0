"""The async engine, sessions, and the one-transaction-per-operation helper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from app.errors import AlreadyExists, InvalidArgument, NotFound


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        # One connection per process: SQLite serialises writers anyway, and a single
        # connection (with WAL) avoids the lock-contention tails of a pool. It also
        # makes every transaction of this process run one after the other.
        engine = create_async_engine(
            url, poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_timeout=60
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    """An engine and its session factory. One per process."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except (DataError, DBAPIError) as exc:
            if not isinstance(exc, DataError) and _sqlstate(exc)[:2] != "22":
                raise
            # The database refused a value (an encoding it cannot store, a number out of
            # range): the input's fault. Validation catches the known cases first.
            raise InvalidArgument(
                "the input holds a value the database cannot store; check for unusual "
                "characters or sizes"
            ) from None

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlstate(exc: DBAPIError) -> str:
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state is None:
        state = getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return state or ""


def is_unique_violation(exc: IntegrityError) -> bool:
    state = _sqlstate(exc)
    return state == "23505" if state else "UNIQUE constraint failed" in str(exc.orig)


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    state = _sqlstate(exc)
    return state == "23503" if state else "FOREIGN KEY constraint failed" in str(exc.orig)


async def advisory_lock(session: AsyncSession, key: str, *, shared: tuple[str, ...] = ()) -> None:
    """Serialise transactions that name the same key, until this one ends (PostgreSQL); also
    take the ``shared`` keys in shared mode (held alongside others' shared holds, excluded by an
    exclusive one). One statement.

    SQLite needs nothing: one connection per process runs transactions one at a time.
    """
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy import text

        calls = ["pg_advisory_xact_lock(hashtextextended(:k, 0))"] + [
            f"pg_advisory_xact_lock_shared(hashtextextended(:s{i}, 0))" for i in range(len(shared))]
        params = {"k": key, **{f"s{i}": k for i, k in enumerate(shared)}}
        await session.execute(text("SELECT " + ", ".join(calls)), params)


def mappings_lock_key(org_mrn: str) -> str:
    """The advisory lock between sign-ins (shared) and mapping removals (exclusive) of an
    organization: a removal never interleaves with a sign-in that matched the mapping."""
    return f"mappings\n{org_mrn}"


def upsert_insert(session: AsyncSession):
    """The ``insert`` construct of the session's dialect, the one with ``on_conflict_do_*``
    (PostgreSQL and SQLite spell ON CONFLICT alike)."""
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


async def insert_or_ignore(session: AsyncSession, table: type, rows: list[dict]) -> None:
    """Insert rows; a row that already exists (unique constraint) is left as it is.

    For writes that are idempotent by nature, such as granting a role that a
    concurrent request has just granted too.
    """
    if not rows:
        return
    insert = upsert_insert(session)
    # Many parameter sets for one statement (not a VALUES list built per call): compiled once,
    # sent as one batch (PostgreSQL) or one executemany (SQLite).
    target = getattr(table, "__table__", table)
    await session.execute(insert(target).on_conflict_do_nothing(), rows)


async def add_unique(session: AsyncSession, obj: object, conflict_message: str) -> None:
    """Insert ``obj`` now; a unique-constraint violation becomes ALREADY_EXISTS.

    The check-then-insert in the services gives the friendly error in the usual
    case; this catches the race where two requests insert the same thing at once.
    """
    session.add(obj)
    try:
        await session.flush()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise AlreadyExists(conflict_message) from None
        if is_foreign_key_violation(exc):
            # What it belongs to was deleted by a request that committed meanwhile.
            raise NotFound("what this refers to was deleted meanwhile; reload and try again"
                           ) from None
        raise
