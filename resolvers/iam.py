"""Role bindings and API tokens."""

from __future__ import annotations

from app import bindings, tokens
from resolvers.context import Info
from resolvers.inputs import DeleteAPITokenInput, GenerateAPITokenInput, SetRolesInput
from resolvers.types import APIToken, EffectiveRoles, GetRolesPayload, SetRolesPayload


async def set_roles(info: Info, input: SetRolesInput) -> SetRolesPayload:
    updates = None
    if input.updates is not None:
        updates = [bindings.RoleUpdate(u.entity_mrn, [r.mrn for r in u.roles]) for u in input.updates]
    result = await bindings.set_roles(
        info.context.db, await info.context.principal(), scope_mrn=input.scope_mrn,
        space_mrn=input.space_mrn, identity=input.identity, roles=input.roles, updates=updates,
    )
    return SetRolesPayload(mrns=result.mrns, identity_mrn=result.mrns[0] if result.mrns else None)


async def get_roles(info: Info, identity: str, scope_mrn: str) -> GetRolesPayload:
    r = await bindings.get_roles(info.context.db, await info.context.principal(),
                                 identity=identity, scope_mrn=scope_mrn)
    return GetRolesPayload.of(r)


async def effective_roles(info: Info, identity: str, scope_mrn: str) -> EffectiveRoles:
    r = await bindings.effective_roles(info.context.db, await info.context.principal(),
                                       identity=identity, scope_mrn=scope_mrn)
    return EffectiveRoles.of(r)


async def generate_api_token(info: Info, input: GenerateAPITokenInput) -> APIToken:
    issued = await tokens.generate_api_token(
        info.context.db, await info.context.principal(), name=input.name,
        scope_mrn=input.scope_mrn, space_mrn=input.space_mrn, description=input.description,
        roles=[r.mrn for r in input.roles] if input.roles is not None else None,
    )
    return APIToken.of(issued)


async def delete_api_token(info: Info, input: DeleteAPITokenInput) -> bool:
    return await tokens.delete_api_token(info.context.db, await info.context.principal(),
                                         mrn=input.mrn)
