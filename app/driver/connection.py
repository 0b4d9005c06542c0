"""A connection of the driver, with the part of SQLAlchemy's session API that reads and plain
statements use; and what a backend (PostgreSQL, SQLite) provides under it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from app.driver.compiler import Compiler, is_read, shape_rows
from app.driver.pool import Connections
from app.driver.records import REFUSED, Result, WriteInReadSession, record_type


class DriverConnection:
    """One connection of the driver, in a transaction (``Database.statements``) or not
    (``Database.read``, where it refuses every statement that writes)."""

    def __init__(self, backend: Backend, raw: Any, *, read_only: bool) -> None:
        self._backend = backend
        self._raw = raw
        self.read_only = read_only
        self.dialect = backend.dialect

    async def execute(self, statement: ClauseElement,
                      params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
                      ) -> Result:
        if self.read_only and not is_read(statement):
            raise WriteInReadSession(REFUSED)
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
            return Result(shape_rows(plan, raw, names))
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
            raise WriteInReadSession(REFUSED)
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
        raise WriteInReadSession(REFUSED)

    async def delete(self, *_: Any, **__: Any) -> None:
        raise WriteInReadSession(REFUSED)

    async def flush(self, *_: Any, **__: Any) -> None:
        raise WriteInReadSession(REFUSED)


_BY_PRIMARY_KEY: dict[type, Any] = {}


class Backend:
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
