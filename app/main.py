"""The ASGI application: /query (GraphQL) and health."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from app.db import Database
from app.settings import Settings, get_settings

log = logging.getLogger("teamclaims")


class GraphQLApp(GraphQL):
    def __init__(self, db: Database, settings: Settings) -> None:
        from resolvers.schema import schema  # resolvers -> app; imported here, not at module level

        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.db = db

    async def process_result(self, request, result):  # type: ignore[override]
        from resolvers.errors import code_error

        # Parse errors never reach the schema's extensions: code them here too.
        if result.errors:
            result.errors = [code_error(e) for e in result.errors]
        return await super().process_result(request, result)

    async def get_context(self, request, response):  # type: ignore[override]
        from resolvers.context import Context

        return Context(db=self.db, authorization=request.headers.get("authorization"),
                       request=request)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    db = Database(settings.database_url, pool_size=settings.db_pool_size)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await db.dispose()

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    graphql = GraphQLApp(db, settings)
    app = Starlette(
        routes=[
            Route("/query", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
    app.state.db = db
    return app
