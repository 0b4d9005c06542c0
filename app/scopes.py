"""Organizations, spaces and workspaces: create and read."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.access import access_for, load_scope
from app.audit import record
from app.authz import Action
from app.db import Database, add_unique
from app.errors import AlreadyExists, Forbidden, InvalidArgument, NotFound
from app.mrn import (
    PLATFORM_MRN,
    ScopeKind,
    check_id,
    org_mrn,
    parse_scope,
    space_mrn,
    workspace_mrn,
)
from app.principals import Principal
from app.secrets import new_id
from app.validation import check_description, check_name
from models import RoleBinding, Scope


async def _insert_scope(session: AsyncSession, scope: Scope, *, actor: str) -> Scope:
    if await session.get(Scope, scope.mrn) is not None:
        raise AlreadyExists(f"{scope.kind} {scope.mrn} already exists")
    await add_unique(session, scope, f"{scope.kind} {scope.mrn} already exists")
    record(session, actor=actor, action=f"{scope.kind}.created", org_mrn=scope.org_mrn,
           target_mrn=scope.mrn, details={"name": scope.name})
    return scope


async def create_organization_unchecked(
    session: AsyncSession, *, org_id: str, name: str, description: str | None = None,
    actor: str = "cli:bootstrap",
) -> Scope:
    """Insert an organization. Authorization is the caller's job (bootstrap is an operator act)."""
    mrn = org_mrn(check_id(org_id, "organization id"))
    return await _insert_scope(
        session,
        Scope(mrn=mrn, kind=ScopeKind.ORGANIZATION.value, id=org_id, name=check_name(name),
              description=check_description(description), org_mrn=mrn),
        actor=actor,
    )


async def create_organization(
    db: Database, principal: Principal, *, name: str, id: str | None, description: str | None
) -> Scope:
    org_id = check_id(id, "organization id") if id else new_id()
    name = check_name(name)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        try:
            access.require(Action.CREATE_ORGANIZATION, await load_scope(session, PLATFORM_MRN),
                           "")
        except NotFound:
            raise Forbidden(
                "creating organizations needs the 'platform-admin' role "
                "(an operator makes such a token with `teamclaims bootstrap --platform-admin`)"
            ) from None
        org = await create_organization_unchecked(
            session, org_id=org_id, name=name, description=description, actor=principal.mrn
        )
        # Whoever creates an organization owns it, or nobody could manage it.
        session.add(RoleBinding(scope_mrn=org.mrn, identity_mrn=principal.mrn, role="owner"))
        return org


async def create_space(
    db: Database, principal: Principal, *, name: str, id: str | None, description: str | None,
    org_mrn_: str,
) -> Scope:
    parent_ref = parse_scope(org_mrn_, field="orgMrn")
    if parent_ref.kind is not ScopeKind.ORGANIZATION:
        raise InvalidArgument(
            f"orgMrn {org_mrn_!r} must be an organization MRN "
            "(//captain.api.mondoo.app/organizations/ORG-ID)", field="orgMrn",
        )
    space_id = check_id(id, "space id") if id else new_id()
    name = check_name(name)
    description = check_description(description)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        org = await load_scope(session, parent_ref.mrn)
        access.require(Action.CREATE_SPACE, org, f"organization {parent_ref.mrn} not found")
        mrn = space_mrn(space_id)
        return await _insert_scope(
            session,
            Scope(mrn=mrn, kind=ScopeKind.SPACE.value, id=space_id, name=name,
                  description=description, parent_mrn=org.mrn, org_mrn=org.mrn, space_mrn=mrn),
            actor=principal.mrn,
        )


async def create_workspace(
    db: Database, principal: Principal, *, name: str, id: str | None, description: str | None,
    owner_mrn: str,
) -> Scope:
    parent_ref = parse_scope(owner_mrn, field="ownerMrn")
    if parent_ref.kind is not ScopeKind.SPACE:
        raise InvalidArgument(
            f"ownerMrn {owner_mrn!r} must be a space MRN (//captain.api.mondoo.app/spaces/SPACE-ID)",
            field="ownerMrn",
        )
    ws_id = check_id(id, "workspace id") if id else new_id()
    name = check_name(name)
    description = check_description(description)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        space = await load_scope(session, parent_ref.mrn)
        access.require(Action.CREATE_WORKSPACE, space, f"space {parent_ref.mrn} not found")
        return await _insert_scope(
            session,
            Scope(mrn=workspace_mrn(space.id, ws_id), kind=ScopeKind.WORKSPACE.value, id=ws_id,
                  name=name, description=description, parent_mrn=space.mrn,
                  org_mrn=space.org_mrn, space_mrn=space.mrn),
            actor=principal.mrn,
        )


async def get_scope(db: Database, principal: Principal, mrn: str, kind: ScopeKind) -> Scope | None:
    """A scope the caller can read, or None (whether missing or out of reach)."""
    ref = parse_scope(mrn, field="mrn")
    if ref.kind is not kind:
        raise InvalidArgument(f"{mrn!r} is a {ref.kind.value} MRN, not a {kind.value} MRN",
                              field="mrn")
    async with db.read() as session:
        access = await access_for(session, principal)
        scope = await load_scope(session, ref.mrn)
        return scope if access.can_read(scope) else None


async def list_children(db: Database, principal: Principal, parent_mrn: str) -> list[Scope]:
    """Spaces of an organization, or workspaces of a space, that the caller can read."""
    async with db.read() as session:
        access = await access_for(session, principal)
        rows = (
            await session.execute(
                select(Scope).where(Scope.parent_mrn == parent_mrn).order_by(Scope.id)
            )
        ).scalars().all()
        return [s for s in rows if access.can_read(s)]
