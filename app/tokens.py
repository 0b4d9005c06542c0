"""API tokens: generate (secret shown once) and delete."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import Access, access_for, chain_of, load_scope
from app.audit import record
from app.authz import Action, Grant
from app.bindings import catalogue_order
from app.db import Database, add_unique
from app.errors import InvalidArgument, NotFound
from app.mrn import ScopeKind, api_token_mrn, is_api_token_mrn, parse_scope
from app.principals import Principal
from app.roles import parse_roles
from app.secrets import hash_secret, new_id, new_secret
from app.validation import check_description, check_name
from models import APIToken, RoleBinding, Scope

DEFAULT_ROLES = ["viewer"]


@dataclass(frozen=True)
class IssuedToken:
    token: APIToken
    roles: list[str]
    secret: str


async def issue_token_unchecked(
    session: AsyncSession, *, scope: Scope, name: str, roles: list[str],
    description: str | None = None, created_by: str | None = None,
) -> IssuedToken:
    """Write a token and its bindings. Callers authorize first (bootstrap is an operator act)."""
    secret = new_secret()
    token = APIToken(
        mrn=api_token_mrn(scope.mrn, new_id(8)), id="", name=check_name(name),
        description=check_description(description), scope_mrn=scope.mrn,
        secret_hash=hash_secret(secret), created_by=created_by,
    )
    token.id = token.mrn.rsplit("/", 1)[1]
    await add_unique(session, token, "a token with this id already exists; try again")
    for role in catalogue_order(roles):
        session.add(RoleBinding(scope_mrn=scope.mrn, identity_mrn=token.mrn, role=role))
    await session.flush()
    record(session, actor=created_by or "cli", action="api_token.created", org_mrn=scope.org_mrn,
           subject_mrn=token.mrn, target_mrn=scope.mrn,
           details={"name": token.name, "roles": catalogue_order(roles)})
    return IssuedToken(token, catalogue_order(roles), secret)


async def generate_api_token(
    db: Database, principal: Principal, *, name: str, scope_mrn: str | None,
    space_mrn: str | None = None, description: str | None = None, roles: list[str] | None = None,
) -> IssuedToken:
    if scope_mrn and space_mrn and scope_mrn != space_mrn:
        raise InvalidArgument("scopeMrn and spaceMrn (its deprecated alias) disagree",
                              field="scopeMrn")
    if not (scope_mrn or space_mrn):
        raise InvalidArgument("scopeMrn is required: the organization or space the token "
                              "belongs to", field="scopeMrn")
    ref = parse_scope(scope_mrn or space_mrn)
    if ref.kind is ScopeKind.WORKSPACE:
        raise InvalidArgument("an API token belongs to an organization or a space, "
                              "not a workspace", field="scopeMrn")
    name = check_name(name)
    role_names = parse_roles(roles) if roles else list(DEFAULT_ROLES)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        scope = await load_scope(session, ref.mrn)
        access.require(Action.MANAGE_API_TOKENS, scope, f"scope {ref.mrn} not found")
        access.require_grantable(
            [Grant(r, chain_of(scope)) for r in role_names], "this API token"
        )
        return await issue_token_unchecked(
            session, scope=scope, name=name, roles=role_names, description=description,
            created_by=principal.mrn,
        )


async def delete_api_token(db: Database, principal: Principal, *, mrn: str) -> bool:
    mrn = (mrn or "").strip()
    if not is_api_token_mrn(mrn):
        raise InvalidArgument(
            f"malformed mrn {mrn!r}: expected //captain.api.mondoo.app/organizations/ORG-ID/"
            "apitokens/TOKEN-ID (or .../spaces/SPACE-ID/apitokens/TOKEN-ID)", field="mrn",
        )
    async with db.transaction() as session:
        access: Access = await access_for(session, principal)
        token = await session.get(APIToken, mrn)
        scope = await load_scope(session, token.scope_mrn) if token else None
        access.require(Action.MANAGE_API_TOKENS, scope, f"API token {mrn} not found")
        if token is None:  # pragma: no cover - require() raised already
            raise NotFound(f"API token {mrn} not found")
        record(session, actor=principal.mrn, action="api_token.deleted", org_mrn=scope.org_mrn,
               subject_mrn=token.mrn, target_mrn=scope.mrn, details={"name": token.name})
        await session.execute(delete(RoleBinding).where(RoleBinding.identity_mrn == token.mrn))
        await session.delete(token)
        return True
