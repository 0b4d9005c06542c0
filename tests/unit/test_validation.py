"""Unit tests for app.validation: names, descriptions, emails, external ids, exactly_one."""

from __future__ import annotations

import pytest

from app.errors import InvalidArgument
from app.validation import (
    MAX_DESCRIPTION,
    MAX_EXTERNAL_ID,
    MAX_NAME,
    check_description,
    check_email,
    check_external_id,
    check_name,
    exactly_one,
)


def test_limits() -> None:
    assert MAX_NAME == 200
    assert MAX_DESCRIPTION == 2000
    assert MAX_EXTERNAL_ID == 400


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "value", [None, "", " ", "   ", "\t", "\n", " \t\r\n ", "\u00a0", "\u3000"]
)
def test_empty_or_blank_names_are_refused(value: str | None) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_name(value)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.message == "name must not be empty"
    assert err.details == {"field": "name"}


def test_name_field_is_reported() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_name("  ", field="teamName")
    assert exc_info.value.message == "teamName must not be empty"
    assert exc_info.value.details == {"field": "teamName"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Security Viewers", "Security Viewers"),
        ("  Security Viewers  ", "Security Viewers"),
        ("x", "x"),
        ("Équipe sécurité 🔒", "Équipe sécurité 🔒"),
        ("a" * 200, "a" * 200),
        ("  " + "a" * 200 + "  ", "a" * 200),  # length counted after trimming
    ],
)
def test_names_are_trimmed_and_accepted(value: str, expected: str) -> None:
    assert check_name(value) == expected


@pytest.mark.parametrize("length", [201, 202, 1000])
def test_too_long_names_are_refused(length: int) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_name("a" * length)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "name"}
    assert f"{length} characters" in err.message
    assert "at most 200" in err.message


def test_name_length_counts_characters_not_bytes() -> None:
    assert check_name("é" * 200) == "é" * 200
    with pytest.raises(InvalidArgument):
        check_name("é" * 201)


def test_name_with_nul_character_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        check_name("Team\x00")


# --------------------------------------------------------------------------- descriptions


def test_description_none_stays_none() -> None:
    assert check_description(None) is None


@pytest.mark.parametrize("value", ["", "  ", "A team.", "x" * 2000, "line 1\nline 2"])
def test_descriptions_are_returned_unchanged(value: str) -> None:
    assert check_description(value) == value


def test_too_long_description_is_refused() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_description("x" * 2001)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "description"}
    assert "2001 characters" in err.message
    assert "at most 2000" in err.message


# --------------------------------------------------------------------------- emails


@pytest.mark.parametrize("value", [None, ""])
def test_no_email_is_none(value: str | None) -> None:
    assert check_email(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("security-team@acme.example", "security-team@acme.example"),
        ("first.last+iam@sub.example.co.uk", "first.last+iam@sub.example.co.uk"),
        ("  alice@example.com  ", "alice@example.com"),
        ("Alice@Example.COM", "alice@example.com"),  # compared without case
    ],
)
def test_good_emails(value: str, expected: str) -> None:
    assert check_email(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        " ",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "alice@@example.com",
        "alice@bob@example.com",
        "alice smith@example.com",
        "alice@exa mple.com",
        "alice@example.com\nbob@example.com",
        "alice@exa/mple.com",
        "//captain.api.mondoo.app/users/alice",
        "a" * 310 + "@example.com",  # 322 characters: over 320
    ],
)
def test_bad_emails(value: str) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_email(value)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "email"}
    assert repr(value) in err.message
    assert "name@example.com" in err.message


def test_email_length_limit_is_320() -> None:
    ok = "a" * 308 + "@example.com"
    assert len(ok) == 320
    assert check_email(ok) == ok
    with pytest.raises(InvalidArgument):
        check_email("a" + ok)


def test_email_field_is_reported() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_email("nope", field="identity")
    assert exc_info.value.details == {"field": "identity"}
    assert exc_info.value.message.startswith("identity 'nope'")


@pytest.mark.parametrize("value", ["alice\x00@example.com", "alice\x1b@example.com"])
def test_email_with_control_characters_is_refused(value: str) -> None:
    with pytest.raises(InvalidArgument):
        check_email(value)


# --------------------------------------------------------------------------- external ids


@pytest.mark.parametrize(
    "value",
    [
        "a1b2c3d4-0000-0000-0000-000000000000",  # Entra ID object id
        "Security Viewers",  # Okta group name with an inner space
        "00gabc123XYZ",
        "x",
        "é-groupe",
        "x" * 400,
    ],
)
def test_good_external_ids_are_returned_unchanged(value: str) -> None:
    assert check_external_id(value) == value


@pytest.mark.parametrize("value", [None, ""])
def test_empty_external_id_is_refused(value: str | None) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_external_id(value)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "externalId"}
    assert "must not be empty" in err.message


@pytest.mark.parametrize(
    "value",
    [" ", "   ", " group", "group ", "\tgroup", "group\n", " group ", "\u00a0group", "group\u3000"],
)
def test_external_id_with_surrounding_whitespace_is_refused(value: str) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_external_id(value)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "externalId"}
    assert "leading or trailing white space" in err.message
    assert repr(value) in err.message


@pytest.mark.parametrize(
    "value", ["gr\x00oup", "gr\noup", "gr\toup", "gr\roup", "\x1bgroup", "group\x1f"]
)
def test_external_id_with_control_characters_is_refused(value: str) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_external_id(value)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "externalId"}
    assert "control characters" in err.message or "white space" in err.message


def test_external_id_with_inner_control_characters_names_them() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_external_id("gr\x00oup")
    assert exc_info.value.message.startswith("externalId contains control characters")


@pytest.mark.parametrize("length", [401, 1000])
def test_too_long_external_id_is_refused(length: int) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_external_id("x" * length)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "externalId"}
    assert "400" in err.message


def test_external_id_field_is_reported() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_external_id("", field="groupId")
    assert exc_info.value.details == {"field": "groupId"}
    assert exc_info.value.message.startswith("groupId must not be empty")


# --------------------------------------------------------------------------- exactly_one


def test_exactly_one_with_one_value() -> None:
    assert exactly_one({"identity": "alice@example.com", "memberMrn": None, "email": None}) == (
        "identity",
        "alice@example.com",
    )
    assert exactly_one({"identity": "", "memberMrn": None, "email": "bob@example.com"}) == (
        "email",
        "bob@example.com",
    )


def test_exactly_one_counts_falsy_but_present_values() -> None:
    assert exactly_one({"a": 0, "b": None}) == ("a", 0)
    assert exactly_one({"a": None, "b": False}) == ("b", False)
    assert exactly_one({"a": [], "b": ""}) == ("a", [])


@pytest.mark.parametrize(
    "values",
    [
        {"identity": None, "memberMrn": None, "email": None},
        {"identity": "", "memberMrn": "", "email": None},
        {},
    ],
)
def test_exactly_one_with_zero_values(values: dict[str, object | None]) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        exactly_one(values)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.message == f"give exactly one of {', '.join(values)}"
    assert "(got" not in err.message


def test_exactly_one_names_every_field() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        exactly_one({"identity": None, "memberMrn": None, "email": None})
    assert exc_info.value.message == "give exactly one of identity, memberMrn, email"


def test_exactly_one_with_two_values() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        exactly_one(
            {"identity": "alice@example.com", "memberMrn": None, "email": "alice@example.com"}
        )
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.message == "give exactly one of identity, memberMrn, email (got 2)"


def test_exactly_one_with_three_values() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        exactly_one({"scopeMrn": "a", "spaceMrn": "b", "x": "c"})
    assert exc_info.value.message.endswith("(got 3)")
