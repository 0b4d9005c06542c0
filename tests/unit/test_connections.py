"""app.driver.Connections, the pool of the driver's connections, with stand-in connections: bounded,
fair to waiters, never hands out a connection in doubt or from before ``expire()``."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from app.driver import Connections


class FakeConnection:
    ids = itertools.count(1)

    def __init__(self) -> None:
        self.id = next(self.ids)
        self.closed = False
        self.in_transaction = False

    def is_closed(self) -> bool:
        return self.closed

    def is_in_transaction(self) -> bool:
        return self.in_transaction

    def terminate(self) -> None:
        self.closed = True

    async def close(self) -> None:
        self.closed = True


def pool(size: int) -> tuple[Connections, list[FakeConnection]]:
    opened: list[FakeConnection] = []

    async def connect() -> FakeConnection:
        await asyncio.sleep(0)
        opened.append(FakeConnection())
        return opened[-1]

    return Connections(connect, size), opened


async def test_reuses_the_most_recently_returned_and_reports_idle_time():
    p, opened = pool(3)
    a, idle_a = await p.acquire()
    b, _ = await p.acquire()
    assert idle_a == 0.0 and len(opened) == 2
    p.release(a, reuse=True)
    p.release(b, reuse=True)
    again, idle = await p.acquire()
    assert again is b and idle >= 0.0
    assert len(opened) == 2


async def test_never_more_than_size_and_waiters_served_in_order():
    p, opened = pool(1)
    first, _ = await p.acquire()
    order: list[str] = []

    async def user(name: str) -> None:
        conn, _ = await p.acquire()
        order.append(name)
        await asyncio.sleep(0)
        p.release(conn, reuse=True)

    waiting = [asyncio.create_task(user(n)) for n in ("b", "c", "d")]
    await asyncio.sleep(0.01)
    p.release(first, reuse=True)
    # Asking again right after returning it (no await between) queues behind the waiters.
    async with asyncio.timeout(2):
        again, _ = await p.acquire()
        order.append("again")
        await asyncio.gather(*waiting)
    assert order == ["b", "c", "d", "again"] and again is first
    assert len(opened) == 1


async def test_a_connection_in_doubt_is_closed_and_its_place_goes_to_a_waiter():
    p, opened = pool(1)
    conn, _ = await p.acquire()
    waiter = asyncio.create_task(p.acquire())
    await asyncio.sleep(0.01)
    p.release(conn, reuse=False)
    fresh, idle = await waiter
    assert conn.closed and fresh is not conn and idle == 0.0
    fresh.in_transaction = True  # returned inside a transaction: not kept either
    p.release(fresh, reuse=True)
    third, _ = await p.acquire()
    assert fresh.closed and third not in (conn, fresh)
    assert len(opened) == 3


async def test_expire_closes_the_connections_opened_before_it():
    p, opened = pool(2)
    a, _ = await p.acquire()
    b, _ = await p.acquire()
    p.release(a, reuse=True)
    p.expire()
    p.release(b, reuse=True)  # returned after expire(): closed
    c, _ = await p.acquire()  # a was idle from before: closed, a new one instead
    assert a.closed and b.closed and c not in (a, b)
    d, _ = await p.acquire()
    assert d not in (a, b, c) and len(opened) == 4


async def test_a_waiter_cancelled_as_it_is_handed_a_connection_passes_it_on():
    p, _ = pool(1)
    conn, _ = await p.acquire()
    cancelled = asyncio.create_task(p.acquire())
    patient = asyncio.create_task(p.acquire())
    await asyncio.sleep(0.01)
    p.release(conn, reuse=True)  # handed to `cancelled`, which is cancelled before it runs
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    got, _ = await asyncio.wait_for(patient, 1)
    assert got is conn


async def test_a_failed_connect_frees_its_place():
    attempts = []

    async def connect() -> FakeConnection:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("connection refused")
        return FakeConnection()

    p = Connections(connect, 1)
    with pytest.raises(OSError):
        await p.acquire()
    conn, _ = await p.acquire()
    assert isinstance(conn, FakeConnection) and len(attempts) == 2
