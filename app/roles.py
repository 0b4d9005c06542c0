"""The role catalogue: names, MRNs, what each role implies, and privilege order. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.errors import InvalidArgument
from app.mrn import IAM, role_mrn


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    rank: int  # higher = more privilege; used to mark the role "in force"
    implies: frozenset[str] = frozenset()

    @property
    def mrn(self) -> str:
        return role_mrn(self.name)


_ORG_ROLES = frozenset(
    {
        "viewer", "editor", "agent", "policy-manager", "policy-editor",
        "exception-reviewer", "exceptions-requester", "integrations-manager",
        "ticket-manager", "ticket-creator", "query-pack-manager", "query-pack-editor",
        "sla-manager",
    }
)

#: The 15 roles, in the order of the catalogue in the reference guide.
CATALOGUE: dict[str, Role] = {
    r.name: r
    for r in (
        Role("viewer", "Read-only access", 10),
        Role("editor", "Read-write access", 50, frozenset({"viewer"})),
        Role("owner", "Full control including IAM", 90, _ORG_ROLES | {"owner"}),
        Role("agent", "Asset scanning agent", 5),
        Role("platform-admin", "Platform-level administration", 100),
        Role("policy-manager", "Manage policies", 30, frozenset({"policy-editor"})),
        Role("policy-editor", "Edit policies", 20),
        Role("exception-reviewer", "Review security exceptions", 25,
             frozenset({"exceptions-requester"})),
        Role("exceptions-requester", "Request security exceptions", 15),
        Role("integrations-manager", "Manage integrations", 30),
        Role("ticket-manager", "Manage tickets", 30, frozenset({"ticket-creator"})),
        Role("ticket-creator", "Create tickets", 15),
        Role("query-pack-manager", "Manage query packs", 30, frozenset({"query-pack-editor"})),
        Role("query-pack-editor", "Edit query packs", 20),
        Role("sla-manager", "Manage SLA settings", 30),
    )
}

ROLE_PREFIX = f"{IAM}/roles/"


def valid_role_list() -> str:
    return ", ".join(CATALOGUE)


def parse_role(value: str) -> str:
    """Accept a role MRN or short name; return the short name or raise INVALID_ARGUMENT."""
    raw = (value or "").strip()
    name = raw[len(ROLE_PREFIX):] if raw.startswith(ROLE_PREFIX) else raw
    if name not in CATALOGUE:
        raise InvalidArgument(
            f"unknown role {value!r}: valid roles are {valid_role_list()} "
            f"(short name or {ROLE_PREFIX}NAME)",
            field="roles",
        )
    return name


def parse_roles(values: Iterable[str]) -> list[str]:
    """Parse a list of roles, keeping first-seen order and dropping repeats."""
    out: list[str] = []
    for v in values:
        name = parse_role(v)
        if name not in out:
            out.append(name)
    return out


def closure(names: Iterable[str]) -> frozenset[str]:
    """Every role held when holding ``names``: the roles themselves and all they imply."""
    held: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in held:
            continue
        held.add(name)
        stack.extend(CATALOGUE[name].implies)
    return frozenset(held)


def highest(names: Iterable[str]) -> str | None:
    """The role with the most privilege among ``names`` (the one "in force")."""
    names = list(names)
    return max(names, key=lambda n: CATALOGUE[n].rank) if names else None


def sort_by_privilege(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=lambda n: (-CATALOGUE[n].rank, n))
