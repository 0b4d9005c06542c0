"""The async engine, sessions, and the one-transaction-per-operation helper."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy import TextClause, event, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from app.driver import DriverConnection, PostgresBackend, SQLiteBackend
from app.driver import WriteInReadSession as WriteInReadSession
from app.errors import AlreadyExists, InvalidArgument, NotFound

#: SQLite connections that serve reads beside the writer (WAL), each with its own thread.
SQLITE_READERS = 4


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


#: A pooled PostgreSQL connection idle for longer than this is pinged before it is used again
#: (a restarted server or a proxy's idle timeout leaves it dead). One returned more recently has
#: just finished a transaction: pinging it would cost three round trips (BEGIN, ping, ROLLBACK)
#: on every checkout for nothing.
PING_AFTER_IDLE_SECONDS = 5.0


def make_engine(url: str, *, pool_size: int = 10,
                ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> AsyncEngine:
    if is_sqlite(url):
        # One connection for the ORM transactions: SQLite serialises writers anyway. Reads run
        # on the driver's connections beside it (WAL); sign-ins on the driver's writer, which
        # takes turns with this one by Database's lock, so no writer waits on SQLite's own lock.
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
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_idle_connections(engine, ping_after_idle)
    return engine


def _ping_idle_connections(engine: AsyncEngine, after: float) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for connections idle ``after`` seconds.

    A dead connection found here is replaced before the request uses it (the pool retries the
    checkout), and so is every other connection opened before it. One that was used within the
    last ``after`` seconds is not checked: if the server went away meanwhile, the request that
    meets it fails, and SQLAlchemy then recycles the pool the same way.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _taken(dbapi_conn, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < after:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            if not engine.dialect.is_disconnect(exc, dbapi_conn, None):
                raise
            # As pool_pre_ping does: the server went away, so every connection of the pool
            # opened before now is suspect; replace them all (this one at once, by the retry).
            raise InvalidatePoolError("the pooled connection is dead") from exc


class Database:
    """An engine and its session factory for transactions, and the driver's own connections for
    reads and plain-statement transactions (``app.driver``). One per process."""

    def __init__(self, url: str, *, pool_size: int = 10,
                 ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, ping_after_idle=ping_after_idle)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite: this process's transactions, through SQLAlchemy or the driver, one at a time.
        self._sqlite_writes = asyncio.Lock() if is_sqlite(url) else None
        self.driver: PostgresBackend | SQLiteBackend
        if self._sqlite_writes is not None:
            self.driver = SQLiteBackend(url, self.engine.dialect, readers=SQLITE_READERS,
                                        write_lock=self._sqlite_writes)
        else:
            self.driver = PostgresBackend(url, self.engine.dialect, pool_size=pool_size,
                                          ping_after_idle=ping_after_idle)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with _values_refused_as_input_errors():
            async with self._sqlite_write_turn(), self.sessions() as session, session.begin():
                yield session

    @asynccontextmanager
    async def _sqlite_write_turn(self) -> AsyncIterator[None]:
        if self._sqlite_writes is None:
            yield
            return
        async with self._sqlite_writes:
            yield

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[DriverConnection]:
        """One transaction on the driver's own connection, for work done with statements alone
        (no ORM objects): the sign-in path, where SQLAlchemy's connection and session would
        cost more than the statements themselves."""
        with _values_refused_as_input_errors():
            async with self.driver.transaction() as raw:
                yield DriverConnection(self.driver, raw, read_only=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[DriverConnection]:
        """Reads that need no transaction, on the driver's own connection: each statement sees
        what was committed when it started, as in a READ COMMITTED transaction, without BEGIN
        and COMMIT. It refuses to write (``WriteInReadSession``); ORM entities come back as
        read-only records."""
        with _values_refused_as_input_errors():
            async with self.driver.connection() as raw:
                yield DriverConnection(self.driver, raw, read_only=True)

    async def dispose(self) -> None:
        await self.driver.close()
        await self.engine.dispose()


#: What runs statements: an ORM session, or the driver's own connection (``Database.read``,
#: ``Database.statements``).
Executor = AsyncSession | DriverConnection


def dialect_name(executor: Executor) -> str:
    """``postgresql`` or ``sqlite``."""
    if isinstance(executor, DriverConnection):
        return executor.dialect.name
    return executor.bind.dialect.name


@contextmanager
def _values_refused_as_input_errors() -> Iterator[None]:
    try:
        yield
    except (DataError, DBAPIError) as exc:
        if not isinstance(exc, DataError) and _sqlstate(exc)[:2] != "22":
            raise
        # The database refused a value (an encoding it cannot store, a number out of
        # range): the input's fault. Validation catches the known cases first.
        raise InvalidArgument(
            "the input holds a value the database cannot store; check for unusual "
            "characters or sizes"
        ) from None


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


async def advisory_lock(session: Executor, key: str, *, shared: tuple[str, ...] = ()) -> None:
    """Serialise transactions that name the same key, until this one ends (PostgreSQL); also
    take the ``shared`` keys in shared mode (held alongside others' shared holds, excluded by an
    exclusive one). One statement.

    SQLite needs nothing: the transactions of a process run one at a time (Database's lock).
    """
    if dialect_name(session) == "postgresql":
        params = {"k": key, **{f"s{i}": k for i, k in enumerate(shared)}}
        await session.execute(_advisory_lock_statement(len(shared)), params)


@functools.cache
def _advisory_lock_statement(shared: int) -> TextClause:
    calls = ["pg_advisory_xact_lock(hashtextextended(:k, 0))"] + [
        f"pg_advisory_xact_lock_shared(hashtextextended(:s{i}, 0))" for i in range(shared)]
    return text("SELECT " + ", ".join(calls))


def mappings_lock_key(org_mrn: str) -> str:
    """The advisory lock between sign-ins (shared) and mapping removals (exclusive) of an
    organization: a removal never interleaves with a sign-in that matched the mapping."""
    return f"mappings\n{org_mrn}"


def upsert_insert(session_or_dialect: Executor | str):
    """The ``insert`` construct of the session's dialect (or of a dialect named), the one with
    ``on_conflict_do_*`` (PostgreSQL and SQLite spell ON CONFLICT alike)."""
    dialect = session_or_dialect
    if not isinstance(dialect, str):
        dialect = dialect_name(dialect)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


async def insert_or_ignore(session: Executor, table: type, rows: list[dict]) -> None:
    """Insert rows; a row that already exists (unique constraint) is left as it is.

    For writes that are idempotent by nature, such as granting a role that a
    concurrent request has just granted too.
    """
    if not rows:
        return
    # Many parameter sets for one statement (not a VALUES list built per call): built and
    # compiled once, sent as one batch (PostgreSQL) or one executemany (SQLite).
    target = getattr(table, "__table__", table)
    key = (dialect_name(session), target.name)
    stmt = _INSERT_OR_IGNORE.get(key)
    if stmt is None:
        stmt = _INSERT_OR_IGNORE[key] = upsert_insert(key[0])(target).on_conflict_do_nothing()
    await session.execute(stmt, rows)


_INSERT_OR_IGNORE: dict[tuple[str, str], object] = {}


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
