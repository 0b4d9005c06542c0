"""Who may do what: pure decisions over the roles a caller holds. No I/O.

A caller's roles on a scope are the roles bound to any of its identities (the
API token itself, or the user and every team the user belongs to) on that scope
or on a scope above it (organization -> space -> workspace), plus every role
those imply (see ``app.roles``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

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
