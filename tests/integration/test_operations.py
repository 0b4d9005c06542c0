"""Every GraphQL operation of the Mondoo IAM surface, end to end, on SQLite and PostgreSQL.

Each test asserts the answer *and* the stored state: through the API (read-back queries)
and through the database rows (``server.snapshot()``). The contract is
/work/shared/spec/mondoo-surface.md.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import text

from tests.integration.harness import CAPTAIN, Org, Server

IAM = "//iam.api.mondoo.app"
ID_RULE = re.compile(r"^[a-z0-9_][a-z0-9_-]{3,63}$")
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)

TEAM_FIELDS = "id mrn name description email scopeMrn createdAt updatedAt"
MAPPING_FIELDS = f"mrn externalId createdAt team {{ {TEAM_FIELDS} }}"
TOKEN_FIELDS = "mrn name description scopeMrn roles createdAt secret"
SCOPE_FIELDS = "id mrn name description createdAt updatedAt"


# --------------------------------------------------------------------------- helpers


def role(name: str) -> str:
    return f"{IAM}/roles/{name}"


def roles(*names: str) -> list[str]:
    return sorted(role(n) for n in names)


def unique(prefix: str) -> str:
    """An id that follows the id rule and is unique on the (shared) server."""
    return f"{prefix}-{secrets.token_hex(4)}"


def unique_email(prefix: str = "user") -> str:
    # user_by_email refuses ambiguous emails, and the server is shared by all tests.
    return f"{prefix}.{secrets.token_hex(5)}@example.com"


def ts(value: str) -> datetime:
    """Parse an RFC 3339 timestamp, failing when the string is not one."""
    assert isinstance(value, str) and RFC3339.fullmatch(value), f"not RFC 3339: {value!r}"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value
    return parsed


async def db_rows(server: Server) -> dict[str, list[dict[str, Any]]]:
    """``server.snapshot()`` with each row as a dict keyed by column name."""
    snap = await server.snapshot()
    out: dict[str, list[dict[str, Any]]] = {}
    async with server.db.transaction() as s:
        for table, rows in snap.items():
            cols = list((await s.execute(text(f"SELECT * FROM {table} WHERE 1 = 0"))).keys())
            out[table] = [dict(zip(cols, row, strict=True)) for row in rows]
    return out


def where(rows: list[dict[str, Any]], **match: Any) -> list[dict[str, Any]]:
    return [r for r in rows if all(r[k] == v for k, v in match.items())]


def bound_roles(rows: dict[str, list[dict]], identity_mrn: str, scope_mrn: str) -> list[str]:
    """Role names stored for an identity on exactly one scope."""
    return sorted(r["role"] for r in where(rows["role_binding"], identity_mrn=identity_mrn,
                                            scope_mrn=scope_mrn))


#: History, not state: the audit trail keeps naming what was deleted, by design.
HISTORY_TABLES = {"audit_event"}


def mentions(rows: dict[str, list[dict]], needle: str) -> list[tuple[str, dict]]:
    """Every live (table, row) with a string value equal to ``needle`` or starting with it + '/'."""
    found = []
    for table, table_rows in rows.items():
        if table in HISTORY_TABLES:
            continue
        for r in table_rows:
            for v in r.values():
                if isinstance(v, str) and (v == needle or v.startswith(needle + "/")):
                    found.append((table, r))
                    break
    return found


async def create_team(server: Server, token: str, scope_mrn: str, **fields: Any) -> dict:
    data = await server.ok(
        f"mutation($input: CreateTeamInput!) {{ createTeam(input: $input) {{ {TEAM_FIELDS} }} }}",
        {"input": {"name": fields.pop("name", "A team"), "scopeMrn": scope_mrn, **fields}},
        token=token,
    )
    return data["createTeam"]


async def get_team(server: Server, token: str, mrn: str) -> dict | None:
    data = await server.ok(f"query($mrn: String!) {{ team(mrn: $mrn) {{ {TEAM_FIELDS} }} }}",
                           {"mrn": mrn}, token=token)
    return data["team"]


async def set_roles(server: Server, token: str, **input: Any) -> dict:
    data = await server.ok(
        "mutation($input: SetRolesInput!) { setRoles(input: $input) { mrns identity_mrn } }",
        {"input": input}, token=token,
    )
    return data["setRoles"]


async def get_roles(server: Server, token: str, identity: str, scope_mrn: str) -> dict:
    data = await server.ok(
        "query($identity: String!, $scopeMrn: String!) {"
        " getRoles(identity: $identity, scopeMrn: $scopeMrn)"
        " { identityMrn identityEmail scopeMrn roles } }",
        {"identity": identity, "scopeMrn": scope_mrn}, token=token,
    )
    return data["getRoles"]


async def create_space(server: Server, token: str, org_mrn: str, **fields: Any) -> dict:
    data = await server.ok(
        f"mutation($input: CreateSpaceInput!) {{ createSpace(input: $input) "
        f"{{ {SCOPE_FIELDS} orgMrn }} }}",
        {"input": {"name": fields.pop("name", "A space"), "orgMrn": org_mrn, **fields}},
        token=token,
    )
    return data["createSpace"]


async def create_workspace(server: Server, token: str, space_mrn: str, **fields: Any) -> dict:
    data = await server.ok(
        f"mutation($input: CreateWorkspaceInput!) {{ createWorkspace(input: $input) "
        f"{{ {SCOPE_FIELDS} spaceMrn ownerMrn }} }}",
        {"input": {"name": fields.pop("name", "A workspace"), "ownerMrn": space_mrn, **fields}},
        token=token,
    )
    return data["createWorkspace"]


async def add_member(server: Server, token: str, team_mrn: str, **input: Any) -> dict:
    data = await server.ok(
        "mutation($input: AddTeamMemberInput!) { addTeamMember(input: $input)"
        " { createdPending memberMrn } }",
        {"input": {"teamMrn": team_mrn, **input}}, token=token,
    )
    return data["addTeamMember"]


async def remove_member(server: Server, token: str, team_mrn: str, **input: Any) -> dict:
    data = await server.ok(
        "mutation($input: RemoveTeamMemberInput!) { removeTeamMember(input: $input)"
        " { memberMrn } }",
        {"input": {"teamMrn": team_mrn, **input}}, token=token,
    )
    return data["removeTeamMember"]


async def team_member(server: Server, token: str, team_mrn: str, identity: str) -> dict | None:
    data = await server.ok(
        "query($teamMrn: String!, $identity: String!) {"
        " teamMember(teamMrn: $teamMrn, identity: $identity) { mrn email name } }",
        {"teamMrn": team_mrn, "identity": identity}, token=token,
    )
    return data["teamMember"]


async def add_mapping(server: Server, token: str, team_mrn: str, external_id: str) -> dict:
    data = await server.ok(
        "mutation($input: AddTeamExternalGroupMappingInput!) {"
        f" addTeamExternalGroupMapping(input: $input) {{ {MAPPING_FIELDS} }} }}",
        {"input": {"teamMrn": team_mrn, "externalId": external_id}}, token=token,
    )
    return data["addTeamExternalGroupMapping"]


async def get_mapping(server: Server, token: str, mrn: str) -> dict | None:
    data = await server.ok(
        f"query($mrn: String!) {{ teamExternalGroupMapping(mrn: $mrn) {{ {MAPPING_FIELDS} }} }}",
        {"mrn": mrn}, token=token,
    )
    return data["teamExternalGroupMapping"]


async def generate_token(server: Server, token: str, **input: Any) -> dict:
    data = await server.ok(
        f"mutation($input: GenerateAPITokenInput!) {{ generateAPIToken(input: $input) "
        f"{{ {TOKEN_FIELDS} }} }}",
        {"input": {"name": input.pop("name", "a token"), **input}}, token=token,
    )
    return data["generateAPIToken"]


# --------------------------------------------------------------------------- createTeam


async def test_create_team_with_id_and_every_field(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="platform-team", name="Platform",
                             description="Runs the platform", email="platform@example.com")
    mrn = f"{org.mrn}/teams/platform-team"
    assert team["id"] == "platform-team"
    assert team["mrn"] == mrn
    assert team["name"] == "Platform"
    assert team["description"] == "Runs the platform"
    assert team["email"] == "platform@example.com"
    assert team["scopeMrn"] == org.mrn
    assert ts(team["createdAt"]) <= ts(team["updatedAt"])

    assert await get_team(server, org.token, mrn) == team

    rows = await db_rows(server)
    [row] = where(rows["team"], mrn=mrn)
    assert (row["id"], row["name"], row["description"], row["email"], row["scope_mrn"],
            row["org_mrn"]) == ("platform-team", "Platform", "Runs the platform",
                                "platform@example.com", org.mrn, org.mrn)
    assert where(rows["role_binding"], identity_mrn=mrn) == []  # no roles asked for


async def test_create_team_without_id_generates_one_that_follows_the_id_rule(
    server: Server, org: Org
) -> None:
    first = await create_team(server, org.token, org.mrn, name="Generated")
    second = await create_team(server, org.token, org.mrn, name="Generated")
    for team in (first, second):
        assert ID_RULE.fullmatch(team["id"]), team["id"]
        assert team["mrn"] == f"{org.mrn}/teams/{team['id']}"
        assert team["description"] is None and team["email"] is None
        ts(team["createdAt"])
        ts(team["updatedAt"])
    assert first["id"] != second["id"]
    rows = await db_rows(server)
    assert {r["id"] for r in where(rows["team"], scope_mrn=org.mrn)} == {first["id"], second["id"]}


async def test_create_team_with_roles_binds_them_in_the_same_call(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="with-roles", name="With roles",
                             roles=["editor", role("policy-manager")])
    got = await get_roles(server, org.token, team["mrn"], org.mrn)
    assert got["identityMrn"] == team["mrn"]
    assert got["identityEmail"] is None
    assert got["scopeMrn"] == org.mrn
    assert sorted(got["roles"]) == roles("editor", "policy-manager")
    rows = await db_rows(server)
    assert bound_roles(rows, team["mrn"], org.mrn) == ["editor", "policy-manager"]


async def test_create_team_with_a_role_that_cannot_be_granted_creates_nothing(
    server: Server, org: Org
) -> None:
    before = await server.snapshot()
    err = await server.error(
        "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn } }",
        {"input": {"id": "too-strong", "name": "Too strong", "scopeMrn": org.mrn,
                   "roles": ["platform-admin"]}},
        token=org.token,
    )
    assert err["code"] == "FORBIDDEN", err
    assert await server.snapshot() == before  # one transaction: no team without its bindings
    assert await get_team(server, org.token, f"{org.mrn}/teams/too-strong") is None


async def test_create_team_in_a_space(server: Server, org: Org) -> None:
    space = await create_space(server, org.token, org.mrn, id=unique("space"), name="Space")
    team = await create_team(server, org.token, space["mrn"], id="space-team", name="In space",
                             roles=["viewer"])
    space_id = space["mrn"].rsplit("/", 1)[1]
    assert team["mrn"] == f"{CAPTAIN}/spaces/{space_id}/teams/space-team"
    assert team["scopeMrn"] == space["mrn"]
    assert await get_team(server, org.token, team["mrn"]) == team
    assert (await get_roles(server, org.token, team["mrn"], space["mrn"]))["roles"] == [
        role("viewer")]

    rows = await db_rows(server)
    [row] = where(rows["team"], mrn=team["mrn"])
    assert row["scope_mrn"] == space["mrn"] and row["org_mrn"] == org.mrn
    assert bound_roles(rows, team["mrn"], space["mrn"]) == ["viewer"]


async def test_create_team_with_an_existing_id_is_already_exists(server: Server, org: Org) -> None:
    await create_team(server, org.token, org.mrn, id="twice", name="First")
    err = await server.error(
        "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn } }",
        {"input": {"id": "twice", "name": "Second", "scopeMrn": org.mrn}}, token=org.token,
    )
    assert err["code"] == "ALREADY_EXISTS", err
    assert (await get_team(server, org.token, f"{org.mrn}/teams/twice"))["name"] == "First"


# --------------------------------------------------------------------------- updateTeam


async def test_update_team_changes_fields_and_updated_at(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="to-update", name="Before",
                             description="old", email="old@example.com")
    await asyncio.sleep(0.05)
    data = await server.ok(
        f"mutation($input: UpdateTeamInput!) {{ updateTeam(input: $input) {{ {TEAM_FIELDS} }} }}",
        {"input": {"mrn": team["mrn"], "name": "After", "description": "new",
                   "email": "new@example.com"}},
        token=org.token,
    )
    updated = data["updateTeam"]
    assert (updated["id"], updated["mrn"], updated["scopeMrn"]) == (
        team["id"], team["mrn"], team["scopeMrn"])
    assert (updated["name"], updated["description"], updated["email"]) == (
        "After", "new", "new@example.com")
    assert ts(updated["createdAt"]) == ts(team["createdAt"])
    assert ts(updated["updatedAt"]) > ts(team["updatedAt"])

    assert await get_team(server, org.token, team["mrn"]) == updated
    rows = await db_rows(server)
    [row] = where(rows["team"], mrn=team["mrn"])
    assert (row["name"], row["description"], row["email"]) == ("After", "new", "new@example.com")


async def test_update_unknown_team_is_not_found(server: Server, org: Org) -> None:
    err = await server.error(
        "mutation($input: UpdateTeamInput!) { updateTeam(input: $input) { mrn } }",
        {"input": {"mrn": f"{org.mrn}/teams/nope", "name": "x", "description": ""}},
        token=org.token,
    )
    assert err["code"] == "NOT_FOUND", err


# --------------------------------------------------------------------------- deleteTeam


async def _team_with_everything(server: Server, org: Org) -> tuple[dict, dict, str, list[dict]]:
    """A team with bindings (org + space), a member, a pending member and two mappings."""
    space = await create_space(server, org.token, org.mrn, id=unique("space"))
    team = await create_team(server, org.token, org.mrn, id="doomed", name="Doomed",
                             roles=["editor"])
    await set_roles(server, org.token, scopeMrn=space["mrn"], identity=team["mrn"],
                    roles=["viewer"])
    user = await server.create_user(unique_email("member"), signed_in_to=org.mrn)
    await add_member(server, org.token, team["mrn"], memberMrn=user)
    await add_member(server, org.token, team["mrn"], email=unique_email("pending"))
    maps = [await add_mapping(server, org.token, team["mrn"], g) for g in ("group-a", "group-b")]
    return team, space, user, maps


async def test_delete_team_removes_bindings_memberships_and_mappings(
    server: Server, org: Org
) -> None:
    team, space, user, maps = await _team_with_everything(server, org)
    rows = await db_rows(server)
    assert len(where(rows["role_binding"], identity_mrn=team["mrn"])) == 2
    assert len(where(rows["team_member"], team_mrn=team["mrn"])) == 2
    assert len(where(rows["team_external_group_mapping"], team_mrn=team["mrn"])) == 2

    data = await server.ok("mutation($mrn: String!) { deleteTeam(mrn: $mrn) }",
                           {"mrn": team["mrn"]}, token=org.token)
    assert data["deleteTeam"] is True

    assert await get_team(server, org.token, team["mrn"]) is None
    for m in maps:
        assert await get_mapping(server, org.token, m["mrn"]) is None
    # The member lost what the team gave it.
    eff = await server.ok(
        "query($i: String!, $s: String!) { effectiveRoles(identity: $i, scopeMrn: $s) { roles } }",
        {"i": user, "s": space["mrn"]}, token=org.token,
    )
    assert eff["effectiveRoles"]["roles"] == []

    rows = await db_rows(server)
    assert where(rows["team"], mrn=team["mrn"]) == []
    assert where(rows["role_binding"], identity_mrn=team["mrn"]) == []
    assert where(rows["team_member"], team_mrn=team["mrn"]) == []
    assert where(rows["team_external_group_mapping"], team_mrn=team["mrn"]) == []
    assert mentions(rows, team["mrn"]) == []
    # The user itself and the scopes are untouched.
    assert len(where(rows["user_account"], mrn=user)) == 1
    assert len(where(rows["scope"], mrn=space["mrn"])) == 1

    # Deleting again: the team is gone.
    err = await server.error("mutation($mrn: String!) { deleteTeam(mrn: $mrn) }",
                             {"mrn": team["mrn"]}, token=org.token)
    assert err["code"] == "NOT_FOUND", err


async def test_get_roles_of_a_deleted_team_is_empty(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="gone-soon", name="Gone",
                             roles=["editor"])
    assert (await server.ok("mutation($mrn: String!) { deleteTeam(mrn: $mrn) }",
                            {"mrn": team["mrn"]}, token=org.token))["deleteTeam"] is True
    got = await get_roles(server, org.token, team["mrn"], org.mrn)
    assert got["roles"] == []
    assert got["scopeMrn"] == org.mrn


# --------------------------------------------------------------------------- setRoles / getRoles


async def test_set_roles_shorthand_with_short_names_answers_full_mrns(
    server: Server, org: Org
) -> None:
    team = await create_team(server, org.token, org.mrn, id="rolesteam", name="Roles")
    result = await set_roles(server, org.token, scopeMrn=org.mrn, identity=team["mrn"],
                             roles=["editor", "ticket-creator"])
    assert result == {"mrns": [team["mrn"]], "identity_mrn": team["mrn"]}
    got = await get_roles(server, org.token, team["mrn"], org.mrn)
    assert sorted(got["roles"]) == roles("editor", "ticket-creator")
    assert all(r.startswith(f"{IAM}/roles/") for r in got["roles"])
    assert bound_roles(await db_rows(server), team["mrn"], org.mrn) == ["editor", "ticket-creator"]


async def test_set_roles_replaces_the_list(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="replaced", name="Replaced")
    await set_roles(server, org.token, scopeMrn=org.mrn, identity=team["mrn"],
                    roles=["editor", "viewer"])
    assert sorted((await get_roles(server, org.token, team["mrn"], org.mrn))["roles"]) == roles(
        "editor", "viewer")

    await set_roles(server, org.token, scopeMrn=org.mrn, identity=team["mrn"],
                    roles=[role("policy-manager"), "viewer"])
    assert sorted((await get_roles(server, org.token, team["mrn"], org.mrn))["roles"]) == roles(
        "policy-manager", "viewer")
    assert bound_roles(await db_rows(server), team["mrn"], org.mrn) == ["policy-manager", "viewer"]


async def test_set_roles_with_an_empty_list_removes_the_binding(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="unbound", name="Unbound",
                             roles=["editor"])
    result = await set_roles(server, org.token, scopeMrn=org.mrn, identity=team["mrn"], roles=[])
    assert result["mrns"] == [team["mrn"]]
    got = await get_roles(server, org.token, team["mrn"], org.mrn)
    assert got == {"identityMrn": team["mrn"], "identityEmail": None, "scopeMrn": org.mrn,
                   "roles": []}
    rows = await db_rows(server)
    assert where(rows["role_binding"], identity_mrn=team["mrn"]) == []
    assert len(where(rows["team"], mrn=team["mrn"])) == 1  # the team itself stays


async def test_set_roles_updates_shape_with_several_identities(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="upd-team", name="Updates")
    user = await server.create_user(unique_email("upd"), signed_in_to=org.mrn)
    token = await generate_token(server, org.token, scopeMrn=org.mrn, name="ci")
    result = await set_roles(server, org.token, scopeMrn=org.mrn, updates=[
        {"entityMrn": team["mrn"], "roles": [{"mrn": role("editor")}]},
        {"entityMrn": user, "roles": [{"mrn": "viewer"}, {"mrn": role("ticket-manager")}]},
        {"entityMrn": token["mrn"], "roles": [{"mrn": role("agent")}]},
    ])
    assert result["mrns"] == [team["mrn"], user, token["mrn"]]
    assert result["identity_mrn"] == team["mrn"]

    assert (await get_roles(server, org.token, team["mrn"], org.mrn))["roles"] == [role("editor")]
    assert sorted((await get_roles(server, org.token, user, org.mrn))["roles"]) == roles(
        "ticket-manager", "viewer")
    assert sorted((await get_roles(server, org.token, token["mrn"], org.mrn))["roles"]) == roles(
        "agent")  # replaced the token's default viewer role

    rows = await db_rows(server)
    assert bound_roles(rows, team["mrn"], org.mrn) == ["editor"]
    assert bound_roles(rows, user, org.mrn) == ["ticket-manager", "viewer"]
    assert bound_roles(rows, token["mrn"], org.mrn) == ["agent"]

    # An empty roles list in updates removes that binding, leaving the others alone.
    result = await set_roles(server, org.token, scopeMrn=org.mrn,
                             updates=[{"entityMrn": user, "roles": []}])
    assert result["mrns"] == [user]
    assert (await get_roles(server, org.token, user, org.mrn))["roles"] == []
    rows = await db_rows(server)
    assert bound_roles(rows, user, org.mrn) == []
    assert bound_roles(rows, team["mrn"], org.mrn) == ["editor"]


async def test_set_roles_with_deprecated_space_mrn(server: Server, org: Org) -> None:
    space = await create_space(server, org.token, org.mrn, id=unique("space"))
    team = await create_team(server, org.token, org.mrn, id="alias-team", name="Alias")
    result = await set_roles(server, org.token, spaceMrn=space["mrn"], identity=team["mrn"],
                             roles=["editor"])
    assert result["mrns"] == [team["mrn"]]
    got = await get_roles(server, org.token, team["mrn"], space["mrn"])
    assert got["scopeMrn"] == space["mrn"] and got["roles"] == [role("editor")]
    # getRoles is exact: nothing on the organization.
    assert (await get_roles(server, org.token, team["mrn"], org.mrn))["roles"] == []
    rows = await db_rows(server)
    assert bound_roles(rows, team["mrn"], space["mrn"]) == ["editor"]
    assert bound_roles(rows, team["mrn"], org.mrn) == []


async def test_set_roles_with_a_user_email_as_identity(server: Server, org: Org) -> None:
    email = unique_email("byemail")
    user = await server.create_user(email, name="By Email", signed_in_to=org.mrn)
    result = await set_roles(server, org.token, scopeMrn=org.mrn, identity=email,
                             roles=["viewer"])
    assert result == {"mrns": [user], "identity_mrn": user}
    for identity in (email, user):
        got = await get_roles(server, org.token, identity, org.mrn)
        assert got == {"identityMrn": user, "identityEmail": email, "scopeMrn": org.mrn,
                       "roles": [role("viewer")]}
    assert bound_roles(await db_rows(server), user, org.mrn) == ["viewer"]


async def test_set_roles_with_an_unknown_role_changes_nothing(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="bad-role", name="Bad",
                             roles=["viewer"])
    before = await server.snapshot()
    err = await server.error(
        "mutation($input: SetRolesInput!) { setRoles(input: $input) { mrns } }",
        {"input": {"scopeMrn": org.mrn, "identity": team["mrn"], "roles": ["superuser"]}},
        token=org.token,
    )
    assert err["code"] == "INVALID_ARGUMENT", err
    assert await server.snapshot() == before


async def test_get_roles_is_exact_and_effective_roles_follow_inheritance_and_teams(
    server: Server, org: Org
) -> None:
    space = await create_space(server, org.token, org.mrn, id=unique("space"))
    ws = await create_workspace(server, org.token, space["mrn"], id=unique("ws"))
    email = unique_email("eff")
    user = await server.create_user(email, signed_in_to=org.mrn)
    team = await create_team(server, org.token, org.mrn, id="eff-team", name="Eff",
                             roles=["ticket-creator"])
    await add_member(server, org.token, team["mrn"], memberMrn=user)
    await set_roles(server, org.token, scopeMrn=org.mrn, identity=user, roles=["viewer"])
    await set_roles(server, org.token, scopeMrn=space["mrn"], identity=team["mrn"],
                    roles=["editor"])
    await set_roles(server, org.token, scopeMrn=ws["mrn"], identity=user,
                    roles=["policy-editor"])

    # getRoles: exactly the scope, only the identity's own bindings.
    assert (await get_roles(server, org.token, user, org.mrn))["roles"] == [role("viewer")]
    assert (await get_roles(server, org.token, user, space["mrn"]))["roles"] == []
    ws_roles = await get_roles(server, org.token, email, ws["mrn"])
    assert ws_roles == {"identityMrn": user, "identityEmail": email, "scopeMrn": ws["mrn"],
                        "roles": [role("policy-editor")]}
    assert (await get_roles(server, org.token, team["mrn"], space["mrn"]))["roles"] == [
        role("editor")]
    assert (await get_roles(server, org.token, team["mrn"], ws["mrn"]))["roles"] == []

    query = (
        "query($i: String!, $s: String!) { effectiveRoles(identity: $i, scopeMrn: $s) {"
        " identityMrn scopeMrn roles sources { role scopeMrn viaMrn inherited } } }"
    )
    eff = (await server.ok(query, {"i": user, "s": ws["mrn"]}, token=org.token))["effectiveRoles"]
    assert eff["identityMrn"] == user and eff["scopeMrn"] == ws["mrn"]
    # Most privileged first.
    assert eff["roles"] == [role("editor"), role("policy-editor"), role("ticket-creator"),
                            role("viewer")]
    src = {(s["role"], s["scopeMrn"], s["viaMrn"], s["inherited"]) for s in eff["sources"]}
    assert src == {
        (role("editor"), space["mrn"], team["mrn"], True),
        (role("policy-editor"), ws["mrn"], user, False),
        (role("ticket-creator"), org.mrn, team["mrn"], True),
        (role("viewer"), org.mrn, user, True),
    }
    assert len(eff["sources"]) == 4

    # On the space: the workspace binding does not flow upwards.
    eff = (await server.ok(query, {"i": email, "s": space["mrn"]},
                           token=org.token))["effectiveRoles"]
    assert eff["identityMrn"] == user
    assert eff["roles"] == [role("editor"), role("ticket-creator"), role("viewer")]
    assert {(s["role"], s["inherited"]) for s in eff["sources"]} == {
        (role("editor"), False), (role("ticket-creator"), True), (role("viewer"), True)}

    # On the organization: only what is bound there.
    eff = (await server.ok(query, {"i": user, "s": org.mrn}, token=org.token))["effectiveRoles"]
    assert eff["roles"] == [role("ticket-creator"), role("viewer")]
    assert all(s["inherited"] is False and s["scopeMrn"] == org.mrn for s in eff["sources"])

    # Leaving the team takes the team's roles away.
    await remove_member(server, org.token, team["mrn"], memberMrn=user)
    eff = (await server.ok(query, {"i": user, "s": ws["mrn"]}, token=org.token))["effectiveRoles"]
    assert eff["roles"] == [role("policy-editor"), role("viewer")]
    assert all(s["viaMrn"] == user for s in eff["sources"])


# --------------------------------------------------------------------------- mappings


async def test_external_group_mappings_lifecycle(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="mapped", name="Mapped")
    other = await create_team(server, org.token, org.mrn, id="other", name="Other")

    m1 = await add_mapping(server, org.token, team["mrn"], "b-engineers")
    m2 = await add_mapping(server, org.token, team["mrn"], "a-0f9e2d")
    await add_mapping(server, org.token, other["mrn"], "b-engineers")  # same group, other team
    for m, ext in ((m1, "b-engineers"), (m2, "a-0f9e2d")):
        assert m["mrn"].startswith(team["mrn"] + "/")
        assert m["externalId"] == ext
        assert m["team"] == team
        ts(m["createdAt"])
    assert m1["mrn"] != m2["mrn"]

    assert await get_mapping(server, org.token, m1["mrn"]) == m1
    listed = await server.ok(
        "query($t: String!) { teamExternalGroupMappings(teamMrn: $t) { nodes { mrn externalId team { mrn } } } }",
        {"t": team["mrn"]}, token=org.token,
    )
    assert sorted((m["mrn"], m["externalId"], m["team"]["mrn"])
                  for m in listed["teamExternalGroupMappings"]["nodes"]) == sorted(
        [(m1["mrn"], "b-engineers", team["mrn"]), (m2["mrn"], "a-0f9e2d", team["mrn"])])

    rows = await db_rows(server)
    assert {(r["mrn"], r["external_id"], r["org_mrn"]) for r in where(
        rows["team_external_group_mapping"], team_mrn=team["mrn"])} == {
        (m1["mrn"], "b-engineers", org.mrn), (m2["mrn"], "a-0f9e2d", org.mrn)}

    err = await server.error(
        "mutation($input: AddTeamExternalGroupMappingInput!) {"
        " addTeamExternalGroupMapping(input: $input) { mrn } }",
        {"input": {"teamMrn": team["mrn"], "externalId": "b-engineers"}}, token=org.token,
    )
    assert err["code"] == "ALREADY_EXISTS", err

    data = await server.ok("mutation($mrn: String!) { removeTeamExternalGroupMapping(mrn: $mrn) }",
                           {"mrn": m1["mrn"]}, token=org.token)
    assert data["removeTeamExternalGroupMapping"] is True
    assert await get_mapping(server, org.token, m1["mrn"]) is None
    listed = await server.ok(
        "query($t: String!) { teamExternalGroupMappings(teamMrn: $t) { nodes { mrn } } }",
        {"t": team["mrn"]}, token=org.token,
    )
    assert listed["teamExternalGroupMappings"]["nodes"] == [{"mrn": m2["mrn"]}]
    rows = await db_rows(server)
    assert where(rows["team_external_group_mapping"], mrn=m1["mrn"]) == []
    assert len(where(rows["team_external_group_mapping"], team_mrn=other["mrn"])) == 1

    err = await server.error(
        "mutation($mrn: String!) { removeTeamExternalGroupMapping(mrn: $mrn) }",
        {"mrn": m1["mrn"]}, token=org.token,
    )
    assert err["code"] == "NOT_FOUND", err


# --------------------------------------------------------------------------- members


async def test_add_team_member_by_member_mrn_and_identity(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="members", name="Members")
    by_mrn = await server.create_user(unique_email("bymrn"), name="By MRN", signed_in_to=org.mrn)
    by_identity_mrn = await server.create_user(unique_email("byidmrn"), signed_in_to=org.mrn)
    email = unique_email("byidemail")
    by_identity_email = await server.create_user(email, name="By Identity Email", signed_in_to=org.mrn)

    assert await add_member(server, org.token, team["mrn"], memberMrn=by_mrn) == {
        "createdPending": False, "memberMrn": by_mrn}
    assert await add_member(server, org.token, team["mrn"], identity=by_identity_mrn) == {
        "createdPending": False, "memberMrn": by_identity_mrn}
    assert await add_member(server, org.token, team["mrn"], identity=email) == {
        "createdPending": False, "memberMrn": by_identity_email}

    rows = where((await db_rows(server))["team_member"], team_mrn=team["mrn"])
    assert sorted(r["user_mrn"] for r in rows) == sorted([by_mrn, by_identity_mrn,
                                                          by_identity_email])
    assert all(r["pending_email"] is None for r in rows)

    assert await team_member(server, org.token, team["mrn"], email) == {
        "mrn": by_identity_email, "email": email, "name": "By Identity Email"}
    assert (await team_member(server, org.token, team["mrn"], by_mrn))["mrn"] == by_mrn

    err = await server.error(
        "mutation($input: AddTeamMemberInput!) { addTeamMember(input: $input) { memberMrn } }",
        {"input": {"teamMrn": team["mrn"], "memberMrn": by_mrn}}, token=org.token,
    )
    assert err["code"] == "ALREADY_EXISTS", err


async def test_add_team_member_by_email_known_and_unknown(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="by-email", name="By email")
    known_email = unique_email("known")
    known = await server.create_user(known_email, name="Known", signed_in_to=org.mrn)
    unknown_email = unique_email("unknown")

    assert await add_member(server, org.token, team["mrn"], email=known_email) == {
        "createdPending": False, "memberMrn": known}
    assert await add_member(server, org.token, team["mrn"], email=unknown_email) == {
        "createdPending": True, "memberMrn": None}

    rows = where((await db_rows(server))["team_member"], team_mrn=team["mrn"])
    assert sorted((r["user_mrn"] or "", r["pending_email"] or "") for r in rows) == sorted(
        [(known, ""), ("", unknown_email)])
    # No account was made up for the unknown email.
    assert where((await db_rows(server))["user_account"], email=unknown_email) == []

    # teamMember: a member, a pending email, and people who are not members.
    assert await team_member(server, org.token, team["mrn"], known) == {
        "mrn": known, "email": known_email, "name": "Known"}
    assert await team_member(server, org.token, team["mrn"], known_email) == {
        "mrn": known, "email": known_email, "name": "Known"}
    assert await team_member(server, org.token, team["mrn"], unknown_email) == {
        "mrn": None, "email": unknown_email, "name": None}
    stranger_email = unique_email("stranger")
    stranger = await server.create_user(stranger_email, signed_in_to=org.mrn)
    assert await team_member(server, org.token, team["mrn"], stranger) is None
    assert await team_member(server, org.token, team["mrn"], stranger_email) is None
    assert await team_member(server, org.token, team["mrn"], unique_email("nobody")) is None
    assert await team_member(server, org.token, team["mrn"], f"{CAPTAIN}/users/nosuchuser") is None


async def test_remove_team_member_returns_member_mrn(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="removal", name="Removal")
    email = unique_email("leaver")
    user = await server.create_user(email, signed_in_to=org.mrn)
    other = await server.create_user(unique_email("stayer"), signed_in_to=org.mrn)
    pending = unique_email("pending")
    await add_member(server, org.token, team["mrn"], memberMrn=user)
    await add_member(server, org.token, team["mrn"], memberMrn=other)
    await add_member(server, org.token, team["mrn"], email=pending)

    assert await remove_member(server, org.token, team["mrn"], identity=email) == {
        "memberMrn": user}
    assert await team_member(server, org.token, team["mrn"], user) is None
    assert await remove_member(server, org.token, team["mrn"], email=pending) == {
        "memberMrn": None}
    assert await team_member(server, org.token, team["mrn"], pending) is None

    rows = where((await db_rows(server))["team_member"], team_mrn=team["mrn"])
    assert [(r["user_mrn"], r["pending_email"]) for r in rows] == [(other, None)]

    assert await remove_member(server, org.token, team["mrn"], memberMrn=other) == {
        "memberMrn": other}
    assert where((await db_rows(server))["team_member"], team_mrn=team["mrn"]) == []

    err = await server.error(
        "mutation($input: RemoveTeamMemberInput!) { removeTeamMember(input: $input) { memberMrn } }",
        {"input": {"teamMrn": team["mrn"], "memberMrn": user}}, token=org.token,
    )
    assert err["code"] == "NOT_FOUND", err


# --------------------------------------------------------------------------- API tokens


async def test_generate_api_token_defaults_to_viewer(server: Server, org: Org) -> None:
    team = await create_team(server, org.token, org.mrn, id="seen", name="Seen")
    tok = await generate_token(server, org.token, name="reader", scopeMrn=org.mrn,
                               description="read only")
    assert tok["mrn"].startswith(f"{org.mrn}/apitokens/")
    assert (tok["name"], tok["description"], tok["scopeMrn"]) == ("reader", "read only", org.mrn)
    assert tok["roles"] == [role("viewer")]
    ts(tok["createdAt"])
    assert isinstance(tok["secret"], str) and len(tok["secret"]) >= 32

    # The secret works as a bearer token, with exactly the viewer role.
    assert (await get_team(server, tok["secret"], team["mrn"]))["mrn"] == team["mrn"]
    err = await server.error(
        "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn } }",
        {"input": {"name": "No", "scopeMrn": org.mrn}}, token=tok["secret"],
    )
    assert err["code"] == "FORBIDDEN", err
    assert (await get_roles(server, org.token, tok["mrn"], org.mrn))["roles"] == [role("viewer")]
    assert bound_roles(await db_rows(server), tok["mrn"], org.mrn) == ["viewer"]


async def test_generate_api_token_with_roles_as_full_mrns(server: Server, org: Org) -> None:
    tok = await generate_token(server, org.token, name="teams", scopeMrn=org.mrn,
                               roles=[{"mrn": role("editor")}])
    assert tok["roles"] == [role("editor")]
    assert bound_roles(await db_rows(server), tok["mrn"], org.mrn) == ["editor"]

    # editor: may manage teams ...
    team = await create_team(server, tok["secret"], org.mrn, id="by-editor", name="By editor")
    assert team["mrn"] == f"{org.mrn}/teams/by-editor"
    # ... but not roles or tokens (those need owner).
    err = await server.error(
        "mutation($input: SetRolesInput!) { setRoles(input: $input) { mrns } }",
        {"input": {"scopeMrn": org.mrn, "identity": team["mrn"], "roles": ["viewer"]}},
        token=tok["secret"],
    )
    assert err["code"] == "FORBIDDEN", err
    err = await server.error(
        "mutation($input: GenerateAPITokenInput!) { generateAPIToken(input: $input) { mrn } }",
        {"input": {"name": "x", "scopeMrn": org.mrn}}, token=tok["secret"],
    )
    assert err["code"] == "FORBIDDEN", err


async def test_generate_api_token_in_a_space_with_deprecated_space_mrn(
    server: Server, org: Org
) -> None:
    space = await create_space(server, org.token, org.mrn, id=unique("space"))
    tok = await generate_token(server, org.token, name="space token", spaceMrn=space["mrn"],
                               roles=[{"mrn": "viewer"}, {"mrn": role("agent")}])
    assert tok["scopeMrn"] == space["mrn"]
    assert tok["mrn"].startswith(f"{space['mrn']}/apitokens/")
    assert sorted(tok["roles"]) == roles("agent", "viewer")
    data = await server.ok(f"query($m: String!) {{ space(mrn: $m) {{ {SCOPE_FIELDS} }} }}",
                           {"m": space["mrn"]}, token=tok["secret"])
    assert data["space"]["mrn"] == space["mrn"]
    # A space token does not reach the organization above it.
    data = await server.ok("query($m: String!) { organization(mrn: $m) { mrn } }",
                           {"m": org.mrn}, token=tok["secret"])
    assert data["organization"] is None


async def test_api_token_secret_is_not_stored_in_clear(server: Server, org: Org) -> None:
    tok = await generate_token(server, org.token, name="hashed", scopeMrn=org.mrn)
    secret = tok["secret"]
    snap = await server.snapshot()
    for table, rows in snap.items():
        for row in rows:
            for value in row:
                if isinstance(value, str):
                    assert secret not in value, f"secret stored in clear in {table}: {row}"
                    # Not a trivially reversible form of the token either.
                    assert secret[5:] not in value, f"secret body stored in {table}: {row}"
    [row] = where((await db_rows(server))["api_token"], mrn=tok["mrn"])
    assert row["secret_hash"] and row["secret_hash"] != secret


async def test_delete_api_token_stops_it_working(server: Server, org: Org) -> None:
    tok = await generate_token(server, org.token, name="short-lived", scopeMrn=org.mrn)
    assert (await server.ok("query($m: String!) { organization(mrn: $m) { mrn } }",
                            {"m": org.mrn}, token=tok["secret"]))["organization"] == {
        "mrn": org.mrn}

    data = await server.ok(
        "mutation($input: DeleteAPITokenInput!) { deleteAPIToken(input: $input) }",
        {"input": {"mrn": tok["mrn"]}}, token=org.token,
    )
    assert data["deleteAPIToken"] is True

    err = await server.error("query($m: String!) { organization(mrn: $m) { mrn } }",
                             {"m": org.mrn}, token=tok["secret"])
    assert err["code"] == "UNAUTHENTICATED", err
    rows = await db_rows(server)
    assert where(rows["api_token"], mrn=tok["mrn"]) == []
    assert where(rows["role_binding"], identity_mrn=tok["mrn"]) == []

    err = await server.error(
        "mutation($input: DeleteAPITokenInput!) { deleteAPIToken(input: $input) }",
        {"input": {"mrn": tok["mrn"]}}, token=org.token,
    )
    assert err["code"] == "NOT_FOUND", err


# --------------------------------------------------------------------------- scopes


async def test_create_organization_space_workspace_and_read_them(server: Server) -> None:
    org_id = unique("org")
    data = await server.ok(
        f"mutation($input: CreateOrganizationInput!) {{ createOrganization(input: $input) "
        f"{{ {SCOPE_FIELDS} }} }}",
        {"input": {"id": org_id, "name": "Acme", "description": "Acme Inc."}},
        token=server.platform_token,
    )
    org = data["createOrganization"]
    org_mrn = f"{CAPTAIN}/organizations/{org_id}"
    assert (org["id"], org["mrn"], org["name"], org["description"]) == (
        org_id, org_mrn, "Acme", "Acme Inc.")
    ts(org["createdAt"])
    ts(org["updatedAt"])
    got = await server.ok(f"query($m: String!) {{ organization(mrn: $m) {{ {SCOPE_FIELDS} }} }}",
                          {"m": org_mrn}, token=server.platform_token)
    assert got["organization"] == org

    # Without an id: one is generated.
    gen = (await server.ok(
        "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id mrn } }",
        {"input": {"name": "Generated"}}, token=server.platform_token,
    ))["createOrganization"]
    assert ID_RULE.fullmatch(gen["id"]) and gen["mrn"] == f"{CAPTAIN}/organizations/{gen['id']}"

    owner = await server.token_for(org_mrn, ["owner"], via=server.platform_token)
    space_id = unique("space")
    space = await create_space(server, owner, org_mrn, id=space_id, name="Prod",
                               description="production")
    space_mrn = f"{CAPTAIN}/spaces/{space_id}"
    assert (space["id"], space["mrn"], space["name"], space["description"], space["orgMrn"]) == (
        space_id, space_mrn, "Prod", "production", org_mrn)
    got = await server.ok(f"query($m: String!) {{ space(mrn: $m) {{ {SCOPE_FIELDS} orgMrn }} }}",
                          {"m": space_mrn}, token=owner)
    assert got["space"] == space

    ws_id = unique("ws")
    ws = await create_workspace(server, owner, space_mrn, id=ws_id, name="Team A")
    ws_mrn = f"{CAPTAIN}/spaces/{space_id}/workspaces/{ws_id}"
    assert (ws["id"], ws["mrn"], ws["name"], ws["spaceMrn"], ws["ownerMrn"]) == (
        ws_id, ws_mrn, "Team A", space_mrn, space_mrn)
    got = await server.ok(
        f"query($m: String!) {{ workspace(mrn: $m) {{ {SCOPE_FIELDS} spaceMrn ownerMrn }} }}",
        {"m": ws_mrn}, token=owner,
    )
    assert got["workspace"] == ws

    gen_space = await create_space(server, owner, org_mrn, name="Generated space")
    assert ID_RULE.fullmatch(gen_space["id"])
    assert gen_space["mrn"] == f"{CAPTAIN}/spaces/{gen_space['id']}"

    rows = await db_rows(server)
    [o] = where(rows["scope"], mrn=org_mrn)
    [s] = where(rows["scope"], mrn=space_mrn)
    [w] = where(rows["scope"], mrn=ws_mrn)
    assert (o["kind"], o["parent_mrn"], o["org_mrn"]) == ("organization", None, org_mrn)
    assert (s["kind"], s["parent_mrn"], s["org_mrn"], s["space_mrn"]) == (
        "space", org_mrn, org_mrn, space_mrn)
    assert (w["kind"], w["parent_mrn"], w["org_mrn"], w["space_mrn"]) == (
        "workspace", space_mrn, org_mrn, space_mrn)

    # Another organization's token sees none of it.
    stranger = await server.new_org()
    for field, mrn in (("organization", org_mrn), ("space", space_mrn), ("workspace", ws_mrn)):
        got = await server.ok(f"query($m: String!) {{ {field}(mrn: $m) {{ mrn }} }}",
                              {"m": mrn}, token=stranger.token)
        assert got[field] is None, field


async def test_create_organization_needs_the_platform_token(server: Server, org: Org) -> None:
    before = await server.snapshot()
    err = await server.error(
        "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { mrn } }",
        {"input": {"id": unique("org"), "name": "Nope"}}, token=org.token,
    )
    assert err["code"] in ("FORBIDDEN", "NOT_FOUND"), err
    assert await server.snapshot() == before


async def test_teams_lists_the_teams_of_one_scope(server: Server, org: Org) -> None:
    space = await create_space(server, org.token, org.mrn, id=unique("space"))
    b = await create_team(server, org.token, org.mrn, id="team-b", name="B")
    a = await create_team(server, org.token, org.mrn, id="team-a", name="A")
    s = await create_team(server, org.token, space["mrn"], id="team-s", name="S")
    other = await server.new_org()
    await create_team(server, other.token, other.mrn, id="team-x", name="X")

    query = f"query($s: String!) {{ teams(scopeMrn: $s) {{ nodes {{ {TEAM_FIELDS} }} }} }}"
    in_org = (await server.ok(query, {"s": org.mrn}, token=org.token))["teams"]["nodes"]
    assert sorted(t["mrn"] for t in in_org) == sorted([a["mrn"], b["mrn"]])
    assert {t["mrn"]: t for t in in_org} == {a["mrn"]: a, b["mrn"]: b}
    in_space = (await server.ok(query, {"s": space["mrn"]}, token=org.token))["teams"]["nodes"]
    assert in_space == [s]

    await server.ok("mutation($m: String!) { deleteTeam(mrn: $m) }", {"m": b["mrn"]},
                    token=org.token)
    in_org = (await server.ok(query, {"s": org.mrn}, token=org.token))["teams"]["nodes"]
    assert [t["mrn"] for t in in_org] == [a["mrn"]]


# --------------------------------------------------------------------------- client documents

# The documents as Mondoo's Go client (shurcooL-style query builder) and the Terraform provider
# send them: anonymous operations, compact selections, variables typed with the input type names.
CLIENT = {
    "createTeam": "mutation($input:CreateTeamInput!){createTeam(input: $input){id,mrn,name,"
                  "description,scopeMrn,createdAt,updatedAt}}",
    "updateTeam": "mutation($input:UpdateTeamInput!){updateTeam(input: $input){id,mrn,name,"
                  "description,scopeMrn}}",
    "deleteTeam": "mutation($mrn:String!){deleteTeam(mrn: $mrn)}",
    "team": "query($mrn:String!){team(mrn: $mrn){id,mrn,name,description,scopeMrn}}",
    "setRoles": "mutation($input:SetRolesInput!){setRoles(input: $input){mrns}}",
    "getRoles": "query($identity:String!$scopeMrn:String!){getRoles(identity: $identity, "
                "scopeMrn: $scopeMrn){identityMrn,scopeMrn,roles}}",
    "addTeamExternalGroupMapping": "mutation($input:AddTeamExternalGroupMappingInput!)"
                                   "{addTeamExternalGroupMapping(input: $input){mrn,externalId,"
                                   "team{mrn},createdAt}}",
    "teamExternalGroupMapping": "query($mrn:String!){teamExternalGroupMapping(mrn: $mrn)"
                                "{mrn,externalId,team{mrn}}}",
    "removeTeamExternalGroupMapping": "mutation($mrn:String!)"
                                      "{removeTeamExternalGroupMapping(mrn: $mrn)}",
    "addTeamMember": "mutation($input:AddTeamMemberInput!){addTeamMember(input: $input)"
                     "{createdPending,memberMrn}}",
    "teamMember": "query($teamMrn:String!$identity:String!){teamMember(teamMrn: $teamMrn, "
                  "identity: $identity){mrn,email,name}}",
    "removeTeamMember": "mutation($input:RemoveTeamMemberInput!){removeTeamMember(input: $input)"
                        "{memberMrn}}",
    "generateAPIToken": "mutation($input:GenerateAPITokenInput!){generateAPIToken(input: $input)"
                        "{mrn,name,description,scopeMrn,roles,createdAt,secret}}",
    "deleteAPIToken": "mutation($input:DeleteAPITokenInput!){deleteAPIToken(input: $input)}",
}


async def test_client_documents_full_lifecycle(server: Server, org: Org) -> None:
    t = org.token
    team = (await server.ok(CLIENT["createTeam"], {"input": {
        "id": "tf-team", "name": "Terraform", "scopeMrn": org.mrn, "description": "managed"}},
        token=t))["createTeam"]
    mrn = f"{org.mrn}/teams/tf-team"
    assert team["mrn"] == mrn and team["description"] == "managed"
    assert (await server.ok(CLIENT["team"], {"mrn": mrn}, token=t))["team"]["name"] == "Terraform"

    upd = (await server.ok(CLIENT["updateTeam"], {"input": {
        "mrn": mrn, "name": "Terraform 2", "description": "changed"}}, token=t))["updateTeam"]
    assert (upd["name"], upd["description"]) == ("Terraform 2", "changed")

    # mondoo_iam_binding: set, read back, delete by sending an empty list, read back.
    payload = (await server.ok(CLIENT["setRoles"], {"input": {
        "scopeMrn": org.mrn, "updates": [{"entityMrn": mrn, "roles": [{"mrn": role("editor")}]}]}},
        token=t))["setRoles"]
    assert payload == {"mrns": [mrn]}
    got = (await server.ok(CLIENT["getRoles"], {"identity": mrn, "scopeMrn": org.mrn},
                           token=t))["getRoles"]
    assert got == {"identityMrn": mrn, "scopeMrn": org.mrn, "roles": [role("editor")]}
    await server.ok(CLIENT["setRoles"], {"input": {
        "scopeMrn": org.mrn, "updates": [{"entityMrn": mrn, "roles": []}]}}, token=t)
    got = (await server.ok(CLIENT["getRoles"], {"identity": mrn, "scopeMrn": org.mrn},
                           token=t))["getRoles"]
    assert got["roles"] == []

    m = (await server.ok(CLIENT["addTeamExternalGroupMapping"], {"input": {
        "teamMrn": mrn, "externalId": "11111111-2222-3333-4444-555555555555"}},
        token=t))["addTeamExternalGroupMapping"]
    assert m["mrn"].startswith(mrn + "/") and m["team"] == {"mrn": mrn}
    assert (await server.ok(CLIENT["teamExternalGroupMapping"], {"mrn": m["mrn"]},
                            token=t))["teamExternalGroupMapping"]["externalId"] == m["externalId"]

    email = unique_email("tf")
    user = await server.create_user(email, name="TF User", signed_in_to=org.mrn)
    assert (await server.ok(CLIENT["addTeamMember"], {"input": {"teamMrn": mrn, "identity": email}},
                            token=t))["addTeamMember"] == {"createdPending": False,
                                                           "memberMrn": user}
    assert (await server.ok(CLIENT["teamMember"], {"teamMrn": mrn, "identity": user},
                            token=t))["teamMember"] == {"mrn": user, "email": email,
                                                        "name": "TF User"}
    assert (await server.ok(CLIENT["removeTeamMember"], {"input": {"teamMrn": mrn,
                                                                   "memberMrn": user}},
                            token=t))["removeTeamMember"] == {"memberMrn": user}
    assert (await server.ok(CLIENT["teamMember"], {"teamMrn": mrn, "identity": user},
                            token=t))["teamMember"] is None

    assert (await server.ok(CLIENT["removeTeamExternalGroupMapping"], {"mrn": m["mrn"]},
                            token=t))["removeTeamExternalGroupMapping"] is True
    assert (await server.ok(CLIENT["teamExternalGroupMapping"], {"mrn": m["mrn"]},
                            token=t))["teamExternalGroupMapping"] is None

    tok = (await server.ok(CLIENT["generateAPIToken"], {"input": {
        "name": "tf token", "scopeMrn": org.mrn, "roles": [{"mrn": role("viewer")}]}},
        token=t))["generateAPIToken"]
    assert tok["secret"] and tok["roles"] == [role("viewer")]
    assert (await server.ok(CLIENT["team"], {"mrn": mrn}, token=tok["secret"]))["team"]["mrn"] == mrn
    assert (await server.ok(CLIENT["deleteAPIToken"], {"input": {"mrn": tok["mrn"]}},
                            token=t))["deleteAPIToken"] is True
    err = await server.error(CLIENT["team"], {"mrn": mrn}, token=tok["secret"])
    assert err["code"] == "UNAUTHENTICATED", err

    # mondoo_team destroy: deleteTeam, then team(mrn:) says it is gone.
    assert (await server.ok(CLIENT["deleteTeam"], {"mrn": mrn}, token=t))["deleteTeam"] is True
    assert (await server.ok(CLIENT["team"], {"mrn": mrn}, token=t))["team"] is None
    assert mentions(await db_rows(server), mrn) == []


async def test_client_documents_with_operation_names(server: Server, org: Org) -> None:
    """Named operations (as generated clients send them) with an operationName."""
    body = {
        "query": "mutation CreateTeam($input: CreateTeamInput!) {\n"
                 "  createTeam(input: $input) { mrn }\n}\n"
                 "query Team($mrn: String!) {\n  team(mrn: $mrn) { mrn name }\n}\n",
        "operationName": "CreateTeam",
        "variables": {"input": {"id": "named-op", "name": "Named", "scopeMrn": org.mrn}},
    }
    resp = await server.post(body, token=org.token)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"data": {"createTeam": {"mrn": f"{org.mrn}/teams/named-op"}}}
    resp = await server.post({**body, "operationName": "Team",
                              "variables": {"mrn": f"{org.mrn}/teams/named-op"}}, token=org.token)
    assert resp.json() == {"data": {"team": {"mrn": f"{org.mrn}/teams/named-op", "name": "Named"}}}
