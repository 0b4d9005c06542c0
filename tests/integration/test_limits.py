"""Abusive documents are refused before execution with a coded error (OWASP GraphQL)."""

from __future__ import annotations

from tests.integration.harness import Org, Server


async def test_too_deep_introspection(server: Server, org: Org) -> None:
    # Introspection nests as deep as anyone likes: a classic abuse.
    deep = "{ __schema { types { " + "fields { type { " * 8 + "name" + " } }" * 8 + " } } }"
    err = await server.error(deep, token=org.token)
    assert err["code"] == "QUERY_TOO_COMPLEX" and err["limit"] == "introspection_depth", err


async def test_too_many_aliases(server: Server, org: Org) -> None:
    many = "{ " + " ".join(f"a{i}: __typename" for i in range(100)) + " }"
    err = await server.error(many, token=org.token)
    assert err["code"] == "QUERY_TOO_COMPLEX" and err["limit"] == "aliases", err


async def test_too_many_tokens(server: Server, org: Org) -> None:
    huge = "{ " + " ".join("__typename" for _ in range(5000)) + " }"
    err = await server.error(huge, token=org.token)
    assert err["code"] == "QUERY_TOO_COMPLEX" and err["limit"] == "tokens", err


async def test_request_too_large(server: Server, org: Org) -> None:
    body = {"query": "{ __typename }", "variables": {"pad": "x" * (2 * 1024 * 1024)}}
    resp = await server.post(body, token=org.token)
    assert resp.status_code == 413
    assert resp.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_normal_documents_pass(server: Server, org: Org) -> None:
    ok = "{ " + " ".join(f"a{i}: __typename" for i in range(10)) + " }"
    assert (await server.ok(ok, token=org.token))["a9"] == "Query"
