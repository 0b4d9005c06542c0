"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from models.audit import AuditEvent
from models.iam import APIToken, RoleBinding
from models.identity import User
from models.login import LoginClaims, LoginSession, OidcProvider, SigningKey
from models.mappings import TeamExternalGroupMapping
from models.scopes import Scope
from models.teams import Team, TeamMember, TeamMemberGrant

__all__ = [
    "APIToken",
    "AuditEvent",
    "LoginClaims",
    "LoginSession",
    "OidcProvider",
    "SigningKey",
    "TeamMemberGrant",
    "RoleBinding",
    "Scope",
    "Team",
    "TeamExternalGroupMapping",
    "TeamMember",
    "User",
]
