"""Organizations, spaces and workspaces."""

from __future__ import annotations

from app import scopes
from app.mrn import ScopeKind
from resolvers.context import Info
from resolvers.inputs import CreateOrganizationInput, CreateSpaceInput, CreateWorkspaceInput
from resolvers.types import Organization, Space, Workspace


async def create_organization(info: Info, input: CreateOrganizationInput) -> Organization:
    row = await scopes.create_organization(info.context.db, await info.context.principal(),
                                           name=input.name, id=input.id,
                                           description=input.description)
    return Organization.of(row)


async def create_space(info: Info, input: CreateSpaceInput) -> Space:
    row = await scopes.create_space(info.context.db, await info.context.principal(),
                                    name=input.name, id=input.id, description=input.description,
                                    org_mrn_=input.org_mrn)
    return Space.of(row)


async def create_workspace(info: Info, input: CreateWorkspaceInput) -> Workspace:
    row = await scopes.create_workspace(info.context.db, await info.context.principal(),
                                        name=input.name, id=input.id,
                                        description=input.description, owner_mrn=input.owner_mrn)
    return Workspace.of(row)


async def organization(info: Info, mrn: str) -> Organization | None:
    row = await scopes.get_scope(info.context.db, await info.context.principal(), mrn,
                                 ScopeKind.ORGANIZATION)
    return Organization.of(row) if row else None


async def space(info: Info, mrn: str) -> Space | None:
    row = await scopes.get_scope(info.context.db, await info.context.principal(), mrn,
                                 ScopeKind.SPACE)
    return Space.of(row) if row else None


async def workspace(info: Info, mrn: str) -> Workspace | None:
    row = await scopes.get_scope(info.context.db, await info.context.principal(), mrn,
                                 ScopeKind.WORKSPACE)
    return Workspace.of(row) if row else None
