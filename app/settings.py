"""One settings object, read from environment variables prefixed ``TEAMCLAIMS_``."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TEAMCLAIMS_", extra="ignore")

    #: ``sqlite+aiosqlite:///path`` (default) or ``postgresql+asyncpg://user:pass@host/db``.
    database_url: str = "sqlite+aiosqlite:///./teamclaims.db"
    host: str = "127.0.0.1"
    port: int = 8000
    #: Worker processes `teamclaims serve` starts (one per core); more than one needs PostgreSQL.
    workers: int = 1
    #: Connections per process on PostgreSQL (SQLite always uses one, see app.db).
    db_pool_size: int = 10
    log_level: str = "info"
    #: ``json`` (one JSON object per line, for log collectors) or ``text`` (for a terminal).
    log_format: Literal["json", "text"] = "json"
    #: Serve GraphiQL to browsers at /query.
    graphiql: bool = True
    #: The `iss` of the access tokens teamclaims issues (its public URL, say).
    issuer: str = "teamclaims"
    #: Lifetime of an access token (and of the session it names), in seconds.
    access_token_ttl: int = 900
    #: Timeout for requests to identity providers (discovery, JWKS), in seconds.
    idp_timeout: float = 5.0
    #: Limits on GraphQL documents, refused before execution (QUERY_TOO_COMPLEX).
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    #: Largest request body on /query, in bytes (REQUEST_TOO_LARGE).
    max_request_bytes: int = 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
