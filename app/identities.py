"""Resolve an identity given by a client (team, user or API token MRN, or a user's email)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.access import Access, load_scope
from app.errors import InvalidArgument, NotFound
from app.mrn import (
    IDENTITY_FORMS,
    is_api_token_mrn,
    is_email,
    is_team_mrn,
    is_user_mrn,
    looks_like_mrn,
)
from models import APIToken, Scope, Team, User


@dataclass(frozen=True)
class Identity:
    mrn: str
    kind: str  # "team" | "user" | "api_token"
    #: For teams and API tokens: the scope they live in (bindings must be on it or below).
    home: Scope | None = None
    email: str | None = None


def _not_found(value: str) -> NotFound:
    return NotFound(f"identity {value!r} not found")


async def user_by_email(session: AsyncSession, email: str, org_mrn: str | None) -> User | None:
    """The user an email names in an organization, if any.

    Only a user who signed in to this organization with this email marked verified by its
    identity provider counts: an unverified email claim (or one verified by another
    organization's provider) must never pull someone into a team meant for the mailbox owner.
    """
    if org_mrn is None:
        return None
    users = (await session.execute(
        select(User).where(User.email == email.casefold(), User.email_verified.is_(True),
                           User.org_mrn == org_mrn).limit(2)
    )).scalars().all()
    if len(users) > 1:
        raise InvalidArgument(
            f"more than one user has the email {email!r}: name the user by MRN instead",
            field="identity",
        )
    return users[0] if users else None


#: A team and the scope it lives in, in one statement (built once: getRoles runs it).
_TEAM_AND_HOME = select(Team, Scope).join(Scope, Scope.mrn == Team.scope_mrn).where(
    Team.mrn == bindparam("mrn"))


async def resolve_identity(
    session: AsyncSession, access: Access, value: str, *, org_mrn: str | None,
    field: str = "identity",
) -> Identity:
    """Find the identity; one the caller cannot see is reported exactly like a missing one."""
    value = (value or "").strip()
    if not value:
        raise InvalidArgument(f"{field} must not be empty", field=field)
    if not looks_like_mrn(value):
        if not is_email(value):
            raise InvalidArgument(f"malformed {field} {value!r}: expected {IDENTITY_FORMS}",
                                  field=field)
        user = await user_by_email(session, value, org_mrn)
        if user is None:
            raise NotFound(
                f"no user with email {value!r}: users appear at their first sign-in "
                "(addTeamMember can add a pending member by email)"
            )
        return Identity(user.mrn, "user", email=user.email)
    if is_team_mrn(value):
        found = (await session.execute(_TEAM_AND_HOME, {"mrn": value})).first()
        if found is None or not access.can_read(found.Scope):
            raise _not_found(value)
        return Identity(found.Team.mrn, "team", home=found.Scope)
    if is_user_mrn(value):
        user = await session.get(User, value)
        if user is None or org_mrn is None or user.org_mrn != org_mrn:
            raise _not_found(value)
        return Identity(user.mrn, "user", email=user.email)
    if is_api_token_mrn(value):
        token = await session.get(APIToken, value)
        home = await load_scope(session, token.scope_mrn) if token else None
        if token is None or not access.can_read(home):
            raise _not_found(value)
        return Identity(token.mrn, "api_token", home=home)
    raise InvalidArgument(f"malformed {field} {value!r}: expected {IDENTITY_FORMS}", field=field)
