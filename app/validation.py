"""Checks for free-text input: names, descriptions, emails, external ids. Pure."""

from __future__ import annotations

import re

from app.errors import InvalidArgument
from app.mrn import is_email

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_EXTERNAL_ID = 400


#: C0 controls, DEL and the C1 controls; the second one lets line breaks and tabs through.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: str, *, allow_line_breaks: bool = False) -> bool:
    """True when ``value`` holds a control character (NUL, escape, DEL, C1 controls...)."""
    pattern = _CONTROL_BUT_LINE_BREAKS if allow_line_breaks else _CONTROL
    return pattern.search(value) is not None


def _refuse_control_characters(value: str, field: str, *, allow_line_breaks: bool = False) -> None:
    if has_control_characters(value, allow_line_breaks=allow_line_breaks):
        raise InvalidArgument(
            f"{field} contains control characters (such as NUL); remove them", field=field
        )


def check_name(value: str | None, field: str = "name") -> str:
    name = (value or "").strip()
    _refuse_control_characters(name, field)
    if not name:
        raise InvalidArgument(f"{field} must not be empty", field=field)
    if len(name) > MAX_NAME:
        raise InvalidArgument(f"{field} is {len(name)} characters long; at most {MAX_NAME} are allowed",
                              field=field)
    return name


def check_description(value: str | None, field: str = "description") -> str | None:
    if value is None:
        return None
    _refuse_control_characters(value, field, allow_line_breaks=True)
    if len(value) > MAX_DESCRIPTION:
        raise InvalidArgument(
            f"{field} is {len(value)} characters long; at most {MAX_DESCRIPTION} are allowed",
            field=field,
        )
    return value


def check_email(value: str | None, field: str = "email") -> str | None:
    if value is None or value == "":
        return None
    email = value.strip().casefold()  # addresses are compared without case
    if not is_email(email) or len(email) > 320:
        raise InvalidArgument(f"{field} {value!r} is not an email address (name@example.com)",
                              field=field)
    return email


def check_external_id(value: str | None, field: str = "externalId") -> str:
    if value is None or value == "":
        raise InvalidArgument(
            f"{field} must not be empty: use the group's object id (Entra ID) or name (Okta)",
            field=field,
        )
    if value != value.strip():
        raise InvalidArgument(
            f"{field} {value!r} has leading or trailing white space; claim values are matched "
            "exactly, so it would never match",
            field=field,
        )
    if len(value) > MAX_EXTERNAL_ID:
        raise InvalidArgument(f"{field} is longer than {MAX_EXTERNAL_ID} characters", field=field)
    _refuse_control_characters(value, field)
    return value


def exactly_one(field_values: dict[str, object | None]) -> tuple[str, object]:
    """Exactly one of the given inputs must be set: return (field, value)."""
    given = [(k, v) for k, v in field_values.items() if v not in (None, "")]
    if len(given) != 1:
        names = ", ".join(field_values)
        raise InvalidArgument(f"give exactly one of {names}" + (f" (got {len(given)})" if given else ""))
    return given[0]
