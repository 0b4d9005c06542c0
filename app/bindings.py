"""Role bindings: setRoles, getRoles, effectiveRoles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import Access, access_for, chain_of, load_grants, load_scope
from app.audit import record
from app.authz import Action, Grant
from app.clock import now
from app.db import Database, advisory_lock, insert_or_ignore
from app.errors import InvalidArgument, NotFound
from app.identities import Identity, resolve_identity
from app.mrn import looks_like_mrn, parse_scope
from app.principals import Principal
from app.roles import CATALOGUE, parse_roles, sort_by_privilege
from models import RoleBinding, Scope, TeamMember


@dataclass(frozen=True)
class RoleUpdate:
    identity: str
    roles: list[str]  # as given: MRNs or short names


@dataclass(frozen=True)
class SetRolesResult:
    mrns: list[str]


@dataclass(frozen=True)
class RolesOnScope:
    identity_mrn: str
    identity_email: str | None
    scope_mrn: str
    roles: list[str]  # short names, catalogue order


@dataclass(frozen=True)
class RoleSource:
    role: str
    scope_mrn: str  # where the binding is
    via_mrn: str  # the identity bound: the identity itself or one of its teams
    inherited: bool  # bound on a scope above the one asked about


@dataclass(frozen=True)
class EffectiveRoles:
    identity_mrn: str
    scope_mrn: str
    roles: list[str]  # short names, most privileged first
    sources: list[RoleSource]


def catalogue_order(names) -> list[str]:
    order = list(CATALOGUE)
    return sorted(set(names), key=order.index)


_ROLES_OF = select(RoleBinding.role).where(
    RoleBinding.identity_mrn == bindparam("identity"), RoleBinding.scope_mrn == bindparam("scope"))


async def roles_of(session: AsyncSession, identity_mrn: str, scope_mrn: str) -> list[str]:
    rows = await session.execute(_ROLES_OF, {"identity": identity_mrn, "scope": scope_mrn})
    return catalogue_order(rows.scalars().all())


async def grants_of(session: AsyncSession, identity_mrn: str) -> list[Grant]:
    """Every binding of an identity, with the chain of its scope (for escalation checks)."""
    rows = (
        await session.execute(
            select(RoleBinding.role, Scope)
            .join(Scope, Scope.mrn == RoleBinding.scope_mrn)
            .where(RoleBinding.identity_mrn == identity_mrn)
        )
    ).all()
    return [Grant(role, chain_of(scope)) for role, scope in rows]


def check_binding_scope(identity: Identity, scope: Scope) -> None:
    """Teams and API tokens can only be given roles on their own scope or scopes below it."""
    if identity.home is not None and identity.home.mrn not in chain_of(scope):
        raise InvalidArgument(
            f"{identity.mrn} lives in {identity.home.mrn}; it can only be given roles on that "
            f"{identity.home.kind} or on scopes below it, not on {scope.mrn}",
            field="scopeMrn",
        )


async def replace_roles(
    session: AsyncSession, access: Access, identity: Identity, scope: Scope, roles: list[str]
) -> None:
    """Make ``roles`` (short names) the complete list of the identity's roles on the scope."""
    check_binding_scope(identity, scope)
    # Two setRoles on one identity and scope must not interleave (READ COMMITTED).
    await advisory_lock(session, f"roles\n{identity.mrn}\n{scope.mrn}")
    current_list = await roles_of(session, identity.mrn, scope.mrn)
    current = set(current_list)
    wanted = set(roles)
    added = wanted - current
    access.require_grantable(
        [Grant(r, chain_of(scope)) for r in catalogue_order(added)], f"giving {identity.mrn} roles"
    )
    if removed := current - wanted:
        await session.execute(
            delete(RoleBinding).where(
                RoleBinding.identity_mrn == identity.mrn,
                RoleBinding.scope_mrn == scope.mrn,
                RoleBinding.role.in_(removed),
            )
        )
    await insert_or_ignore(session, RoleBinding, [
        {"scope_mrn": scope.mrn, "identity_mrn": identity.mrn, "role": role, "created_at": now()}
        for role in catalogue_order(added)
    ])
    if current != wanted:
        record(session, actor=access.principal.mrn, action="role_binding.set",
               org_mrn=scope.org_mrn, subject_mrn=identity.mrn, target_mrn=scope.mrn,
               details={"before": current_list, "after": catalogue_order(wanted)})


def _scope_argument(scope_mrn: str | None, space_mrn: str | None) -> str:
    if scope_mrn and space_mrn and scope_mrn != space_mrn:
        raise InvalidArgument(
            "scopeMrn and spaceMrn (its deprecated alias) disagree: send only scopeMrn",
            field="scopeMrn",
        )
    value = scope_mrn or space_mrn
    if not value:
        raise InvalidArgument("scopeMrn is required", field="scopeMrn")
    return value


def normalise_updates(
    identity: str | None, roles: list[str] | None, updates: list[RoleUpdate] | None
) -> list[RoleUpdate]:
    """Accept both input shapes of setRoles: (identity, roles) or updates[]."""
    shorthand = identity is not None or roles is not None
    if shorthand and updates:
        raise InvalidArgument(
            "give either identity and roles, or updates, not both", field="updates"
        )
    if shorthand:
        if not identity:
            raise InvalidArgument("identity is required together with roles", field="identity")
        if roles is None:
            raise InvalidArgument(
                "roles is required together with identity (an empty list removes every role)",
                field="roles",
            )
        return [RoleUpdate(identity, list(roles))]
    if not updates:
        raise InvalidArgument(
            "nothing to set: give identity and roles, or a non-empty updates list",
            field="updates",
        )
    return list(updates)


async def set_roles(
    db: Database, principal: Principal, *, scope_mrn: str | None, space_mrn: str | None = None,
    identity: str | None = None, roles: list[str] | None = None,
    updates: list[RoleUpdate] | None = None,
) -> SetRolesResult:
    ref = parse_scope(_scope_argument(scope_mrn, space_mrn))
    changes = normalise_updates(identity, roles, updates)
    parsed = [(u.identity, parse_roles(u.roles)) for u in changes]
    async with db.transaction() as session:
        access = await access_for(session, principal)
        scope = await load_scope(session, ref.mrn)
        access.require(Action.SET_ROLES, scope, f"scope {ref.mrn} not found")
        seen: set[str] = set()
        mrns: list[str] = []
        for value, role_names in parsed:
            who = await resolve_identity(session, access, value, org_mrn=scope.org_mrn)
            if who.mrn in seen:
                raise InvalidArgument(
                    f"{who.mrn} appears more than once in updates", field="updates"
                )
            seen.add(who.mrn)
            await replace_roles(session, access, who, scope, role_names)
            mrns.append(who.mrn)
        return SetRolesResult(mrns)


async def get_roles(db: Database, principal: Principal, *, identity: str, scope_mrn: str) -> RolesOnScope:
    ref = parse_scope(scope_mrn)
    async with db.read() as session:
        access = await access_for(session, principal)
        scope = await load_scope(session, ref.mrn)
        access.require(Action.READ, scope, f"scope {ref.mrn} not found")
        try:
            who = await resolve_identity(session, access, identity, org_mrn=scope.org_mrn)
        except NotFound:
            # An identity named by MRN that is gone (or out of reach) has no roles here:
            # Terraform reads a deleted binding back this way. Bindings on this scope are
            # the caller's to see, so nothing leaks; an unknown email stays NOT_FOUND.
            if not looks_like_mrn(identity.strip()):
                raise
            who = Identity(identity.strip(), "unknown")
        return RolesOnScope(who.mrn, who.email, scope.mrn, await roles_of(session, who.mrn, scope.mrn))


#: Roles bound on a chain of scopes to an identity directly and through its teams (built once).
#: A chain has one to three scopes (workspace, space, organization): three parameters, a short
#: chain repeating its last scope, so the statement never changes with the chain's length.
_CHAIN = [bindparam(f"scope{i}") for i in range(3)]
_EFFECTIVE = union_all(
    select(RoleBinding.role, RoleBinding.scope_mrn, RoleBinding.identity_mrn).where(
        RoleBinding.identity_mrn == bindparam("identity"), RoleBinding.scope_mrn.in_(_CHAIN)),
    select(RoleBinding.role, RoleBinding.scope_mrn, RoleBinding.identity_mrn)
    .join(TeamMember, TeamMember.team_mrn == RoleBinding.identity_mrn)
    .where(TeamMember.user_mrn == bindparam("identity"), RoleBinding.scope_mrn.in_(_CHAIN)),
)


def _chain_parameters(chain: tuple[str, ...]) -> dict[str, str]:
    padded = (*chain, *(chain[-1:] * (len(_CHAIN) - len(chain))))
    return {param.key: scope for param, scope in zip(_CHAIN, padded, strict=True)}


async def effective_roles(
    db: Database, principal: Principal, *, identity: str, scope_mrn: str
) -> EffectiveRoles:
    ref = parse_scope(scope_mrn)
    async with db.read() as session:
        access = await access_for(session, principal)
        scope = await load_scope(session, ref.mrn)
        access.require(Action.READ, scope, f"scope {ref.mrn} not found")
        who = await resolve_identity(session, access, identity, org_mrn=scope.org_mrn)
        chain = chain_of(scope)
        rows = (await session.execute(_EFFECTIVE, {"identity": who.mrn,
                                                    **_chain_parameters(chain)})).all()
        sources = sorted(
            {RoleSource(role, s, via, s != scope.mrn) for role, s, via in rows},
            key=lambda src: (-CATALOGUE[src.role].rank, chain.index(src.scope_mrn), src.via_mrn),
        )
        return EffectiveRoles(
            who.mrn, scope.mrn, sort_by_privilege(src.role for src in sources), sources
        )


__all__ = [
    "EffectiveRoles", "RoleSource", "RoleUpdate", "RolesOnScope", "SetRolesResult",
    "effective_roles", "get_roles", "grants_of", "load_grants", "replace_roles", "set_roles",
]
