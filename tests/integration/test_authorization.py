"""Authorization, end to end, on SQLite and PostgreSQL: who may do what, and what others see.

The rules (README "Permissions"):

- every query needs some role on the scope (or a scope above it);
- team, member and mapping changes need ``editor`` on the team's scope; ``setRoles``,
  ``generateAPIToken`` and ``deleteAPIToken`` need ``owner``; ``createSpace`` needs ``owner`` of
  the organization, ``createWorkspace`` ``editor`` on the space, ``createOrganization``
  ``platform-admin``; ``createTeam`` with roles needs ``owner`` too;
- nobody hands out a role it does not hold on that scope (setRoles, createTeam with roles,
  generateAPIToken, and addTeamMember / addTeamExternalGroupMapping on a team that has it);
- a caller with no role on the scope (another organization's token, a space token outside its
  space) gets exactly the answer for an object that does not exist; a caller with some role
  but not the one needed gets FORBIDDEN;
- no, malformed, unknown or deleted credentials: UNAUTHENTICATED, whatever the operation;
- a binding on an organization applies to its spaces and workspaces; one on a space applies
  to its workspaces only.

Every refused request is also checked to leave every table exactly as it was.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.harness import CAPTAIN, Org, Server, run_cli

IAM = "//iam.api.mondoo.app"

OK = "ok"
FORBIDDEN = "FORBIDDEN"
HIDDEN = "hidden"  # NOT_FOUND, or null from a nullable query; identical to a missing object
#: Refused with either NOT_FOUND or FORBIDDEN, changing nothing.
REFUSED = "refused"

# --------------------------------------------------------------------------- documents

GQL: dict[str, str] = {
    "createTeam": "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn scopeMrn } }",
    "updateTeam": "mutation($input: UpdateTeamInput!) { updateTeam(input: $input) { mrn name } }",
    "deleteTeam": "mutation($mrn: String!) { deleteTeam(mrn: $mrn) }",
    "setRoles": "mutation($input: SetRolesInput!) { setRoles(input: $input) { mrns identity_mrn } }",
    "addTeamExternalGroupMapping": (
        "mutation($input: AddTeamExternalGroupMappingInput!) {"
        " addTeamExternalGroupMapping(input: $input) { mrn externalId team { mrn } } }"),
    "removeTeamExternalGroupMapping": (
        "mutation($mrn: String!) { removeTeamExternalGroupMapping(mrn: $mrn) }"),
    "addTeamMember": (
        "mutation($input: AddTeamMemberInput!) { addTeamMember(input: $input)"
        " { createdPending memberMrn } }"),
    "removeTeamMember": (
        "mutation($input: RemoveTeamMemberInput!) { removeTeamMember(input: $input)"
        " { memberMrn } }"),
    "generateAPIToken": (
        "mutation($input: GenerateAPITokenInput!) { generateAPIToken(input: $input)"
        " { mrn scopeMrn roles secret } }"),
    "deleteAPIToken": "mutation($input: DeleteAPITokenInput!) { deleteAPIToken(input: $input) }",
    "createOrganization": (
        "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { mrn } }"),
    "createSpace": (
        "mutation($input: CreateSpaceInput!) { createSpace(input: $input) { mrn orgMrn } }"),
    "createWorkspace": (
        "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input)"
        " { mrn ownerMrn } }"),
    "team": "query($mrn: String!) { team(mrn: $mrn) { mrn name scopeMrn } }",
    "teams": "query($scopeMrn: String!) { teams(scopeMrn: $scopeMrn) { nodes { mrn } } }",
    "getRoles": (
        "query($identity: String!, $scopeMrn: String!) {"
        " getRoles(identity: $identity, scopeMrn: $scopeMrn)"
        " { identityMrn identityEmail scopeMrn roles } }"),
    "effectiveRoles": (
        "query($identity: String!, $scopeMrn: String!) {"
        " effectiveRoles(identity: $identity, scopeMrn: $scopeMrn)"
        " { identityMrn scopeMrn roles sources { role scopeMrn viaMrn inherited } } }"),
    "teamMember": (
        "query($teamMrn: String!, $identity: String!) {"
        " teamMember(teamMrn: $teamMrn, identity: $identity) { mrn email name } }"),
    "teamExternalGroupMapping": (
        "query($mrn: String!) { teamExternalGroupMapping(mrn: $mrn)"
        " { mrn externalId team { mrn } } }"),
    "teamExternalGroupMappings": (
        "query($teamMrn: String!) { teamExternalGroupMappings(teamMrn: $teamMrn)"
        " { nodes { mrn externalId } } }"),
    "organization": (
        "query($mrn: String!) { organization(mrn: $mrn) { mrn spaces { mrn workspaces { mrn } } } }"),
    "space": "query($mrn: String!) { space(mrn: $mrn) { mrn orgMrn workspaces { mrn } } }",
    "workspace": "query($mrn: String!) { workspace(mrn: $mrn) { mrn ownerMrn } }",
}

#: Queries whose type is nullable: "hidden" means null with no error.
NULLABLE = {"team", "teamMember", "teamExternalGroupMapping", "organization", "space", "workspace"}


def field_of(doc: str) -> str:
    """The top-level field a document asks for."""
    body = doc[doc.index("{") + 1:].strip()
    return body.split("(", 1)[0].split("{", 1)[0].strip()


# --------------------------------------------------------------------------- helpers


def role(name: str) -> str:
    return f"{IAM}/roles/{name}"


def uid(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


async def gen_token(server: Server, via: str, scope_mrn: str, roles: list[str]) -> tuple[str, str]:
    """(mrn, secret) of a new API token on ``scope_mrn``."""
    data = await server.ok(GQL["generateAPIToken"], {"input": {
        "name": "authz test", "scopeMrn": scope_mrn, "roles": [{"mrn": r} for r in roles]}},
        token=via)
    tok = data["generateAPIToken"]
    return tok["mrn"], tok["secret"]


async def new_scope(server: Server, token: str, kind: str, parent: str) -> str:
    if kind == "space":
        data = await server.ok(GQL["createSpace"], {"input": {"name": "S", "orgMrn": parent}},
                               token=token)
        return data["createSpace"]["mrn"]
    data = await server.ok(GQL["createWorkspace"], {"input": {"name": "W", "ownerMrn": parent}},
                           token=token)
    return data["createWorkspace"]["mrn"]


async def new_team(server: Server, token: str, scope_mrn: str, roles: list[str] | None = None) -> str:
    data = await server.ok(GQL["createTeam"], {"input": {
        "name": "A team", "scopeMrn": scope_mrn, "id": uid("team"), "roles": roles or []}},
        token=token)
    return data["createTeam"]["mrn"]


async def set_roles(server: Server, token: str, scope_mrn: str, identity: str,
                    roles: list[str]) -> None:
    await server.ok(GQL["setRoles"], {"input": {
        "scopeMrn": scope_mrn, "identity": identity, "roles": roles}}, token=token)


async def bound_roles(server: Server, identity: str, scope_mrn: str) -> list[str]:
    """Role names stored for an identity on exactly one scope, read from the database."""
    snap = await server.snapshot()
    # role_binding columns: id, scope_mrn, identity_mrn, role, created_at
    return sorted(r[3] for r in snap["role_binding"] if r[1] == scope_mrn and r[2] == identity)


async def add_member(server: Server, token: str, team: str, user: str) -> None:
    await server.ok(GQL["addTeamMember"], {"input": {"teamMrn": team, "memberMrn": user}},
                    token=token)


def first_error(body: dict) -> dict:
    errors = body.get("errors")
    assert errors, f"expected an error, got {body}"
    assert len(errors) == 1, errors
    return errors[0]


def code_of(body: dict) -> str | None:
    return first_error(body).get("extensions", {}).get("code")


def normalised(body: dict, *pairs: tuple[str, str]) -> str:
    """The response as JSON with each given MRN replaced by its placeholder (longest first)."""
    text = json.dumps(body, sort_keys=True)
    for value, placeholder in sorted(pairs, key=lambda p: -len(p[0])):
        text = text.replace(value, placeholder)
    return text


async def assert_outcome(server: Server, doc: str, body: dict, outcome: str) -> None:
    """``body`` is the response to ``doc``; check it is ``outcome`` (hidden: NOT_FOUND/null)."""
    field = field_of(doc)
    if outcome == OK:
        assert not body.get("errors"), body
        assert body["data"][field] is not None, body
    elif outcome == FORBIDDEN:
        assert code_of(body) == "FORBIDDEN", body
    elif outcome == HIDDEN:
        if field in NULLABLE and field != "teamMember":
            assert body == {"data": {field: None}}, body
        else:
            assert code_of(body) == "NOT_FOUND", body
    elif outcome == REFUSED:
        assert code_of(body) in ("FORBIDDEN", "NOT_FOUND"), body
    else:  # pragma: no cover
        raise AssertionError(outcome)


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """An organization with a space tree, teams, members, a mapping and callers of every kind.

    org
    |- team (bound viewer on org; member; mapping)      |- token (a viewer API token)
    |- space ---- workspace   (space_team)
    |- sibling -- sibling_ws  (sibling_team)
    other: an unrelated organization
    """

    org: Org
    other: Org
    space: str
    workspace: str
    sibling: str
    sibling_ws: str
    team: str
    space_team: str
    sibling_team: str
    mapping: str
    member: str
    outsider: str
    token: str
    callers: dict[str, str]

    def targets(self) -> dict[str, str]:
        return {"org": self.org.mrn, "space": self.space, "workspace": self.workspace,
                "team": self.team, "mapping": self.mapping, "token": self.token}

    def ghosts(self) -> dict[str, str]:
        """MRNs of the same forms that name nothing: the team, mapping and token in this org."""
        ghost_team = f"{self.org.mrn}/teams/{uid('ghost')}"
        ghost_space = f"{CAPTAIN}/spaces/{uid('ghost')}"
        return {"org": f"{CAPTAIN}/organizations/{uid('ghost')}", "space": ghost_space,
                "workspace": f"{ghost_space}/workspaces/{uid('ghost')}", "team": ghost_team,
                "mapping": f"{ghost_team}/externalgroupmappings/{secrets.token_hex(4)}",
                "token": f"{self.org.mrn}/apitokens/{uid('ghost')}"}


async def build_world(server: Server, platform_admin: str) -> World:
    org = await server.new_org("Authz organization")
    other = await server.new_org("Unrelated organization")
    t = org.token
    space = await new_scope(server, t, "space", org.mrn)
    sibling = await new_scope(server, t, "space", org.mrn)
    workspace = await new_scope(server, t, "workspace", space)
    sibling_ws = await new_scope(server, t, "workspace", sibling)
    team = await new_team(server, t, org.mrn, ["viewer"])
    space_team = await new_team(server, t, space)
    sibling_team = await new_team(server, t, sibling)
    member = await server.create_user(f"member.{secrets.token_hex(5)}@example.com", "Member",
                                      signed_in_to=org.mrn)
    outsider = await server.create_user(f"outsider.{secrets.token_hex(5)}@example.com",
                                        signed_in_to=org.mrn)
    await add_member(server, t, team, member)
    mapping = (await server.ok(GQL["addTeamExternalGroupMapping"], {"input": {
        "teamMrn": team, "externalId": uid("group")}}, token=t))["addTeamExternalGroupMapping"]["mrn"]
    token_mrn, _ = await gen_token(server, t, org.mrn, ["viewer"])
    callers = {
        "viewer": await server.token_for(org.mrn, ["viewer"], via=t),
        "editor": await server.token_for(org.mrn, ["editor"], via=t),
        "owner": t,
        "space_viewer": await server.token_for(space, ["viewer"], via=t),
        "space_editor": await server.token_for(space, ["editor"], via=t),
        "space_owner": await server.token_for(space, ["owner"], via=t),
        "other_org": other.token,
        "platform_admin": platform_admin,
    }
    return World(org, other, space, workspace, sibling, sibling_ws, team, space_team,
                 sibling_team, mapping, member, outsider, token_mrn, callers)


@pytest.fixture(scope="module")
async def platform_admin(server: Server) -> str:
    """A platform-admin token that created nothing, so it holds no role on any organization."""
    stdout = await asyncio.to_thread(run_cli, server.database_url, "bootstrap", "--platform-admin")
    return stdout.strip().splitlines()[-1]


@pytest.fixture
async def world(server: Server, platform_admin: str) -> World:
    """A fresh world per test: successful mutations may delete or change its objects."""
    return await build_world(server, platform_admin)


@pytest.fixture(scope="module")
async def shared(server: Server, platform_admin: str) -> World:
    """One world per backend for tests whose successful requests do not disturb the others."""
    return await build_world(server, platform_admin)


# --------------------------------------------------------------------------- the matrix

Vars = Callable[[dict[str, str], World, str], dict[str, Any]]


@dataclass(frozen=True)
class Op:
    doc: str
    vars: Vars  # (targets, world, fresh id) -> variables
    shows: str | None = None  # a target key whose MRN a successful read must contain


OPS: dict[str, Op] = {
    "createTeam": Op(GQL["createTeam"], lambda t, w, f: {"input": {
        "name": "Matrix team", "scopeMrn": t["org"], "id": f}}),
    "createTeam+roles": Op(GQL["createTeam"], lambda t, w, f: {"input": {
        "name": "Matrix team", "scopeMrn": t["org"], "id": f, "roles": ["viewer"]}}),
    "updateTeam": Op(GQL["updateTeam"], lambda t, w, f: {"input": {
        "mrn": t["team"], "name": "Renamed", "description": "changed"}}),
    "deleteTeam": Op(GQL["deleteTeam"], lambda t, w, f: {"mrn": t["team"]}),
    "setRoles": Op(GQL["setRoles"], lambda t, w, f: {"input": {
        "scopeMrn": t["org"], "identity": t["team"], "roles": ["viewer", "editor"]}}),
    "addTeamExternalGroupMapping": Op(GQL["addTeamExternalGroupMapping"], lambda t, w, f: {
        "input": {"teamMrn": t["team"], "externalId": f}}),
    "removeTeamExternalGroupMapping": Op(GQL["removeTeamExternalGroupMapping"],
                                         lambda t, w, f: {"mrn": t["mapping"]}),
    "addTeamMember": Op(GQL["addTeamMember"], lambda t, w, f: {"input": {
        "teamMrn": t["team"], "memberMrn": w.outsider}}),
    "removeTeamMember": Op(GQL["removeTeamMember"], lambda t, w, f: {"input": {
        "teamMrn": t["team"], "memberMrn": w.member}}),
    "generateAPIToken": Op(GQL["generateAPIToken"], lambda t, w, f: {"input": {
        "name": "matrix", "scopeMrn": t["org"], "roles": [{"mrn": role("viewer")}]}}),
    "deleteAPIToken": Op(GQL["deleteAPIToken"], lambda t, w, f: {"input": {"mrn": t["token"]}}),
    "createSpace": Op(GQL["createSpace"], lambda t, w, f: {"input": {
        "name": "Matrix space", "orgMrn": t["org"], "id": f}}),
    "createWorkspace": Op(GQL["createWorkspace"], lambda t, w, f: {"input": {
        "name": "Matrix workspace", "ownerMrn": t["space"], "id": f}}),
    "createOrganization": Op(GQL["createOrganization"], lambda t, w, f: {"input": {
        "name": "Matrix organization", "id": f}}),
    "team": Op(GQL["team"], lambda t, w, f: {"mrn": t["team"]}, shows="team"),
    "teams": Op(GQL["teams"], lambda t, w, f: {"scopeMrn": t["org"]}, shows="team"),
    "getRoles": Op(GQL["getRoles"], lambda t, w, f: {
        "identity": t["team"], "scopeMrn": t["org"]}, shows="team"),
    "effectiveRoles": Op(GQL["effectiveRoles"], lambda t, w, f: {
        "identity": t["team"], "scopeMrn": t["org"]}, shows="team"),
    "teamMember": Op(GQL["teamMember"], lambda t, w, f: {
        "teamMrn": t["team"], "identity": w.member}),
    "teamExternalGroupMapping": Op(GQL["teamExternalGroupMapping"],
                                   lambda t, w, f: {"mrn": t["mapping"]}, shows="mapping"),
    "teamExternalGroupMappings": Op(GQL["teamExternalGroupMappings"],
                                    lambda t, w, f: {"teamMrn": t["team"]}, shows="mapping"),
    "organization": Op(GQL["organization"], lambda t, w, f: {"mrn": t["org"]}, shows="org"),
    "space": Op(GQL["space"], lambda t, w, f: {"mrn": t["space"]}, shows="workspace"),
    "workspace": Op(GQL["workspace"], lambda t, w, f: {"mrn": t["workspace"]}, shows="workspace"),
}

F, H, R = FORBIDDEN, HIDDEN, REFUSED
CALLERS = ("viewer", "editor", "owner", "space_owner", "other_org", "platform_admin")
#: Every operation aims at the organization's objects (team, mapping, token, the org itself),
#: except createWorkspace/space/workspace, which aim at the space and its workspace.
#: space_owner: owner of one space of the organization; other_org: owner of another
#: organization; platform_admin: platform-admin that holds no role on the organization.
MATRIX: dict[str, tuple[str, ...]] = {
    #                                 viewer editor owner space_owner other_org platform_admin
    "createTeam":                     (F,    OK,    OK,   H,          H,        H),
    "createTeam+roles":               (F,    F,     OK,   H,          H,        H),
    "updateTeam":                     (F,    OK,    OK,   H,          H,        H),
    "deleteTeam":                     (F,    OK,    OK,   H,          H,        H),
    "setRoles":                       (F,    F,     OK,   H,          H,        H),
    "addTeamExternalGroupMapping":    (F,    OK,    OK,   H,          H,        H),
    "removeTeamExternalGroupMapping": (F,    OK,    OK,   H,          H,        H),
    "addTeamMember":                  (F,    OK,    OK,   H,          H,        H),
    "removeTeamMember":               (F,    OK,    OK,   H,          H,        H),
    "generateAPIToken":               (F,    F,     OK,   H,          H,        H),
    "deleteAPIToken":                 (F,    F,     OK,   H,          H,        H),
    "createSpace":                    (F,    F,     OK,   H,          H,        H),
    "createWorkspace":                (F,    OK,    OK,   OK,         H,        H),
    "createOrganization":             (F,    F,     F,    F,          F,        OK),
    "team":                           (OK,   OK,    OK,   H,          H,        H),
    "teams":                          (OK,   OK,    OK,   H,          H,        H),
    "getRoles":                       (OK,   OK,    OK,   H,          H,        H),
    "effectiveRoles":                 (OK,   OK,    OK,   H,          H,        H),
    "teamMember":                     (OK,   OK,    OK,   H,          H,        H),
    "teamExternalGroupMapping":       (OK,   OK,    OK,   H,          H,        H),
    "teamExternalGroupMappings":      (OK,   OK,    OK,   H,          H,        H),
    "organization":                   (OK,   OK,    OK,   H,          H,        H),
    "space":                          (OK,   OK,    OK,   OK,         H,        H),
    "workspace":                      (OK,   OK,    OK,   OK,         H,        H),
}
assert set(MATRIX) == set(OPS)
assert all(len(row) == len(CALLERS) for row in MATRIX.values())

CASES = [pytest.param(op, caller, outcome, id=f"{op}-{caller}")
         for op, row in MATRIX.items() for caller, outcome in zip(CALLERS, row, strict=True)]


@pytest.mark.parametrize(("op_name", "caller", "outcome"), CASES)
async def test_permission_matrix(server: Server, world: World, op_name: str, caller: str,
                                 outcome: str) -> None:
    op = OPS[op_name]
    token = world.callers[caller]
    fresh = uid("fresh")
    targets = world.targets()
    mutation = op.doc.startswith("mutation")

    before = await server.snapshot()
    body = await server.gql(op.doc, op.vars(targets, world, fresh), token=token)
    await assert_outcome(server, op.doc, body, outcome)

    if outcome == OK:
        after = await server.snapshot()
        if mutation:
            assert after != before, f"{op_name} answered {body} but changed nothing"
        else:
            assert after == before
            if op.shows:
                assert targets[op.shows] in json.dumps(body), body
            if op_name == "teamMember":
                assert body["data"]["teamMember"]["mrn"] == world.member
        return

    assert await server.snapshot() == before, f"refused {op_name} changed the database"
    if outcome == HIDDEN:
        # Exactly the answer for objects that do not exist (modulo their MRNs).
        ghosts = world.ghosts()
        ghost_body = await server.gql(op.doc, op.vars(ghosts, world, fresh), token=token)
        pairs = [(targets[k], f"<{k}>") for k in targets] + [(ghosts[k], f"<{k}>") for k in ghosts]
        assert normalised(body, *pairs) == normalised(ghost_body, *pairs)
        assert await server.snapshot() == before


# --------------------------------------------------------------------------- scope inheritance

CHAIN = {
    "org": ("org",),
    "space": ("space", "org"),
    "workspace": ("workspace", "space", "org"),
    "sibling": ("sibling", "org"),
    "sibling_ws": ("sibling_ws", "sibling", "org"),
}
IMPLIED = {"viewer": {"viewer"}, "editor": {"editor", "viewer"},
           "owner": {"owner", "editor", "viewer"}}


def expected(caller: str, needed: str | None, scope: str) -> str:
    """The rule, restated: roles bound on the caller's scope count on it and below it."""
    home, _, role_name = caller.rpartition("_")
    home = home or "org"
    held = IMPLIED[role_name] if home in CHAIN[scope] else set()
    if not held:
        return HIDDEN
    return OK if needed is None or needed in held else FORBIDDEN


def scope_mrn(w: World, key: str) -> str:
    return {"org": w.org.mrn, "space": w.space, "workspace": w.workspace, "sibling": w.sibling,
            "sibling_ws": w.sibling_ws}[key]


def team_of(w: World, key: str) -> str:
    return {"org": w.team, "space": w.space_team, "sibling": w.sibling_team}[key]


SCOPE_READ = {"org": "organization", "space": "space", "workspace": "workspace",
              "sibling": "space", "sibling_ws": "workspace"}

# (operation, needed role, target scope, variables(world, fresh id, fresh user))
INHERITANCE: list[tuple[str, str | None, str, Callable[[World, str, str], dict]]] = [
    *[(SCOPE_READ[s], None, s, lambda w, f, u, s=s: {"mrn": scope_mrn(w, s)}) for s in CHAIN],
    *[("teams", None, s, lambda w, f, u, s=s: {"scopeMrn": scope_mrn(w, s)})
      for s in ("org", "space", "sibling")],
    *[("team", None, s, lambda w, f, u, s=s: {"mrn": team_of(w, s)})
      for s in ("org", "space", "sibling")],
    *[("getRoles", None, s, lambda w, f, u, s=s: {"identity": w.member, "scopeMrn": scope_mrn(w, s)})
      for s in ("workspace", "sibling_ws")],
    *[("effectiveRoles", None, s, lambda w, f, u, s=s: {
        "identity": w.member, "scopeMrn": scope_mrn(w, s)}) for s in ("workspace", "sibling_ws")],
    *[("createTeam", "editor", s, lambda w, f, u, s=s: {"input": {
        "name": "Inherited", "scopeMrn": scope_mrn(w, s), "id": f}})
      for s in ("org", "space", "sibling")],
    *[("updateTeam", "editor", s, lambda w, f, u, s=s: {"input": {
        "mrn": team_of(w, s), "name": "Renamed", "description": f}})
      for s in ("org", "space", "sibling")],
    *[("addTeamMember", "editor", s, lambda w, f, u, s=s: {"input": {
        "teamMrn": team_of(w, s), "memberMrn": u}}) for s in ("space", "sibling")],
    *[("createWorkspace", "editor", s, lambda w, f, u, s=s: {"input": {
        "name": "Inherited", "ownerMrn": scope_mrn(w, s), "id": f}}) for s in ("space", "sibling")],
    ("createSpace", "owner", "org", lambda w, f, u: {"input": {
        "name": "Inherited", "orgMrn": w.org.mrn, "id": f}}),
    *[("setRoles", "owner", s, lambda w, f, u, s=s: {"input": {
        "scopeMrn": scope_mrn(w, s), "identity": u, "roles": ["viewer"]}}) for s in CHAIN],
    *[("generateAPIToken", "owner", s, lambda w, f, u, s=s: {"input": {
        "name": "inherited", "scopeMrn": scope_mrn(w, s), "roles": [{"mrn": "viewer"}]}})
      for s in ("org", "space", "sibling")],
]
INHERITANCE_CALLERS = ("viewer", "editor", "owner", "space_viewer", "space_editor", "space_owner")
INHERITANCE_CASES = [
    pytest.param(caller, op, needed, scope, make, expected(caller, needed, scope),
                 id=f"{caller}-{op}-{scope}")
    for caller in INHERITANCE_CALLERS for op, needed, scope, make in INHERITANCE
]


@pytest.mark.parametrize(("caller", "op_name", "needed", "scope", "make", "outcome"),
                         INHERITANCE_CASES)
async def test_bindings_apply_to_the_scope_and_below_only(
    server: Server, shared: World, caller: str, op_name: str, needed: str | None, scope: str,
    make: Callable, outcome: str,
) -> None:
    user = await server.create_user(f"inherit.{secrets.token_hex(5)}@example.com",
                                    signed_in_to=shared.org.mrn)
    doc = GQL[op_name]
    before = await server.snapshot()
    body = await server.gql(doc, make(shared, uid("inh"), user), token=shared.callers[caller])
    await assert_outcome(server, doc, body, outcome)
    if outcome == OK and doc.startswith("mutation"):
        assert await server.snapshot() != before
    else:
        assert await server.snapshot() == before, f"{op_name} changed the database"


async def test_space_token_lists_only_what_it_can_see(server: Server, shared: World) -> None:
    """Space.workspaces through a space token; the org (and so its spaces list) is out of reach."""
    for caller in ("space_viewer", "space_editor", "space_owner"):
        token = shared.callers[caller]
        data = await server.ok(GQL["space"], {"mrn": shared.space}, token=token)
        assert data["space"]["orgMrn"] == shared.org.mrn
        assert shared.workspace in [w["mrn"] for w in data["space"]["workspaces"]]
        assert (await server.ok(GQL["organization"], {"mrn": shared.org.mrn}, token=token)) == {
            "organization": None}
    data = await server.ok(GQL["organization"], {"mrn": shared.org.mrn},
                           token=shared.callers["viewer"])
    spaces = {s["mrn"]: [w["mrn"] for w in s["workspaces"]] for s in data["organization"]["spaces"]}
    assert shared.workspace in spaces[shared.space]
    assert shared.sibling_ws in spaces[shared.sibling]


# --------------------------------------------------------------------------- escalation


@pytest.mark.parametrize("op_name", ["addTeamMember", "addTeamExternalGroupMapping"])
@pytest.mark.parametrize(("team_role", "editor_outcome"), [
    ("viewer", OK), ("editor", OK), ("agent", FORBIDDEN), ("policy-editor", FORBIDDEN),
    ("owner", FORBIDDEN),
])
async def test_editor_cannot_join_people_to_a_team_with_a_role_it_lacks(
    server: Server, world: World, op_name: str, team_role: str, editor_outcome: str
) -> None:
    """Adding a member or mapping a group grants the team's roles: only roles the caller holds."""
    team = await new_team(server, world.org.token, world.org.mrn, [team_role])
    variables = ({"input": {"teamMrn": team, "memberMrn": world.outsider}}
                 if op_name == "addTeamMember"
                 else {"input": {"teamMrn": team, "externalId": uid("group")}})
    before = await server.snapshot()
    body = await server.gql(GQL[op_name], variables, token=world.callers["editor"])
    await assert_outcome(server, GQL[op_name], body, editor_outcome)
    if editor_outcome == FORBIDDEN:
        assert await server.snapshot() == before
        # The owner holds the role, so the same request is fine for it.
        await server.ok(GQL[op_name], variables, token=world.callers["owner"])
    else:
        assert await server.snapshot() != before


@pytest.mark.parametrize("op_name", ["addTeamMember", "addTeamExternalGroupMapping"])
@pytest.mark.parametrize(("caller", "outcome"), [
    ("editor", FORBIDDEN), ("space_editor", FORBIDDEN), ("space_owner", OK), ("owner", OK),
])
async def test_team_roles_bound_below_its_scope_count_too(
    server: Server, world: World, op_name: str, caller: str, outcome: str
) -> None:
    """A space team bound `owner` on a workspace: joining it needs `owner` on that workspace."""
    await set_roles(server, world.org.token, world.workspace, world.space_team, ["owner"])
    variables = ({"input": {"teamMrn": world.space_team, "memberMrn": world.outsider}}
                 if op_name == "addTeamMember"
                 else {"input": {"teamMrn": world.space_team, "externalId": uid("group")}})
    before = await server.snapshot()
    body = await server.gql(GQL[op_name], variables, token=world.callers[caller])
    await assert_outcome(server, GQL[op_name], body, outcome)
    assert (await server.snapshot() == before) == (outcome != OK)


@dataclass(frozen=True)
class Attempt:
    caller: str
    doc: str
    vars: Callable[[World, dict[str, str]], dict]
    outcome: str


def _set(scope: str, identity: str, *roles: str) -> Callable[[World, dict[str, str]], dict]:
    return lambda w, me: {"input": {
        "scopeMrn": scope_mrn(w, scope),
        "identity": me[identity] if identity in me else getattr(w, identity),
        "roles": list(roles)}}


ESCALATIONS: dict[str, Attempt] = {
    # setRoles
    "owner-sets-platform-admin-on-a-team": Attempt(
        "owner", GQL["setRoles"], _set("org", "team", "viewer", "platform-admin"), FORBIDDEN),
    "owner-sets-platform-admin-on-itself": Attempt(
        "owner", GQL["setRoles"], _set("org", "self", "owner", "platform-admin"), FORBIDDEN),
    "editor-sets-owner-on-itself": Attempt(
        "editor", GQL["setRoles"], _set("org", "self", "editor", "owner"), FORBIDDEN),
    "viewer-sets-editor-on-itself": Attempt(
        "viewer", GQL["setRoles"], _set("org", "self", "viewer", "editor"), FORBIDDEN),
    "space-owner-sets-owner-on-itself-on-the-org": Attempt(
        "space_owner", GQL["setRoles"], _set("org", "self", "owner"), HIDDEN),
    "space-owner-sets-owner-on-the-sibling-space": Attempt(
        "space_owner", GQL["setRoles"], _set("sibling", "outsider", "owner"), HIDDEN),
    "space-owner-sets-owner-on-its-space (allowed)": Attempt(
        "space_owner", GQL["setRoles"], _set("space", "space_team", "owner"), OK),
    "one-unholdable-role-in-updates-refuses-all": Attempt(
        "owner", GQL["setRoles"], lambda w, me: {"input": {"scopeMrn": w.org.mrn, "updates": [
            {"entityMrn": w.outsider, "roles": [{"mrn": role("editor")}]},
            {"entityMrn": w.team, "roles": [{"mrn": role("viewer")}, {"mrn": role("owner")}]},
            {"entityMrn": me["self"], "roles": [{"mrn": role("platform-admin")}]},
        ]}}, FORBIDDEN),
    # generateAPIToken
    "owner-mints-platform-admin-token": Attempt(
        "owner", GQL["generateAPIToken"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.org.mrn, "roles": [{"mrn": "platform-admin"}]}}, FORBIDDEN),
    "owner-mints-token-with-one-unholdable-role": Attempt(
        "owner", GQL["generateAPIToken"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.org.mrn,
            "roles": [{"mrn": "viewer"}, {"mrn": "owner"}, {"mrn": role("platform-admin")}]}},
        FORBIDDEN),
    "editor-mints-viewer-token": Attempt(
        "editor", GQL["generateAPIToken"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.org.mrn, "roles": [{"mrn": "viewer"}]}}, FORBIDDEN),
    "space-owner-mints-org-token": Attempt(
        "space_owner", GQL["generateAPIToken"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.org.mrn, "roles": [{"mrn": "viewer"}]}}, HIDDEN),
    "space-owner-mints-sibling-space-token": Attempt(
        "space_owner", GQL["generateAPIToken"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.sibling, "roles": [{"mrn": "owner"}]}}, HIDDEN),
    "space-owner-mints-owner-token-for-its-space (allowed)": Attempt(
        "space_owner", GQL["generateAPIToken"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.space, "roles": [{"mrn": "owner"}]}}, OK),
    "space-editor-mints-token-for-its-space": Attempt(
        "space_editor", GQL["generateAPIToken"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.space, "roles": [{"mrn": "viewer"}]}}, FORBIDDEN),
    # createTeam with roles
    "editor-creates-team-with-viewer": Attempt(
        "editor", GQL["createTeam"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.org.mrn, "roles": ["viewer"]}}, FORBIDDEN),
    "owner-creates-team-with-platform-admin": Attempt(
        "owner", GQL["createTeam"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.org.mrn, "roles": ["owner", "platform-admin"]}}, FORBIDDEN),
    "space-editor-creates-space-team-with-viewer": Attempt(
        "space_editor", GQL["createTeam"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.space, "roles": ["viewer"]}}, FORBIDDEN),
    "space-owner-creates-space-team-with-owner (allowed)": Attempt(
        "space_owner", GQL["createTeam"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.space, "roles": ["owner"]}}, OK),
    "editor-creates-team-without-roles (allowed)": Attempt(
        "editor", GQL["createTeam"], lambda w, me: {"input": {
            "name": "x", "scopeMrn": w.org.mrn}}, OK),
}


@pytest.mark.parametrize("name", list(ESCALATIONS))
async def test_nobody_hands_out_more_than_it_holds(server: Server, world: World, name: str) -> None:
    a = ESCALATIONS[name]
    # The caller's own token MRN, for attempts on itself: a fresh token with the same roles.
    caller_roles = {"owner": ["owner"], "editor": ["editor"], "viewer": ["viewer"],
                    "space_owner": ["owner"], "space_editor": ["editor"]}[a.caller]
    scope = world.space if a.caller.startswith("space_") else world.org.mrn
    self_mrn, self_secret = await gen_token(server, world.org.token, scope, caller_roles)
    before = await server.snapshot()
    body = await server.gql(a.doc, a.vars(world, {"self": self_mrn}), token=self_secret)
    await assert_outcome(server, a.doc, body, a.outcome)
    if a.outcome == OK:
        assert await server.snapshot() != before
    else:
        assert await server.snapshot() == before, f"{name} changed the database"


async def test_a_refused_escalation_leaves_bindings_as_they_were(server: Server, world: World) -> None:
    await set_roles(server, world.org.token, world.org.mrn, world.outsider, ["viewer"])
    err = await server.error(GQL["setRoles"], {"input": {
        "scopeMrn": world.org.mrn, "identity": world.outsider, "roles": ["platform-admin"]}},
        token=world.org.token)
    assert err["code"] == "FORBIDDEN", err
    assert "platform-admin" in err["message"], err
    assert await bound_roles(server, world.outsider, world.org.mrn) == ["viewer"]


# --------------------------------------------------------------------------- organizations


async def test_platform_admin_creates_organizations_and_owns_them(
    server: Server, platform_admin: str
) -> None:
    org_id = uid("org")
    data = await server.ok(GQL["createOrganization"], {"input": {"name": "New", "id": org_id}},
                           token=platform_admin)
    mrn = data["createOrganization"]["mrn"]
    assert mrn == f"{CAPTAIN}/organizations/{org_id}"
    # The creator is the owner of the new organization (and of nothing else).
    tok = await server.token_for(mrn, ["owner"], via=platform_admin)
    assert (await server.ok(GQL["organization"], {"mrn": mrn}, token=tok))["organization"]


async def test_platform_admin_is_not_inherited_by_organizations(
    server: Server, world: World, platform_admin: str
) -> None:
    assert (await server.ok(GQL["organization"], {"mrn": world.org.mrn},
                            token=platform_admin)) == {"organization": None}
    before = await server.snapshot()
    err = await server.error(GQL["setRoles"], {"input": {
        "scopeMrn": world.org.mrn, "identity": world.outsider, "roles": ["owner"]}},
        token=platform_admin)
    assert err["code"] == "NOT_FOUND", err
    assert await server.snapshot() == before


# --------------------------------------------------------------------------- across organizations

# Identities of another organization named in requests to the caller's own organization.
CROSS_IDENTITY = {
    "setRoles-team": ("setRoles", "team", lambda w, who: {"input": {
        "scopeMrn": w.other.mrn, "identity": who, "roles": ["viewer"]}}),
    "setRoles-token": ("setRoles", "token", lambda w, who: {"input": {
        "scopeMrn": w.other.mrn, "identity": who, "roles": ["viewer"]}}),
    "setRoles-updates-team": ("setRoles", "team", lambda w, who: {"input": {
        "scopeMrn": w.other.mrn, "updates": [{"entityMrn": who, "roles": [{"mrn": "viewer"}]}]}}),
    "getRoles-team": ("getRoles", "team", lambda w, who: {
        "identity": who, "scopeMrn": w.other.mrn}),
    "getRoles-token": ("getRoles", "token", lambda w, who: {
        "identity": who, "scopeMrn": w.other.mrn}),
    "effectiveRoles-team": ("effectiveRoles", "team", lambda w, who: {
        "identity": who, "scopeMrn": w.other.mrn}),
    "effectiveRoles-token": ("effectiveRoles", "token", lambda w, who: {
        "identity": who, "scopeMrn": w.other.mrn}),
}


@pytest.mark.parametrize("name", list(CROSS_IDENTITY))
async def test_another_organizations_identity_reads_as_missing(
    server: Server, world: World, name: str
) -> None:
    """The other org's owner names this org's team/token in its own org: same as a ghost."""
    op_name, kind, make = CROSS_IDENTITY[name]
    real = world.targets()[kind]
    ghost = world.ghosts()[kind]
    token = world.other.token
    before = await server.snapshot()
    body = await server.gql(GQL[op_name], make(world, real), token=token)
    ghost_body = await server.gql(GQL[op_name], make(world, ghost), token=token)
    assert normalised(body, (real, "<id>")) == normalised(ghost_body, (ghost, "<id>"))
    if op_name == "getRoles":
        assert body["data"]["getRoles"]["roles"] == [], body
    else:
        assert code_of(body) == "NOT_FOUND", body
    assert await server.snapshot() == before


@pytest.mark.parametrize("op_name", [op for op in OPS if op != "createOrganization"])
async def test_cross_organization_guard_holds_even_with_a_stray_binding(
    server: Server, world: World, op_name: str
) -> None:
    """Defense in depth: a binding of another organization's token on this organization.

    The API never creates one (a token can only be bound on its own scope or below), so it
    is written straight into the table, as a bad migration or manual fix might. The token
    must still get exactly the answer for objects that do not exist.
    """
    from models import RoleBinding

    intruder_mrn, intruder = await gen_token(server, world.other.token, world.other.mrn, ["owner"])
    async with server.db.transaction() as s:
        s.add(RoleBinding(scope_mrn=world.org.mrn, identity_mrn=intruder_mrn, role="owner"))
    op = OPS[op_name]
    fresh = uid("fresh")
    targets, ghosts = world.targets(), world.ghosts()
    before = await server.snapshot()
    body = await server.gql(op.doc, op.vars(targets, world, fresh), token=intruder)
    await assert_outcome(server, op.doc, body, HIDDEN)
    ghost_body = await server.gql(op.doc, op.vars(ghosts, world, fresh), token=intruder)
    pairs = [(targets[k], f"<{k}>") for k in targets] + [(ghosts[k], f"<{k}>") for k in ghosts]
    assert normalised(body, *pairs) == normalised(ghost_body, *pairs)
    assert await server.snapshot() == before


async def test_another_organizations_space_reads_as_missing(server: Server, world: World) -> None:
    """Space-level objects too: the space, its workspace, its teams, tokens on it."""
    token = world.other.token
    ghost_space = f"{CAPTAIN}/spaces/{uid('ghost')}"
    ghost_team = f"{world.space}/teams/{uid('ghost')}"
    cases = [
        (GQL["space"], lambda s, t: {"mrn": s}),
        (GQL["workspace"], lambda s, t: {"mrn": f"{s}/workspaces/{world.workspace.rsplit('/', 1)[1]}"}),
        (GQL["teams"], lambda s, t: {"scopeMrn": s}),
        (GQL["team"], lambda s, t: {"mrn": t}),
        (GQL["createTeam"], lambda s, t: {"input": {"name": "x", "scopeMrn": s, "id": "intruder"}}),
        (GQL["updateTeam"], lambda s, t: {"input": {"mrn": t, "name": "x", "description": "y"}}),
        (GQL["deleteTeam"], lambda s, t: {"mrn": t}),
        (GQL["addTeamMember"], lambda s, t: {"input": {"teamMrn": t, "memberMrn": world.outsider}}),
        (GQL["createWorkspace"], lambda s, t: {"input": {"name": "x", "ownerMrn": s, "id": "intruder"}}),
        (GQL["generateAPIToken"], lambda s, t: {"input": {
            "name": "x", "scopeMrn": s, "roles": [{"mrn": "viewer"}]}}),
        (GQL["setRoles"], lambda s, t: {"input": {
            "scopeMrn": s, "identity": world.outsider, "roles": ["viewer"]}}),
    ]
    before = await server.snapshot()
    pairs = [(world.space, "<space>"), (ghost_space, "<space>"), (world.space_team, "<team>"),
             (ghost_team, "<team>")]
    for doc, make in cases:
        body = await server.gql(doc, make(world.space, world.space_team), token=token)
        ghost_body = await server.gql(doc, make(ghost_space, ghost_team), token=token)
        await assert_outcome(server, doc, body, HIDDEN)
        assert normalised(body, *pairs) == normalised(ghost_body, *pairs), doc
    assert await server.snapshot() == before


# --------------------------------------------------------------------------- authentication


async def post_with(server: Server, body: dict, headers: dict[str, str]) -> dict:
    resp = await server.client.post(f"{server.base_url}/query", json=body,
                                    headers={"Content-Type": "application/json", **headers})
    return resp.json()


@pytest.fixture(scope="module")
async def deleted_owner_token(server: Server, shared: World) -> str:
    """An owner token of the shared organization, deleted with deleteAPIToken."""
    mrn, secret = await gen_token(server, shared.org.token, shared.org.mrn, ["owner"])
    data = await server.ok(GQL["deleteAPIToken"], {"input": {"mrn": mrn}}, token=shared.org.token)
    assert data["deleteAPIToken"] is True
    return secret


CREDENTIALS = {
    "none": lambda deleted, valid: {},
    "empty-header": lambda deleted, valid: {"Authorization": ""},
    "bearer-without-token": lambda deleted, valid: {"Authorization": "Bearer"},
    "basic-scheme": lambda deleted, valid: {"Authorization": f"Basic {valid}"},
    "token-without-scheme": lambda deleted, valid: {"Authorization": valid},
    "unknown-token": lambda deleted, valid: {"Authorization": f"Bearer {uid('nope')}{valid[5:]}"},
    "deleted-token": lambda deleted, valid: {"Authorization": f"Bearer {deleted}"},
}


@pytest.mark.parametrize("op_name", list(OPS))
@pytest.mark.parametrize("credential", list(CREDENTIALS))
async def test_without_valid_credentials_every_operation_is_unauthenticated(
    server: Server, shared: World, deleted_owner_token: str, op_name: str, credential: str
) -> None:
    op = OPS[op_name]
    headers = CREDENTIALS[credential](deleted_owner_token, shared.org.token)
    before = await server.snapshot()
    body = await post_with(server, {"query": op.doc, "variables": op.vars(
        shared.targets(), shared, uid("fresh"))}, headers)
    assert code_of(body) == "UNAUTHENTICATED", body
    assert (body.get("data") or {}).get(field_of(op.doc)) is None, body
    assert await server.snapshot() == before, f"{op_name} with {credential} changed the database"


async def test_a_role_taken_away_counts_from_the_callers_next_request(server: Server,
                                                                     org: Org) -> None:
    """Roles are read for every request: a read decides on those read with the caller's
    credentials, a change on those read again inside its transaction; neither outlives the
    request that read them."""
    data = await server.ok(
        "mutation($input: GenerateAPITokenInput!) { generateAPIToken(input: $input) "
        "{ mrn secret } }",
        {"input": {"name": "editor", "scopeMrn": org.mrn, "roles": [{"mrn": "editor"}]}},
        token=org.token)
    editor, editor_mrn = data["generateAPIToken"]["secret"], data["generateAPIToken"]["mrn"]
    read = {"identity": editor_mrn, "scopeMrn": org.mrn}
    assert (await server.ok(GQL["getRoles"], read, token=editor))["getRoles"]["roles"] == \
        ["//iam.api.mondoo.app/roles/editor"]
    await new_team(server, editor, org.mrn)

    await set_roles(server, org.token, org.mrn, editor_mrn, ["viewer"])
    refused = await server.error(GQL["createTeam"], {"input": {
        "name": "Too late", "scopeMrn": org.mrn, "id": uid("team")}}, token=editor)
    assert refused["code"] == "FORBIDDEN", refused
    assert (await server.ok(GQL["getRoles"], read, token=editor))["getRoles"]["roles"] == \
        ["//iam.api.mondoo.app/roles/viewer"]

    await set_roles(server, org.token, org.mrn, editor_mrn, [])
    gone = await server.error(GQL["getRoles"], read, token=editor)
    assert gone["code"] == "NOT_FOUND", gone
