"""Parse and format MRNs (Mondoo resource names). Pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from app.errors import InvalidArgument

CAPTAIN = "//captain.api.mondoo.app"
IAM = "//iam.api.mondoo.app"
#: The platform itself: the scope on which `platform-admin` is granted.
PLATFORM_MRN = CAPTAIN

ID_RULE = (
    "4 to 64 characters: lowercase letters, digits, dashes and underscores, "
    "not starting with a dash"
)
_ID_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{3,63}$")
#: One MRN path segment: no slash, no white space, no control characters.
_CTRL = r"\s\x00-\x1f\x7f-\x9f"
_SEG = rf"[^/{_CTRL}]"
_SEGMENT = rf"({_SEG}+)"


class ScopeKind(StrEnum):
    PLATFORM = "platform"
    ORGANIZATION = "organization"
    SPACE = "space"
    WORKSPACE = "workspace"


def is_valid_id(value: str) -> bool:
    return bool(_ID_RE.fullmatch(value))


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it follows the id rule, else raise INVALID_ARGUMENT quoting the rule."""
    if not is_valid_id(value):
        raise InvalidArgument(f"invalid {what} {value!r}: it must be {ID_RULE}", field="id")
    return value


@dataclass(frozen=True)
class ScopeRef:
    kind: ScopeKind
    mrn: str
    org_id: str | None = None
    space_id: str | None = None
    workspace_id: str | None = None

    @property
    def id(self) -> str:
        return self.workspace_id or self.space_id or self.org_id or ""


@dataclass(frozen=True)
class TeamRef:
    mrn: str
    scope: ScopeRef
    team_id: str


def org_mrn(org_id: str) -> str:
    return f"{CAPTAIN}/organizations/{org_id}"


def space_mrn(space_id: str) -> str:
    return f"{CAPTAIN}/spaces/{space_id}"


def workspace_mrn(space_id: str, workspace_id: str) -> str:
    return f"{CAPTAIN}/spaces/{space_id}/workspaces/{workspace_id}"


def team_mrn(scope_mrn: str, team_id: str) -> str:
    return f"{scope_mrn}/teams/{team_id}"


def user_mrn(user_id: str) -> str:
    return f"{CAPTAIN}/users/{user_id}"


def role_mrn(name: str) -> str:
    return f"{IAM}/roles/{name}"


_SCOPE_FORMS = (
    "//captain.api.mondoo.app/organizations/ORG-ID, "
    "//captain.api.mondoo.app/spaces/SPACE-ID or "
    "//captain.api.mondoo.app/spaces/SPACE-ID/workspaces/WORKSPACE-ID"
)
_ORG_RE = re.compile(rf"^{re.escape(CAPTAIN)}/organizations/{_SEGMENT}$")
_SPACE_RE = re.compile(rf"^{re.escape(CAPTAIN)}/spaces/{_SEGMENT}$")
_WS_RE = re.compile(rf"^{re.escape(CAPTAIN)}/spaces/{_SEGMENT}/workspaces/{_SEGMENT}$")
_TEAM_RE = re.compile(
    rf"^(?P<scope>{re.escape(CAPTAIN)}/(?:organizations|spaces)/{_SEG}+)/teams/(?P<team>{_SEG}+)$"
)
_USER_RE = re.compile(rf"^{re.escape(CAPTAIN)}/users/{_SEGMENT}$")
_TOKEN_RE = re.compile(
    rf"^{re.escape(CAPTAIN)}(?:/(?:organizations|spaces)/{_SEG}+)?/apitokens/{_SEGMENT}$"
)
IDENTITY_FORMS = (
    "a team MRN (//captain.api.mondoo.app/organizations/ORG-ID/teams/TEAM-ID), "
    "a user MRN (//captain.api.mondoo.app/users/USER-ID), "
    "an API token MRN (//captain.api.mondoo.app/organizations/ORG-ID/apitokens/TOKEN-ID) "
    "or a user's email address"
)


def parse_scope(mrn: str, *, field: str = "scopeMrn") -> ScopeRef:
    """Parse an organization, space or workspace MRN."""
    mrn = (mrn or "").strip()
    if m := _ORG_RE.fullmatch(mrn):
        return ScopeRef(ScopeKind.ORGANIZATION, mrn, org_id=m.group(1))
    if m := _SPACE_RE.fullmatch(mrn):
        return ScopeRef(ScopeKind.SPACE, mrn, space_id=m.group(1))
    if m := _WS_RE.fullmatch(mrn):
        return ScopeRef(ScopeKind.WORKSPACE, mrn, space_id=m.group(1), workspace_id=m.group(2))
    raise InvalidArgument(
        f"malformed {field} {mrn!r}: expected {_SCOPE_FORMS}", field=field
    )


def parse_team_owner_scope(mrn: str, *, field: str = "scopeMrn") -> ScopeRef:
    """Parse the scope a team can live in: an organization or a space (not a workspace)."""
    ref = parse_scope(mrn, field=field)
    if ref.kind is ScopeKind.WORKSPACE:
        raise InvalidArgument(
            f"teams live in an organization or a space, not a workspace: {field} {mrn!r} "
            "must be //captain.api.mondoo.app/organizations/ORG-ID or "
            "//captain.api.mondoo.app/spaces/SPACE-ID",
            field=field,
        )
    return ref


def parse_team(mrn: str, *, field: str = "teamMrn") -> TeamRef:
    mrn = (mrn or "").strip()
    m = _TEAM_RE.fullmatch(mrn)
    if not m:
        raise InvalidArgument(
            f"malformed {field} {mrn!r}: expected "
            "//captain.api.mondoo.app/organizations/ORG-ID/teams/TEAM-ID or "
            "//captain.api.mondoo.app/spaces/SPACE-ID/teams/TEAM-ID",
            field=field,
        )
    return TeamRef(mrn, parse_scope(m.group("scope"), field=field), m.group("team"))


def is_team_mrn(mrn: str) -> bool:
    return bool(_TEAM_RE.fullmatch(mrn))


def is_user_mrn(mrn: str) -> bool:
    return bool(_USER_RE.fullmatch(mrn))


def api_token_mrn(scope_mrn: str, token_id: str) -> str:
    return f"{scope_mrn}/apitokens/{token_id}"


def is_api_token_mrn(mrn: str) -> bool:
    return bool(_TOKEN_RE.fullmatch(mrn))


def looks_like_mrn(value: str) -> bool:
    return value.startswith("//")


def is_email(value: str) -> bool:
    return bool(_EMAIL_RE.fullmatch(value))


_EMAIL_RE = re.compile(rf"[^@/{_CTRL}]+@[^@/{_CTRL}]+\.[^@/{_CTRL}]+")
