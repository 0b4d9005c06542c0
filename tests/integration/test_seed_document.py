"""The seed document's curl examples work verbatim against the server.

The bodies are extracted from the document itself (not copied here), so this test follows the
document: every ``curl ... -d '...'`` is POSTed as raw JSON text with the headers its curl
sends, after filling in YOUR-ORG-ID and YOUR-SPACE-ID. Then the stored state is read back.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text

from tests.integration.harness import Org, Server

SEED = Path("/work/shared/spec/000_e4aaa0378bdeef42.txt")
ROLE_PREFIX = "//iam.api.mondoo.app/roles/"
TEAM_MRN_RE = re.compile(
    r"//captain\.api\.mondoo\.app/(?:organizations|spaces)/[^/\"\s]+/teams/[^/\"\s]+"
)
#: One curl command: everything from ``curl`` up to the end of its ``-d '...'`` body.
CURL_RE = re.compile(r"curl\s(?P<args>(?:(?!\bcurl\s).)*?)\s-d\s+'(?P<body>[^']*)'", re.S)
HEADER_RE = re.compile(r'-H\s+"(?P<name>[^":]+):\s*(?P<value>[^"]*)"')
URL_RE = re.compile(r"https?://\S+")
#: Four examples in the guide: createTeam, setRoles on the org, on a space, and a mapping.
EXPECTED_BODIES = 4


@dataclass
class CurlExample:
    url: str
    headers: dict[str, str]
    body: str  # the raw -d text, placeholders not yet filled


def extract_examples(doc: str) -> list[CurlExample]:
    out = []
    for m in CURL_RE.finditer(doc):
        urls = URL_RE.findall(m.group("args"))
        assert len(urls) == 1, f"expected one URL in curl {m.group('args')!r}"
        headers = {h.group("name"): h.group("value") for h in HEADER_RE.finditer(m.group("args"))}
        out.append(CurlExample(urls[0], headers, m.group("body")))
    return out


def operation_of(query: str) -> tuple[str, list[str]]:
    """The root field of a one-field mutation document and the fields it selects."""
    m = re.search(r"\{\s*(\w+)\s*\([^)]*\)\s*\{([^{}]*)\}\s*\}\s*$", query)
    assert m, f"cannot read the operation of {query!r}"
    return m.group(1), m.group(2).split()


def full_role(role: str) -> str:
    return role if role.startswith("//") else ROLE_PREFIX + role


def test_the_document_has_the_examples() -> None:
    examples = extract_examples(SEED.read_text())
    assert len(examples) == EXPECTED_BODIES
    # Every curl in the document has a body that was found.
    assert SEED.read_text().count("curl -X POST") == EXPECTED_BODIES
    ops = [operation_of(json.loads(e.body)["query"])[0] for e in examples]
    assert ops == ["createTeam", "setRoles", "setRoles", "addTeamExternalGroupMapping"]
    for e in examples:
        assert e.headers["Content-Type"] == "application/json"
        assert e.headers["Authorization"] == "Bearer $MONDOO_API_TOKEN"
        assert urlsplit(e.url).path == "/query"


async def test_seed_document_curl_bodies_work_verbatim(server: Server, org: Org) -> None:
    doc = SEED.read_text()
    examples = extract_examples(doc)
    assert len(examples) == EXPECTED_BODIES, [e.body[:80] for e in examples]

    # The space the space-scoped example grants access to.
    space_id = f"space-{secrets.token_hex(4)}"
    space = await server.ok(
        "mutation($i: CreateSpaceInput!) { createSpace(input: $i) { mrn } }",
        {"i": {"name": "Infrastructure", "id": space_id, "orgMrn": org.mrn}}, token=org.token,
    )
    space_mrn = space["createSpace"]["mrn"]
    assert space_mrn == f"//captain.api.mondoo.app/spaces/{space_id}"

    def fill(raw: str) -> str:
        return raw.replace("YOUR-ORG-ID", org.id).replace("YOUR-SPACE-ID", space_id)

    bodies = [fill(e.body) for e in examples]
    for b in bodies:
        assert "YOUR-" not in b, b
    assert any(space_mrn in b for b in bodies), "no example uses YOUR-SPACE-ID"
    parsed = [json.loads(b) for b in bodies]

    # Teams the examples create, and teams they only refer to (created here first).
    created: dict[str, dict] = {}  # team MRN -> createTeam input
    for p in parsed:
        if operation_of(p["query"])[0] == "createTeam":
            inp = p["variables"]["input"]
            created[f"{inp['scopeMrn']}/teams/{inp['id']}"] = inp
    referenced = {m for b in bodies for m in TEAM_MRN_RE.findall(b)}
    assert referenced - set(created), "expected a team the document never creates (space-editors)"
    precreated: dict[str, dict] = {}
    for mrn in sorted(referenced - set(created)):
        scope_mrn, team_id = mrn.rsplit("/teams/", 1)
        name = team_id.replace("-", " ").title()
        data = await server.ok(
            "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn name scopeMrn } }",
            {"input": {"id": team_id, "name": name, "scopeMrn": scope_mrn}}, token=org.token,
        )
        assert data["createTeam"] == {"mrn": mrn, "name": name, "scopeMrn": scope_mrn}
        precreated[mrn] = {"id": team_id, "name": name, "scopeMrn": scope_mrn}

    # POST every body verbatim, in document order, with the curl's headers.
    bindings: dict[tuple[str, str], list[str]] = {}  # (identity, scope) -> role MRNs
    mappings: dict[str, str] = {}  # mapping MRN -> external id
    mapping_teams: dict[str, str] = {}  # mapping MRN -> team MRN
    for example, body, p in zip(examples, bodies, parsed, strict=True):
        headers = {k: v.replace("$MONDOO_API_TOKEN", org.token) for k, v in example.headers.items()}
        url = server.base_url + urlsplit(example.url).path
        resp = await server.client.post(url, content=body.encode(), headers=headers)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert not answer.get("errors"), f"{body}\n-> {answer}"
        op, selected = operation_of(p["query"])
        got = answer["data"][op]
        assert sorted(got) == sorted(selected), (got, selected)
        inp = p["variables"]["input"]
        if op == "createTeam":
            want = {"mrn": f"{inp['scopeMrn']}/teams/{inp['id']}", "name": inp["name"],
                    "scopeMrn": inp["scopeMrn"], "id": inp["id"]}
            assert got == {k: want[k] for k in selected}
        elif op == "setRoles":
            want = {"identity_mrn": inp["identity"], "mrns": [inp["identity"]]}
            assert got == {k: want[k] for k in selected}
            bindings[(inp["identity"], inp["scopeMrn"])] = [full_role(r) for r in inp["roles"]]
        elif op == "addTeamExternalGroupMapping":
            assert got["externalId"] == inp["externalId"]
            assert got["mrn"].startswith(inp["teamMrn"] + "/"), got
            mappings[got["mrn"]] = inp["externalId"]
            mapping_teams[got["mrn"]] = inp["teamMrn"]
        else:  # pragma: no cover - the document gained an operation this test does not know
            raise AssertionError(f"unexpected operation {op}")
    assert bindings and mappings and created

    # Teams: each exists with its name and scope, through the API and in the table.
    all_teams = {**created, **precreated}
    for mrn, inp in all_teams.items():
        data = await server.ok("query($m: String!) { team(mrn: $m) { id mrn name scopeMrn } }",
                               {"m": mrn}, token=org.token)
        assert data["team"] == {"id": inp["id"], "mrn": mrn, "name": inp["name"],
                                "scopeMrn": inp["scopeMrn"]}
    async with server.db.transaction() as s:
        rows = (await s.execute(text("SELECT mrn, name, scope_mrn FROM team WHERE org_mrn = :o"),
                                {"o": org.mrn})).all()
    assert sorted(tuple(r) for r in rows) == sorted(
        (m, i["name"], i["scopeMrn"]) for m, i in all_teams.items()
    )

    # Roles: getRoles answers exactly the bound roles, as full MRNs, on exactly that scope.
    scopes = {org.mrn, space_mrn}
    identities = {identity for identity, _ in bindings}
    get_roles = ("query($i: String!, $s: String!) { getRoles(identity: $i, scopeMrn: $s) "
                 "{ identityMrn scopeMrn roles } }")
    for identity in identities:
        for scope in scopes:
            want = bindings.get((identity, scope), [])
            data = await server.ok(get_roles, {"i": identity, "s": scope}, token=org.token)
            assert data["getRoles"]["identityMrn"] == identity
            assert data["getRoles"]["scopeMrn"] == scope
            roles = data["getRoles"]["roles"]
            assert sorted(roles) == sorted(want) and len(roles) == len(want), (identity, scope)
            assert all(r.startswith(ROLE_PREFIX) for r in roles)
    async with server.db.transaction() as s:
        rows = (await s.execute(
            text("SELECT identity_mrn, scope_mrn, role FROM role_binding WHERE identity_mrn LIKE :p"),
            {"p": f"{org.mrn}/teams/%"},
        )).all()
    assert sorted(tuple(r) for r in rows) == sorted(
        (i, s, r.removeprefix(ROLE_PREFIX)) for (i, s), roles in bindings.items() for r in roles
    )

    # Mappings: listed on their team and readable by MRN.
    for team in set(mapping_teams.values()):
        data = await server.ok(
            "query($t: String!) { teamExternalGroupMappings(teamMrn: $t) "
            "{ nodes { mrn externalId team { mrn } } } }", {"t": team}, token=org.token,
        )
        want = sorted(({"mrn": m, "externalId": mappings[m], "team": {"mrn": team}}
                       for m, t in mapping_teams.items() if t == team), key=lambda d: d["mrn"])
        assert sorted(data["teamExternalGroupMappings"]["nodes"], key=lambda d: d["mrn"]) == want
    for mrn, external_id in mappings.items():
        data = await server.ok(
            "query($m: String!) { teamExternalGroupMapping(mrn: $m) "
            "{ mrn externalId team { mrn name } } }", {"m": mrn}, token=org.token,
        )
        team = mapping_teams[mrn]
        assert data["teamExternalGroupMapping"] == {
            "mrn": mrn, "externalId": external_id,
            "team": {"mrn": team, "name": all_teams[team]["name"]},
        }


async def test_create_team_example_scoped_to_a_space(server: Server, org: Org) -> None:
    """The guide: "To scope the team to a space instead, use .../spaces/YOUR-SPACE-ID"."""
    doc = SEED.read_text()
    assert "To scope the team to a space instead, use //captain.api.mondoo.app/spaces/YOUR-SPACE-ID" in doc
    body = next(e.body for e in extract_examples(doc)
                if operation_of(json.loads(e.body)["query"])[0] == "createTeam")
    space_id = f"space-{secrets.token_hex(4)}"
    await server.ok("mutation($i: CreateSpaceInput!) { createSpace(input: $i) { mrn } }",
                    {"i": {"name": "S", "id": space_id, "orgMrn": org.mrn}}, token=org.token)
    body = body.replace("//captain.api.mondoo.app/organizations/YOUR-ORG-ID",
                        "//captain.api.mondoo.app/spaces/YOUR-SPACE-ID")
    body = body.replace("YOUR-SPACE-ID", space_id)
    assert "YOUR-" not in body
    resp = await server.client.post(
        f"{server.base_url}/query", content=body.encode(),
        headers={"Authorization": f"Bearer {org.token}", "Content-Type": "application/json"},
    )
    answer = resp.json()
    assert not answer.get("errors"), answer
    inp = json.loads(body)["variables"]["input"]
    space_mrn = f"//captain.api.mondoo.app/spaces/{space_id}"
    assert answer["data"]["createTeam"] == {"mrn": f"{space_mrn}/teams/{inp['id']}",
                                            "name": inp["name"]}
    data = await server.ok("query($m: String!) { team(mrn: $m) { scopeMrn name } }",
                           {"m": f"{space_mrn}/teams/{inp['id']}"}, token=org.token)
    assert data["team"] == {"scopeMrn": space_mrn, "name": inp["name"]}
