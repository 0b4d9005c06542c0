"""Every GraphQL example in the README parses and validates against the real server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.harness import Org, Server

README = Path(__file__).resolve().parents[2] / "README.md"
SCHEMA_ERRORS = {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "INVALID_ARGUMENT"}


def query_bodies() -> list[dict]:
    text = README.read_text(encoding="utf-8")
    bodies = []
    for block in re.findall(r"curl [^\n]*?/query.*?-d '(\{.*?\})'", text, re.S):
        body = json.loads(block)
        if "query" in body:
            bodies.append(body)
    return bodies


def test_the_readme_has_examples() -> None:
    assert len(query_bodies()) >= 10


async def test_readme_examples_are_valid_graphql(server: Server, org: Org) -> None:
    for body in query_bodies():
        text = json.dumps(body).replace("organizations/demo", f"organizations/{org.id}")
        resp = await server.client.post(
            f"{server.base_url}/query", content=text,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {org.token}"})
        answer = resp.json()
        codes = {e.get("extensions", {}).get("code") for e in answer.get("errors", [])}
        assert not codes & SCHEMA_ERRORS, (body["query"], answer)
