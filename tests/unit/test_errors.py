"""Unit tests for app.errors: stable codes, details and the documented catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import errors
from app.errors import (
    CATALOGUE,
    AlreadyExists,
    AppError,
    Forbidden,
    Internal,
    InvalidArgument,
    InvalidToken,
    NotFound,
    SignInRefused,
    Unauthenticated,
)

EXPECTED = [
    (Unauthenticated, "UNAUTHENTICATED", 401),
    (Forbidden, "FORBIDDEN", 403),
    (NotFound, "NOT_FOUND", 404),
    (AlreadyExists, "ALREADY_EXISTS", 409),
    (InvalidArgument, "INVALID_ARGUMENT", 400),
    (Internal, "INTERNAL", 500),
    (InvalidToken, "INVALID_TOKEN", 400),
    (SignInRefused, "SIGN_IN_REFUSED", 400),
]
README = Path(__file__).resolve().parents[2] / "README.md"


def all_subclasses(cls: type) -> set[type]:
    out: set[type] = set()
    for sub in cls.__subclasses__():
        out |= {sub} | all_subclasses(sub)
    return out


@pytest.mark.parametrize(("cls", "code", "status"), EXPECTED)
def test_each_class_has_its_stable_code(cls: type[AppError], code: str, status: int) -> None:
    assert issubclass(cls, AppError)
    assert issubclass(cls, Exception)
    assert cls.code == code
    assert cls.http_status == status
    err = cls("something to fix")
    assert err.code == code
    assert err.message == "something to fix"
    assert str(err) == "something to fix"
    assert err.details == {}
    assert err.extensions() == {"code": code}


@pytest.mark.parametrize(("cls", "code", "status"), EXPECTED)
def test_details_are_added_to_extensions(cls: type[AppError], code: str, status: int) -> None:
    err = cls("bad input", field="scopeMrn")
    assert err.details == {"field": "scopeMrn"}
    assert err.extensions() == {"code": code, "field": "scopeMrn"}


def test_base_error_is_internal() -> None:
    assert AppError.code == "INTERNAL"
    assert AppError.http_status == 500
    assert AppError("x").extensions() == {"code": "INTERNAL"}


def test_errors_can_be_raised_and_caught_as_app_error() -> None:
    with pytest.raises(AppError) as exc_info:
        raise NotFound("team //x not found")
    assert exc_info.value.code == "NOT_FOUND"


def test_codes_are_distinct() -> None:
    codes = [code for _, code, _ in EXPECTED]
    assert len(set(codes)) == len(codes)


def test_catalogue_documents_every_error_class() -> None:
    classes = all_subclasses(AppError)
    # every class defined in the module is one of the expected ones
    assert {c for c in classes if c.__module__ == errors.__name__} == {c for c, _, _ in EXPECTED}
    for cls in classes | {AppError}:
        assert cls.code in CATALOGUE, cls.__name__
        assert CATALOGUE[cls.code].strip(), cls.code


@pytest.mark.parametrize(("cls", "code", "status"), EXPECTED)
def test_catalogue_entry_is_the_class_docstring(
    cls: type[AppError], code: str, status: int
) -> None:
    assert CATALOGUE[code] == (cls.__doc__ or "").strip()
    assert CATALOGUE[code]


def test_catalogue_has_exactly_the_known_codes() -> None:
    assert set(CATALOGUE) == {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "INVALID_ARGUMENT",
        "INTERNAL",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "INVALID_TOKEN",
        "SIGN_IN_REFUSED",
    }
    for code, meaning in CATALOGUE.items():
        assert isinstance(meaning, str) and meaning.strip(), code
        assert code == code.upper()


def test_readme_documents_every_catalogued_code() -> None:
    text = README.read_text(encoding="utf-8")
    for code in CATALOGUE:
        assert f"`{code}`" in text, code
