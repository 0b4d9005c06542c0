"""teamclaims' own signing keys: created on first start, kept in the database.

Access tokens are RS256 JWTs signed with the newest key; every key in the
database is published at /.well-known/jwks.json so all replicas verify all.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, insert_or_ignore
from app.secrets import new_id
from models import SigningKey

ALGORITHM = "RS256"
log = logging.getLogger("teamclaims.signing")


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    private: Any | None  # python-jose key objects, built once; the private key only to sign
    public: Any
    public_jwk: dict[str, Any]


def _public(kid: str, public_jwk_text: str) -> LoadedKey:
    """A key to verify with: built from its public JWK (~0.06 ms)."""
    public_jwk = json.loads(public_jwk_text)
    return LoadedKey(kid=kid, private=None, public=jwk.construct(public_jwk, ALGORITHM),
                     public_jwk=public_jwk)


def _signing(row: Any) -> LoadedKey:
    """The key to sign with: parsing an RSA private key checks it (~50 ms), so it is done once,
    for the newest key only."""
    key = _public(row.kid, row.public_jwk)
    return LoadedKey(kid=key.kid, private=jwk.construct(row.private_pem, ALGORITHM),
                     public=key.public, public_jwk=key.public_jwk)


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


#: The shape of the key ids teamclaims makes (new_id(8)): anything else is nobody's key.
_KID = re.compile(r"[0-9a-f]{16}")
_PUBLIC_KEY = select(SigningKey.kid, SigningKey.public_jwk).where(
    SigningKey.kid == bindparam("kid"))
_PUBLIC_KEYS = select(SigningKey.kid, SigningKey.public_jwk).order_by(
    SigningKey.created_at, SigningKey.kid)


class KeyRing:
    """The signing keys of this deployment, loaded from the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.keys: dict[str, LoadedKey] = {}
        self.current: LoadedKey | None = None

    async def load(self) -> None:
        """Load every key; create the first one if the database has none. Signs with the
        newest."""
        async with self.db.transaction() as session:
            rows = await self._rows(session)
            if not rows:
                row = _new_key_row()
                await insert_or_ignore(session, SigningKey, [row.model_dump()])
                rows = await self._rows(session)
        current = _signing(rows[-1])
        self.keys = {**{r.kid: _public(r.kid, r.public_jwk) for r in rows[:-1]},
                     current.kid: current}
        self.current = current

    @staticmethod
    async def _rows(session: AsyncSession) -> list[SigningKey]:
        result = await session.execute(select(SigningKey).order_by(SigningKey.created_at,
                                                                   SigningKey.kid))
        return list(result.scalars().all())

    async def verification_key(self, kid: str) -> LoadedKey | None:
        """A key by id. One another replica created since this one loaded is read by its id
        (one lookup, its public key only), so an unknown ``kid`` costs no more than that."""
        key = self.keys.get(kid)
        if key is not None or not _KID.fullmatch(kid):
            return key
        async with self.db.read() as session:
            row = (await session.execute(_PUBLIC_KEY, {"kid": kid})).first()
        if row is None:
            return None
        key = _public(row.kid, row.public_jwk)
        self.keys = {**self.keys, key.kid: key}
        return key

    async def published(self) -> dict[str, Any]:
        """The JWKS: every key in the database, so each replica publishes the others' too;
        while the database cannot be reached, the keys this replica has loaded."""
        try:
            async with self.db.read() as session:
                rows = (await session.execute(_PUBLIC_KEYS)).all()
        except Exception as exc:  # noqa: BLE001 (any failure to read: serve what is known)
            log.warning("jwks: publishing the keys loaded so far; the database did not answer: "
                        "%s", type(exc).__name__)
            return {"keys": [k.public_jwk for k in self.keys.values()]}
        keys = {r.kid: self.keys.get(r.kid) or _public(r.kid, r.public_jwk) for r in rows}
        self.keys = {**self.keys, **keys}
        return {"keys": [k.public_jwk for k in keys.values()]}
