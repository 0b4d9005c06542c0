"""GraphQL input types, named exactly as Mondoo's clients declare them."""

from __future__ import annotations

import strawberry


@strawberry.input
class CreateTeamInput:
    name: str
    scope_mrn: str
    id: str | None = strawberry.field(
        default=None,
        description="4-64 characters: lowercase letters, digits, dashes, underscores; "
        "no leading dash. Generated when absent.",
    )
    description: str | None = None
    email: str | None = None
    roles: list[str] | None = strawberry.field(
        default=None, description="Roles to grant the team on scopeMrn in the same transaction."
    )


@strawberry.input
class UpdateTeamInput:
    mrn: str
    name: str
    description: str
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Left as it is when not sent; null clears it.")


@strawberry.input
class RoleInput:
    mrn: str


@strawberry.input
class SetRoleInput:
    entity_mrn: str
    roles: list[RoleInput] = strawberry.field(description="Empty: remove the binding.")


@strawberry.input
class SetRolesInput:
    scope_mrn: str | None = None
    identity: str | None = strawberry.field(
        default=None, description="One identity (MRN or a user's email); use with roles."
    )
    roles: list[str] | None = strawberry.field(
        default=None, description="The complete list of the identity's roles on scopeMrn."
    )
    updates: list[SetRoleInput] | None = None
    space_mrn: str | None = strawberry.field(
        default=None, deprecation_reason="Use scopeMrn."
    )


@strawberry.input
class AddTeamExternalGroupMappingInput:
    team_mrn: str
    external_id: str
    claim: str | None = strawberry.field(
        default=None,
        description="The claim the value must appear in; default: the provider's groups claim.",
    )


@strawberry.input
class AddTeamMemberInput:
    team_mrn: str
    identity: str | None = None
    member_mrn: str | None = None
    email: str | None = None


@strawberry.input
class RemoveTeamMemberInput:
    team_mrn: str
    identity: str | None = None
    member_mrn: str | None = None
    email: str | None = None


@strawberry.input
class GenerateAPITokenInput:
    name: str
    scope_mrn: str | None = None
    description: str | None = None
    roles: list[RoleInput] | None = strawberry.field(
        default=None, description="Defaults to viewer. Only roles the caller holds."
    )
    space_mrn: str | None = strawberry.field(default=None, deprecation_reason="Use scopeMrn.")


@strawberry.input
class DeleteAPITokenInput:
    mrn: str


@strawberry.input
class CreateOrganizationInput:
    name: str
    id: str | None = None
    description: str | None = None


@strawberry.input
class CreateSpaceInput:
    name: str
    org_mrn: str
    id: str | None = None
    description: str | None = None


@strawberry.input
class CreateWorkspaceInput:
    name: str
    owner_mrn: str = strawberry.field(description="The space the workspace belongs to.")
    id: str | None = None
    description: str | None = None
