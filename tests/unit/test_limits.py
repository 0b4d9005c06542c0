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
