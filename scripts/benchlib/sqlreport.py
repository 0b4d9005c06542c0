"""Where a sign-in's database time goes: sequential sign-ins run in this process through the
app's own ``sign_in`` (no HTTP, no concurrency), with every SQL statement timed (the driver's
``on_statement`` hook for the statements the sign-in runs on the driver, SQLAlchemy's cursor
events for any that go through its engine), and the plan of the slowest query (EXPLAIN ANALYZE /
EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import httpx
from sqlalchemy import event


async def _sign_ins(db, prime: list[str], tokens: list[str]) -> tuple[float, dict[str, list]]:
    from app.login.exchange import sign_in
    from app.login.jwks import KeyCache
    from app.signing import KeyRing

    stats: dict[str, list] = collections.defaultdict(lambda: [0, 0.0, "", None])
    engine = db.engine.sync_engine

    def before(conn, _cursor, _statement, _params, _context, _many) -> None:
        conn.info["bench_t"] = time.perf_counter()

    def record(statement: str, params: Any, seconds: float) -> None:
        s = stats[" ".join(statement.split())[:160]]
        s[0] += 1
        s[1] += seconds
        s[2], s[3] = statement, params

    def after(conn, _cursor, statement, params, _context, _many) -> None:
        record(statement, params, time.perf_counter() - conn.info.pop("bench_t",
                                                                      time.perf_counter()))

    ring = KeyRing(db)
    await ring.load()
    async with httpx.AsyncClient(timeout=10) as http:
        keys = KeyCache(http)
        for token in prime or tokens[:1]:  # warm caches; put the users in a known state
            await sign_in(db, keys, ring, token=token, issuer="bench", ttl=900)
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        db.driver.on_statement = record
        try:
            started = time.perf_counter()
            for token in tokens:
                await sign_in(db, keys, ring, token=token, issuer="bench", ttl=900)
            elapsed = time.perf_counter() - started
        finally:
            db.driver.on_statement = None
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
    return elapsed, stats


class _RollBack(Exception):
    pass


async def _plan(db, statement: str, params: Any) -> list[str]:
    explain = "EXPLAIN ANALYZE " if db.engine.dialect.name == "postgresql" else \
        "EXPLAIN QUERY PLAN "
    # In a transaction that is rolled back: EXPLAIN ANALYZE runs the statement.
    try:
        async with db.statements() as conn:
            rows = (await conn.exec_driver_sql(explain + statement, params)).all()
            raise _RollBack
    except _RollBack:
        pass
    lines = [" | ".join(str(c) for c in row) for row in rows]
    # A plan over hundreds of OR'ed index probes: keep its shape and its timings.
    if len(lines) > 24:
        lines = lines[:8] + [f"... ({len(lines) - 14} lines)"] + lines[-6:]
    return [line if len(line) < 240 else line[:237] + "..." for line in lines]


async def _per_call_us(n: int, call) -> float:
    await call()  # prepared, cached
    started = time.perf_counter()
    for _ in range(n):
        await call()
    return round(1e6 * (time.perf_counter() - started) / n, 1)


async def statement_costs(db, n: int = 2000) -> dict[str, float]:
    """What one statement costs through each layer (a one-row primary-key lookup, run
    sequentially): SQLAlchemy's ORM session and connection, teamclaims' driver connection
    (``app.driver``), the driver itself; and what a read (``Database.read``), a plain-statement
    transaction (``Database.statements``) or an ORM transaction around one statement cost."""
    from sqlalchemy import bindparam, select

    from models import Scope

    stmt = select(Scope.mrn, Scope.org_mrn).where(Scope.mrn == bindparam("m"))
    params = {"m": "//captain.api.mondoo.app/organizations/bench"}
    out: dict[str, float] = {}
    async with db.transaction() as session:
        out["orm_session_execute_us"] = await _per_call_us(
            n, lambda: session.execute(stmt, params))
        conn = await session.connection()
        out["connection_execute_us"] = await _per_call_us(n, lambda: conn.execute(stmt, params))
    async with db.read() as reader:
        out["driver_connection_execute_us"] = await _per_call_us(
            n, lambda: reader.execute(stmt, params))
    async with db.transaction() as session:
        conn = await session.connection()
        raw = (await conn.get_raw_connection()).driver_connection
        if db.engine.dialect.name == "postgresql":
            out["driver_us"] = await _per_call_us(n, lambda: raw.fetchrow(
                "SELECT mrn, org_mrn FROM scope WHERE mrn = $1", params["m"]))
        else:
            async def one() -> None:
                cursor = await raw.execute("SELECT mrn, org_mrn FROM scope WHERE mrn = ?",
                                           (params["m"],))
                await cursor.fetchone()
                await cursor.close()
            out["driver_us"] = await _per_call_us(n, one)

    async def in_read() -> None:
        async with db.read() as s:
            await s.execute(stmt, params)

    async def in_transaction() -> None:
        async with db.transaction() as s:
            await s.execute(stmt, params)

    async def in_statements() -> None:
        async with db.statements() as s:
            await s.execute(stmt, params)

    out["read_session_with_one_statement_us"] = await _per_call_us(n // 4, in_read)
    out["statements_with_one_statement_us"] = await _per_call_us(n // 4, in_statements)
    out["transaction_with_one_statement_us"] = await _per_call_us(n // 4, in_transaction)
    return out


async def report(database_url: str, cases: dict[str, tuple[list[str], list[str]]]) -> dict:
    """``cases``: label -> (ID tokens exchanged first, untimed; ID tokens timed)."""
    from app.db import Database

    db = Database(database_url)
    out: dict = {}
    try:
        for label, (prime, tokens) in cases.items():
            if not tokens:
                continue
            elapsed, stats = await _sign_ins(db, prime, tokens)
            n = len(tokens)
            rows = sorted(stats.items(), key=lambda kv: -kv[1][1])
            selects = [v for k, v in rows if k.upper().startswith(("SELECT", "WITH"))]
            top = selects[0] if selects else None
            out[label] = {
                "sign_ins": n,
                "ms_per_sign_in": round(1000 * elapsed / n, 2),
                "sql_ms_per_sign_in": round(1000 * sum(v[1] for _, v in rows) / n, 2),
                "statements": [{"sql": k, "per_sign_in": round(v[0] / n, 1),
                                "ms_per_sign_in": round(1000 * v[1] / n, 3)}
                               for k, v in rows[:12]],
                "slowest_plan": await _plan(db, top[2], top[3]) if top else [],
            }
        out["statement_costs"] = await statement_costs(db)
    finally:
        await db.dispose()
    return out


def render(result: dict) -> str:
    lines = []
    costs = result.get("statement_costs")
    for label, r in result.items():
        if label == "statement_costs":
            continue
        lines += [f"{label}: {r['sign_ins']} sequential sign-ins in-process, "
                  f"{r['ms_per_sign_in']} ms each, of which SQL {r['sql_ms_per_sign_in']} ms "
                  "(wall time of each statement)", ""]
        lines += [f"{s['ms_per_sign_in']:9.3f} ms  x{s['per_sign_in']:<5} {s['sql']}"
                  for s in r["statements"]]
        lines += ["", "plan of the slowest query:"] + [f"    {x}" for x in r["slowest_plan"]]
        lines.append("")
    if costs:
        lines += ["one statement (a primary-key lookup), sequential, microseconds of wall time:",
                  f"    through the ORM session                    {costs['orm_session_execute_us']:8.1f}",
                  f"    through a SQLAlchemy connection            {costs['connection_execute_us']:8.1f}",
                  f"    through teamclaims' driver connection      {costs['driver_connection_execute_us']:8.1f}",
                  f"    through the driver itself                  {costs['driver_us']:8.1f}",
                  f"    Database.read + 1 statement                {costs['read_session_with_one_statement_us']:8.1f}",
                  f"    Database.statements (transaction) + 1      {costs['statements_with_one_statement_us']:8.1f}",
                  f"    Database.transaction (ORM) + 1 statement   {costs['transaction_with_one_statement_us']:8.1f}",
                  ""]
    return "\n".join(lines)


def run(database_url: str, cases: dict[str, tuple[list[str], list[str]]]) -> dict:
    return asyncio.run(report(database_url, cases))
