"""The depth limit, configured as the server configures it, refuses deep documents."""

import strawberry

from app.settings import Settings
from resolvers import limits
from resolvers.errors import code_error
from resolvers.schema import Mutation, Query

DEEP = '{ organization(mrn: "//captain.api.mondoo.app/organizations/acme") ' \
       "{ spaces { workspaces { id } } } }"


def schema_with(**settings) -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation,
                             extensions=limits.extensions(Settings(**settings)))


def test_depth_over_the_limit_is_refused_before_execution() -> None:
    result = schema_with(max_query_depth=2).execute_sync(DEEP)
    assert result.data is None
    [error] = result.errors
    assert code_error(error).extensions == {"code": "QUERY_TOO_COMPLEX", "limit": "depth",
                                            "maximum": 2}


async def test_depth_within_the_limit_reaches_the_resolvers() -> None:
    result = await schema_with(max_query_depth=3).execute(DEEP)
    # It got past validation: the resolver ran (and failed for want of a request context).
    [error] = result.errors
    assert error.path == ["organization"]
    assert "limit" not in (code_error(error).extensions or {})


def test_other_errors_are_not_limits() -> None:
    assert limits.classify(type("E", (), {"message": "Cannot query field 'x'"})()) is None


def test_a_repeated_document_is_validated_once() -> None:
    """The limit rules are the same classes on every request, so the validation cache hits."""
    from strawberry.extensions import ParserCache, ValidationCache

    calls = []

    class Counting(ValidationCache):
        def on_validate(self):
            before = self.cached_validate_document.cache_info().misses
            yield from super().on_validate()
            calls.append(self.cached_validate_document.cache_info().misses - before)

    schema = strawberry.Schema(
        query=Query, mutation=Mutation,
        extensions=[*limits.extensions(Settings(max_query_depth=3)),
                    lambda: ParserCache(maxsize=8), lambda: Counting(maxsize=8)])
    document = "{ __typename organization(mrn: \"x\") { id } }"
    for _ in range(3):
        schema.execute_sync(document)
    assert calls == [1, 0, 0]
