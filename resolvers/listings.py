"""Lists that grow: Relay-style connections (edges, nodes, pageInfo) with search."""

from __future__ import annotations

import json
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from app import audit_trail, mappings, teams, users
from app.clock import rfc3339
from app.pagination import encode_cursor
from resolvers.context import Info
from resolvers.types import Team, TeamExternalGroupMapping


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type
class TeamExternalGroupMappingEdge:
    cursor: str
    node: TeamExternalGroupMapping


@strawberry.type
class TeamExternalGroupMappingConnection:
    edges: list[TeamExternalGroupMappingEdge]
    nodes: list[TeamExternalGroupMapping]
    page_info: PageInfo


@strawberry.type
class TeamEdge:
    cursor: str
    node: Team


@strawberry.type
class TeamConnection:
    edges: list[TeamEdge]
    nodes: list[Team]
    page_info: PageInfo


@strawberry.type
class UserListItem:
    mrn: str
    email: str | None
    name: str | None
    created_at: str
    last_sign_in_at: str | None
    team_count: int = strawberry.field(description="Teams of the scope the user is in.")
    sso_team_count: int = strawberry.field(
        description="Of those, teams the user is in through a mapping (runZero's number in "
        "parentheses).")


@strawberry.type
class UserEdge:
    cursor: str
    node: UserListItem


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    nodes: list[UserListItem]
    page_info: PageInfo


@strawberry.type
class AuditEvent:
    id: str
    at: str
    actor: str = strawberry.field(
        description="An API token or user MRN, `login-hook` (sign-in sync) or `cli:bootstrap`.")
    action: str
    org_mrn: str | None
    subject_mrn: str | None
    target_mrn: str | None
    mapping_mrn: str | None
    claim: str | None
    value: str | None
    details: JSON | None = strawberry.field(description="Before/after or cause.")


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    nodes: list[AuditEvent]
    page_info: PageInfo


@strawberry.input
class AuditEventFilter:
    actions: list[str] | None = None
    actor: str | None = None
    subject_mrn: str | None = None
    target_mrn: str | None = None
    since: str | None = strawberry.field(default=None, description="RFC 3339, inclusive.")
    until: str | None = strawberry.field(default=None, description="RFC 3339, exclusive.")


QUERY_HELP = ("runZero-style search: `key:value` terms and free text, all of which must match; "
              "quote values with spaces; times as dates, RFC 3339 or ages such as `>2weeks`.")


async def team_external_group_mappings(
    info: Info, team_mrn: str | None = None, scope_mrn: str | None = None,
    query: Annotated[str | None, strawberry.argument(description=QUERY_HELP)] = None,
    first: int | None = None, after: str | None = None,
) -> TeamExternalGroupMappingConnection:
    found = await mappings.search_mappings(
        info.context.db, await info.context.principal(), team_mrn=team_mrn, scope_mrn=scope_mrn,
        query=query, first=first, after=after)
    edges = [TeamExternalGroupMappingEdge(
        cursor=encode_cursor((m.created_at, m.mrn)), node=TeamExternalGroupMapping.of(m, t))
        for m, t in found.items]
    return TeamExternalGroupMappingConnection(
        edges=edges, nodes=[e.node for e in edges],
        page_info=PageInfo(has_next_page=found.has_next_page, end_cursor=found.end_cursor))


async def users_in_scope(
    info: Info, scope_mrn: str,
    query: Annotated[str | None, strawberry.argument(description=QUERY_HELP)] = None,
    first: int | None = None, after: str | None = None,
) -> UserConnection:
    found = await users.search_users(info.context.db, await info.context.principal(),
                                     scope_mrn=scope_mrn, query=query, first=first, after=after)
    edges = [UserEdge(cursor=encode_cursor((r.user.created_at, r.user.mrn)), node=UserListItem(
        mrn=r.user.mrn, email=r.user.email or None, name=r.user.name,
        created_at=rfc3339(r.user.created_at),
        last_sign_in_at=rfc3339(r.last_sign_in_at) if r.last_sign_in_at else None,
        team_count=r.team_count, sso_team_count=r.sso_team_count)) for r in found.items]
    return UserConnection(edges=edges, nodes=[e.node for e in edges], page_info=PageInfo(
        has_next_page=found.has_next_page, end_cursor=found.end_cursor))


async def audit_events(
    info: Info, scope_mrn: str, filter: AuditEventFilter | None = None,
    first: int | None = None, after: str | None = None,
) -> AuditEventConnection:
    f = audit_trail.AuditFilter(
        actions=filter.actions, actor=filter.actor, subject_mrn=filter.subject_mrn,
        target_mrn=filter.target_mrn, since=filter.since, until=filter.until,
    ) if filter else None
    found = await audit_trail.list_events(info.context.db, await info.context.principal(),
                                          scope_mrn=scope_mrn, filter=f, first=first, after=after)
    edges = [AuditEventEdge(cursor=encode_cursor((e.id,)), node=AuditEvent(
        id=str(e.id), at=rfc3339(e.at), actor=e.actor, action=e.action, org_mrn=e.org_mrn,
        subject_mrn=e.subject_mrn, target_mrn=e.target_mrn, mapping_mrn=e.mapping_mrn,
        claim=e.claim, value=e.value, details=json.loads(e.details) if e.details else None,
    )) for e in found.items]
    return AuditEventConnection(edges=edges, nodes=[e.node for e in edges], page_info=PageInfo(
        has_next_page=found.has_next_page, end_cursor=found.end_cursor))


async def teams_in_scope(info: Info, scope_mrn: str, first: int | None = None,
                         after: str | None = None) -> TeamConnection:
    found = await teams.list_teams(info.context.db, await info.context.principal(), scope_mrn,
                                   first=first, after=after)
    edges = [TeamEdge(cursor=encode_cursor((t.mrn,)), node=Team.of(t)) for t in found.items]
    return TeamConnection(edges=edges, nodes=[e.node for e in edges], page_info=PageInfo(
        has_next_page=found.has_next_page, end_cursor=found.end_cursor))
