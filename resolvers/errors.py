"""Turn exceptions into GraphQL errors with a stable ``extensions.code``.

Errors from the service core (``app.errors.AppError``) keep their message and
code. Anything else is logged and reaches the client as ``INTERNAL`` with no
detail, so no stack trace, SQL or parameter ever leaves the server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.errors import AppError
from resolvers import limits

log = logging.getLogger("teamclaims.errors")


def code_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, AppError):
        return GraphQLError(original.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions=original.extensions())
    if error.extensions and "code" in error.extensions:
        return error
    # No path: the error arose before any resolver ran (parsing, validation, coercing
    # variables), so it is the document's or the variables' fault, never the server's.
    if original is None or error.path is None:
        if (limit := limits.classify(error)) is not None:
            return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                                positions=error.positions, path=error.path, extensions=limit)
        if error.message.startswith("Syntax Error"):
            code = "GRAPHQL_PARSE_FAILED"
        elif error.message.startswith("Variable '$"):
            code = "INVALID_ARGUMENT"
        else:
            code = "GRAPHQL_VALIDATION_FAILED"
        return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions={**(error.extensions or {}), "code": code})
    log.error("internal error at %s", error.path, exc_info=original)
    return GraphQLError("internal error: the server could not complete the request",
                        nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions={"code": "INTERNAL"})


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            result.errors = [code_error(e) for e in result.errors]
