"""Opaque cursors and pages for Relay-style connections (``first`` / ``after``). Pure.

A list is read in a fixed key order (for example ``(created_at, id)``). A cursor holds the key
of the last item of a page; the next page is the rows whose key comes after it. The caller
fetches ``first + 1`` rows: the extra row only tells whether there is a next page.

A cursor is URL-safe base64 (no padding) of a compact JSON array of the key values. Strings,
integers, floats, booleans and null are stored as themselves; a datetime is stored as its ISO
string wrapped as ``{"t": "2026-01-31T10:00:00+00:00"}``, so that it decodes to a datetime
again and never to a string that merely looks like one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from app.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_FIRST = 50
MAX_FIRST = 500
#: Longer cursors are refused before decoding; real ones are far shorter.
MAX_CURSOR_LENGTH = 1000

_MALFORMED = "malformed cursor: pass an endCursor from a previous page"
_CURSOR_RE = re.compile(r"[A-Za-z0-9_-]+")
_DATETIME_TAG = "t"


def _malformed() -> InvalidArgument:
    return InvalidArgument(_MALFORMED, field="after")


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_DATETIME_TAG: value.isoformat()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a cursor cannot hold {type(value).__name__} values: {value!r}")


def encode_cursor(values: tuple[Any, ...]) -> str:
    """The opaque cursor for a key: URL-safe base64 of compact JSON, without padding."""
    data = json.dumps(
        [_encode_value(v) for v in values],
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {_DATETIME_TAG} or not isinstance(value[_DATETIME_TAG], str):
            raise ValueError("unexpected object in cursor")
        return datetime.fromisoformat(value[_DATETIME_TAG])
    if isinstance(value, list):
        raise ValueError("unexpected list in cursor")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} in cursor")


def decode_cursor(cursor: str, *, arity: int) -> tuple[Any, ...]:
    """The key held by ``cursor``, which must hold ``arity`` values.

    Anything else (not base64, not JSON, the wrong shape or length) is INVALID_ARGUMENT
    with field ``after``; the message never echoes the cursor.
    """
    if (
        not isinstance(cursor, str)
        or len(cursor) > MAX_CURSOR_LENGTH
        or not _CURSOR_RE.fullmatch(cursor)
    ):
        raise _malformed()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        if not isinstance(data, list) or len(data) != arity:
            raise ValueError("wrong shape")
        return tuple(_decode_value(v) for v in data)
    except (ValueError, TypeError, RecursionError, binascii.Error):
        raise _malformed() from None


def check_first(
    first: int | None, *, default: int = DEFAULT_FIRST, maximum: int = MAX_FIRST
) -> int:
    """The page size: ``default`` when not given, else 1 to ``maximum`` (INVALID_ARGUMENT)."""
    if first is None:
        return default
    if first < 1 or first > maximum:
        raise InvalidArgument(
            f"first must be between 1 and {maximum} (got {first})", field="first"
        )
    return first


@dataclass
class Page(Generic[T]):
    """One page of a connection: its items, and where the next page starts."""

    items: list[T]
    has_next_page: bool
    end_cursor: str | None


def page(rows: Sequence[T], first: int, key: Callable[[T], tuple[Any, ...]]) -> Page[T]:
    """Cut ``rows`` (fetched in key order, ``first + 1`` of them) into a page of ``first``.

    ``has_next_page`` is true when more than ``first`` rows were given; ``end_cursor`` is the
    cursor of the last item, or None for an empty page.
    """
    items = list(rows[:first])
    end_cursor = encode_cursor(key(items[-1])) if items else None
    return Page(items=items, has_next_page=len(rows) > first, end_cursor=end_cursor)
