"""The schema: Query and Mutation assembled from the resolver modules."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext

from app.errors import AppError
from app.settings import get_settings
from resolvers import explain as explain_r
from resolvers import iam as iam_r
from resolvers import limits
from resolvers import listings as listings_r
from resolvers import login as login_r
from resolvers import mappings as mappings_r
from resolvers import scopes as scopes_r
from resolvers import teams as teams_r
from resolvers.errors import ErrorCodes
from resolvers.types import (
    AddTeamMemberPayload,
    APIToken,
    EffectiveRoles,
    GetRolesPayload,
    Organization,
    RemoveTeamMemberPayload,
    SetRolesPayload,
    Space,
    Team,
    TeamExternalGroupMapping,
    TeamMember,
    Workspace,
)


@strawberry.type
class Query:
    team: Team | None = strawberry.field(resolver=teams_r.team,
                                         description="Null when no such team is visible.")
    teams: listings_r.TeamConnection = strawberry.field(
        resolver=listings_r.teams_in_scope,
        description="Teams that live in an organization or space, a page at a time.")
    team_member: TeamMember | None = strawberry.field(resolver=teams_r.team_member,
                                                      description="Null when not a member.")
    team_external_group_mapping: TeamExternalGroupMapping | None = strawberry.field(
        resolver=mappings_r.mapping)
    team_external_group_mappings: listings_r.TeamExternalGroupMappingConnection = (
        strawberry.field(resolver=listings_r.team_external_group_mappings,
                         description="Mappings of a team (teamMrn) or of every team in an "
                         "organization or space (scopeMrn), searchable."))
    users: listings_r.UserConnection = strawberry.field(
        resolver=listings_r.users_in_scope,
        description="Users of an organization or space, with their team counts, searchable.")
    audit_events: listings_r.AuditEventConnection = strawberry.field(
        resolver=listings_r.audit_events, description="The audit trail, newest first.")
    get_roles: GetRolesPayload = strawberry.field(
        resolver=iam_r.get_roles, description="Roles bound to the identity on exactly this scope.")
    effective_roles: EffectiveRoles = strawberry.field(
        resolver=iam_r.effective_roles,
        description="Roles in force on a scope: bound there or above, directly or through teams.")
    organization: Organization | None = strawberry.field(resolver=scopes_r.organization)
    space: Space | None = strawberry.field(resolver=scopes_r.space)
    workspace: Workspace | None = strawberry.field(resolver=scopes_r.workspace)
    oidc_provider: login_r.OidcProvider | None = strawberry.field(resolver=login_r.oidc_provider)
    viewer: login_r.Viewer | None = strawberry.field(
        resolver=login_r.viewer, description="The signed-in user; null for an API token.")
    explain_access: explain_r.AccessExplanation = strawberry.field(
        resolver=explain_r.explain_access,
        description="Dry run of a sign-in for a claims object or a real ID token: writes nothing.")
    preview_mapping_change: explain_r.MappingChangePreview = strawberry.field(
        resolver=explain_r.preview_mapping_change,
        description="Who would gain or lose a team, judged by each user's last sign-in.")
    access_summary: login_r.AccessSummary = strawberry.field(
        resolver=login_r.access_summary,
        description="Per scope: the user's roles, where each comes from, and the one in force.")


@strawberry.type
class Mutation:
    create_team: Team = strawberry.mutation(resolver=teams_r.create_team)
    update_team: Team = strawberry.mutation(resolver=teams_r.update_team)
    delete_team: bool = strawberry.mutation(resolver=teams_r.delete_team)
    set_roles: SetRolesPayload = strawberry.mutation(resolver=iam_r.set_roles)
    add_team_external_group_mapping: TeamExternalGroupMapping = strawberry.mutation(
        resolver=mappings_r.add_mapping)
    remove_team_external_group_mapping: bool = strawberry.mutation(resolver=mappings_r.remove_mapping)
    add_team_member: AddTeamMemberPayload = strawberry.mutation(resolver=teams_r.add_team_member)
    remove_team_member: RemoveTeamMemberPayload = strawberry.mutation(
        resolver=teams_r.remove_team_member)
    generate_api_token: APIToken = strawberry.mutation(resolver=iam_r.generate_api_token,
                                                       name="generateAPIToken")
    delete_api_token: bool = strawberry.mutation(resolver=iam_r.delete_api_token,
                                                 name="deleteAPIToken")
    create_organization: Organization = strawberry.mutation(resolver=scopes_r.create_organization)
    create_space: Space = strawberry.mutation(resolver=scopes_r.create_space)
    create_workspace: Workspace = strawberry.mutation(resolver=scopes_r.create_workspace)
    set_oidc_provider: login_r.OidcProvider = strawberry.mutation(
        resolver=login_r.set_oidc_provider)
    remove_oidc_provider: bool = strawberry.mutation(resolver=login_r.remove_oidc_provider)
    force_logout: int = strawberry.mutation(
        resolver=login_r.force_logout,
        description="End all of the user's sessions now; returns how many were ended.")


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        # Errors meant for the caller are not server faults; ErrorCodes logs the rest.
        return None


schema = Schema(
    query=Query,
    mutation=Mutation,
    extensions=[
        ErrorCodes, *limits.extensions(get_settings()),
        lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256),
    ],
)

__all__ = ["schema", "AppError"]
