"""SQLite through Python's own sqlite3, each connection with a thread of its own."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Dialect, make_url

from app.driver.compiler import Compiler
from app.driver.connection import Backend
from app.driver.errors import as_sqlalchemy_error
from app.driver.pool import Connections


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


class SQLiteBackend(Backend):
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
            raise as_sqlalchemy_error(exc, sql) from exc

    async def run(self, raw, sql, args):
        try:
            return await raw.call(_sqlite_run, raw.conn, sql, args)
        except sqlite3.Error as exc:
            raise as_sqlalchemy_error(exc, sql) from exc

    async def run_many(self, raw, sql, batch):
        try:
            await raw.call(_sqlite_run_many, raw.conn, sql, batch)
        except sqlite3.Error as exc:
            raise as_sqlalchemy_error(exc, sql) from exc

    async def close(self) -> None:
        await self.pool.close()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
