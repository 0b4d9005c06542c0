"""Bad input is refused with a stable code, a message that says what to fix, and no change.

Every rejection here is checked three ways: ``extensions.code``, the message, and a snapshot
of every table taken before and after (a refused mutation writes nothing at all). No answer
may carry SQL, a Python traceback or driver names.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from tests.integration.harness import Org, Server

CAPTAIN = "//captain.api.mondoo.app"
ROLES = [
    "viewer", "editor", "owner", "agent", "platform-admin", "policy-manager", "policy-editor",
    "exception-reviewer", "exceptions-requester", "integrations-manager", "ticket-manager",
    "ticket-creator", "query-pack-manager", "query-pack-editor", "sla-manager",
]

CREATE_TEAM = "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn } }"
DELETE_TEAM = "mutation($m: String!) { deleteTeam(mrn: $m) }"
SET_ROLES = "mutation($input: SetRolesInput!) { setRoles(input: $input) { mrns identity_mrn } }"
ADD_MAPPING = ("mutation($input: AddTeamExternalGroupMappingInput!) "
               "{ addTeamExternalGroupMapping(input: $input) { mrn externalId } }")
REMOVE_MAPPING = "mutation($m: String!) { removeTeamExternalGroupMapping(mrn: $m) }"
ADD_MEMBER = ("mutation($input: AddTeamMemberInput!) "
              "{ addTeamMember(input: $input) { createdPending memberMrn } }")
REMOVE_MEMBER = ("mutation($input: RemoveTeamMemberInput!) "
                 "{ removeTeamMember(input: $input) { memberMrn } }")
GET_ROLES = ("query($i: String!, $s: String!) { getRoles(identity: $i, scopeMrn: $s) "
             "{ roles } }")

# Case-sensitive SQL keywords, and names that only appear in a leaked stack trace or driver error.
SQL_WORDS = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|VALUES \(|WHERE)\b")
LEAK_WORDS = ("traceback", "sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg",
              "integrityerror", "[sql:", "[parameters:", 'file "/', "site-packages", ".py\"")


def assert_no_leak(raw: str) -> None:
    """No SQL, traceback or driver detail anywhere in a response."""
    assert not SQL_WORDS.search(raw), raw
    low = raw.lower()
    for word in LEAK_WORDS:
        assert word not in low, f"{word!r} leaked: {raw}"


async def post_raw(server: Server, body: dict | str, token: str | None) -> tuple[dict, str]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, str) else json.dumps(body)
    resp = await server.client.post(f"{server.base_url}/query", content=content.encode(),
                                    headers=headers)
    assert_no_leak(resp.text)
    assert resp.status_code == 200, resp.text
    return resp.json(), resp.text


async def rejected(server: Server, query: str, variables: dict | None, code: str, *,
                   token: str | None, many: bool = False) -> dict:
    """Send a request that must fail with ``code`` and change nothing; return the (first) error.

    ``many``: several errors are allowed (GraphQL reports each bad variable field), all with
    ``code``.
    """
    before = await server.snapshot()
    answer, _ = await post_raw(server, {"query": query, "variables": variables or {}}, token)
    after = await server.snapshot()
    errors = answer.get("errors")
    assert errors, f"expected {code}, got {answer}"
    if not many:
        assert len(errors) == 1, errors
    assert not answer.get("data"), answer
    found = [{**e.get("extensions", {}), "message": e["message"]} for e in errors]
    for err in found:
        assert err.get("code") == code, err
    assert after == before, "a rejected request changed the database"
    return found[0]


def assert_lists_roles(message: str) -> None:
    for role in ROLES:
        assert role in message, f"{role} missing from {message!r}"


def assert_names_scope_forms(message: str) -> None:
    assert f"{CAPTAIN}/organizations/ORG-ID" in message, message
    assert f"{CAPTAIN}/spaces/SPACE-ID" in message, message


@dataclass
class World:
    org: Org
    space_mrn: str
    workspace_mrn: str
    team: str  # an org team holding viewer on the org, with one mapping and one member
    space_team: str  # a team that lives in the space
    other_team: str  # an org team with no roles
    user: str  # a member of ``team``
    outsider: str  # a user in no team
    mapping: str
    external_id: str


@pytest.fixture
async def world(server: Server, org: Org) -> World:
    tok = org.token
    space = (await server.ok(
        "mutation($i: CreateSpaceInput!) { createSpace(input: $i) { mrn } }",
        {"i": {"name": "Space", "id": f"space-{secrets.token_hex(4)}", "orgMrn": org.mrn}},
        token=tok))["createSpace"]["mrn"]
    ws = (await server.ok(
        "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { mrn } }",
        {"i": {"name": "WS", "id": "vms1", "ownerMrn": space}}, token=tok))["createWorkspace"]["mrn"]

    async def team(scope: str, team_id: str, roles: list[str] | None = None) -> str:
        data = await server.ok(CREATE_TEAM, {"input": {"id": team_id, "name": team_id,
                                                       "scopeMrn": scope, "roles": roles}},
                               token=tok)
        return data["createTeam"]["mrn"]

    base = await team(org.mrn, "base-team", ["viewer"])
    space_team = await team(space, "space-team")
    other = await team(org.mrn, "other-team")
    external_id = "a1b2c3d4-0000-0000-0000-000000000000"
    mapping = (await server.ok(ADD_MAPPING, {"input": {"teamMrn": base, "externalId": external_id}},
                               token=tok))["addTeamExternalGroupMapping"]["mrn"]
    user = await server.create_user(f"member-{secrets.token_hex(3)}@example.com", "Member",
                                    signed_in_to=org.mrn)
    outsider = await server.create_user(f"outsider-{secrets.token_hex(3)}@example.com",
                                        signed_in_to=org.mrn)
    await server.ok(ADD_MEMBER, {"input": {"teamMrn": base, "memberMrn": user}}, token=tok)
    return World(org, space, ws, base, space_team, other, user, outsider, mapping, external_id)


# --- createTeam ---------------------------------------------------------------------------

@pytest.mark.parametrize("team_id", ["abc", "Security-Viewers", "-leading-dash", "a" * 65,
                                     "has space", "slash/id", "dot.id", "ümlaut"])
async def test_invalid_team_id(server: Server, world: World, team_id: str) -> None:
    err = await rejected(server, CREATE_TEAM,
                         {"input": {"id": team_id, "name": "X", "scopeMrn": world.org.mrn}},
                         "INVALID_ARGUMENT", token=world.org.token)
    msg = err["message"]
    assert repr(team_id) in msg or team_id in msg, msg
    # The message quotes the rule of the seed document.
    assert "4 to 64 characters" in msg, msg
    assert "lowercase letters, digits, dashes and underscores" in msg, msg
    assert "not starting with a dash" in msg, msg
    assert err.get("field") == "id"


@pytest.mark.parametrize("team_id", ["abcd", "a" * 64, "0123", "_underscore", "a-b_c-9",
                                     "trailing-"])
async def test_team_ids_at_the_edge_of_the_rule_are_accepted(
    server: Server, org: Org, team_id: str
) -> None:
    data = await server.ok(CREATE_TEAM, {"input": {"id": team_id, "name": "X",
                                                   "scopeMrn": org.mrn}}, token=org.token)
    assert data["createTeam"]["mrn"] == f"{org.mrn}/teams/{team_id}"


async def test_create_team_in_a_workspace_is_refused(server: Server, world: World) -> None:
    err = await rejected(server, CREATE_TEAM,
                         {"input": {"id": "ws-team", "name": "X", "scopeMrn": world.workspace_mrn}},
                         "INVALID_ARGUMENT", token=world.org.token)
    assert "workspace" in err["message"], err
    assert_names_scope_forms(err["message"])
    assert err.get("field") == "scopeMrn"


MALFORMED_SCOPES = [
    "",
    "organizations/acme",
    f"{CAPTAIN}/orgs/acme",
    f"{CAPTAIN}/organizations/",
    f"{CAPTAIN}/organizations/acme/extra",
    "https://captain.api.mondoo.app/organizations/acme",
    "//iam.api.mondoo.app/roles/viewer",
]


@pytest.mark.parametrize("scope", MALFORMED_SCOPES)
async def test_create_team_with_a_malformed_scope_mrn(server: Server, org: Org, scope: str) -> None:
    err = await rejected(server, CREATE_TEAM,
                         {"input": {"id": "some-team", "name": "X", "scopeMrn": scope}},
                         "INVALID_ARGUMENT", token=org.token)
    assert "scopeMrn" in err["message"]
    assert_names_scope_forms(err["message"])
    assert err.get("field") == "scopeMrn"


@pytest.mark.parametrize("scope", [s for s in MALFORMED_SCOPES if s])  # "": "scopeMrn is required"
async def test_set_roles_with_a_malformed_scope_mrn(server: Server, world: World, scope: str) -> None:
    err = await rejected(server, SET_ROLES,
                         {"input": {"scopeMrn": scope, "identity": world.team, "roles": ["editor"]}},
                         "INVALID_ARGUMENT", token=world.org.token)
    assert_names_scope_forms(err["message"])


@pytest.mark.parametrize("roles", [["root"], ["viewer", "//iam.api.mondoo.app/roles/root"],
                                   ["Viewer"], ["//iam.api.mondoo.app/roles/"]])
async def test_create_team_with_an_unknown_role(server: Server, org: Org, roles: list[str]) -> None:
    err = await rejected(server, CREATE_TEAM,
                         {"input": {"id": "new-team", "name": "X", "scopeMrn": org.mrn,
                                    "roles": roles}},
                         "INVALID_ARGUMENT", token=org.token)
    assert_lists_roles(err["message"])
    assert err.get("field") == "roles"


async def test_duplicate_create_team(server: Server, world: World) -> None:
    err = await rejected(server, CREATE_TEAM,
                         {"input": {"id": "base-team", "name": "Another name",
                                    "scopeMrn": world.org.mrn, "roles": ["editor"]}},
                         "ALREADY_EXISTS", token=world.org.token)
    assert world.team in err["message"]
    data = await server.ok("query($m: String!) { team(mrn: $m) { name } }", {"m": world.team},
                           token=world.org.token)
    assert data["team"]["name"] == "base-team"


async def test_create_team_without_a_token(server: Server, org: Org) -> None:
    await rejected(server, CREATE_TEAM, {"input": {"id": "anon-team", "name": "X",
                                                   "scopeMrn": org.mrn}},
                   "UNAUTHENTICATED", token=None)


# --- setRoles ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["//iam.api.mondoo.app/roles/superuser", "admin", ""])
async def test_set_roles_with_an_unknown_role(server: Server, world: World, role: str) -> None:
    err = await rejected(server, SET_ROLES,
                         {"input": {"scopeMrn": world.org.mrn, "identity": world.team,
                                    "roles": ["editor", role]}},
                         "INVALID_ARGUMENT", token=world.org.token)
    assert_lists_roles(err["message"])


async def test_set_roles_updates_with_an_unknown_role_in_the_second_entry(
    server: Server, world: World
) -> None:
    err = await rejected(server, SET_ROLES, {"input": {"scopeMrn": world.org.mrn, "updates": [
        {"entityMrn": world.team, "roles": [{"mrn": "//iam.api.mondoo.app/roles/editor"}]},
        {"entityMrn": world.other_team, "roles": [{"mrn": "//iam.api.mondoo.app/roles/nope"}]},
    ]}}, "INVALID_ARGUMENT", token=world.org.token)
    assert_lists_roles(err["message"])


@pytest.mark.parametrize("second, code", [
    ("missing-team", "NOT_FOUND"),  # a well-formed MRN of a team that does not exist
    ("malformed", "INVALID_ARGUMENT"),  # not an identity at all
    ("space-team", "INVALID_ARGUMENT"),  # a space team cannot hold roles on the organization
    ("duplicate", "INVALID_ARGUMENT"),  # the first identity a second time
    ("unknown-email", "NOT_FOUND"),  # no user has that email
])
async def test_set_roles_updates_first_valid_second_not_writes_nothing(
    server: Server, world: World, second: str, code: str
) -> None:
    """The first update is valid and is applied inside the transaction; the second fails."""
    entity = {
        "missing-team": f"{world.org.mrn}/teams/no-such-team",
        "malformed": "not an identity",
        "space-team": world.space_team,
        "duplicate": world.team,
        "unknown-email": "nobody-here@example.com",
    }[second]
    await rejected(server, SET_ROLES, {"input": {"scopeMrn": world.org.mrn, "updates": [
        # viewer -> editor + ticket-manager: a delete and two inserts if it were applied
        {"entityMrn": world.team, "roles": [{"mrn": "editor"}, {"mrn": "ticket-manager"}]},
        {"entityMrn": entity, "roles": [{"mrn": "viewer"}]},
    ]}}, code, token=world.org.token)
    data = await server.ok(GET_ROLES, {"i": world.team, "s": world.org.mrn}, token=world.org.token)
    assert data["getRoles"]["roles"] == ["//iam.api.mondoo.app/roles/viewer"]


@pytest.mark.parametrize("shape", ["both", "identity-only", "roles-only", "neither",
                                   "empty-updates"])
async def test_set_roles_with_a_contradictory_or_incomplete_shape(
    server: Server, world: World, shape: str
) -> None:
    inp: dict = {"scopeMrn": world.org.mrn}
    if shape == "both":
        inp |= {"identity": world.team, "roles": ["editor"],
                "updates": [{"entityMrn": world.other_team, "roles": [{"mrn": "viewer"}]}]}
    elif shape == "identity-only":
        inp |= {"identity": world.team}
    elif shape == "roles-only":
        inp |= {"roles": ["editor"]}
    elif shape == "empty-updates":
        inp |= {"updates": []}
    err = await rejected(server, SET_ROLES, {"input": inp}, "INVALID_ARGUMENT",
                         token=world.org.token)
    if shape == "both":
        assert "updates" in err["message"] and "identity" in err["message"], err


async def test_set_roles_space_mrn_disagreeing_with_scope_mrn(server: Server, world: World) -> None:
    err = await rejected(server, SET_ROLES,
                         {"input": {"scopeMrn": world.org.mrn, "spaceMrn": world.space_mrn,
                                    "identity": world.team, "roles": ["editor"]}},
                         "INVALID_ARGUMENT", token=world.org.token)
    assert "spaceMrn" in err["message"] and "scopeMrn" in err["message"], err


async def test_set_roles_without_any_scope(server: Server, world: World) -> None:
    err = await rejected(server, SET_ROLES, {"input": {"identity": world.team, "roles": ["editor"]}},
                         "INVALID_ARGUMENT", token=world.org.token)
    assert "scopeMrn" in err["message"]


# --- external group mappings -----------------------------------------------------------------

async def test_duplicate_mapping(server: Server, world: World) -> None:
    err = await rejected(server, ADD_MAPPING,
                         {"input": {"teamMrn": world.team, "externalId": world.external_id}},
                         "ALREADY_EXISTS", token=world.org.token)
    assert world.external_id in err["message"]


@pytest.mark.parametrize("external_id", ["", " group", "group ", "   ", "\tgroup", "gr\noup",
                                         "x" * 401])
async def test_bad_external_id(server: Server, world: World, external_id: str) -> None:
    err = await rejected(server, ADD_MAPPING,
                         {"input": {"teamMrn": world.team, "externalId": external_id}},
                         "INVALID_ARGUMENT", token=world.org.token)
    assert err.get("field") == "externalId"


@pytest.mark.parametrize("suffix", [
    None,  # not an MRN at all
    "",  # the team MRN alone
    "/externalgroupmappings/",  # no mapping id
    "/externalgroupmappings/ABC",  # mapping ids are lowercase
    "/mappings/abc",  # wrong collection
    "/externalgroupmappings/abc/extra",
])
async def test_remove_mapping_with_a_malformed_mrn(
    server: Server, world: World, suffix: str | None
) -> None:
    mrn = "not-a-mapping" if suffix is None else world.team + suffix
    err = await rejected(server, REMOVE_MAPPING, {"m": mrn}, "INVALID_ARGUMENT",
                         token=world.org.token)
    assert "externalgroupmappings" in err["message"], err


async def test_remove_mapping_that_does_not_exist(server: Server, world: World) -> None:
    await rejected(server, REMOVE_MAPPING, {"m": f"{world.team}/externalgroupmappings/abc123"},
                   "NOT_FOUND", token=world.org.token)


# --- members -------------------------------------------------------------------------------

@pytest.mark.parametrize("which", [(), ("identity", "email"), ("memberMrn", "email"),
                                   ("identity", "memberMrn"), ("identity", "memberMrn", "email")])
@pytest.mark.parametrize("mutation", [ADD_MEMBER, REMOVE_MEMBER], ids=["add", "remove"])
async def test_member_needs_exactly_one_of_identity_member_mrn_email(
    server: Server, world: World, which: tuple[str, ...], mutation: str
) -> None:
    values = {"identity": world.outsider, "memberMrn": world.outsider,
              "email": "someone@example.com"}
    inp = {"teamMrn": world.team, **{k: values[k] for k in which}}
    err = await rejected(server, mutation, {"input": inp}, "INVALID_ARGUMENT",
                         token=world.org.token)
    for name in ("identity", "memberMrn", "email"):
        assert name in err["message"], err


async def test_add_member_with_all_three_empty(server: Server, world: World) -> None:
    await rejected(server, ADD_MEMBER, {"input": {"teamMrn": world.team, "identity": "",
                                                  "memberMrn": "", "email": ""}},
                   "INVALID_ARGUMENT", token=world.org.token)


@pytest.mark.parametrize("field", ["memberMrn", "identity", "email", "pending-email"])
async def test_remove_team_member_who_is_not_a_member(
    server: Server, world: World, field: str
) -> None:
    async with server.db.transaction() as s:
        email = (await s.execute(text("SELECT email FROM user_account WHERE mrn = :m"),
                                 {"m": world.outsider})).scalar_one()
    value = {"memberMrn": world.outsider, "identity": world.outsider, "email": email,
             "pending-email": "never-invited@example.com"}[field]
    key = "email" if field == "pending-email" else field
    await rejected(server, REMOVE_MEMBER, {"input": {"teamMrn": world.team, key: value}},
                   "NOT_FOUND", token=world.org.token)
    # The real member is still there.
    data = await server.ok("query($t: String!, $i: String!) { teamMember(teamMrn: $t, identity: $i)"
                           " { mrn } }", {"t": world.team, "i": world.user}, token=world.org.token)
    assert data["teamMember"] == {"mrn": world.user}


async def test_add_member_twice(server: Server, world: World) -> None:
    await rejected(server, ADD_MEMBER, {"input": {"teamMrn": world.team, "identity": world.user}},
                   "ALREADY_EXISTS", token=world.org.token)


# --- deleteTeam ----------------------------------------------------------------------------

async def test_delete_team_that_does_not_exist(server: Server, world: World) -> None:
    await rejected(server, DELETE_TEAM, {"m": f"{world.org.mrn}/teams/no-such-team"}, "NOT_FOUND",
                   token=world.org.token)


async def test_delete_team_twice(server: Server, world: World) -> None:
    assert (await server.ok(DELETE_TEAM, {"m": world.other_team}, token=world.org.token)) == {
        "deleteTeam": True}
    await rejected(server, DELETE_TEAM, {"m": world.other_team}, "NOT_FOUND",
                   token=world.org.token)


async def test_delete_team_with_a_malformed_mrn(server: Server, world: World) -> None:
    err = await rejected(server, DELETE_TEAM, {"m": f"{world.org.mrn}/team/base-team"},
                         "INVALID_ARGUMENT", token=world.org.token)
    assert f"{CAPTAIN}/organizations/ORG-ID/teams/TEAM-ID" in err["message"]


# --- GraphQL-level errors ---------------------------------------------------------------------

async def test_missing_required_input_field_inline(server: Server, org: Org) -> None:
    query = 'mutation { createTeam(input: {scopeMrn: "ORG", id: "no-name"}) { mrn } }'
    query = query.replace("ORG", org.mrn)
    err = await rejected(server, query, None, "GRAPHQL_VALIDATION_FAILED", token=org.token)
    assert "name" in err["message"]


@pytest.mark.parametrize("variables", [
    {"input": {"id": "no-name"}},  # name and scopeMrn missing
    {"input": {"id": "no-name", "scopeMrn": "SCOPE"}},  # name missing
    {"input": {"id": "bad-name", "scopeMrn": "SCOPE", "name": 5}},  # wrong type
    {"input": {"id": "extra", "scopeMrn": "SCOPE", "name": "X", "bogus": 1}},  # unknown field
    {"input": None},  # null for a non-null input
    {},  # the variable is not given at all
], ids=["two-missing", "name-missing", "wrong-type", "unknown-field", "null", "absent"])
async def test_missing_required_input_field_in_variables(
    server: Server, org: Org, variables: dict
) -> None:
    """How Mondoo's clients send input: as ``$input`` variables. README: INVALID_ARGUMENT."""
    variables = json.loads(json.dumps(variables).replace("SCOPE", org.mrn))
    err = await rejected(server, CREATE_TEAM, variables, "INVALID_ARGUMENT", token=org.token,
                         many=True)
    assert "input" in err["message"]


@pytest.mark.parametrize("query", [
    "mutation { createTeam(input: {name: \"x\" scopeMrn: ",
    "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn }",
    "mutation { createTeam(input: ) { mrn } }",
    "this is not graphql",
    "{ team(mrn: \"x\") { mrn } } }",
])
async def test_syntax_error(server: Server, org: Org, query: str) -> None:
    err = await rejected(server, query, None, "GRAPHQL_PARSE_FAILED", token=org.token)
    assert "Syntax Error" in err["message"]


async def test_unknown_field_is_a_validation_error(server: Server, org: Org) -> None:
    query = "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn nope } }"
    await rejected(server, query, {"input": {"id": "val-team", "name": "X", "scopeMrn": org.mrn}},
                   "GRAPHQL_VALIDATION_FAILED", token=org.token)


# --- nothing leaks ---------------------------------------------------------------------------

NUL = "\u0000"


@pytest.mark.parametrize("field", ["name", "description"])
async def test_nul_character_in_team_text_is_invalid(server: Server, org: Org, field: str) -> None:
    inp = {"id": "nul-team", "name": "Nul", "scopeMrn": org.mrn, field: f"a{NUL}b"}
    await rejected(server, CREATE_TEAM, {"input": inp}, "INVALID_ARGUMENT", token=org.token)


@pytest.mark.parametrize("what", ["deleteTeam", "team", "getRoles", "removeMapping"])
async def test_nul_character_in_a_looked_up_mrn(
    request: pytest.FixtureRequest, server: Server, world: World, what: str
) -> None:
    """An MRN with a NUL is malformed: INVALID_ARGUMENT (or NOT_FOUND), never INTERNAL, and
    nothing changes."""
    bad_team = f"{world.org.mrn}/teams/base{NUL}team"
    tok = world.org.token
    if what == "team":
        before = await server.snapshot()
        answer, _ = await post_raw(server, {"query": "query($m: String!) { team(mrn: $m) { mrn } }",
                                            "variables": {"m": bad_team}}, tok)
        assert answer["data"] == {"team": None}, answer
        [error] = answer["errors"]
        assert error["extensions"]["code"] == "INVALID_ARGUMENT", answer
        assert "malformed mrn" in error["message"]
        assert await server.snapshot() == before
        return
    query, variables = {
        "deleteTeam": (DELETE_TEAM, {"m": bad_team}),
        "getRoles": (GET_ROLES, {"i": bad_team, "s": world.org.mrn}),
        "removeMapping": (REMOVE_MAPPING, {"m": f"{bad_team}/externalgroupmappings/abc"}),
    }[what]
    before = await server.snapshot()
    answer, _ = await post_raw(server, {"query": query, "variables": variables}, tok)
    assert await server.snapshot() == before
    if what == "getRoles" and not answer.get("errors"):
        # getRoles answers [] for an identity MRN that names nothing (Terraform reads a
        # deleted binding back this way).
        assert answer["data"]["getRoles"]["roles"] == [], answer
        return
    codes = [e.get("extensions", {}).get("code") for e in answer.get("errors") or []]
    assert codes in (["NOT_FOUND"], ["INVALID_ARGUMENT"]), answer


async def test_no_error_ever_leaks_sql_or_a_traceback(server: Server, world: World) -> None:
    """Hostile input of every kind: whatever the code, the answer carries no internals."""
    tok = world.org.token
    long = "x" * 5000
    hostile = ["'; DROP TABLE team; --", 'x" OR "1"="1', f"a{NUL}b", long, "é" * 300,
               "%s %d {0}", "\\", "${jndi:ldap://x}"]
    requests: list[tuple[str, dict]] = []
    for h in hostile:
        requests += [
            (CREATE_TEAM, {"input": {"id": "leak-test", "name": h, "scopeMrn": world.org.mrn,
                                     "description": h, "email": h}}),
            (CREATE_TEAM, {"input": {"id": h, "name": "X", "scopeMrn": world.org.mrn}}),
            (CREATE_TEAM, {"input": {"name": "X", "scopeMrn": f"{CAPTAIN}/organizations/{h}"}}),
            (SET_ROLES, {"input": {"scopeMrn": world.org.mrn, "identity": h, "roles": [h]}}),
            (SET_ROLES, {"input": {"scopeMrn": world.org.mrn, "identity": h, "roles": ["viewer"]}}),
            (SET_ROLES, {"input": {"scopeMrn": world.org.mrn,
                                   "identity": f"{world.org.mrn}/teams/{h}", "roles": []}}),
            (ADD_MAPPING, {"input": {"teamMrn": world.team, "externalId": h}}),
            (ADD_MAPPING, {"input": {"teamMrn": f"{world.org.mrn}/teams/{h}", "externalId": "g"}}),
            (REMOVE_MAPPING, {"m": f"{world.team}/externalgroupmappings/{h}"}),
            (ADD_MEMBER, {"input": {"teamMrn": world.team, "email": h}}),
            (ADD_MEMBER, {"input": {"teamMrn": world.team, "identity": f"{CAPTAIN}/users/{h}"}}),
            (REMOVE_MEMBER, {"input": {"teamMrn": world.team, "identity": h}}),
            (DELETE_TEAM, {"m": f"{world.org.mrn}/teams/{h}"}),
            (GET_ROLES, {"i": h, "s": world.org.mrn}),
            ("query($m: String!) { team(mrn: $m) { mrn } }", {"m": f"{world.org.mrn}/teams/{h}"}),
            ("query($m: String!) { teamExternalGroupMapping(mrn: $m) { mrn } }",
             {"m": f"{world.team}/externalgroupmappings/{h}"}),
        ]
    requests.append(("{ __typename " + long, {}))
    errors_seen = 0
    for query, variables in requests:
        answer, raw = await post_raw(server, {"query": query, "variables": variables}, tok)
        for e in answer.get("errors") or []:
            errors_seen += 1
            assert e.get("extensions", {}).get("code"), e
            assert_no_leak(e["message"])
    assert errors_seen > len(hostile) * 10
    # The tables are intact and no hostile id became a team.
    snap = await server.snapshot()
    teams = {row[0] for row in snap["team"]}
    assert world.team in teams
    assert not any(t.startswith(f"{world.org.mrn}/teams/") and t.rsplit("/", 1)[1] not in
                   {"base-team", "other-team"} for t in teams)
