"""teamclaims' own signing keys across replicas, and what an unknown key id costs.

Each replica signs with the newest key it loaded and verifies with every key in the database:
one another replica created later is read by its id when a token names it, as its public key
only (parsing an RSA private key checks it, ~50 ms of CPU), so a token naming a key nobody has
costs one lookup at most and never a key parse.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from jose import jwt

from app import signing
from app.db import Database
from app.signing import KeyRing
from models import SigningKey
from tests.integration.harness import fresh_database

CLAIMS = {"sub": "//captain.api.mondoo.app/users/u1", "aud": "teamclaims"}


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request, tmp_path_factory):
    async with fresh_database(request.param, tmp_path_factory) as url:
        database = Database(url)
        try:
            yield database
        finally:
            await database.dispose()


async def _another_replicas_key(db: Database, after: KeyRing) -> SigningKey:
    """A key written as a replica starting on the same database would (newer than ``after``'s)."""
    row = signing._new_key_row()
    async with db.transaction() as s:
        first = await s.get(SigningKey, after.current.kid)
        row.created_at = first.created_at + timedelta(seconds=1)
        s.add(row)
    return row


def _no_private_key_parsing(monkeypatch) -> None:
    def refuse(row):
        raise AssertionError(f"parsed the private key {row.kid} to verify a token")

    monkeypatch.setattr(signing, "_signing", refuse)


async def test_the_first_start_creates_a_key_and_the_next_one_reuses_it(db: Database) -> None:
    a = KeyRing(db)
    await a.load()
    assert a.current is not None and a.current.private is not None
    b = KeyRing(db)
    await b.load()
    assert b.current.kid == a.current.kid
    assert set(a.keys) == set(b.keys) == {a.current.kid}


async def test_a_key_another_replica_created_verifies_without_parsing_its_private_key(
        db: Database, monkeypatch) -> None:
    ours = KeyRing(db)
    await ours.load()
    row = await _another_replicas_key(db, ours)
    theirs = KeyRing(db)
    await theirs.load()
    assert theirs.current.kid == row.kid  # the other replica signs with the newest key
    token = jwt.encode(CLAIMS, theirs.current.private, algorithm="RS256",
                       headers={"kid": row.kid})

    _no_private_key_parsing(monkeypatch)
    key = await ours.verification_key(row.kid)
    assert key is not None and key.private is None and key.kid == row.kid
    assert jwt.decode(token, key.public, algorithms=["RS256"], audience="teamclaims") == CLAIMS
    # Our own key still signs; and the other one is now known without another lookup.
    assert ours.current.private is not None and ours.current.kid != row.kid
    assert ours.keys[row.kid] is key


async def test_unknown_and_malformed_key_ids_find_nothing(db: Database, monkeypatch) -> None:
    ring = KeyRing(db)
    await ring.load()
    statements: list[str] = []
    monkeypatch.setattr(db.driver, "on_statement", lambda sql, args, secs: statements.append(sql))
    _no_private_key_parsing(monkeypatch)
    # Well-formed, nobody's: one lookup by id, and nothing found.
    assert await ring.verification_key("0123456789abcdef") is None
    assert len(statements) == 1 and "signing_key" in statements[0]
    # No key teamclaims makes could have these ids: not even a lookup.
    for kid in ("ZZZZ", "", "../" * 20, "a" * 10_000, "0123456789abcde\x00", "é" * 16,
                ring.current.kid.upper(), ring.current.kid + " ", ring.current.kid + "\n"):
        assert await ring.verification_key(kid) is None, repr(kid)
    assert len(statements) == 1
    assert set(ring.keys) == {ring.current.kid}
    # The key it has answers without a statement.
    assert await ring.verification_key(ring.current.kid) is ring.current
    assert len(statements) == 1


async def test_every_replica_publishes_every_key(db: Database, monkeypatch) -> None:
    ours = KeyRing(db)
    await ours.load()
    row = await _another_replicas_key(db, ours)
    _no_private_key_parsing(monkeypatch)
    jwks = await ours.published()
    assert [k["kid"] for k in jwks["keys"]] == [ours.current.kid, row.kid]
    assert all(not ({"d", "p", "q", "dp", "dq", "qi"} & k.keys()) for k in jwks["keys"])
    assert all(k["alg"] == "RS256" and k["use"] == "sig" for k in jwks["keys"])


async def test_the_jwks_survives_the_database_going_away(db: Database) -> None:
    ring = KeyRing(db)
    await ring.load()
    ring.db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/unreachable")
    try:
        jwks = await ring.published()
    finally:
        await ring.db.dispose()
    assert [k["kid"] for k in jwks["keys"]] == [ring.current.kid]
