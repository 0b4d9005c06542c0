"""Operations: request ids, Prometheus metrics, structured (JSON) logs with secret redaction.

- :class:`Metrics` holds one Prometheus registry per app instance (never the global one).
- :class:`ObservabilityMiddleware` is one pure-ASGI middleware that gives every request an id
  (``X-Request-ID``), counts and times it by route template, and writes one access-log line.
- :func:`configure_logging` sends every log record to stderr as one JSON object per line
  (or as text), with the request id of the request it belongs to and secrets redacted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("teamclaims.access")
log = logging.getLogger("teamclaims")

# --------------------------------------------------------------------------- request id

#: The id of the request being served (None outside a request).
request_id: ContextVar[str | None] = ContextVar("teamclaims_request_id", default=None)

REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def sane_request_id(value: bytes | str | None) -> str | None:
    """The incoming id when it is a plain token of at most 64 characters, else None."""
    if value is None:
        return None
    raw = value.encode("latin-1", "replace") if isinstance(value, str) else value
    if _SANE_REQUEST_ID.fullmatch(raw):
        return raw.decode("ascii")
    return None


def new_request_id() -> str:
    return os.urandom(16).hex()


# --------------------------------------------------------------------------- metrics

#: prometheus_client's multiprocess mode: set before the worker processes import it.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
@contextlib.contextmanager
def metrics_shared_by_workers() -> Iterator[None]:
    """Around starting several worker processes: their metrics count in one new directory
    (unless one is set already), removed when they have stopped."""
    if os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    shared = os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="teamclaims-metrics-")
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(shared, ignore_errors=True)


#: Route label of a request that matched no route (raw paths would explode cardinality).
UNMATCHED = "<unmatched>"
_METHODS = {m: m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}


class Metrics:
    """The service's Prometheus metrics, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None, *,
                 process_metrics: bool = True) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        #: Several worker processes (``teamclaims serve --workers``) count in files of one
        #: directory, and whichever worker a scrape reaches answers with the sum of all.
        shared_dir = os.environ.get(MULTIPROCESS_DIR)
        self._exposed = self.registry
        if shared_dir:
            self._exposed = CollectorRegistry()
            MultiProcessCollector(self._exposed, path=shared_dir)
        if process_metrics and not shared_dir:  # (per process: not summed)
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        r = self.registry
        self.http_requests = Counter(
            "teamclaims_http_requests", "HTTP requests by method, route template and status.",
            ["method", "route", "status"], registry=r)
        self.http_duration = Histogram(
            "teamclaims_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.", ["route"], registry=r)
        self.token_exchanges = Counter(
            "teamclaims_token_exchanges",
            "Token exchanges (sign-ins) at /auth/token by outcome (ok, refused, error) and "
            "OAuth error.", ["outcome", "error"], registry=r)
        self.jwks_fetches = Counter(
            "teamclaims_jwks_fetches", "Fetches of identity providers' JWKS by outcome (ok, error).",
            ["outcome"], registry=r)
        self.sync_changes = Counter(
            "teamclaims_signin_membership_changes",
            "Team memberships added or removed by sign-in sync, by action (add, remove).",
            ["action"], registry=r)
        # Series that should read 0 before anything happened.
        self._exchange_ok = self.token_exchanges.labels("ok", "")
        self._jwks = {True: self.jwks_fetches.labels("ok"), False: self.jwks_fetches.labels("error")}
        self._sync_add = self.sync_changes.labels("add")
        self._sync_remove = self.sync_changes.labels("remove")
        # Label children by key, so a request costs two dict lookups, not labels() calls.
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._durations: dict[str, Any] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.http_requests.labels(method, route, str(status))
        counter.inc()
        hist = self._durations.get(route)
        if hist is None:
            hist = self._durations[route] = self.http_duration.labels(route)
        hist.observe(seconds)

    def token_exchange(self, error: str | None, *, outcome: str | None = None) -> None:
        """One exchange: ``error`` None for a token issued, else the OAuth error answered."""
        if error is None:
            self._exchange_ok.inc()
        else:
            self.token_exchanges.labels(outcome or "refused", error).inc()

    def jwks_fetched(self, _jwks_uri: str, ok: bool) -> None:
        """``KeyCache(on_fetch=...)``: one JWKS fetch and whether it worked."""
        self._jwks[bool(ok)].inc()

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The registry in the format the scraper asked for (Prometheus text by default)."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self._exposed), content_type


def record_sync_changes(metrics: Metrics | None, added: int, removed: int) -> None:
    """Count the team memberships one sign-in added and removed."""
    if metrics is None:
        return
    if added:
        metrics._sync_add.inc(added)
    if removed:
        metrics._sync_remove.inc(removed)


# --------------------------------------------------------------------------- middleware


class ObservabilityMiddleware:
    """Request id, metrics and access log for every HTTP request (pure ASGI)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *,
                 quiet_routes: frozenset[str] = frozenset({"/healthz", "/readyz", "/metrics"}),
                 ) -> None:
        self.app = app
        self.metrics = metrics
        #: Routes polled by machines: their successful requests are logged at DEBUG only.
        self.quiet_routes = quiet_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                rid = sane_request_id(value)
                break
        if rid is None:
            rid = new_request_id()
        token = request_id.set(rid)
        header = (REQUEST_ID_HEADER, rid.encode("ascii"))
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Logged here, with the request id. When a response was sent already (Starlette's
            # 500), it stays the answer; otherwise the server answers 500 (and logs it too).
            log.exception("unhandled error in %s %s", scope.get("method"), _route(scope))
            if not status:
                raise
        finally:
            self._finish(scope, status or 500, start)
            request_id.reset(token)

    def _finish(self, scope: Scope, status: int, start: float) -> None:
        seconds = time.perf_counter() - start
        method = _METHODS.get(scope["method"], "OTHER")
        route = _route(scope)
        self.metrics.observe_request(method, route, status, seconds)
        level = logging.DEBUG if route in self.quiet_routes and status < 400 else logging.INFO
        if access_log.isEnabledFor(level):
            duration_ms = round(seconds * 1000, 3)
            access_log.log(level, "%s %s %s %.1fms", method, route, status, duration_ms,
                           extra={"method": method, "route": route, "status": status,
                                  "duration_ms": duration_ms})


def _route(scope: Scope) -> str:
    route = scope.get("route")  # set by Starlette's router on a match
    return getattr(route, "path", None) or UNMATCHED


# --------------------------------------------------------------------------- redaction

REDACTED = "[REDACTED]"
_REDACTIONS: list[tuple[re.Pattern[str], str]] = [
    # Credentials in URLs: scheme://user:password@host
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'\"\\]*:)[^@\s/'\"\\]+@"),
     r"\1" + REDACTED + "@"),
    # An Authorization header's credentials.
    (re.compile(r"(?i)\b(bearer\s+|basic\s+(?=[A-Za-z0-9+/=]{8}))[A-Za-z0-9._~+/=-]+"),
     r"\1" + REDACTED),
    # Compact JWS/JWE: a base64url JSON header ("eyJ") and dot-separated parts.
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}"),
     REDACTED),
    # teamclaims API token secrets.
    (re.compile(r"\btcat_[A-Za-z0-9_-]*"), "tcat_" + REDACTED),
    # name=value, name: value, "name": "value" for names that carry secrets.
    (re.compile(
        r"(?i)\b(subject_token|access_token|refresh_token|id_token|actor_token|client_secret"
        r"|password|passwd|api_key|apikey|authorization)(['\"]?\s*[:=]\s*['\"]?)"
        r"(?!\[REDACTED\])[^\s'\"\\&,;}]+"),
     r"\1\2" + REDACTED),
]
_MAYBE_SECRET = re.compile(
    r"(?i)eyJ|tcat_|bearer|basic|://|token|secret|passw|api_?key|authorization")


def redact(text: str) -> str:
    """``text`` with anything that looks like a token, secret or password replaced."""
    if not _MAYBE_SECRET.search(text):  # the common case: one scan, no substitution
        return text
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


#: Record attributes that are not extras; ``color_message`` is uvicorn's ANSI-coloured copy.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "request_id", "color_message"}


class RedactingFilter(logging.Filter):
    """Last line of defence: no token or secret leaves through a handler with this filter.

    Formats the message (and the traceback) once, redacts it, and leaves the record with no
    arguments, so every formatter after it sees only redacted text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we have, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)  # formatters use it, not exc_info
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key in _STANDARD_ATTRS or value is None or isinstance(value, bool | int | float):
                continue
            if isinstance(value, str):
                setattr(record, key, redact(value))
            else:  # a structure: redact its JSON (redact() keeps JSON valid) and keep the shape
                setattr(record, key, json.loads(redact(json.dumps(value, default=str))))
        return True


# --------------------------------------------------------------------------- formatters


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items()
            if k not in _STANDARD_ATTRS and not k.startswith("_")}


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request id] message key=value ...`` for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None) or request_id.get() or "-"
        line = f"{_time(record)} {record.levelname:<7} {record.name} [{rid}] {record.getMessage()}"
        extras = _extras(record)
        if extras and record.name != access_log.name:  # the access message says it all
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


LogFormat = Literal["json", "text"]


def configure_logging(fmt: LogFormat = "json", level: str = "info",
                      stream: TextIO | None = None) -> logging.Handler:
    """Send every log record (uvicorn's too) to ``stream`` (stderr) in ``fmt``, redacted."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    name = level.upper()
    root.setLevel(5 if name == "TRACE" else logging.getLevelNamesMapping().get(name, logging.INFO))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.captureWarnings(True)
    return handler
