"""Concurrent requests over HTTP: a race for the same object has one winner and no duplicates.

Each request is a separate HTTP call to the real server, fired together with asyncio.gather,
so on PostgreSQL the transactions really overlap (on SQLite the server serialises them).
A loser must get ALREADY_EXISTS, never INTERNAL, and the table must hold exactly one row.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest
from sqlalchemy import text

from tests.integration.harness import Org, Server

CREATE_TEAM = "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn name } }"
ADD_MAPPING = ("mutation($input: AddTeamExternalGroupMappingInput!) "
               "{ addTeamExternalGroupMapping(input: $input) { mrn externalId } }")
SET_ROLES = "mutation($input: SetRolesInput!) { setRoles(input: $input) { mrns } }"
ADD_MEMBER = ("mutation($input: AddTeamMemberInput!) "
              "{ addTeamMember(input: $input) { createdPending memberMrn } }")
ROUNDS = 5


async def together(server: Server, token: str, query: str, inputs: list[dict]) -> list[dict]:
    """POST one request per input at the same time; the JSON answers, in input order."""
    responses = await asyncio.gather(
        *(server.post({"query": query, "variables": {"input": i}}, token=token) for i in inputs)
    )
    for r in responses:
        assert r.status_code == 200, r.text
    return [r.json() for r in responses]


def split(answers: list[dict], field: str) -> tuple[list[dict], list[dict]]:
    """(successes' data, errors) of the answers; every answer is exactly one of the two."""
    wins, errors = [], []
    for a in answers:
        if a.get("errors"):
            assert len(a["errors"]) == 1, a
            assert not a.get("data"), a
            errors.append(a["errors"][0])
        else:
            wins.append(a["data"][field])
    return wins, errors


def assert_lost_cleanly(errors: list[dict], n: int) -> None:
    assert len(errors) == n, errors
    for e in errors:
        assert e.get("extensions", {}).get("code") == "ALREADY_EXISTS", e
        for leak in ("Traceback", "INSERT", "sqlalchemy", "asyncpg", "UniqueViolation"):
            assert leak not in e["message"], e


async def count(server: Server, sql: str, **params: str) -> int:
    async with server.db.transaction() as s:
        return (await s.execute(text(sql), params)).scalar_one()


@pytest.mark.parametrize("roles", [None, ["viewer"]], ids=["plain", "with-roles"])
async def test_concurrent_create_team_same_id(
    server: Server, org: Org, roles: list[str] | None
) -> None:
    for rnd in range(ROUNDS):
        team_id = f"race-{rnd}-{secrets.token_hex(3)}"
        mrn = f"{org.mrn}/teams/{team_id}"
        inputs = [{"id": team_id, "name": f"Racer {n}", "scopeMrn": org.mrn, "roles": roles}
                  for n in range(2)]
        wins, errors = split(await together(server, org.token, CREATE_TEAM, inputs), "createTeam")
        assert len(wins) == 1, (rnd, wins, errors)
        assert wins[0]["mrn"] == mrn
        assert_lost_cleanly(errors, 1)
        assert await count(server, "SELECT count(*) FROM team WHERE mrn = :m", m=mrn) == 1
        # The stored team is the winner's, whole.
        async with server.db.transaction() as s:
            name = (await s.execute(text("SELECT name FROM team WHERE mrn = :m"),
                                    {"m": mrn})).scalar_one()
        assert name == wins[0]["name"]
        bindings = await count(server, "SELECT count(*) FROM role_binding WHERE identity_mrn = :m",
                               m=mrn)
        assert bindings == len(roles or [])


async def test_many_concurrent_create_team_same_id(server: Server, org: Org) -> None:
    """Six at once: one winner, five ALREADY_EXISTS."""
    team_id = f"crowd-{secrets.token_hex(3)}"
    inputs = [{"id": team_id, "name": f"Racer {n}", "scopeMrn": org.mrn} for n in range(6)]
    wins, errors = split(await together(server, org.token, CREATE_TEAM, inputs), "createTeam")
    assert len(wins) == 1, (wins, errors)
    assert_lost_cleanly(errors, 5)
    assert await count(server, "SELECT count(*) FROM team WHERE mrn = :m",
                       m=f"{org.mrn}/teams/{team_id}") == 1


async def test_concurrent_add_mapping_same_external_id(server: Server, org: Org) -> None:
    team = (await server.ok(CREATE_TEAM, {"input": {"id": "mapped-team", "name": "Mapped",
                                                    "scopeMrn": org.mrn}},
                            token=org.token))["createTeam"]["mrn"]
    for rnd in range(ROUNDS):
        external_id = f"{secrets.token_hex(4)}-0000-0000-0000-00000000000{rnd}"
        inputs = [{"teamMrn": team, "externalId": external_id}] * 2
        wins, errors = split(await together(server, org.token, ADD_MAPPING, inputs),
                             "addTeamExternalGroupMapping")
        assert len(wins) == 1, (rnd, wins, errors)
        assert wins[0]["externalId"] == external_id
        assert_lost_cleanly(errors, 1)
        rows = await count(
            server,
            "SELECT count(*) FROM team_external_group_mapping "
            "WHERE team_mrn = :t AND external_id = :e", t=team, e=external_id,
        )
        assert rows == 1
        listed = await server.ok(
            "query($t: String!) { teamExternalGroupMappings(teamMrn: $t) { nodes { mrn externalId } } }",
            {"t": team}, token=org.token)
        assert [m for m in listed["teamExternalGroupMappings"]["nodes"]
                if m["externalId"] == external_id] == [wins[0]]
    assert await count(server, "SELECT count(*) FROM team_external_group_mapping "
                               "WHERE team_mrn = :t", t=team) == ROUNDS


async def test_concurrent_add_team_member_same_user(server: Server, org: Org) -> None:
    team = (await server.ok(CREATE_TEAM, {"input": {"id": "member-race", "name": "M",
                                                    "scopeMrn": org.mrn}},
                            token=org.token))["createTeam"]["mrn"]
    for rnd in range(ROUNDS):
        email = f"racer-{rnd}-{secrets.token_hex(3)}@example.com"
        # odd rounds: a real user of the organization
        user = await server.create_user(email, signed_in_to=org.mrn) if rnd % 2 else None
        inputs = [{"teamMrn": team, "identity": user or email}] * 2
        wins, errors = split(await together(server, org.token, ADD_MEMBER, inputs), "addTeamMember")
        assert len(wins) == 1, (rnd, wins, errors)
        assert wins[0] == {"createdPending": user is None, "memberMrn": user}
        assert_lost_cleanly(errors, 1)
        rows = await count(
            server, "SELECT count(*) FROM team_member WHERE team_mrn = :t AND "
                    "(user_mrn = :v OR pending_email = :v)", t=team, v=user or email,
        )
        assert rows == 1


async def test_concurrent_identical_set_roles(
    request: pytest.FixtureRequest, server: Server, org: Org
) -> None:
    """setRoles sets a complete list, so the same call twice at once must succeed twice."""
    failures = []
    for rnd in range(10):
        team = (await server.ok(CREATE_TEAM, {"input": {"id": f"roles-race-{rnd}", "name": "R",
                                                        "scopeMrn": org.mrn}},
                                token=org.token))["createTeam"]["mrn"]
        inputs = [{"scopeMrn": org.mrn, "identity": team, "roles": ["viewer", "editor"]}] * 2
        wins, errors = split(await together(server, org.token, SET_ROLES, inputs), "setRoles")
        failures += [e.get("extensions", {}).get("code") for e in errors]
        rows = await count(server, "SELECT count(*) FROM role_binding WHERE identity_mrn = :m",
                           m=team)
        assert rows == 2, (rnd, rows)
    assert failures == [], failures
