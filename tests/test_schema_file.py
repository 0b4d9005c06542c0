"""schema.graphql is exported from the code; this fails when the checked-in file is stale."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _exporter():
    spec = importlib.util.spec_from_file_location("export_schema", ROOT / "scripts/export_schema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schema_graphql_matches_the_code() -> None:
    rendered = _exporter().render()
    on_disk = (ROOT / "schema.graphql").read_text()
    assert on_disk == rendered, "schema.graphql is stale: run scripts/export_schema.py"


def test_schema_has_every_operation_of_the_mondoo_surface() -> None:
    text = (ROOT / "schema.graphql").read_text()
    for op in (
        "createTeam(input: CreateTeamInput!): Team!",
        "updateTeam(input: UpdateTeamInput!): Team!",
        "deleteTeam(mrn: String!): Boolean!",
        "setRoles(input: SetRolesInput!): SetRolesPayload!",
        "addTeamExternalGroupMapping(input: AddTeamExternalGroupMappingInput!): "
        "TeamExternalGroupMapping!",
        "removeTeamExternalGroupMapping(mrn: String!): Boolean!",
        "addTeamMember(input: AddTeamMemberInput!): AddTeamMemberPayload!",
        "removeTeamMember(input: RemoveTeamMemberInput!): RemoveTeamMemberPayload!",
        "generateAPIToken(input: GenerateAPITokenInput!): APIToken!",
        "deleteAPIToken(input: DeleteAPITokenInput!): Boolean!",
        "team(mrn: String!): Team",
        "teamExternalGroupMapping(mrn: String!): TeamExternalGroupMapping",
        "teamMember(teamMrn: String!, identity: String!): TeamMember",
        "getRoles(identity: String!, scopeMrn: String!): GetRolesPayload!",
    ):
        assert op in text, op
    assert "identity_mrn: String" in text
