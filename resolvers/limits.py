"""Limits against abusive documents (OWASP GraphQL cheat sheet), checked before execution.

Each limit is a setting; a document over one is refused with the code QUERY_TOO_COMPLEX
and `extensions.limit` naming which (depth, aliases, tokens, introspection_depth).
"""

from __future__ import annotations

import re

from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)

from app.settings import Settings

CODE = "QUERY_TOO_COMPLEX"
_PATTERNS = (
    (re.compile(r"exceeds maximum operation depth of (\d+)"), "depth"),
    (re.compile(r"aliases found\. Allowed: (\d+)"), "aliases"),
    (re.compile(r"Document contains more than (\d+) tokens"), "tokens"),
    # graphql-core's own guard on nested introspection (no number in its message).
    (re.compile(r"Maximum introspection depth exceeded()"), "introspection_depth"),
)


def extensions(settings: Settings) -> list:
    """Factories (a fresh extension per request), as Strawberry wants them.

    The depth and alias rules are built once: a validation rule is a class, and a new class
    per request would make every document new to the validation cache.
    """
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    tokens = settings.max_tokens
    return [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=tokens),
    ]


def classify(error: GraphQLError) -> dict | None:
    """The extensions of a limit error, or None when the error is something else."""
    for pattern, limit in _PATTERNS:
        if m := pattern.search(error.message):
            out = {"code": CODE, "limit": limit}
            if m.group(1):
                out["maximum"] = int(m.group(1))
            return out
    return None
