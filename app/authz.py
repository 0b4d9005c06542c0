"""Who may do what: pure decisions over the roles a caller holds. No I/O.

A caller's roles on a scope are the roles bound to any of its identities (the
API token itself, or the user and every team the user belongs to) on that scope
or on a scope above it (organization -> space -> workspace), plus every role
those imply (see ``app.roles``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from app import roles as role_catalogue


class Action(StrEnum):
    READ = "read"
    MANAGE_TEAMS = "manage teams, members and mappings"
    SET_ROLES = "set roles"
    MANAGE_API_TOKENS = "manage API tokens"
    CREATE_SPACE = "create spaces"
    CREATE_WORKSPACE = "create workspaces"
    CREATE_ORGANIZATION = "create organizations"


#: The role an action needs on its scope. READ needs any role at all.
REQUIRED_ROLE: dict[Action, str | None] = {
    Action.READ: None,
    Action.MANAGE_TEAMS: "editor",
    Action.SET_ROLES: "owner",
    Action.MANAGE_API_TOKENS: "owner",
    Action.CREATE_SPACE: "owner",
    Action.CREATE_WORKSPACE: "editor",
    Action.CREATE_ORGANIZATION: "platform-admin",
}


class Verdict(StrEnum):
    ALLOW = "allow"
    #: The caller holds no role on the scope: answer as if the object did not exist.
    HIDDEN = "hidden"
    #: The caller may see the scope but lacks the role the action needs.
    FORBIDDEN = "forbidden"


#: scope MRN -> role names bound directly on that scope to any of the caller's identities
Grants = Mapping[str, frozenset[str]]


def grants_from(bindings: Iterable[tuple[str | None, str | None]]) -> dict[str, frozenset[str]]:
    """Grants from (scope MRN, role) rows; rows of None (an outer join that found none) add
    nothing."""
    by_scope: dict[str, set[str]] = {}
    for scope_mrn, role in bindings:
        if scope_mrn is not None and role is not None:
            by_scope.setdefault(scope_mrn, set()).add(role)
    return {k: frozenset(v) for k, v in by_scope.items()}


def roles_on(grants: Grants, chain: Sequence[str]) -> frozenset[str]:
    """All roles held on the first scope of ``chain`` (the scope, then its parents)."""
    direct: set[str] = set()
    for mrn in chain:
        direct |= grants.get(mrn, frozenset())
    return role_catalogue.closure(direct)


def decide(action: Action, held: frozenset[str]) -> Verdict:
    needed = REQUIRED_ROLE[action]
    if needed is None:
        return Verdict.ALLOW if held else Verdict.HIDDEN
    if needed in held:
        return Verdict.ALLOW
    return Verdict.FORBIDDEN if held else Verdict.HIDDEN


@dataclass(frozen=True)
class Grant:
    """A role on a scope, with the chain of that scope (itself first, then its parents)."""

    role: str
    chain: tuple[str, ...]

    @property
    def scope_mrn(self) -> str:
        return self.chain[0]


def ungrantable(grants: Grants, wanted: Iterable[Grant]) -> list[Grant]:
    """The grants in ``wanted`` the caller could not hand out: roles it does not hold there.

    Used for escalation checks: nobody hands out more than it holds, whether by
    binding a role, by adding a member to a team that has the role, or by mapping
    an external group to such a team.
    """
    missing: list[Grant] = []
    for g in wanted:
        if g.role not in roles_on(grants, g.chain):
            missing.append(g)
    return missing


#: Whatever records why a role is bound (a binding row, a membership's reason, ...).
Source = TypeVar("Source")


@dataclass(frozen=True)
class ScopeRoles(Generic[Source]):
    """The roles in effect on a scope, where they come from, and the one that decides."""

    scope_mrn: str
    roles: list[str]  # bound here or on a scope above, most privileged first
    in_force: str | None  # the highest of them
    sources: list[Source]  # the scope's own first, then each scope above in turn


def roles_by_scope(
    bound: Mapping[str, Sequence[Source]], chains: Mapping[str, Sequence[str]],
    role_of: Callable[[Source], str],
) -> list[ScopeRoles[Source]]:
    """For every scope something is bound on, the roles in effect there (its own and those
    inherited from the scopes above) with their sources; organizations first, then spaces,
    then workspaces, each by MRN. ``chains[mrn]`` is the scope, then the scopes above it.

    The one answer to "why does this user have this role here?" (accessSummary) and "what
    would this user have?" (explainAccess).
    """
    out: list[ScopeRoles[Source]] = []
    for mrn in sorted(bound, key=lambda m: (len(chains[m]), m)):
        sources = [src for above in chains[mrn] for src in bound.get(above, ())]
        roles = role_catalogue.sort_by_privilege(role_of(src) for src in sources)
        out.append(ScopeRoles(mrn, roles, role_catalogue.highest(roles), sources))
    return out
