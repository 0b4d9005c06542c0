"""API token secrets: generated at random, shown once, kept only as a hash."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "tcat_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough: there is nothing to
    # brute-force, and lookups by hash stay cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_id(nbytes: int = 6) -> str:
    """A random id that satisfies the id rule (lowercase hex)."""
    return secrets.token_hex(nbytes)
