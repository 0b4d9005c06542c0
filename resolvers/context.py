"""The per-request context: the database and the caller."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from starlette.requests import Request

from app.db import Database
from app.principals import Principal, parse_authorization, principal_for_token


@dataclass
class Context:
    db: Database
    authorization: str | None
    request: Request | None = None
    _principal: Principal | None = field(default=None, repr=False)

    async def principal(self) -> Principal:
        """The caller, resolved once per request; UNAUTHENTICATED without a valid token."""
        if self._principal is None:
            secret = parse_authorization(self.authorization)
            async with self.db.transaction() as session:
                self._principal = await principal_for_token(session, secret)
        return self._principal


Info = strawberry.Info[Context, None]
