"""Claims to memberships: decide (pure), then apply in the caller's transaction.

A membership can be held by hand (addTeamMember), through one or more mappings
(sign-in), or both. Sync only ever changes the mapping grants: a membership
disappears when it has no grant left and was not added by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Match:
    """A mapping the token's claims satisfy."""

    mapping_mrn: str
    team_mrn: str
    claim: str  # "" = the provider's groups claim
    value: str


@dataclass(frozen=True)
class Held:
    """A membership the user has now, in a team of the organization."""

    team_mrn: str
    added_by_hand: bool
    grants: frozenset[str]  # mapping MRNs that justify it


@dataclass(frozen=True)
class Change:
    action: str  # "add" | "remove"
    team_mrn: str
    mapping_mrn: str
    claim: str | None
    value: str | None
    membership: str  # "created" | "deleted" | "kept"


@dataclass
class Plan:
    add_grants: list[Match] = field(default_factory=list)
    remove_grants: list[tuple[str, str]] = field(default_factory=list)  # (team, mapping)
    create_memberships: set[str] = field(default_factory=set)
    delete_memberships: set[str] = field(default_factory=set)
    changes: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.add_grants or self.remove_grants)


def plan(held: Iterable[Held], matches: Iterable[Match]) -> Plan:
    """What to change so the user's mapping grants are exactly ``matches``."""
    wanted: dict[str, dict[str, Match]] = {}
    for m in matches:
        wanted.setdefault(m.team_mrn, {}).setdefault(m.mapping_mrn, m)
    current = {h.team_mrn: h for h in held}
    out = Plan()
    for team, h in sorted(current.items()):
        keep = wanted.get(team, {})
        dropped = sorted(h.grants - keep.keys())
        gone = not keep and not h.added_by_hand
        for mapping in dropped:
            out.remove_grants.append((team, mapping))
            out.changes.append(Change("remove", team, mapping, None, None,
                                      "deleted" if gone else "kept"))
        if gone:
            out.delete_memberships.add(team)
    for team, by_mapping in sorted(wanted.items()):
        h = current.get(team)
        if h is None:
            out.create_memberships.add(team)
        for mapping, m in sorted(by_mapping.items()):
            if h is None or mapping not in h.grants:
                out.add_grants.append(m)
                out.changes.append(Change("add", team, mapping, m.claim, m.value,
                                          "created" if h is None else "kept"))
    return out


def plan_mapping_removal(held_by_user: dict[str, Held], mapping_mrn: str) -> Plan:
    """Removing a mapping: every grant it gave goes; memberships left with nothing go too."""
    out = Plan()
    for user, h in sorted(held_by_user.items()):
        if mapping_mrn not in h.grants:
            continue
        gone = h.grants == {mapping_mrn} and not h.added_by_hand
        out.remove_grants.append((user, mapping_mrn))
        out.changes.append(Change("remove", h.team_mrn, mapping_mrn, None, None,
                                  "deleted" if gone else "kept"))
        if gone:
            out.delete_memberships.add(user)
    return out
