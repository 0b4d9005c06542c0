"""What a token's claims say that mappings can match. Pure.

A mapping names an external id and, optionally, a claim; without a claim it
reads the provider's groups claim (stored as the empty claim name ``""``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from typing import Any

from app.errors import SignInRefused
from app.validation import has_control_characters

#: The provider's groups claim, whatever its name.
GROUPS = ""
#: Bounds on what one token contributes (and what is kept of the last sign-in).
MAX_VALUES = 2000
MAX_VALUE_LENGTH = 400
#: Claims that describe the token, not the person: never matched.
_TOKEN_CLAIMS = frozenset({
    "iss", "aud", "exp", "iat", "nbf", "azp", "nonce", "at_hash", "c_hash", "auth_time",
    "jti", "sid", "acr", "amr", "_claim_names", "_claim_sources", "uti", "rh", "tid", "ver",
})


@dataclass(frozen=True)
class ClaimValues:
    """(claim, value) pairs a mapping can match, and whether the groups claim was present."""

    pairs: frozenset[tuple[str, str]]
    groups_present: bool

    def as_dict(self) -> dict[str, list[str]]:
        """Claim -> its values, both sorted (the document stored of a sign-in)."""
        out: dict[str, list[str]] = {}
        for claim, value in self.pairs:
            out.setdefault(claim, []).append(value)
        return {claim: sorted(out[claim]) for claim in sorted(out)}

    @cached_property
    def document(self) -> str:
        """``as_dict()`` as JSON, made once: a sign-in stores it, and looks the mappings up
        with it."""
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, list[str]]) -> ClaimValues:
        pairs = frozenset((c, v) for c, vs in data.items() for v in vs)
        return cls(pairs, GROUPS in data)


def _strings(value: Any) -> list[str] | None:
    """A claim as a list of strings: a string is a list of one; other shapes are ignored."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def refuse_too_many_values(claims: Mapping[str, Any], groups_claim: str) -> None:
    """More group values than are read would silently drop memberships: refuse instead."""
    groups = _strings(claims.get(groups_claim))
    if groups is not None and len(groups) > MAX_VALUES:
        raise SignInRefused(
            f"the ID token's {groups_claim!r} claim has {len(groups)} values; at most "
            f"{MAX_VALUES} are read. Emit only the groups assigned to the application"
        )


def is_groups_overage(claims: Mapping[str, Any], groups_claim: str) -> bool:
    """Entra ID leaves the groups out and points at Graph instead when there are too many."""
    names = claims.get("_claim_names")
    return groups_claim not in claims and isinstance(names, dict) and groups_claim in names


def refuse_overage(claims: Mapping[str, Any], groups_claim: str) -> None:
    if is_groups_overage(claims, groups_claim):
        raise SignInRefused(
            f"the ID token has too many groups: the identity provider left the {groups_claim!r} "
            "claim out and points to _claim_sources instead (Entra ID group overage). Fix it at "
            "the provider: emit only the groups assigned to the application, or filter the groups "
            "claim (Token configuration > groups claim > 'Groups assigned to the application')"
        )


def _readable(values: list[str]) -> list[str]:
    """The values a mapping can match: not empty, not too long, no control characters."""
    if has_control_characters("".join(values)):  # rare: find which, one by one
        return [v for v in values
                if 0 < len(v) <= MAX_VALUE_LENGTH and not has_control_characters(v)]
    return [v for v in values if 0 < len(v) <= MAX_VALUE_LENGTH]


def extract(claims: Mapping[str, Any], groups_claim: str) -> ClaimValues:
    pairs: set[tuple[str, str]] = set()

    def add(claim: str, values: list[str]) -> None:
        room = MAX_VALUES - len(pairs)
        if len(values) <= room:  # all fit, duplicates or not
            pairs.update(zip(repeat(claim), values))
            return
        for v in values:
            if len(pairs) >= MAX_VALUES:
                return
            pairs.add((claim, v))

    groups = _strings(claims.get(groups_claim)) if groups_claim in claims else None
    readable_groups = _readable(groups) if groups is not None else []
    if groups is not None:
        add(GROUPS, readable_groups)
    for name, value in claims.items():
        if name in _TOKEN_CLAIMS or name == groups_claim or not isinstance(name, str):
            continue
        if (values := _strings(value)) is not None:
            add(name, _readable(values))
    if groups is not None:
        add(groups_claim, readable_groups)
    return ClaimValues(frozenset(pairs), groups is not None)
