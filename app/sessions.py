"""Sessions and the access tokens that carry them.

An access token is a short-lived JWT signed by teamclaims; it names a session
row, and every request checks that row, so revoking a session (forceLogout)
takes effect on the next request on every replica.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from jose import jwt
from jose.exceptions import JOSEError
from sqlalchemy import bindparam, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import authz
from app.clock import as_utc, now
from app.db import Executor
from app.errors import Unauthenticated
from app.principals import GRANTS, Principal
from app.secrets import new_id
from app.signing import ALGORITHM, KeyRing
from models import LoginSession

AUDIENCE = "teamclaims"


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


_INSERT_SESSION = insert(LoginSession)


@dataclass(frozen=True)
class OpenedSession:
    """What an access token says of the session row it names."""

    id: str
    user_mrn: str
    org_mrn: str
    expires_at: datetime


async def open_session(
    session: Executor, *, user_mrn: str, org_mrn: str, ttl_seconds: int
) -> OpenedSession:
    """Insert a session row now (one statement, no ORM object)."""
    issued = now()
    row = OpenedSession(new_id(16), user_mrn, org_mrn, issued + timedelta(seconds=ttl_seconds))
    await session.execute(_INSERT_SESSION, {
        "id": row.id, "user_mrn": user_mrn, "org_mrn": org_mrn, "created_at": issued,
        "expires_at": row.expires_at, "revoked_at": None})
    return row


def access_token(keys: KeyRing, row: OpenedSession, *, issuer: str) -> str:
    key = keys.current
    assert key is not None, "KeyRing.load() runs at start-up"
    iat = int(time.time())
    claims = {
        "iss": issuer, "aud": AUDIENCE, "sub": row.user_mrn, "sid": row.id, "org": row.org_mrn,
        "iat": iat, "nbf": iat, "exp": int(row.expires_at.timestamp()),
    }
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


async def principal_for_access_token(
    session: AsyncSession, keys: KeyRing, token: str, *, issuer: str
) -> Principal:
    invalid = Unauthenticated("invalid access token: sign in again")
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError:
        raise invalid from None
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        raise invalid
    key = await keys.verification_key(header["kid"])
    if key is None:
        raise invalid
    try:
        claims = jwt.decode(token, key.public, algorithms=[ALGORITHM], audience=AUDIENCE,
                            issuer=issuer)
    except JOSEError:
        raise Unauthenticated("invalid or expired access token: sign in again") from None
    sid, sub = claims.get("sid"), claims.get("sub")
    if not isinstance(sid, str) or not isinstance(sub, str):
        raise invalid
    rows = (await session.execute(_SESSION, {"sid": sid, "identity": sub})).all()
    if not rows or rows[0].user_mrn != sub:
        raise invalid
    row = rows[0]
    if row.revoked_at is not None:
        raise Unauthenticated("this session was ended (signed out or forced out): sign in again")
    if as_utc(row.expires_at) <= now():
        raise Unauthenticated("this session has expired: sign in again")
    return Principal(mrn=row.user_mrn, kind="user", home_org_mrn=row.org_mrn,
                     grants=authz.grants_from((r.scope_mrn, r.role) for r in rows))


#: The session row and the roles of the user the token names, in one statement (the user is
#: checked against the row).
_USER_GRANTS = GRANTS.subquery()
_SESSION = (
    select(LoginSession.user_mrn, LoginSession.org_mrn, LoginSession.revoked_at,
           LoginSession.expires_at, _USER_GRANTS.c.scope_mrn, _USER_GRANTS.c.role)
    .outerjoin(_USER_GRANTS, true())
    .where(LoginSession.id == bindparam("sid"))
)


async def revoke_sessions(session: AsyncSession, *, user_mrn: str, org_mrns: list[str]) -> int:
    result = await session.execute(
        update(LoginSession)
        .where(LoginSession.user_mrn == user_mrn, LoginSession.org_mrn.in_(org_mrns),
               LoginSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return result.rowcount or 0
