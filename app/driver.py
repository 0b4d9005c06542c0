"""Statements run on the database driver itself: asyncpg, or sqlite3 through aiosqlite.

Through SQLAlchemy's session and pool a primary-key lookup costs about five times what asyncpg
takes for it, and opening and closing the session as much again: on the paths every request
takes (the caller's credentials, ``getRoles``, a sign-in) that was most of the request. Reads
(``Database.read``) and the sign-in's transaction (``Database.statements``) therefore run here.
SQLAlchemy still builds the statements, compiles them (once per statement shape, keyed as its
own compiled cache is) and converts values with the column types; the driver runs them.

What a ``DriverConnection`` offers is the part of SQLAlchemy's session API that reads and plain
statements use: ``execute`` (Core statements, ORM entities in ``select``), ``get`` by primary key,
results with ``all``/``first``/``one``/``scalar``/``scalars``. An ORM entity comes back as a
read-only record with the entity's attribute names, not as a tracked object.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import OrderedDict, deque, namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import bindparam, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql import ClauseElement, Select, TextClause
from sqlalchemy.sql.selectable import CompoundSelect, TextualSelect


class WriteInReadSession(RuntimeError):
    """A programming error: something tried to write through ``Database.read``."""


_REFUSED = "Database.read() is for reads; use Database.transaction()"


def _read_only(self: Any, name: str, value: Any) -> None:
    raise WriteInReadSession(f"{_REFUSED} (a record from a read cannot be changed)")


_RECORD_TYPES: dict[tuple[str, tuple[str, ...]], type] = {}


def record_type(name: str, fields: Sequence[str]) -> type:
    """A named tuple type whose fields can be read by name and never assigned."""
    key = (name, tuple(fields))
    made = _RECORD_TYPES.get(key)
    if made is None:
        base = namedtuple(name, key[1], rename=True)  # type: ignore[misc]
        made = _RECORD_TYPES[key] = type(name, (base,), {"__slots__": (),
                                                         "__setattr__": _read_only})
    return made


# ---------------------------------------------------------------------------------------------
# Compiling: SQLAlchemy statement -> SQL text, parameter order, value conversions, row shape.


@dataclass(frozen=True)
class _Entity:
    """An ORM entity in a select: ``width`` columns make one record."""

    width: int
    record: type


@dataclass
class _Plan:
    compiled: Any
    expands: bool  # has "expanding" (IN list) parameters: the SQL depends on the values
    sql: str
    positions: Sequence[str]
    processors: Mapping[str, Callable[[Any], Any]]
    prefetch: Sequence[tuple[str, Callable[[], Any]]]  # column defaults computed in Python
    returns_rows: bool
    result_processors: Sequence[Callable[[Any], Any] | None] | None
    shape: Sequence[_Entity | None] | None  # per result element; None: columns as they come
    row_type: type | None  # None: named by the driver's column names (textual SQL)


def _column_default(column: Any, update: bool) -> Callable[[], Any]:
    default = column.onupdate if update else column.default
    if default.is_callable:
        return lambda: default.arg(None)
    return lambda: default.arg


def _entity_of(description: Mapping[str, Any]) -> Any | None:
    expr = description.get("expr")
    if isinstance(expr, type) and description.get("entity") is expr:
        return expr
    return None


def _shape(statement: Any, dialect: Dialect):
    """Result processors and how to group the columns of a select into its elements."""
    if not isinstance(statement, (Select, CompoundSelect, TextualSelect)):
        return None, None, None
    columns = list(statement.selected_columns)
    processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
    if not isinstance(statement, Select):
        return processors, None, [c.key for c in columns]
    shape: list[_Entity | None] = []
    fields: list[str] = []
    for description in statement.column_descriptions:
        entity = _entity_of(description)
        fields.append(description["name"])
        if entity is None:
            shape.append(None)
            continue
        mapper = sa_inspect(entity)
        attrs = [mapper.get_property_by_column(c).key for c in mapper.columns]
        shape.append(_Entity(len(attrs), record_type(entity.__name__, attrs)))
    if sum(e.width if e else 1 for e in shape) != len(columns):
        raise NotImplementedError(f"cannot map the columns of {statement} to its entities")
    return processors, shape, fields


def _compile(statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str],
             cache_key: Any = None) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) or None,
                                 cache_key=cache_key)
    expands = bool(compiled.literal_execute_params or compiled.post_compile_params)
    prefetch = [(c.key, _column_default(c, False)) for c in compiled.insert_prefetch]
    prefetch += [(c.key, _column_default(c, True)) for c in compiled.update_prefetch]
    returns_rows = bool(getattr(compiled, "returning", None)) or isinstance(
        statement, (Select, CompoundSelect, TextualSelect)) or (
        isinstance(statement, TextClause) and _is_read_text(statement))
    processors, shape, fields = _shape(statement, dialect)
    return _Plan(compiled, expands, compiled.string, compiled.positiontup or (),
                 compiled._bind_processors, prefetch, returns_rows, processors, shape,
                 record_type("Row", fields) if fields is not None else None)


def _is_read_text(statement: TextClause) -> bool:
    return statement.text.lstrip().upper().startswith(("SELECT", "WITH"))


def is_read(statement: Any) -> bool:
    """Whether a statement only reads (what ``Database.read`` lets through)."""
    if isinstance(statement, TextClause):
        return _is_read_text(statement)
    return isinstance(statement, (Select, CompoundSelect, TextualSelect))


class Compiler:
    """Compiled statements of one dialect.

    A statement object seen again (the module-level constants of the hot paths) is found by
    identity; any other by SQLAlchemy's cache key, so statements built per call with their own
    values compile once per shape, as in SQLAlchemy's own cache.
    """

    SIZE = 500

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._by_object: OrderedDict[Any, _Plan] = OrderedDict()
        self._by_key: OrderedDict[Any, _Plan] = OrderedDict()

    def prepare(self, statement: ClauseElement, params: Mapping[str, Any] | None,
                column_keys: Sequence[str] = ()) -> tuple[_Plan, list[Any] | None]:
        """The plan of a statement, and the parameters SQLAlchemy extracted from it."""
        keys = tuple(sorted(column_keys))
        plan = self._by_object.get((statement, keys))
        if plan is not None:
            return plan, None
        cache_key = statement._generate_cache_key()
        if cache_key is None:  # not cacheable: compile every time
            return _compile(statement, self.dialect, keys), None
        extracted = cache_key.bindparams
        lookup = (cache_key.key, keys)
        plan = self._by_key.get(lookup)
        if plan is None:
            plan = self._by_key[lookup] = _compile(statement, self.dialect, keys, cache_key)
            if len(self._by_key) > self.SIZE:
                self._by_key.popitem(last=False)
        if not extracted:
            self._by_object[(statement, keys)] = plan
            if len(self._by_object) > self.SIZE:
                self._by_object.popitem(last=False)
            return plan, None
        return plan, extracted

    def arguments(self, plan: _Plan, params: Mapping[str, Any] | None,
                  extracted: list[Any] | None) -> tuple[str, list[Any]]:
        """The SQL text and the positional values for one parameter set."""
        compiled = plan.compiled
        values = compiled.construct_params(params, extracted_parameters=extracted,
                                           escape_names=False, _no_postcompile=plan.expands)
        for key, default in plan.prefetch:
            if params is None or key not in params:
                values[key] = default()
        sql, positions, processors = plan.sql, plan.positions, plan.processors
        if plan.expands:
            state = compiled._process_parameters_for_postcompile(values)
            sql, positions = state.statement, state.positiontup
            processors = {**processors, **state.processors}
        return sql, [processors[k](values[k]) if k in processors else values[k]
                     for k in positions]


# ---------------------------------------------------------------------------------------------
# Results


class Result:
    """Rows of a statement, with the methods of SQLAlchemy's ``Result`` that the code uses."""

    def __init__(self, rows: list[tuple], rowcount: int = -1) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[tuple]:
        return self._rows

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._rows)

    def first(self) -> tuple | None:
        return self._rows[0] if self._rows else None

    def one(self) -> tuple:
        if len(self._rows) != 1:
            raise sa_exc.NoResultFound("No row was found") if not self._rows else \
                sa_exc.MultipleResultsFound("Multiple rows were found")
        return self._rows[0]

    def one_or_none(self) -> tuple | None:
        if len(self._rows) > 1:
            raise sa_exc.MultipleResultsFound("Multiple rows were found")
        return self.first()

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> Scalars:
        return Scalars([row[0] for row in self._rows])


class Scalars:
    """``Result.scalars()``: the first element of every row."""

    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def all(self) -> list[Any]:
        return self._values

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def first(self) -> Any:
        return self._values[0] if self._values else None

    def one(self) -> Any:
        return Result([(v,) for v in self._values]).scalar_one()

    def one_or_none(self) -> Any:
        return Result([(v,) for v in self._values]).scalar_one_or_none()


def _shape_rows(plan: _Plan, raw: Sequence[Sequence[Any]], names: Sequence[str]) -> list[tuple]:
    processors = plan.result_processors
    if processors is not None and any(processors):
        raw = [[p(v) if p else v for p, v in zip(processors, row, strict=True)] for row in raw]
    row_type = plan.row_type or record_type("Row", names)
    if plan.shape is None or not any(plan.shape):
        return [row_type(*row) for row in raw]
    out = []
    for row in raw:
        items, i = [], 0
        for element in plan.shape:
            if element is None:
                items.append(row[i])
                i += 1
            else:
                items.append(element.record(*row[i:i + element.width]))
                i += element.width
        out.append(row_type(*items))
    return out


# ---------------------------------------------------------------------------------------------
# Connections


_SQLSTATE_ERRORS: dict[str, type[sa_exc.DBAPIError]] = {
    "23": sa_exc.IntegrityError, "22": sa_exc.DataError, "08": sa_exc.OperationalError,
    "40": sa_exc.OperationalError, "53": sa_exc.OperationalError, "57": sa_exc.OperationalError,
}


def _as_sqlalchemy_error(exc: Exception, sql: str) -> sa_exc.DBAPIError:
    """The driver's error as the SQLAlchemy exception the rest of the code expects (the
    driver's own stays in ``.orig``; parameters are never part of the message)."""
    if isinstance(exc, sqlite3.Error):
        kind = {sqlite3.IntegrityError: sa_exc.IntegrityError,
                sqlite3.DataError: sa_exc.DataError,
                sqlite3.OperationalError: sa_exc.OperationalError,
                sqlite3.ProgrammingError: sa_exc.ProgrammingError}.get(type(exc), sa_exc.DBAPIError)
    else:
        state = getattr(exc, "sqlstate", None) or ""
        kind = _SQLSTATE_ERRORS.get(state[:2], sa_exc.DBAPIError)
        if not state:
            kind = sa_exc.OperationalError  # a lost connection, a protocol error
    return kind(sql, None, exc, hide_parameters=True)


class DriverConnection:
    """One connection of the driver, in a transaction (``Database.statements``) or not
    (``Database.read``, where it refuses every statement that writes)."""

    def __init__(self, backend: _Backend, raw: Any, *, read_only: bool) -> None:
        self._backend = backend
        self._raw = raw
        self.read_only = read_only
        self.dialect = backend.dialect

    async def execute(self, statement: ClauseElement,
                      params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
                      ) -> Result:
        if self.read_only and not is_read(statement):
            raise WriteInReadSession(_REFUSED)
        backend = self._backend
        compiler = backend.compiler
        if isinstance(params, Sequence) and not isinstance(params, Mapping):
            if not params:
                return Result([], 0)
            plan, extracted = compiler.prepare(statement, params[0], params[0].keys())
            if plan.expands:
                raise sa_exc.InvalidRequestError("expanding (IN) parameters take one "
                                                 "parameter set, not many")
            batch = [compiler.arguments(plan, p, extracted)[1] for p in params]
            await self._timed(backend.run_many(self._raw, plan.sql, batch), plan.sql, batch)
            return Result([], len(batch))
        keys = params.keys() if params and getattr(statement, "is_dml", False) else ()
        plan, extracted = compiler.prepare(statement, params, keys)
        sql, args = compiler.arguments(plan, params, extracted)
        if plan.returns_rows:
            raw, names = await self._timed(backend.fetch(self._raw, sql, args), sql, args)
            return Result(_shape_rows(plan, raw, names))
        return Result([], await self._timed(backend.run(self._raw, sql, args), sql, args))

    async def _timed(self, call: Awaitable[Any], sql: str, args: Any) -> Any:
        hook = self._backend.on_statement
        if hook is None:
            return await call
        started = time.perf_counter()
        try:
            return await call
        finally:
            hook(sql, args, time.perf_counter() - started)

    async def exec_driver_sql(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """SQL in the driver's own dialect and parameter style (as SQLAlchemy's method)."""
        if self.read_only and not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise WriteInReadSession(_REFUSED)
        raw, names = await self._backend.fetch(self._raw, sql, list(args))
        return Result([record_type("Row", names)(*row) for row in raw])

    async def get(self, entity: type, key: Any) -> Any | None:
        """The entity's record with this primary key, or None."""
        statement = _BY_PRIMARY_KEY.get(entity)
        if statement is None:
            (column,) = sa_inspect(entity).primary_key
            statement = _BY_PRIMARY_KEY[entity] = select(entity).where(
                column == bindparam("primary_key"))
        return (await self.execute(statement, {"primary_key": key})).scalars().first()

    # What a read session would be asked to write: refused, as by the session it replaces.
    def add(self, *_: Any, **__: Any) -> None:
        raise WriteInReadSession(_REFUSED)

    async def delete(self, *_: Any, **__: Any) -> None:
        raise WriteInReadSession(_REFUSED)

    async def flush(self, *_: Any, **__: Any) -> None:
        raise WriteInReadSession(_REFUSED)


_BY_PRIMARY_KEY: dict[type, Any] = {}


class _Backend:
    dialect: Dialect
    compiler: Compiler
    #: The connections reads take (``connection``).
    pool: Connections
    #: Called with (SQL, parameters, seconds) after every statement run through
    #: ``DriverConnection.execute`` (the benchmark's SQL report times them this way).
    on_statement: Callable[[str, Any, float], None] | None = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection, returned when the block ends (closed instead if the block was
        cancelled mid-statement: its state is then unknown)."""
        conn, idle = await self.pool.acquire()
        conn = await self.usable(conn, idle)
        reuse = False
        try:
            yield conn
            reuse = True
        except Exception:
            reuse = True  # the statement finished (with an error): the connection is idle
            raise
        finally:
            self.pool.release(conn, reuse=reuse)

    async def usable(self, conn: Any, idle_seconds: float) -> Any:
        """The connection to use in place of one just taken from the pool."""
        return conn

    async def fetch(self, raw: Any, sql: str, args: list[Any]
                    ) -> tuple[list[Sequence[Any]], Sequence[str]]:
        raise NotImplementedError

    async def run(self, raw: Any, sql: str, args: list[Any]) -> int:
        raise NotImplementedError

    async def run_many(self, raw: Any, sql: str, batch: list[list[Any]]) -> None:
        raise NotImplementedError


_PG_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


class PostgresBackend(_Backend):
    """asyncpg connections in a small pool of this module's own (``Connections``): taking and
    returning one costs nothing beyond a queue operation, where asyncpg's pool adds a reset and
    a shielded task (about 70 µs a request). A connection idle for ``ping_after_idle`` seconds is
    pinged before use; a dead one is replaced, and so is every other connection of the pool
    (the server went away, so they are all suspect)."""

    def __init__(self, url: str, dialect: Dialect, *, pool_size: int,
                 ping_after_idle: float) -> None:
        self.dialect = dialect
        self.compiler = Compiler(dialect)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.pool = Connections(lambda: asyncpg.connect(dsn), pool_size)
        self.ping_after_idle = ping_after_idle

    async def usable(self, conn: Any, idle_seconds: float) -> Any:
        if idle_seconds <= self.ping_after_idle:
            return conn
        try:
            await self.ping(conn)
            return conn
        except _PG_ERRORS:
            if not conn.is_closed():
                self.pool.release(conn, reuse=False)
                raise
        self.pool.expire()  # the server went away: replace them all
        self.pool.release(conn, reuse=False)
        conn, _ = await self.pool.acquire()
        return conn

    @staticmethod
    async def ping(conn: Any) -> None:
        """One round trip (outside a transaction: no BEGIN and ROLLBACK around it)."""
        await conn.execute("SELECT 1")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self.connection() as conn:
            try:
                async with conn.transaction():
                    yield conn
            except _PG_ERRORS as exc:
                raise await self._failed(conn, exc, "BEGIN / COMMIT") from exc

    async def _failed(self, conn: Any, exc: Exception, sql: str) -> sa_exc.DBAPIError:
        if conn.is_closed():
            self.pool.expire()  # the server went away: replace them all
        return _as_sqlalchemy_error(exc, sql)

    async def fetch(self, raw, sql, args):
        try:
            rows = await raw.fetch(sql, *args)
        except _PG_ERRORS as exc:
            raise await self._failed(raw, exc, sql) from exc
        return rows, (list(rows[0].keys()) if rows else ())

    async def run(self, raw, sql, args):
        try:
            status = await raw.execute(sql, *args)
        except _PG_ERRORS as exc:
            raise await self._failed(raw, exc, sql) from exc
        count = status.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else -1

    async def run_many(self, raw, sql, batch):
        try:
            await raw.executemany(sql, batch)
        except _PG_ERRORS as exc:
            raise await self._failed(raw, exc, sql) from exc

    async def close(self) -> None:
        await self.pool.close()


class Connections:
    """At most ``size`` connections, handed to waiters in the order they came; of the idle ones
    the most recently returned is taken first (the others age and are pinged, rather than all
    kept barely warm). A connection returned in doubt (``reuse=False``), closed, in a
    transaction, or opened before ``expire()`` is closed instead of kept."""

    def __init__(self, connect: Callable[[], Awaitable[Any]], size: int) -> None:
        self._connect = connect
        self.size = size
        self._idle: list[tuple[Any, int, float]] = []  # (connection, generation, returned at)
        self._waiters: deque[asyncio.Future] = deque()
        self._open = 0  # connections open, opening, or promised to a waiter
        self._generation = 0
        self._generation_of: dict[int, int] = {}  # id(connection) -> generation it was opened in

    async def acquire(self) -> tuple[Any, float]:
        """A connection, and how many seconds it was idle (0 for a new one)."""
        while True:
            if self._idle:
                item: tuple[Any, int, float] | None = self._idle.pop()
            elif self._open < self.size:
                self._open += 1
                item = None
            else:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                try:
                    item = await waiter
                except asyncio.CancelledError:
                    if waiter.done() and not waiter.cancelled():
                        self._hand_on(waiter.result())  # given to us as we were cancelled
                    else:
                        self._waiters.remove(waiter)
                    raise
            if item is None:  # a place of our own: open a connection in it
                return await self._new(), 0.0
            conn, generation, returned = item
            if generation == self._generation and not conn.is_closed():
                return conn, time.monotonic() - returned
            self._close(conn)
            self._open += 1
            return await self._new(), 0.0

    async def _new(self) -> Any:
        try:
            conn = await self._connect()
        except BaseException:
            self._open -= 1
            self._place_freed()
            raise
        self._generation_of[id(conn)] = self._generation
        return conn

    def release(self, conn: Any, *, reuse: bool) -> None:
        generation = self._generation_of.get(id(conn))
        if (reuse and generation == self._generation and not conn.is_closed()
                and not conn.is_in_transaction()):
            self._hand_on((conn, generation, time.monotonic()))
            return
        self._close(conn)
        self._place_freed()

    def _hand_on(self, item: tuple[Any, int, float] | None) -> None:
        """To the first waiter, else back to the idle ones (None: a place for a new one)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if item is None:
            self._open -= 1
        else:
            self._idle.append(item)

    def _place_freed(self) -> None:
        if self._waiters:
            self._open += 1
            self._hand_on(None)

    def _close(self, conn: Any) -> None:
        self._generation_of.pop(id(conn), None)
        self._open -= 1
        conn.terminate()

    def expire(self) -> None:
        """Connections opened before now are closed instead of used again."""
        self._generation += 1

    async def close(self) -> None:
        self.expire()
        idle, self._idle = self._idle, []
        for conn, _, _ in idle:
            self._generation_of.pop(id(conn), None)
            self._open -= 1
            await conn.close()


class _SQLiteConnection:
    """A sqlite3 connection and the one thread that runs its calls."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="teamclaims-sqlite")
        self.conn: sqlite3.Connection | None = None
        self._closed = False

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    @classmethod
    async def open(cls, path: str, *, query_only: bool) -> _SQLiteConnection:
        made = cls()
        made.conn = await made.call(_connect, path, query_only)
        return made

    def is_closed(self) -> bool:
        return self._closed

    def is_in_transaction(self) -> bool:
        return self.conn is not None and self.conn.in_transaction

    def terminate(self) -> None:
        """Close it after whatever its thread still runs."""
        if not self._closed and self.conn is not None:
            self._closed = True
            self._thread.submit(self.conn.close)
        self._thread.shutdown(wait=False)

    async def close(self) -> None:
        if not self._closed and self.conn is not None:
            self._closed = True
            await self.call(self.conn.close)
        self._thread.shutdown(wait=False)


def _connect(path: str, query_only: bool) -> sqlite3.Connection:
    # isolation_level=None: no implicit BEGIN; transactions are begun explicitly.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL",
                   *(("query_only=ON",) if query_only else ("journal_mode=WAL",))):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _sqlite_fetch(conn: sqlite3.Connection, sql: str, args: list[Any]):
    cursor = conn.execute(sql, args)
    try:
        return cursor.fetchall(), [d[0] for d in cursor.description or ()]
    finally:
        cursor.close()


def _sqlite_run(conn: sqlite3.Connection, sql: str, args: list[Any]) -> int:
    cursor = conn.execute(sql, args)
    count = cursor.rowcount
    cursor.close()
    return count


def _sqlite_run_many(conn: sqlite3.Connection, sql: str, batch: list[list[Any]]) -> None:
    conn.executemany(sql, batch).close()


class SQLiteBackend(_Backend):
    """sqlite3 connections to the database file, each with a thread of its own: ``readers``
    for reads (WAL lets them run beside a writer; each is ``query_only``), and one writer for
    transactions, which take ``write_lock`` (shared with the process's SQLAlchemy transactions,
    so the writers of one process never contend for SQLite's lock)."""

    def __init__(self, url: str, dialect: Dialect, *, readers: int,
                 write_lock: asyncio.Lock) -> None:
        self.dialect = dialect
        self.compiler = Compiler(dialect)
        database = make_url(url).database
        if not database or database == ":memory:":
            raise ValueError("an in-memory SQLite database cannot be shared by connections: "
                             "name a file")
        path = str(Path(database))
        self.write_lock = write_lock
        self.pool = Connections(lambda: _SQLiteConnection.open(path, query_only=True), readers)
        self._open_writer = lambda: _SQLiteConnection.open(path, query_only=False)
        self._writer: _SQLiteConnection | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SQLiteConnection]:
        async with self.write_lock:
            if self._writer is None or self._writer.is_closed():
                self._writer = await self._open_writer()
            writer = self._writer
            await self.run(writer, "BEGIN IMMEDIATE", [])
            try:
                yield writer
                await self.run(writer, "COMMIT", [])
            except BaseException:
                if writer.conn.in_transaction:
                    await self.run(writer, "ROLLBACK", [])
                raise

    async def fetch(self, raw, sql, args):
        try:
            return await raw.call(_sqlite_fetch, raw.conn, sql, args)
        except sqlite3.Error as exc:
            raise _as_sqlalchemy_error(exc, sql) from exc

    async def run(self, raw, sql, args):
        try:
            return await raw.call(_sqlite_run, raw.conn, sql, args)
        except sqlite3.Error as exc:
            raise _as_sqlalchemy_error(exc, sql) from exc

    async def run_many(self, raw, sql, batch):
        try:
            await raw.call(_sqlite_run_many, raw.conn, sql, batch)
        except sqlite3.Error as exc:
            raise _as_sqlalchemy_error(exc, sql) from exc

    async def close(self) -> None:
        await self.pool.close()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
