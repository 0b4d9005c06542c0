"""Search strings with runZero's keyword syntax: parse them into terms, turn terms into filters.

A search string is a list of terms separated by white space; all terms must match (AND)::

    sso_attribute:department group_name:"Security Team" created_at:>2weeks admins

* ``key:value`` filters on a keyword the caller allows. A *text* keyword matches its value
  exactly (case-sensitive); a *time* keyword takes a date, a date-time or an age (below).
* Anything else is free text, matched as a case-insensitive "contains" against the caller's
  free-text columns. A term that looks like ``word:...`` but whose word is not an allowed
  keyword is refused rather than silently searched as text; quote it (``"https://x"``) to
  search for text that holds a colon.
* Double quotes let a value hold white space: ``group_name:"Security Team"``. Inside or outside
  quotes, ``\\"`` is a literal quote and ``\\\\`` a literal backslash; other backslashes are kept.
  A quoted value of a text keyword is always literal (``group_name:">x"`` matches ``>x``).

Time values (every bound is an aware UTC datetime):

* A date ``2026-01-31`` is that whole UTC day: ``created_at:2026-01-31`` matches the day,
  ``>2026-01-31`` after the day (from 2026-02-01), ``>=`` from its start, ``<`` before its
  start, ``<=`` up to its end.
* An RFC 3339 date-time ``2026-01-31T10:00:00Z`` (offset required) is an instant: with no
  operator it matches that exact instant, otherwise it compares with ``>``, ``<``, ``>=``, ``<=``.
* An age ``>2weeks``, ``<1year``, ``>=3days``, ``<12hours`` is measured back from now and needs
  an operator: ``created_at:<2weeks`` is "created less than two weeks ago", that is
  ``created_at > now - 2 weeks``; ``created_at:>1year`` is "more than a year ago", that is
  ``created_at < now - 365 days``. Units: minute(s)/min(s), hour(s)/hr(s)/h, day(s)/d,
  week(s)/wk(s)/w, month(s)/mo (30 days), year(s)/yr(s)/y (365 days). A bare ``m`` is refused
  as ambiguous.

Pure: no I/O; ``now`` is passed in.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_

from app.clock import as_utc
from app.errors import InvalidArgument
from app.validation import has_control_characters

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 50

#: The kinds of keyword a caller can allow.
TEXT = "text"
TIME = "time"
KINDS = (TEXT, TIME)

#: Operators a term can carry: comparisons, and ``~`` (contains) for free text.
OPS = ("=", ">", "<", ">=", "<=", "~")

_UNITS: dict[str, timedelta] = {}
for _names, _delta in (
    (("minute", "minutes", "min", "mins"), timedelta(minutes=1)),
    (("hour", "hours", "hr", "hrs", "h"), timedelta(hours=1)),
    (("day", "days", "d"), timedelta(days=1)),
    (("week", "weeks", "wk", "wks", "w"), timedelta(weeks=1)),
    (("month", "months", "mo"), timedelta(days=30)),
    (("year", "years", "yr", "yrs", "y"), timedelta(days=365)),
):
    for _name in _names:
        _UNITS[_name] = _delta

_KEYWORD_RE = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*):(.*)", re.DOTALL)
_OP_RE = re.compile(r"(>=|<=|>|<)?(.*)", re.DOTALL)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_NAIVE_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?", re.ASCII
)
_AGE_RE = re.compile(r"(\d{1,9})\s*([A-Za-z]+)", re.ASCII)
#: What an age flips to: an age above N means a time before now - N, and so on.
_AGE_TO_TIME = {">": "<", ">=": "<=", "<": ">", "<=": ">="}

_TIME_FORMS = (
    "a date (2026-01-31), an RFC 3339 date-time (2026-01-31T10:00:00Z), either optionally "
    "after >, <, >= or <=, or an age after > or < (>2weeks, <12hours)"
)
_UNIT_FORMS = (
    "minute(s)/min, hour(s)/h, day(s)/d, week(s)/w, month(s)/mo (30 days) or year(s)/y (365 days)"
)


@dataclass(frozen=True)
class Term:
    """One condition from a search string; all terms of a search must hold."""

    key: str | None  # None = free text
    op: str  # "=", ">", "<", ">=", "<=", "~" (contains, for free text)
    value: str | datetime
    position: int  # index of the term in the input: the offset of its first character
    text: str  # the term as written


@dataclass(frozen=True)
class _Token:
    """A term as written: its text, offset, and its pieces as (text, was quoted)."""

    text: str
    position: int
    pieces: tuple[tuple[str, bool], ...]


def _error(token: _Token, problem: str) -> InvalidArgument:
    return InvalidArgument(
        f"search term {token.text!r} (at position {token.position}) {problem}",
        field="query",
        term=token.text,
        position=token.position,
    )


def _tokens(query: str) -> list[_Token]:
    """Split ``query`` into terms at white space outside double quotes."""
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        start = i
        pieces: list[tuple[str, bool]] = []
        plain: list[str] = []
        while i < n and not query[i].isspace():
            c = query[i]
            if c == "\\" and i + 1 < n and query[i + 1] in '"\\':
                plain.append(query[i + 1])
                i += 2
            elif c == '"':
                if plain:
                    pieces.append(("".join(plain), False))
                    plain = []
                quoted: list[str] = []
                i += 1
                while True:
                    if i >= n:
                        text = query[start:].rstrip()
                        raise _error(
                            _Token(text, start, ()),
                            'has an unterminated quote: close it with " '
                            '(write \\" for a quote inside the value)',
                        )
                    c = query[i]
                    if c == "\\" and i + 1 < n and query[i + 1] in '"\\':
                        quoted.append(query[i + 1])
                        i += 2
                    elif c == '"':
                        i += 1
                        break
                    else:
                        quoted.append(c)
                        i += 1
                pieces.append(("".join(quoted), True))
            else:
                plain.append(c)
                i += 1
        if plain:
            pieces.append(("".join(plain), False))
        token = _Token(query[start:i], start, tuple(pieces))
        if len(tokens) == MAX_TERMS:
            raise _error(token, f"is one term too many: a search has at most {MAX_TERMS} terms")
        tokens.append(token)
    return tokens


def parse_query(query: str | None, *, keys: Mapping[str, str], now: datetime) -> list[Term]:
    """Parse a search string into terms; raise INVALID_ARGUMENT (field ``query``) on bad input.

    ``keys`` maps each allowed keyword to its kind, ``"text"`` or ``"time"``; keywords are
    matched case-insensitively. ``now`` anchors relative ages. An empty or blank query gives
    no terms. A date without an operator gives two terms (start of day and start of next day).
    """
    for key, kind in keys.items():
        if kind not in KINDS:
            raise ValueError(f"search keyword {key!r} has kind {kind!r}; expected one of {KINDS}")
    if not query:
        return []
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidArgument(
            f"the search is {len(query)} characters long; at most {MAX_QUERY_LENGTH} are allowed",
            field="query",
        )
    by_name = {key.lower(): key for key in keys}
    now = as_utc(now)
    terms: list[Term] = []
    for token in _tokens(query):
        terms.extend(_parse_token(token, keys, by_name, now))
    return terms


def _parse_token(
    token: _Token, keys: Mapping[str, str], by_name: Mapping[str, str], now: datetime
) -> list[Term]:
    first, first_quoted = token.pieces[0]
    match = None if first_quoted else _KEYWORD_RE.fullmatch(first)
    if match is None:
        value = "".join(piece for piece, _ in token.pieces)
        if not value:
            raise _error(token, "is empty: put some text between the quotes")
        _refuse_control_characters(token, value)
        return [Term(None, "~", value, token.position, token.text)]

    name, rest = match.groups()
    key = by_name.get(name.lower())
    if key is None:
        allowed = ", ".join(keys) or "none"
        raise _error(
            token,
            f"uses the unknown keyword {name!r}; the keywords here are: {allowed} "
            '(to search for text with a colon, put it in double quotes: "a:b")',
        )
    value_pieces = ((rest, False), *token.pieces[1:]) if rest else token.pieces[1:]
    value = "".join(piece for piece, _ in value_pieces)
    if not value:
        raise _error(
            token,
            f"has no value: write {key}:<value>, in double quotes if it holds spaces "
            f'({key}:"a b")',
        )
    _refuse_control_characters(token, value)

    if keys[key] == TEXT:
        leading, leading_quoted = value_pieces[0]
        if not leading_quoted and leading[:1] in ("<", ">"):
            op = leading[:2] if leading[1:2] == "=" else leading[:1]
            raise _error(
                token,
                f"compares with {op!r}, but "
                f"{key} matches exact text only: write {key}:<value>, or put the value in "
                f'double quotes to match it literally ({key}:"{value}")',
            )
        return [Term(key, "=", value, token.position, token.text)]
    return _time_terms(token, key, value, now)


def _refuse_control_characters(token: _Token, value: str) -> None:
    if has_control_characters(value):
        raise _error(token, "contains control characters (such as NUL); remove them")


def _time_terms(token: _Token, key: str, value: str, now: datetime) -> list[Term]:
    match = _OP_RE.fullmatch(value.strip())
    assert match is not None  # the pattern matches any string
    op, body = match.group(1), match.group(2).strip()

    def term(op: str, at: datetime) -> Term:
        return Term(key, op, at, token.position, token.text)

    if _DATE_RE.fullmatch(body):
        try:
            start = datetime.fromisoformat(body).replace(tzinfo=UTC)
            next_day = start + timedelta(days=1)
        except (ValueError, OverflowError):
            raise _error(
                token, f"has {body!r}, which is not a calendar date (2026-01-31)"
            ) from None
        if op is None:
            return [term(">=", start), term("<", next_day)]
        if op == ">":
            return [term(">=", next_day)]
        if op == "<=":
            return [term("<", next_day)]
        return [term(op, start)]

    if _DATETIME_RE.fullmatch(body):
        try:
            at = datetime.fromisoformat(body.upper()).astimezone(UTC)
        except (ValueError, OverflowError):
            raise _error(
                token, f"has {body!r}, which is not a valid date-time (2026-01-31T10:00:00Z)"
            ) from None
        return [term(op or "=", at)]

    if _NAIVE_DATETIME_RE.fullmatch(body):
        raise _error(
            token,
            f"has the date-time {body!r} without a time zone: add Z for UTC "
            "(2026-01-31T10:00:00Z) or an offset (+02:00)",
        )

    age = _AGE_RE.fullmatch(body)
    if age is not None:
        count, unit_name = int(age.group(1)), age.group(2).lower()
        unit = _UNITS.get(unit_name)
        if unit is None:
            hint = " ('m' is ambiguous: write min for minutes or mo for months)" if (
                unit_name == "m"
            ) else ""
            raise _error(
                token, f"has the unknown time unit {age.group(2)!r}{hint}; use {_UNIT_FORMS}"
            )
        if op is None:
            raise _error(
                token,
                f"gives an age without > or <: write {key}:<{body} for less than {body} ago, "
                f"or {key}:>{body} for more than {body} ago",
            )
        try:
            bound = now - count * unit
        except OverflowError:
            raise _error(token, f"has the age {body!r}, which reaches too far back") from None
        return [term(_AGE_TO_TIME[op], bound)]

    raise _error(token, f"does not give a time: {key} expects {_TIME_FORMS}")


_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def clauses(
    terms: list[Term],
    columns: Mapping[str, ColumnElement[Any]],
    free_text: Sequence[ColumnElement[Any]],
) -> list[ColumnElement[bool]]:
    """SQLAlchemy conditions for ``terms``, one per term, to be ANDed (``select().where(*...)``).

    ``columns`` maps each keyword to its column. Keyword terms compare their column with the
    value (text: exact, case-sensitive). Free text matches when any ``free_text`` column
    contains it, ignoring case (``lower(col) LIKE '%value%'``, with % and _ escaped); on SQLite
    ``lower`` folds ASCII letters only. Free text where no ``free_text`` columns are given is
    INVALID_ARGUMENT; a keyword without a column is a programming error (ValueError).
    """
    out: list[ColumnElement[bool]] = []
    for term in terms:
        if term.op == "~":
            if not free_text:
                raise InvalidArgument(
                    f"search term {term.text!r} (at position {term.position}) is free text, which "
                    "cannot be searched here: use keyword:value",
                    field="query",
                    term=term.text,
                    position=term.position,
                )
            needle = str(term.value).lower()
            out.append(
                or_(*(func.lower(col).contains(needle, autoescape=True) for col in free_text))
            )
            continue
        if term.key is None or term.key not in columns:
            raise ValueError(f"search keyword {term.key!r} has no column")
        compare = _COMPARE.get(term.op)
        if compare is None:
            raise ValueError(f"search term {term.text!r} has the unknown operator {term.op!r}")
        out.append(compare(columns[term.key], term.value))
    return out
