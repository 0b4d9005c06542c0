from tests.integration.harness import Org, Server


async def test_create_team_and_read_it_back(server: Server, org: Org) -> None:
    data = await server.ok(
        "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn name scopeMrn } }",
        {"input": {"id": "smoke-team", "name": "Smoke", "scopeMrn": org.mrn}}, token=org.token,
    )
    assert data["createTeam"]["mrn"] == f"{org.mrn}/teams/smoke-team"
    got = await server.ok('query($m: String!) { team(mrn: $m) { name scopeMrn } }',
                          {"m": f"{org.mrn}/teams/smoke-team"}, token=org.token)
    assert got["team"] == {"name": "Smoke", "scopeMrn": org.mrn}
