"""Organization.spaces and Space.workspaces list the scopes below, as the caller may see them."""

from tests.integration.harness import Org, Server

CREATE_SPACE = "mutation($i: CreateSpaceInput!) { createSpace(input: $i) { mrn orgMrn } }"
CREATE_WS = "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { mrn ownerMrn } }"
TREE = """query($m: String!) {
  organization(mrn: $m) { id spaces { mrn orgMrn workspaces { mrn ownerMrn spaceMrn } } }
}"""


async def test_scope_tree(server: Server, org: Org) -> None:
    space = (await server.ok(CREATE_SPACE, {"i": {"name": "S", "orgMrn": org.mrn}},
                             token=org.token))["createSpace"]
    assert space["orgMrn"] == org.mrn
    ws = (await server.ok(CREATE_WS, {"i": {"name": "W", "id": "vms1", "ownerMrn": space["mrn"]}},
                          token=org.token))["createWorkspace"]
    assert ws == {"mrn": f"{space['mrn']}/workspaces/vms1", "ownerMrn": space["mrn"]}
    tree = (await server.ok(TREE, {"m": org.mrn}, token=org.token))["organization"]
    assert tree["id"] == org.id
    assert tree["spaces"] == [{"mrn": space["mrn"], "orgMrn": org.mrn, "workspaces": [
        {"mrn": ws["mrn"], "ownerMrn": space["mrn"], "spaceMrn": space["mrn"]}]}]


async def test_space_token_sees_its_space_but_not_siblings(server: Server, org: Org) -> None:
    a = (await server.ok(CREATE_SPACE, {"i": {"name": "A", "orgMrn": org.mrn}},
                         token=org.token))["createSpace"]["mrn"]
    b = (await server.ok(CREATE_SPACE, {"i": {"name": "B", "orgMrn": org.mrn}},
                         token=org.token))["createSpace"]["mrn"]
    space_token = await server.token_for(a, ["viewer"], via=org.token)
    # The organization itself is out of reach of a space token: it reads as absent.
    assert (await server.ok(TREE, {"m": org.mrn}, token=space_token))["organization"] is None
    q = "query($m: String!) { space(mrn: $m) { mrn } }"
    assert (await server.ok(q, {"m": a}, token=space_token))["space"] == {"mrn": a}
    assert (await server.ok(q, {"m": b}, token=space_token))["space"] is None
