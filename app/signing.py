"""teamclaims' own signing keys: created on first start, kept in the database.

Access tokens are RS256 JWTs signed with the newest key; every key in the
database is published at /.well-known/jwks.json so all replicas verify all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, insert_or_ignore
from app.secrets import new_id
from models import SigningKey

ALGORITHM = "RS256"


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    private: Any  # python-jose key objects, built once: signing with a PEM each time is slow
    public: Any
    public_jwk: dict[str, Any]


def _load(row: SigningKey) -> LoadedKey:
    public_jwk = json.loads(row.public_jwk)
    return LoadedKey(
        kid=row.kid,
        private=jwk.construct(row.private_pem, ALGORITHM),
        public=jwk.construct(public_jwk, ALGORITHM),
        public_jwk=public_jwk,
    )


def _new_key_row() -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    kid = new_id(8)
    public = jwk.construct(pem, ALGORITHM).public_key().to_dict()
    public.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    return SigningKey(kid=kid, private_pem=pem, public_jwk=json.dumps(public, sort_keys=True))


class KeyRing:
    """The signing keys of this deployment, loaded from the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.keys: dict[str, LoadedKey] = {}
        self.current: LoadedKey | None = None

    async def load(self) -> None:
        """Load every key; create the first one if the database has none."""
        async with self.db.transaction() as session:
            rows = await self._rows(session)
            if not rows:
                row = _new_key_row()
                await insert_or_ignore(session, SigningKey, [row.model_dump()])
                rows = await self._rows(session)
        self.keys = {r.kid: _load(r) for r in rows}
        self.current = self.keys[rows[-1].kid]

    @staticmethod
    async def _rows(session: AsyncSession) -> list[SigningKey]:
        result = await session.execute(select(SigningKey).order_by(SigningKey.created_at,
                                                                   SigningKey.kid))
        return list(result.scalars().all())

    async def verification_key(self, kid: str) -> LoadedKey | None:
        """A key by id; reloads once for a key another replica may have created."""
        if kid not in self.keys:
            await self.load()
        return self.keys.get(kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self.keys.values()]}
