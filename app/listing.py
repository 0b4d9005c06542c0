"""Keyset pagination over SQL: the page after a cursor, in a stable order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, String, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidArgument
from app.pagination import Page, check_first, decode_cursor, page

T = TypeVar("T")


async def keyset_page(
    session: AsyncSession, stmt: Select, *, order: Sequence[Any], first: int | None,
    after: str | None, key: Callable[[Any], tuple], descending: bool = False,
    row: Callable[[Any], T] = lambda r: r,
) -> Page[T]:
    """Run ``stmt`` ordered by ``order`` (unique together), from after ``after``."""
    limit = check_first(first)
    if after:
        values = decode_cursor(after, arity=len(order))
        for column, value in zip(order, values, strict=True):
            sql_type = getattr(column.type, "impl", column.type)  # AutoString wraps String
            expected = str if isinstance(sql_type, String) else column.type.python_type
            if not isinstance(value, expected) or isinstance(value, bool) or (
                expected is int and not -(2**63) <= value < 2**63
            ):
                raise InvalidArgument("malformed cursor: pass an endCursor from a previous page",
                                      field="after")
        bound = tuple_(*order)
        stmt = stmt.where(bound < tuple_(*values) if descending else bound > tuple_(*values))
    stmt = stmt.order_by(*[c.desc() if descending else c.asc() for c in order]).limit(limit + 1)
    rows = (await session.execute(stmt)).all()
    return page([row(r) for r in rows], limit, key)
