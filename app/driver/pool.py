"""A small connection pool: bounded, fair to waiters, never hands out a connection in doubt."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any


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
