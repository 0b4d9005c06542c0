"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from models.iam import APIToken, RoleBinding
from models.identity import User
from models.mappings import TeamExternalGroupMapping
from models.scopes import Scope
from models.teams import Team, TeamMember

__all__ = [
    "APIToken",
    "RoleBinding",
    "Scope",
    "Team",
    "TeamExternalGroupMapping",
    "TeamMember",
    "User",
]
