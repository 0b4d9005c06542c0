"""The error catalogue: every error a client can see, with its stable code.

Service code raises these; the GraphQL layer turns them into errors whose
``extensions.code`` is the code below. Anything else that escapes is an
internal error and reaches the client only as ``INTERNAL`` with no details.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error meant for the caller: a stable code and a message a person can act on."""

    code: str = "INTERNAL"
    http_status: int = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.details}


class Unauthenticated(AppError):
    """No credentials, or credentials that are not valid (unknown, revoked, expired)."""

    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(AppError):
    """The caller is known and may see the object, but lacks the role for this operation."""

    code = "FORBIDDEN"
    http_status = 403


class NotFound(AppError):
    """The object does not exist, or the caller has no role that lets it see the object."""

    code = "NOT_FOUND"
    http_status = 404


class AlreadyExists(AppError):
    """An object with the same identity already exists."""

    code = "ALREADY_EXISTS"
    http_status = 409


class InvalidArgument(AppError):
    """The input is malformed or contradicts itself."""

    code = "INVALID_ARGUMENT"
    http_status = 400


class Internal(AppError):
    """Something failed on the server; details are logged, never sent."""

    code = "INTERNAL"
    http_status = 500


class InvalidToken(AppError):
    """A token presented for sign-in (token exchange) is not acceptable."""

    code = "INVALID_TOKEN"
    http_status = 400
    #: RFC 8693 §2.2.2: an unacceptable subject token is an `invalid_request`.
    oauth_error = "invalid_request"


class SignInRefused(InvalidToken):
    """The token is valid but signing in is refused by policy (for example a groups overage)."""

    code = "SIGN_IN_REFUSED"


#: Every code a client can receive, with what it means (documented in the README).
CATALOGUE: dict[str, str] = {
    cls.code: (cls.__doc__ or "").strip()
    for cls in (Unauthenticated, Forbidden, NotFound, AlreadyExists, InvalidArgument, Internal,
                InvalidToken, SignInRefused)
}
#: Codes the GraphQL layer itself produces for documents that never reach a resolver.
CATALOGUE["GRAPHQL_PARSE_FAILED"] = "The document is not valid GraphQL syntax."
CATALOGUE["GRAPHQL_VALIDATION_FAILED"] = (
    "The document asks for a field, argument or type the schema does not have, "
    "or a variable does not match its declared type."
)
