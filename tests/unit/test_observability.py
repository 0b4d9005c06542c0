"""Unit tests for app.observability: request ids, metrics, the middleware, redacting logs."""

from __future__ import annotations

import io
import json
import logging
import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from app.observability import (
    REDACTED,
    JsonFormatter,
    Metrics,
    ObservabilityMiddleware,
    RedactingFilter,
    TextFormatter,
    configure_logging,
    record_sync_changes,
    redact,
    request_id,
    sane_request_id,
)

JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImF1ZCI6ImFwcCJ9."
       "c2lnbmF0dXJlLWJ5dGVzLWhlcmU")
SECRET = "tcat_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"


def samples(metrics: Metrics, name: str) -> dict[tuple, float]:
    """{sorted label items: value} of one metric's samples, from the exposition text."""
    body, _ = metrics.exposition(None)
    out: dict[tuple, float] = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


# --------------------------------------------------------------------------- request id


@pytest.mark.parametrize("value", ["abc", "A.b-c_9", "x" * 64, b"req-1"])
def test_sane_request_ids_are_kept(value):
    expected = value.decode() if isinstance(value, bytes) else value
    assert sane_request_id(value) == expected


@pytest.mark.parametrize("value", ["", "x" * 65, "has space", "semi;colon", "új", "a\nb",
                                   "a/b", None, b"\xff\xfe"])
def test_insane_request_ids_are_refused(value):
    assert sane_request_id(value) is None


# --------------------------------------------------------------------------- redaction


@pytest.mark.parametrize("text, secret", [
    (f"got {JWT} from the client", JWT),
    (f"Authorization: Bearer {SECRET}", SECRET),
    ("authorization: Bearer opaque-token-value", "opaque-token-value"),
    (f"key {SECRET}", SECRET),
    ("form subject_token=abc.def.ghi&grant_type=x", "abc.def.ghi"),
    ('{"access_token": "opaque123", "token_type": "Bearer"}', "opaque123"),
    ("postgresql+asyncpg://app:hunter2@db:5432/teamclaims", "hunter2"),
    ("Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
    ("client_secret='s3cr3t-value'", "s3cr3t-value"),
])
def test_redact_removes_secrets(text, secret):
    out = redact(text)
    assert secret not in out
    assert REDACTED in out


def test_redact_leaves_ordinary_text_alone():
    for text in ["GET /query 200 1.2ms", "token exchange refused (invalid_request): the subject "
                 "token is not a signed JWT", "app.main.create_app", "basic roles: viewer"]:
        assert redact(text) == text


def test_redact_keeps_json_valid():
    doc = json.dumps({"password": 'a"b\\c', "url": "postgresql://u:p\"w@h/db",
                      "access_token": JWT, "note": f"Bearer {SECRET}"})
    out = redact(doc)
    parsed = json.loads(out)
    assert JWT not in out and SECRET not in out and 'a"b' not in parsed["password"]


# --------------------------------------------------------------------------- log formatting


def capture(fmt: str = "json") -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"test.observability.{fmt}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, stream


def test_json_lines_carry_request_id_and_redact_everything():
    logger, stream = capture()
    token = request_id.set("req-42")
    try:
        logger.info("exchange for %s with %s", JWT, SECRET,
                    extra={"detail": {"subject_token": JWT, "n": 3}, "header": f"Bearer {SECRET}"})
        try:
            raise ValueError(f"bad token {JWT}")
        except ValueError:
            logger.exception("failed")
    finally:
        request_id.reset(token)
    logger.warning("outside a request")
    out = stream.getvalue()
    assert JWT not in out and SECRET not in out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(lines) == 3
    first, second, third = lines
    assert set(first) >= {"time", "level", "logger", "message", "request_id"}
    assert first["request_id"] == "req-42" and first["level"] == "INFO"
    assert first["logger"] == "test.observability.json"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert first["detail"]["n"] == 3 and first["detail"]["subject_token"] == REDACTED
    assert second["request_id"] == "req-42" and "ValueError" in second["exception"]
    assert third["request_id"] is None


def test_text_format_has_request_id():
    logger, stream = capture("text")
    token = request_id.set("req-text")
    try:
        logger.info("hello %s", SECRET)
    finally:
        request_id.reset(token)
    line = stream.getvalue().strip()
    assert "[req-text]" in line and "INFO" in line and SECRET not in line


def test_configure_logging_routes_everything_through_one_redacting_handler():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        configure_logging("json", "info", stream=stream)
        logging.getLogger("uvicorn.error").info("Uvicorn running with %s", SECRET)
        logging.getLogger("teamclaims.x").debug("hidden at info")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [entry["logger"] for entry in lines] == ["uvicorn.error"]
        assert SECRET not in stream.getvalue()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.captureWarnings(False)


# --------------------------------------------------------------------------- metrics


def test_each_metrics_object_has_its_own_registry():
    a, b = Metrics(), Metrics()  # a second one must not raise "Duplicated timeseries"
    a.observe_request("GET", "/x", 200, 0.01)
    assert samples(a, "teamclaims_http_requests_total") == {
        (("method", "GET"), ("route", "/x"), ("status", "200")): 1.0}
    assert samples(b, "teamclaims_http_requests_total") == {}


def test_record_sync_changes_counts_adds_and_removes():
    m = Metrics(process_metrics=False)
    assert samples(m, "teamclaims_signin_membership_changes_total") == {
        (("action", "add"),): 0.0, (("action", "remove"),): 0.0}
    record_sync_changes(m, added=2, removed=0)
    record_sync_changes(m, added=1, removed=3)
    record_sync_changes(None, added=5, removed=5)  # no metrics: a no-op
    assert samples(m, "teamclaims_signin_membership_changes_total") == {
        (("action", "add"),): 3.0, (("action", "remove"),): 3.0}


def test_token_exchanges_and_jwks_fetches():
    m = Metrics(process_metrics=False)
    m.token_exchange(None)
    m.token_exchange("invalid_request")
    m.token_exchange("invalid_request")
    m.jwks_fetched("https://idp/keys", True)
    m.jwks_fetched("https://idp/keys", False)
    assert samples(m, "teamclaims_token_exchanges_total") == {
        (("error", ""), ("outcome", "ok")): 1.0,
        (("error", "invalid_request"), ("outcome", "refused")): 2.0}
    assert samples(m, "teamclaims_jwks_fetches_total") == {
        (("outcome", "ok"),): 1.0, (("outcome", "error"),): 1.0}


# --------------------------------------------------------------------------- middleware


def make_app() -> tuple[Starlette, Metrics, list[str | None]]:
    seen: list[str | None] = []

    async def item(request: Request) -> JSONResponse:
        seen.append(request_id.get())
        return JSONResponse({"id": request.path_params["item_id"]})

    async def boom(_request: Request) -> PlainTextResponse:
        raise RuntimeError(f"exploded holding {SECRET}")

    metrics = Metrics(process_metrics=False)
    app = Starlette(routes=[Route("/items/{item_id}", item), Route("/boom", boom)])
    return ObservabilityMiddleware(app, metrics), metrics, seen


async def test_middleware_labels_route_templates_and_echoes_request_ids():
    app, metrics, seen = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        r1 = await c.get("/items/42", headers={"X-Request-ID": "caller-id.1"})
        r2 = await c.get("/items/43")
        r3 = await c.get("/items/44", headers={"X-Request-ID": "not sane!"})
        r4 = await c.get("/nothing/here")
        r5 = await c.request("BREW", "/items/1")
    assert r1.headers["x-request-id"] == "caller-id.1"
    assert re.fullmatch(r"[0-9a-f]{32}", r2.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", r3.headers["x-request-id"])
    assert r2.headers["x-request-id"] != r3.headers["x-request-id"]
    assert seen[:3] == [r1.headers["x-request-id"], r2.headers["x-request-id"],
                        r3.headers["x-request-id"]]
    assert request_id.get() is None  # reset after each request
    assert r4.status_code == 404 and "x-request-id" in r4.headers
    counts = samples(metrics, "teamclaims_http_requests_total")
    assert counts == {
        (("method", "GET"), ("route", "/items/{item_id}"), ("status", "200")): 3.0,
        (("method", "GET"), ("route", "<unmatched>"), ("status", "404")): 1.0,
        (("method", "OTHER"), ("route", "/items/{item_id}"), ("status", str(r5.status_code))): 1.0,
    }
    body, _ = metrics.exposition(None)
    assert b"/items/42" not in body and b"/nothing/here" not in body
    hist = samples(metrics, "teamclaims_http_request_duration_seconds_count")
    assert hist[(("route", "/items/{item_id}"),)] == 4.0


async def test_middleware_logs_access_and_unhandled_errors_with_request_id():
    app, metrics, _ = make_app()
    handler_stream = io.StringIO()
    handler = logging.StreamHandler(handler_stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        # Starlette's 500 handler (inside the middleware) answers 500 and re-raises; the
        # middleware logs the error with the request id and does not raise it again.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            await c.get("/items/7", headers={"X-Request-ID": "rid-ok"})
            r = await c.get("/boom", headers={"X-Request-ID": "rid-boom"})
        assert r.status_code == 500
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    out = handler_stream.getvalue()
    assert SECRET not in out
    lines = [json.loads(line) for line in out.splitlines()]
    access = [e for e in lines if e["logger"] == "teamclaims.access"]
    assert [(e["request_id"], e["method"], e["route"], e["status"]) for e in access] == [
        ("rid-ok", "GET", "/items/{item_id}", 200), ("rid-boom", "GET", "/boom", 500)]
    assert all(isinstance(e["duration_ms"], float) for e in access)
    errors = [e for e in lines if e["level"] == "ERROR"]
    assert errors and errors[0]["request_id"] == "rid-boom" and "RuntimeError" in errors[0][
        "exception"]
    assert samples(metrics, "teamclaims_http_requests_total")[
        (("method", "GET"), ("route", "/boom"), ("status", "500"))] == 1.0
