"""The ASGI application: /query (GraphQL), /auth/token (sign-in), keys, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx
from sqlalchemy import inspect, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from app.db import Database
from app.errors import InvalidToken
from app.graphiql_page import PREFIX, asset_endpoint, local_page
from app.login.exchange import ExchangeError, check_form, sign_in
from app.login.jwks import KeyCache
from app.migrate import head_revision
from app.observability import Metrics, ObservabilityMiddleware, record_sync_changes
from app.principals import Principal, parse_authorization, principal_for_token
from app.sessions import looks_like_jwt, principal_for_access_token
from app.settings import Settings, get_settings
from app.signing import KeyRing

log = logging.getLogger("teamclaims")
#: An ID token with a few hundred groups is tens of kilobytes; nothing legitimate is larger.
MAX_FORM_BYTES = 256 * 1024
#: How long /readyz waits for the database before it answers "not ready".
READY_TIMEOUT = 3.0
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class Services:
    """What a request may need, made once per process."""

    settings: Settings
    db: Database
    keyring: KeyRing
    idp_keys: KeyCache
    metrics: Metrics = field(default_factory=Metrics)

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller of a request: an API token or a signed-in user's access token."""
        secret = parse_authorization(authorization)
        async with self.db.read() as session:
            if looks_like_jwt(secret):
                return await principal_for_access_token(
                    session, self.keyring, secret, issuer=self.settings.issuer
                )
            return await principal_for_token(session, secret)


GRAPHQL_RESPONSE = "application/graphql-response+json"


class RequestTooLarge(Exception):
    pass


class LimitBody:
    """Refuse request bodies over ``max_bytes`` with 413, before reading them whole.

    A class, not a function: Starlette treats a plain function as a request handler.
    ``oauth`` answers in RFC 6749's error shape instead of GraphQL's.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, *, oauth: bool = False) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.oauth = oauth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(scope, receive, send)
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise RequestTooLarge
            return message

        try:
            await self.app(scope, counting, send)
        except RequestTooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.oauth:
            body: dict = {"error": "invalid_request",
                          "error_description": f"the request is larger than {self.max_bytes} bytes"}
        else:
            body = {"errors": [{
                "message": f"the request is larger than {self.max_bytes} bytes",
                "extensions": {"code": "REQUEST_TOO_LARGE", "maximum": self.max_bytes},
            }]}
        await JSONResponse(body, status_code=413)(scope, receive, send)


class GraphQLApp(GraphQL):
    def __init__(self, services: Services) -> None:
        from resolvers.schema import schema  # resolvers -> app; imported here, not at module level

        super().__init__(schema,
                         graphql_ide="graphiql" if services.settings.graphiql else None)
        self.services = services
        local = local_page(self.graphql_ide_html) if services.settings.graphiql else None
        self.ide_html = local[0] if local else self.graphql_ide_html
        self.ide_assets: frozenset[str] = local[1] if local else frozenset()

    async def render_graphql_ide(self, request):  # type: ignore[override]
        return HTMLResponse(self.ide_html)

    async def get_sub_response(self, request):  # type: ignore[override]
        sub = await super().get_sub_response(request)
        request.state.sub_response = sub
        return sub

    async def process_result(self, request, result):  # type: ignore[override]
        from resolvers.errors import code_error

        # Parse errors never reach the schema's extensions: code them here too.
        if result.errors:
            result.errors = [code_error(e) for e in result.errors]
        body = await super().process_result(request, result)
        sub = getattr(request.state, "sub_response", None)
        if sub is not None and GRAPHQL_RESPONSE in request.headers.get("accept", ""):
            # GraphQL over HTTP: with application/graphql-response+json, a request that never
            # reached execution (parse, validation, variables) is a 400 with no `data`.
            sub.graphql_response = True
            if result.data is None and result.errors and all(
                e.path is None for e in result.errors
            ):
                sub.status_code = 400
                body.pop("data", None)
        return body

    def create_response(self, response_data, sub_response):  # type: ignore[override]
        response = super().create_response(response_data, sub_response)
        if getattr(sub_response, "graphql_response", False):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        return response

    async def get_context(self, request, response):  # type: ignore[override]
        from resolvers.context import Context

        return Context(services=self.services,
                       authorization=request.headers.get("authorization"), request=request)


def oauth_error(error: str, description: str) -> JSONResponse:
    """RFC 6749 §5.2."""
    return JSONResponse({"error": error, "error_description": description}, status_code=400,
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


class App(Starlette):
    """Starlette with the observability middleware outermost, outside even the 500 handler,
    so every response (errors too) carries X-Request-ID and is counted and logged."""

    def __init__(self, *args, metrics: Metrics, **kwargs) -> None:
        self.metrics = metrics
        super().__init__(*args, **kwargs)

    def build_middleware_stack(self):  # type: ignore[override]
        return ObservabilityMiddleware(super().build_middleware_stack(), self.metrics)


async def readiness(db: Database, head: str | None) -> tuple[str, str] | None:
    """None when the database answers and is at the migrations' head, else (check, why)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT), db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current: list[str] = []
            if await conn.run_sync(lambda c: inspect(c).has_table("alembic_version")):
                current = list((await conn.execute(
                    text("SELECT version_num FROM alembic_version"))).scalars())
    except TimeoutError:
        return "database", f"the database did not answer within {READY_TIMEOUT:g}s"
    except Exception as exc:
        log.warning("readiness: the database is unreachable: %s", exc)
        return "database", f"the database is unreachable ({type(exc).__name__})"
    if current != [head]:
        at = ", ".join(current) if current else "none (not migrated)"
        return "migrations", (f"the database schema is at revision {at}; this version of "
                              f"teamclaims needs {head} (run `teamclaims migrate`)")
    return None


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    http = httpx.AsyncClient(timeout=settings.idp_timeout, follow_redirects=False)
    metrics = Metrics()
    services = Services(settings, db, KeyRing(db), KeyCache(http, on_fetch=metrics.jwks_fetched),
                        metrics)
    head = head_revision()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await services.keyring.load()
        yield
        await http.aclose()
        await db.dispose()

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers=NO_STORE)

    async def readyz(_request: Request) -> JSONResponse:
        failed = await readiness(db, head)
        if failed is None:
            return JSONResponse({"status": "ready"}, headers=NO_STORE)
        check, reason = failed
        return JSONResponse({"status": "not ready", "failed": check, "reason": reason},
                            status_code=503, headers=NO_STORE)

    async def metrics_endpoint(request: Request) -> Response:
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, headers={**NO_STORE, "Content-Type": content_type})

    async def jwks(_request: Request) -> JSONResponse:
        return JSONResponse(await services.keyring.published(),
                            headers={"Cache-Control": "max-age=300"})

    async def token(request: Request) -> JSONResponse:
        try:
            response, error = await exchange(request)
        except Exception:
            metrics.token_exchange("server_error", outcome="error")
            raise
        metrics.token_exchange(error)
        return response

    async def exchange(request: Request) -> tuple[JSONResponse, str | None]:
        """The answer to a token exchange and, when refused, its OAuth error code."""
        content_type = request.headers.get("content-type", "").lower()
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return refuse("invalid_request",
                          "send the request as application/x-www-form-urlencoded")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return refuse("invalid_request", "the request is too large")
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return refuse("invalid_request", "the request body is not form-encoded")
        names = [k for k, _ in pairs]
        if len(set(names)) != len(names):
            return refuse("invalid_request", "a parameter is repeated (RFC 6749 §3.2)")
        try:
            subject_token = check_form(dict(pairs))
            answer = await sign_in(
                db, services.idp_keys, services.keyring, token=subject_token,
                issuer=settings.issuer, ttl=settings.access_token_ttl,
                on_plan=lambda plan: record_sync_changes(
                    metrics, len(plan.create_memberships), len(plan.delete_memberships)),
            )
        except ExchangeError as exc:
            return refuse(exc.error, exc.description)
        except InvalidToken as exc:
            return refuse(exc.oauth_error, exc.message)
        return JSONResponse(answer, headers={"Cache-Control": "no-store",
                                             "Pragma": "no-cache"}), None

    def refuse(error: str, description: str) -> tuple[JSONResponse, str]:
        log.info("token exchange refused (%s): %s", error, description)
        return oauth_error(error, description), error

    graphql = GraphQLApp(services)
    app = App(
        metrics=metrics,
        routes=[
            Route("/query", LimitBody(graphql, settings.max_request_bytes),
                  methods=["GET", "POST"]),
            Route(PREFIX + "{path:path}", asset_endpoint(graphql.ide_assets)),
            Route("/auth/token", LimitBody(request_response(token), MAX_FORM_BYTES, oauth=True),
                  methods=["POST"]),
            Route("/.well-known/jwks.json", jwks),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.metrics = metrics
    return app


def worker_app() -> Starlette:
    """The app of one of several worker processes (``uvicorn --factory``): each configures its
    own logging and reads the settings from the environment, as ``teamclaims serve`` does."""
    from app.observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)
