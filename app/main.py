"""The ASGI application: /query (GraphQL), /auth/token (sign-in), keys and health."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from app.db import Database
from app.errors import InvalidToken
from app.login.exchange import ExchangeError, check_form, sign_in
from app.login.jwks import KeyCache
from app.principals import Principal, parse_authorization, principal_for_token
from app.sessions import looks_like_jwt, principal_for_access_token
from app.settings import Settings, get_settings
from app.signing import KeyRing

log = logging.getLogger("teamclaims")
#: An ID token with a few hundred groups is tens of kilobytes; nothing legitimate is larger.
MAX_FORM_BYTES = 256 * 1024


@dataclass
class Services:
    """What a request may need, made once per process."""

    settings: Settings
    db: Database
    keyring: KeyRing
    idp_keys: KeyCache

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller of a request: an API token or a signed-in user's access token."""
        secret = parse_authorization(authorization)
        async with self.db.transaction() as session:
            if looks_like_jwt(secret):
                return await principal_for_access_token(
                    session, self.keyring, secret, issuer=self.settings.issuer
                )
            return await principal_for_token(session, secret)


class GraphQLApp(GraphQL):
    def __init__(self, services: Services) -> None:
        from resolvers.schema import schema  # resolvers -> app; imported here, not at module level

        super().__init__(schema,
                         graphql_ide="graphiql" if services.settings.graphiql else None)
        self.services = services

    async def process_result(self, request, result):  # type: ignore[override]
        from resolvers.errors import code_error

        # Parse errors never reach the schema's extensions: code them here too.
        if result.errors:
            result.errors = [code_error(e) for e in result.errors]
        return await super().process_result(request, result)

    async def get_context(self, request, response):  # type: ignore[override]
        from resolvers.context import Context

        return Context(services=self.services,
                       authorization=request.headers.get("authorization"), request=request)


def oauth_error(error: str, description: str) -> JSONResponse:
    """RFC 6749 §5.2."""
    return JSONResponse({"error": error, "error_description": description}, status_code=400,
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    http = httpx.AsyncClient(timeout=settings.idp_timeout, follow_redirects=False)
    services = Services(settings, db, KeyRing(db), KeyCache(http))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await services.keyring.load()
        yield
        await http.aclose()
        await db.dispose()

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def jwks(_request: Request) -> JSONResponse:
        return JSONResponse(services.keyring.jwks(), headers={"Cache-Control": "max-age=300"})

    async def token(request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "").lower()
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return oauth_error("invalid_request",
                               "send the request as application/x-www-form-urlencoded")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return oauth_error("invalid_request", "the request is too large")
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return oauth_error("invalid_request", "the request body is not form-encoded")
        names = [k for k, _ in pairs]
        if len(set(names)) != len(names):
            return oauth_error("invalid_request", "a parameter is repeated (RFC 6749 §3.2)")
        try:
            subject_token = check_form(dict(pairs))
            answer = await sign_in(db, services.idp_keys, services.keyring, token=subject_token,
                                 issuer=settings.issuer, ttl=settings.access_token_ttl)
        except ExchangeError as exc:
            return oauth_error(exc.error, exc.description)
        except InvalidToken as exc:
            log.info("token exchange refused: %s", exc.message)
            return oauth_error(exc.oauth_error, exc.message)
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    app = Starlette(
        routes=[
            Route("/query", GraphQLApp(services), methods=["GET", "POST"]),
            Route("/auth/token", token, methods=["POST"]),
            Route("/.well-known/jwks.json", jwks),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
