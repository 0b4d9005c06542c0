"""Unit tests for app.pagination: opaque cursors, page sizes and pages."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.errors import InvalidArgument
from app.pagination import (
    DEFAULT_FIRST,
    MAX_CURSOR_LENGTH,
    MAX_FIRST,
    Page,
    check_first,
    decode_cursor,
    encode_cursor,
    page,
)

MALFORMED = "malformed cursor: pass an endCursor from a previous page"
AT = datetime(2026, 1, 31, 10, 0, 0, 123456, tzinfo=UTC)


def raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def b64(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_limits() -> None:
    assert DEFAULT_FIRST == 50
    assert MAX_FIRST == 500
    assert MAX_CURSOR_LENGTH == 1000


# --------------------------------------------------------------------------- cursors


@pytest.mark.parametrize(
    "values",
    [
        (),
        ("m1",),
        (AT, "m1"),
        (AT.replace(tzinfo=None), "m1"),  # SQLite hands back naive datetimes
        (AT.astimezone(timezone(timedelta(hours=2))), 7),
        (1, 2.5, True, False, None, ""),
        ("Équipe sécurité 🔒", "a\"b\\c", "/+=?&"),
        ("2026-01-31T10:00:00+00:00",),  # a string that looks like a datetime stays a string
        (-(2**63), 2**70),
    ],
)
def test_cursor_round_trip(values: tuple[Any, ...]) -> None:
    cursor = encode_cursor(values)
    decoded = decode_cursor(cursor, arity=len(values))
    assert decoded == values
    assert [type(v) for v in decoded] == [type(v) for v in values]
    for before, after in zip(values, decoded, strict=True):
        if isinstance(before, datetime):
            assert after.utcoffset() == before.utcoffset()


def test_cursor_is_urlsafe_base64_without_padding() -> None:
    for values in [("a",), ("ab",), ("abc",), (AT, "m1"), ("???>>>~~~",)]:
        cursor = encode_cursor(values)
        assert cursor
        assert set(cursor) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_cursor_holds_compact_json_with_iso_datetimes() -> None:
    cursor = encode_cursor((AT, "m1", 3))
    assert raw(cursor) == b'[{"t":"2026-01-31T10:00:00.123456+00:00"},"m1",3]'
    assert json.loads(raw(cursor)) == [{"t": AT.isoformat()}, "m1", 3]


def test_cursor_is_deterministic() -> None:
    assert encode_cursor((AT, "m1")) == encode_cursor((AT, "m1"))
    assert encode_cursor((AT, "m1")) != encode_cursor((AT, "m2"))


@pytest.mark.parametrize("value", [object(), b"bytes", ["list"], {"a": 1}, {1, 2}])
def test_unsupported_values_cannot_be_encoded(value: object) -> None:
    with pytest.raises(TypeError, match="a cursor cannot hold"):
        encode_cursor((value,))


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_floats_cannot_be_encoded(value: float) -> None:
    with pytest.raises(ValueError):
        encode_cursor((value,))


def assert_malformed(cursor: Any, arity: int = 2) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        decode_cursor(cursor, arity=arity)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.message == MALFORMED
    assert err.details == {"field": "after"}
    assert err.extensions() == {"code": "INVALID_ARGUMENT", "field": "after"}


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        " ",
        "!!!!",
        "abc$",
        "a b",
        b64('["a","b"]') + "==",  # padding is never produced
        b64('["a","b"]') + "\n",
        "a",  # not a valid base64 length
        b64('["a",'),  # not JSON
        b64("not json"),
        b64(b"\xff\xfe[1,2]"),  # not UTF-8
        b64("{}"),  # not an array
        b64('"ab"'),
        b64("12"),
        b64("null"),
        b64('["a"]'),  # wrong length
        b64('["a","b","c"]'),
        b64("[]"),
        b64('[["a"],"b"]'),  # nested array
        b64('[{"x":"2026-01-31"},"b"]'),  # unknown object
        b64('[{"t":"2026-01-31","u":1},"b"]'),
        b64('[{"t":5},"b"]'),
        b64('[{"t":"yesterday"},"b"]'),  # not an ISO datetime
        b64("[NaN,1]"),
        b64("[Infinity,1]"),
        b64("[-Infinity,1]"),
        b64("[" * 300 + "]" * 300),  # deeply nested
        "A" * (MAX_CURSOR_LENGTH + 1),
        None,
        123,
        ["a", "b"],
    ],
)
def test_malformed_cursors_are_refused(cursor: Any) -> None:
    assert_malformed(cursor)


def test_cursor_of_another_arity_is_refused() -> None:
    assert_malformed(encode_cursor((AT, "m1", 3)), arity=2)
    assert_malformed(encode_cursor(("m1",)), arity=2)


def test_longest_accepted_cursor() -> None:
    cursor = encode_cursor(("x" * 700,))
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert decode_cursor(cursor, arity=1) == ("x" * 700,)


def test_error_does_not_echo_the_cursor() -> None:
    cursor = b64('["<script>", 1, 2]')
    with pytest.raises(InvalidArgument) as exc_info:
        decode_cursor(cursor, arity=2)
    assert cursor not in exc_info.value.message
    assert "script" not in str(exc_info.value.extensions())


# --------------------------------------------------------------------------- page size


def test_first_defaults() -> None:
    assert check_first(None) == 50
    assert check_first(None, default=20) == 20


@pytest.mark.parametrize("first", [1, 2, 50, 499, 500])
def test_first_in_range_is_kept(first: int) -> None:
    assert check_first(first) == first


@pytest.mark.parametrize("first", [0, -1, -500, 501, 10_000])
def test_first_out_of_range_is_refused(first: int) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_first(first)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "first"}
    assert err.message == f"first must be between 1 and 500 (got {first})"


def test_first_with_another_maximum() -> None:
    assert check_first(10, maximum=10) == 10
    with pytest.raises(InvalidArgument) as exc_info:
        check_first(11, maximum=10)
    assert exc_info.value.message == "first must be between 1 and 10 (got 11)"


# --------------------------------------------------------------------------- pages

ITEMS = [{"id": f"m{i}", "at": AT + timedelta(minutes=i)} for i in range(7)]


def key(item: dict[str, Any]) -> tuple[Any, ...]:
    return (item["at"], item["id"])


def test_page_with_an_extra_row_has_a_next_page() -> None:
    result = page(ITEMS[:4], 3, key)
    assert isinstance(result, Page)
    assert result.items == ITEMS[:3]
    assert result.has_next_page is True
    assert result.end_cursor == encode_cursor(key(ITEMS[2]))
    assert decode_cursor(result.end_cursor, arity=2) == (ITEMS[2]["at"], "m2")


def test_last_full_page_has_no_next_page() -> None:
    result = page(ITEMS[:3], 3, key)
    assert result.items == ITEMS[:3]
    assert result.has_next_page is False
    assert result.end_cursor == encode_cursor(key(ITEMS[2]))


def test_short_page() -> None:
    result = page(ITEMS[:2], 3, key)
    assert result == Page(items=ITEMS[:2], has_next_page=False,
                          end_cursor=encode_cursor(key(ITEMS[1])))


def test_empty_page_has_no_cursor() -> None:
    assert page([], 3, key) == Page(items=[], has_next_page=False, end_cursor=None)


def test_page_items_are_a_new_list() -> None:
    rows = ITEMS[:4]
    result = page(rows, 3, key)
    result.items.append(ITEMS[6])
    assert rows == ITEMS[:4]


def test_page_accepts_tuples() -> None:
    result = page(tuple(ITEMS[:4]), 3, key)
    assert result.items == ITEMS[:3]
    assert isinstance(result.items, list)


def test_walking_every_page_sees_every_item_once() -> None:
    """Keyset pagination as a resolver does it: fetch first + 1 rows after the cursor."""
    first = 3
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        bound = decode_cursor(after, arity=2) if after is not None else None
        rows = [item for item in ITEMS if bound is None or key(item) > bound][: first + 1]
        result = page(rows, first, key)
        pages += 1
        seen += [item["id"] for item in result.items]
        if not result.has_next_page:
            break
        after = result.end_cursor
    assert seen == [item["id"] for item in ITEMS]
    assert pages == 3
