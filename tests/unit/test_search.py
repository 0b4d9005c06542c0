"""Unit tests for app.search: runZero-style search strings, terms, and the SQL they become."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from app.errors import InvalidArgument
from app.search import MAX_QUERY_LENGTH, MAX_TERMS, Term, clauses, parse_query

#: The keywords of runZero's "Searching for SSO group mappings".
KEYS = {
    "id": "text",
    "sso_attribute": "text",
    "sso_value": "text",
    "created_at": "time",
    "updated_at": "time",
    "created_by_email": "text",
    "group_id": "text",
    "group_name": "text",
}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def parse(query: str | None) -> list[Term]:
    return parse_query(query, keys=KEYS, now=NOW)


def refused(query: str) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as exc_info:
        parse(query)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.extensions()["code"] == "INVALID_ARGUMENT"
    return err


def assert_term_error(err: InvalidArgument, term: str, position: int, *phrases: str) -> None:
    """The error names the field, the term as written and its position, and quotes the term."""
    assert err.details == {"field": "query", "term": term, "position": position}
    assert repr(term) in err.message
    assert f"at position {position}" in err.message
    for phrase in phrases:
        assert phrase in err.message, (phrase, err.message)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_limits() -> None:
    assert MAX_QUERY_LENGTH == 1000
    assert MAX_TERMS == 50


# --------------------------------------------------------------------------- empty searches


@pytest.mark.parametrize("query", [None, "", " ", "   ", "\t\n", " \r\n\t "])
def test_empty_or_blank_search_has_no_terms(query: str | None) -> None:
    assert parse(query) == []


# --------------------------------------------------------------------------- text keywords


@pytest.mark.parametrize(
    ("query", "key", "value"),
    [
        # the examples of the runZero documentation
        ("id:123456789", "id", "123456789"),
        ("sso_attribute:department", "sso_attribute", "department"),
        ("sso_value:securityteam", "sso_value", "securityteam"),
        ("created_by_email:user@example.com", "created_by_email", "user@example.com"),
        ("group_id:123456789", "group_id", "123456789"),
        ("group_name:group1", "group_name", "group1"),
    ],
)
def test_text_keywords_match_exactly(query: str, key: str, value: str) -> None:
    assert parse(query) == [Term(key=key, op="=", value=value, position=0, text=query)]


def test_text_values_keep_their_case() -> None:
    assert parse("group_name:Security")[0].value == "Security"


def test_keywords_are_case_insensitive_and_reported_by_their_canonical_name() -> None:
    assert parse("ID:abc") == [Term("id", "=", "abc", 0, "ID:abc")]
    assert parse("Group_Name:x") == [Term("group_name", "=", "x", 0, "Group_Name:x")]


def test_value_may_hold_colons() -> None:
    assert parse("sso_value:a:b:c") == [Term("sso_value", "=", "a:b:c", 0, "sso_value:a:b:c")]
    assert parse("id://captain.api.mondoo.app/spaces/x")[0].value == (
        "//captain.api.mondoo.app/spaces/x"
    )


def test_equals_sign_is_part_of_a_text_value() -> None:
    assert parse("sso_value:=x")[0].value == "=x"


def test_operators_inside_a_text_value_are_literal() -> None:
    assert parse("group_name:a>b")[0].value == "a>b"
    assert parse("group_name:a<=b")[0].value == "a<=b"


# --------------------------------------------------------------------------- quoting


def test_quoted_value_may_hold_spaces() -> None:
    query = 'group_name:"Security Team"'
    assert parse(query) == [Term("group_name", "=", "Security Team", 0, query)]


def test_quoted_value_keeps_inner_white_space_exactly() -> None:
    assert parse('group_name:"  a  b  "')[0].value == "  a  b  "


def test_escaped_quote_and_backslash_inside_quotes() -> None:
    query = r'group_name:"say \"hi\" \\ now"'
    assert parse(query) == [Term("group_name", "=", 'say "hi" \\ now', 0, query)]


def test_other_backslashes_are_kept() -> None:
    assert parse(r'sso_value:"DOMAIN\user"')[0].value == "DOMAIN\\user"
    assert parse(r"sso_value:DOMAIN\user")[0].value == "DOMAIN\\user"


def test_escaped_quote_outside_quotes_is_literal() -> None:
    assert parse(r"sso_value:a\"b")[0].value == 'a"b'
    assert parse(r"a\"b") == [Term(None, "~", 'a"b', 0, r"a\"b")]


def test_quoted_and_plain_pieces_join() -> None:
    assert parse('group_name:Security" Team"')[0].value == "Security Team"
    assert parse('group_name:"Sec"urity')[0].value == "Security"


def test_quoted_operator_is_literal_for_text_keywords() -> None:
    assert parse('group_name:">5"') == [Term("group_name", "=", ">5", 0, 'group_name:">5"')]
    assert parse('id:"<=x"')[0].value == "<=x"


def test_quoted_keyword_is_free_text() -> None:
    assert parse('"id:1"') == [Term(None, "~", "id:1", 0, '"id:1"')]


def test_quoted_free_text_with_spaces_and_colons() -> None:
    assert parse('"Security Team"') == [Term(None, "~", "Security Team", 0, '"Security Team"')]
    assert parse('"https://example.com/x"')[0].value == "https://example.com/x"
    assert parse('"foo:bar"') == [Term(None, "~", "foo:bar", 0, '"foo:bar"')]


# --------------------------------------------------------------------------- free text


def test_free_text_term() -> None:
    assert parse("Admins") == [Term(key=None, op="~", value="Admins", position=0, text="Admins")]


@pytest.mark.parametrize("word", ["10:30", ":foo", "a-b", ">5", "<x", "user@example.com", "50%_"])
def test_words_that_are_not_keywords_are_free_text(word: str) -> None:
    assert parse(word) == [Term(None, "~", word, 0, word)]


# --------------------------------------------------------------------------- several terms


def test_terms_keep_order_and_character_positions() -> None:
    query = '  id:1 group_name:"Security Team"\tadmins\ncreated_at:>2weeks  '
    terms = parse(query)
    assert [(t.key, t.op, t.position, t.text) for t in terms] == [
        ("id", "=", 2, "id:1"),
        ("group_name", "=", 7, 'group_name:"Security Team"'),
        (None, "~", 34, "admins"),
        ("created_at", "<", 41, "created_at:>2weeks"),
    ]
    for term in terms:
        assert query[term.position:].startswith(term.text)


def test_repeated_keywords_are_kept_as_separate_terms() -> None:
    assert parse("id:1 id:2") == [Term("id", "=", "1", 0, "id:1"), Term("id", "=", "2", 5, "id:2")]


def test_unicode_white_space_separates_terms() -> None:
    assert [t.value for t in parse("a\u00a0b\u3000c")] == ["a", "b", "c"]


def test_terms_are_frozen() -> None:
    term = parse("id:1")[0]
    with pytest.raises(AttributeError):
        term.value = "2"  # type: ignore[misc]


# --------------------------------------------------------------------------- absolute times


def test_date_without_operator_is_the_whole_utc_day() -> None:
    text = "created_at:2026-01-31"
    assert parse(text) == [
        Term("created_at", ">=", utc(2026, 1, 31), 0, text),
        Term("created_at", "<", utc(2026, 2, 1), 0, text),
    ]


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (">", [(">=", utc(2026, 2, 1))]),  # after the day
        (">=", [(">=", utc(2026, 1, 31))]),  # from its start
        ("<", [("<", utc(2026, 1, 31))]),  # before the day
        ("<=", [("<", utc(2026, 2, 1))]),  # up to its end
    ],
)
def test_date_with_operator_compares_with_the_whole_day(
    op: str, expected: list[tuple[str, datetime]]
) -> None:
    text = f"updated_at:{op}2026-01-31"
    assert parse(text) == [Term("updated_at", o, v, 0, text) for o, v in expected]


def test_date_at_end_of_year_and_leap_day() -> None:
    assert [t.value for t in parse("created_at:2025-12-31")] == [utc(2025, 12, 31), utc(2026, 1, 1)]
    assert [t.value for t in parse("created_at:2028-02-29")] == [utc(2028, 2, 29), utc(2028, 3, 1)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-31T10:00:00Z", utc(2026, 1, 31, 10)),
        ("2026-01-31T10:00Z", utc(2026, 1, 31, 10)),
        ("2026-01-31t10:00:00z", utc(2026, 1, 31, 10)),
        ("2026-01-31T10:00:00+00:00", utc(2026, 1, 31, 10)),
        ("2026-01-31T10:00:00+02:00", utc(2026, 1, 31, 8)),
        ("2026-01-31T23:30:00-05:00", utc(2026, 2, 1, 4, 30)),
        ("2026-01-31T10:00:00.250Z", utc(2026, 1, 31, 10, 0, 0, 250000)),
        ("2026-01-31T10:00:00.123456789Z", utc(2026, 1, 31, 10, 0, 0, 123456)),
    ],
)
def test_rfc3339_date_time_is_an_instant_in_utc(value: str, expected: datetime) -> None:
    (term,) = parse(f"created_at:{value}")
    assert term.op == "="
    assert term.value == expected
    assert isinstance(term.value, datetime)
    assert term.value.utcoffset() == timedelta(0)


@pytest.mark.parametrize("op", [">", "<", ">=", "<="])
def test_date_time_with_operator_keeps_the_operator(op: str) -> None:
    text = f"created_at:{op}2026-01-31T10:00:00+01:00"
    assert parse(text) == [Term("created_at", op, utc(2026, 1, 31, 9), 0, text)]


def test_quoted_time_value_may_hold_spaces() -> None:
    assert parse('created_at:" >= 2026-01-31 "') == [
        Term("created_at", ">=", utc(2026, 1, 31), 0, 'created_at:" >= 2026-01-31 "')
    ]


# --------------------------------------------------------------------------- relative ages


@pytest.mark.parametrize(
    ("value", "op", "bound"),
    [
        # an age above N is a time before now - N, and the other way round
        (">2weeks", "<", NOW - timedelta(weeks=2)),
        ("<2weeks", ">", NOW - timedelta(weeks=2)),
        (">=3days", "<=", NOW - timedelta(days=3)),
        ("<=3days", ">=", NOW - timedelta(days=3)),
        (">1year", "<", NOW - timedelta(days=365)),
        ("<12hours", ">", NOW - timedelta(hours=12)),
        (">1month", "<", NOW - timedelta(days=30)),
        ("<90minutes", ">", NOW - timedelta(minutes=90)),
        (">0days", "<", NOW),
    ],
)
def test_relative_age_becomes_a_flipped_bound(value: str, op: str, bound: datetime) -> None:
    text = f"created_at:{value}"
    assert parse(text) == [Term("created_at", op, bound, 0, text)]


def test_runzero_examples() -> None:
    assert parse("created_at:>2weeks") == [
        Term("created_at", "<", utc(2026, 2, 15, 12), 0, "created_at:>2weeks")
    ]
    assert parse("updated_at:>1year") == [
        Term("updated_at", "<", utc(2025, 3, 1, 12), 0, "updated_at:>1year")
    ]


@pytest.mark.parametrize(
    ("units", "delta"),
    [
        (["minute", "minutes", "min", "mins", "MIN"], timedelta(minutes=1)),
        (["hour", "hours", "hr", "hrs", "h", "H"], timedelta(hours=1)),
        (["day", "days", "d", "Days"], timedelta(days=1)),
        (["week", "weeks", "wk", "wks", "w"], timedelta(weeks=1)),
        (["month", "months", "mo"], timedelta(days=30)),
        (["year", "years", "yr", "yrs", "y"], timedelta(days=365)),
    ],
)
def test_age_units_and_their_short_forms(units: list[str], delta: timedelta) -> None:
    for unit in units:
        (term,) = parse(f"updated_at:<2{unit}")
        assert term.value == NOW - 2 * delta, unit


def test_age_may_have_a_space_before_the_unit_when_quoted() -> None:
    assert parse('created_at:">2 weeks"')[0].value == NOW - timedelta(weeks=2)
    assert parse('created_at:"<= 3 days"')[0].op == ">="


def test_naive_now_is_taken_as_utc() -> None:
    (term,) = parse_query("created_at:<1day", keys=KEYS, now=datetime(2026, 3, 1, 12))
    assert term.value == utc(2026, 2, 28, 12)


def test_now_in_another_zone_gives_a_utc_bound() -> None:
    paris = timezone(timedelta(hours=1))
    (term,) = parse_query("created_at:<1day", keys=KEYS, now=datetime(2026, 3, 1, 13, tzinfo=paris))
    assert term.value == utc(2026, 2, 28, 12)
    assert isinstance(term.value, datetime) and term.value.tzinfo == UTC


# --------------------------------------------------------------------------- errors


def test_unknown_keyword_is_refused_with_the_allowed_keywords() -> None:
    err = refused("foo:bar")
    assert_term_error(err, "foo:bar", 0, "unknown keyword 'foo'", "double quotes")
    for key in KEYS:
        assert key in err.message


def test_unknown_keyword_position_is_its_character_offset() -> None:
    err = refused('id:1 group_name:"a b"  owner:x')
    assert_term_error(err, "owner:x", 23, "'owner'")


def test_keyword_of_another_table_is_unknown() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_query("group_id:1", keys={"id": "text"}, now=NOW)
    assert_term_error(exc_info.value, "group_id:1", 0, "unknown keyword 'group_id'", ": id ")


def test_url_like_free_text_must_be_quoted() -> None:
    err = refused("https://example.com")
    assert_term_error(err, "https://example.com", 0, "'https'")


@pytest.mark.parametrize("query", ["id:", 'id:""', "group_name:", 'created_at:""', "created_at:"])
def test_empty_value_is_refused(query: str) -> None:
    key = query.split(":")[0]
    assert_term_error(refused(query), query, 0, "has no value", f"{key}:<value>")


def test_empty_value_position() -> None:
    assert_term_error(refused("admins   sso_value:"), "sso_value:", 9, "has no value")


def test_empty_quoted_free_text_is_refused() -> None:
    assert_term_error(refused('a ""'), '""', 2, "is empty")


@pytest.mark.parametrize(
    ("query", "term", "position"),
    [
        ('group_name:"Security Team', 'group_name:"Security Team', 0),
        ('id:1 group_name:"Security Team  ', 'group_name:"Security Team', 5),
        ('"unterminated', '"unterminated', 0),
        ('x "a b c', '"a b c', 2),
        (r'group_name:"a\"', r'group_name:"a\"', 0),
        ('group_name:"a"b"', 'group_name:"a"b"', 0),
    ],
)
def test_unterminated_quote_is_refused(query: str, term: str, position: int) -> None:
    assert_term_error(refused(query), term, position, "unterminated quote", 'close it with "')


@pytest.mark.parametrize(
    ("query", "op"),
    [("id:>5", ">"), ("group_name:<a", "<"), ("sso_value:>=x", ">="), ("group_id:<=7", "<=")],
)
def test_operator_on_text_keyword_is_refused(query: str, op: str) -> None:
    key = query.split(":")[0]
    assert_term_error(
        refused(query), query, 0, f"compares with {op!r}", f"{key} matches exact text only",
        "double quotes",
    )


@pytest.mark.parametrize(
    "value", ["2026-02-30", "2026-13-01", "2025-02-29", "0000-01-01", "2026-01-31T25:00:00Z",
              "2026-01-31T10:61Z", "2026-01-31T10:00:00+24:00"],
)
def test_impossible_dates_are_refused(value: str) -> None:
    query = f"created_at:{value}"
    assert_term_error(refused(query), query, 0, repr(value), "2026-01-31")


@pytest.mark.parametrize(
    "value",
    [
        "yesterday", ">", ">=", "2026-1-31", "2026/01/31", "31-01-2026", ">2", "2", "-2days",
        ">-2days", "=2026-01-31", ">>2days", "2.5days", ">2.5days", "2026-01-31T10Z",
        "2026-01-31 10:00Z", "now", "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0663\u0661",
    ],
)
def test_malformed_times_are_refused_with_the_expected_forms(value: str) -> None:
    query = f'created_at:"{value}"' if " " in value else f"created_at:{value}"
    assert_term_error(
        refused(query), query, 0, "does not give a time", "2026-01-31T10:00:00Z", ">2weeks"
    )


@pytest.mark.parametrize(
    "value", ["2026-01-31T10:00", "2026-01-31T10:00:00", "2026-01-31T10:00:00.5"]
)
def test_date_time_without_zone_is_refused(value: str) -> None:
    query = f"updated_at:>{value}"
    assert_term_error(refused(query), query, 0, "without a time zone", "add Z for UTC")


@pytest.mark.parametrize("value", ["2weeks", "1year", "3d"])
def test_age_without_operator_is_refused(value: str) -> None:
    query = f"created_at:{value}"
    assert_term_error(
        refused(query), query, 0, "without > or <", f"created_at:<{value}", f"created_at:>{value}"
    )


@pytest.mark.parametrize("unit", ["fortnights", "s", "secs", "seconds", "ms", "q"])
def test_unknown_unit_is_refused(unit: str) -> None:
    query = f"created_at:>2{unit}"
    assert_term_error(refused(query), query, 0, f"unknown time unit {unit!r}", "week(s)/w")


def test_bare_m_is_refused_as_ambiguous() -> None:
    query = "created_at:<5m"
    assert_term_error(refused(query), query, 0, "'m' is ambiguous", "min", "mo")


@pytest.mark.parametrize("query", ["created_at:>999999999years", "created_at:<999999999days"])
def test_age_too_far_back_is_refused(query: str) -> None:
    assert_term_error(refused(query), query, 0, "too far back")


def test_age_with_too_many_digits_is_malformed() -> None:
    query = "created_at:>1234567890days"
    assert_term_error(refused(query), query, 0, "does not give a time")


@pytest.mark.parametrize("query", ["created_at:>9999-12-31", "created_at:9999-12-31"])
def test_date_at_the_end_of_time_is_refused(query: str) -> None:
    assert_term_error(refused(query), query, 0, "not a calendar date")


def test_date_time_out_of_range_after_conversion_is_refused() -> None:
    query = "created_at:>0001-01-01T00:00:00+01:00"
    assert_term_error(refused(query), query, 0, "not a valid date-time")


@pytest.mark.parametrize(
    ("query", "term"),
    [
        ("id:a\x00b", "id:a\x00b"),
        ("x\x1bz", "x\x1bz"),
        ('group_name:"a\x7f"', 'group_name:"a\x7f"'),
        ('group_name:"a\tb"', 'group_name:"a\tb"'),  # a tab separates terms only outside quotes
    ],
)
def test_control_characters_are_refused(query: str, term: str) -> None:
    assert_term_error(refused(query), term, 0, "control characters")


def test_first_error_wins() -> None:
    err = refused("id:1 foo:bar id:")
    assert err.details["term"] == "foo:bar"
    assert err.details["position"] == 5


def test_fifty_terms_are_allowed_and_fifty_one_refused() -> None:
    assert len(parse(" ".join(["x"] * MAX_TERMS))) == MAX_TERMS
    err = refused(" ".join(f"t{i}" for i in range(MAX_TERMS + 1)))
    position = len(" ".join(f"t{i}" for i in range(MAX_TERMS))) + 1
    assert_term_error(err, "t50", position, "at most 50 terms")


def test_date_terms_count_once_towards_the_limit() -> None:
    query = " ".join(["t:2026-01-31"] * MAX_TERMS)
    terms = parse_query(query, keys={"t": "time"}, now=NOW)
    assert len(terms) == 2 * MAX_TERMS


def test_length_limit() -> None:
    assert len(parse("a" * MAX_QUERY_LENGTH)) == 1
    assert parse(" " * MAX_QUERY_LENGTH) == []
    err = refused("a" * (MAX_QUERY_LENGTH + 1))
    assert err.details == {"field": "query"}
    assert "1001 characters" in err.message and "at most 1000" in err.message


def test_bad_keyword_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="'number'"):
        parse_query("id:1", keys={"id": "number"}, now=NOW)


# --------------------------------------------------------------------------- SQL

METADATA = MetaData()
MAPPINGS = Table(
    "mappings",
    METADATA,
    Column("id", String, primary_key=True),
    Column("sso_attribute", String, nullable=False),
    Column("sso_value", String, nullable=False),
    Column("group_name", String, nullable=True),
    Column("rank", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
COLUMNS = {name: MAPPINGS.c[name] for name in KEYS if name in MAPPINGS.c}
FREE_TEXT = [MAPPINGS.c.sso_value, MAPPINGS.c.group_name]
SQL_KEYS = {name: kind for name, kind in KEYS.items() if name in COLUMNS}

ROWS = [
    # id, sso_attribute, sso_value, group_name, created_at
    ("m1", "department", "securityteam", "Security Team", utc(2026, 2, 28, 12)),  # 1 day old
    ("m2", "department", "IT", "Admins", utc(2026, 2, 10, 12)),  # 19 days old
    ("m3", "groups", "50%_off", None, utc(2025, 1, 1, 0)),  # more than a year
    ("m4", "groups", "500 off", "Security viewers", utc(2026, 1, 31, 0)),  # start of Jan 31
    ("m5", "Department", "Security", "SECURITY ADMINS", utc(2026, 1, 31, 23, 59, 59, 999999)),
    ("m6", "role", "a\\b", "under_score", utc(2026, 2, 1, 0)),  # start of Feb 1
]


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    eng = create_engine("sqlite://")
    METADATA.create_all(eng)
    with eng.begin() as conn:
        conn.execute(
            MAPPINGS.insert(),
            [
                {"id": i, "sso_attribute": a, "sso_value": v, "group_name": g, "rank": n,
                 "created_at": at, "updated_at": at + timedelta(hours=1)}
                for n, (i, a, v, g, at) in enumerate(ROWS)
            ],
        )
    yield eng
    eng.dispose()


def matching(engine: Engine, query: str, free_text: list | None = None) -> list[str]:
    terms = parse_query(query, keys=SQL_KEYS, now=NOW)
    where = clauses(terms, COLUMNS, FREE_TEXT if free_text is None else free_text)
    with engine.connect() as conn:
        rows = conn.execute(select(MAPPINGS.c.id).where(*where).order_by(MAPPINGS.c.id))
        return [row.id for row in rows]


def sql(query: str) -> str:
    terms = parse_query(query, keys=SQL_KEYS, now=NOW)
    statement = select(MAPPINGS.c.id).where(*clauses(terms, COLUMNS, FREE_TEXT))
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled).split("WHERE ", 1)[1]


def test_no_terms_no_clauses(engine: Engine) -> None:
    assert clauses([], COLUMNS, FREE_TEXT) == []
    assert matching(engine, "") == ["m1", "m2", "m3", "m4", "m5", "m6"]


def test_text_keyword_sql_is_an_equality() -> None:
    assert sql("sso_attribute:department") == "mappings.sso_attribute = 'department'"


def test_time_keyword_sql_is_a_comparison() -> None:
    assert sql("created_at:<2weeks") == "mappings.created_at > '2026-02-15 12:00:00.000000'"
    assert sql("created_at:2026-01-31") == (
        "mappings.created_at >= '2026-01-31 00:00:00.000000' "
        "AND mappings.created_at < '2026-02-01 00:00:00.000000'"
    )
    assert sql("updated_at:2026-01-31T10:00:00Z") == (
        "mappings.updated_at = '2026-01-31 10:00:00.000000'"
    )


def test_free_text_sql_is_a_lowered_escaped_contains_over_each_column() -> None:
    assert sql("50%_Off") == (
        "(lower(mappings.sso_value) LIKE '%' || '50/%/_off' || '%' ESCAPE '/') "
        "OR (lower(mappings.group_name) LIKE '%' || '50/%/_off' || '%' ESCAPE '/')"
    )


def test_terms_are_anded() -> None:
    assert sql("id:m1 admins") == (
        "mappings.id = 'm1' AND ((lower(mappings.sso_value) LIKE '%' || 'admins' || '%' "
        "ESCAPE '/') OR (lower(mappings.group_name) LIKE '%' || 'admins' || '%' ESCAPE '/'))"
    )


def test_postgres_sql_binds_values() -> None:
    terms = parse_query("id:m1 created_at:>1year Admins", keys=SQL_KEYS, now=NOW)
    compiled = select(MAPPINGS.c.id).where(*clauses(terms, COLUMNS, FREE_TEXT)).compile(
        dialect=postgresql.dialect()
    )
    text = str(compiled)
    assert "mappings.id = %(id_1)s" in text
    assert "mappings.created_at < %(created_at_1)s" in text
    assert "lower(mappings.sso_value) LIKE '%%' || %(lower_1)s" in text
    assert compiled.params["id_1"] == "m1"
    assert compiled.params["created_at_1"] == utc(2025, 3, 1, 12)
    assert compiled.params["lower_1"] == "admins"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("id:m1", ["m1"]),
        ("sso_attribute:department", ["m1", "m2"]),  # exact and case-sensitive: not m5
        ("sso_attribute:Department", ["m5"]),
        ("sso_attribute:depart", []),  # no partial match on keywords
        ('group_name:"Security Team"', ["m1"]),
        ("group_name:Security", []),
        ("sso_attribute:department sso_value:IT", ["m2"]),
        ("id:m1 id:m2", []),
        (r'sso_value:"a\\b"', ["m6"]),
    ],
)
def test_text_keywords_on_sqlite(engine: Engine, query: str, expected: list[str]) -> None:
    assert matching(engine, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("security", ["m1", "m4", "m5"]),  # case-insensitive, over sso_value or group_name
        ("SECURITY", ["m1", "m4", "m5"]),
        ("admins", ["m2", "m5"]),
        ("team", ["m1"]),
        ('"security team"', ["m1"]),
        ("security admins", ["m5"]),  # both words, anywhere
        ("50%", ["m3"]),  # % is literal, not a wildcard: 500 does not match
        ("%", ["m3"]),
        ("_", ["m3", "m6"]),  # _ is literal: matches only values holding an underscore
        ("0_o", []),
        ("50", ["m3", "m4"]),
        ("\\", ["m6"]),
        ("a\\b", ["m6"]),
        ("nothing-like-this", []),
        ("it sso_attribute:department", ["m1", "m2"]),  # secur-it-y
    ],
)
def test_free_text_on_sqlite(engine: Engine, query: str, expected: list[str]) -> None:
    assert matching(engine, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("created_at:<2weeks", ["m1"]),  # created less than two weeks ago
        ("created_at:>2weeks", ["m2", "m3", "m4", "m5", "m6"]),  # more than two weeks ago
        ("created_at:<=19days", ["m1", "m2"]),  # m2 is exactly 19 days old
        ("created_at:<19days", ["m1"]),
        ("created_at:>1year", ["m3"]),
        ("created_at:<1year", ["m1", "m2", "m4", "m5", "m6"]),
        ("created_at:<36hours", ["m1"]),
        ("created_at:2026-01-31", ["m4", "m5"]),  # the whole day, both ends
        ("created_at:>2026-01-31", ["m1", "m2", "m6"]),
        ("created_at:>=2026-01-31", ["m1", "m2", "m4", "m5", "m6"]),
        ("created_at:<2026-01-31", ["m3"]),
        ("created_at:<=2026-01-31", ["m3", "m4", "m5"]),
        ("created_at:2026-02-01", ["m6"]),
        ("created_at:2026-02-28T12:00:00Z", ["m1"]),
        ("created_at:2026-02-28T13:00:00+01:00", ["m1"]),
        ("created_at:>2026-01-31T00:00:00Z", ["m1", "m2", "m5", "m6"]),
        ("created_at:>=2026-01-31T00:00:00Z", ["m1", "m2", "m4", "m5", "m6"]),
        ("updated_at:2026-01-31", ["m4"]),  # m5 was updated on Feb 1
        ("created_at:>=2026-01-01 created_at:<2026-02-01", ["m4", "m5"]),
        ("created_at:<2weeks security", ["m1"]),
    ],
)
def test_times_on_sqlite(engine: Engine, query: str, expected: list[str]) -> None:
    assert matching(engine, query) == expected


def test_free_text_over_one_column(engine: Engine) -> None:
    assert matching(engine, "security", free_text=[MAPPINGS.c.group_name]) == ["m1", "m4", "m5"]
    assert matching(engine, "it", free_text=[MAPPINGS.c.sso_attribute]) == []


def test_free_text_without_free_text_columns_is_refused() -> None:
    terms = parse_query("id:1  admins", keys=SQL_KEYS, now=NOW)
    with pytest.raises(InvalidArgument) as exc_info:
        clauses(terms, COLUMNS, [])
    assert_term_error(exc_info.value, "admins", 6, "free text", "keyword:value")


def test_keyword_without_column_is_a_programming_error() -> None:
    terms = parse("created_by_email:user@example.com")
    with pytest.raises(ValueError, match="'created_by_email'"):
        clauses(terms, COLUMNS, FREE_TEXT)


def test_unknown_operator_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="'!='"):
        clauses([Term("id", "!=", "x", 0, "id:x")], COLUMNS, FREE_TEXT)
