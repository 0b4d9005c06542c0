"""The per-request context: the process's services and the caller."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from starlette.requests import Request

from app.db import Database
from app.main import Services
from app.principals import Principal


@dataclass
class Context:
    services: Services
    authorization: str | None
    request: Request | None = None
    _principal: Principal | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        return self.services.db

    async def principal(self) -> Principal:
        """The caller, resolved once per request; UNAUTHENTICATED without valid credentials."""
        if self._principal is None:
            self._principal = await self.services.authenticate(self.authorization)
        return self._principal


Info = strawberry.Info[Context, None]
