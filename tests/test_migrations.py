"""The Alembic migrations produce exactly the schema the SQLModel tables describe."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import models  # noqa: F401
from app.migrate import head_revision, upgrade
from tests.integration.harness import (
    create_postgres_database,
    drop_postgres_database,
    postgres_url_or_skip,
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_migrations_match_the_models(backend, tmp_path) -> None:
    dropped = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    else:
        url, dropped = await create_postgres_database(postgres_url_or_skip())
    try:
        await asyncio.to_thread(upgrade, url)
        await asyncio.to_thread(upgrade, url)  # a second run is a no-op
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            changes, revision = await conn.run_sync(
                lambda c: (compare_metadata(MigrationContext.configure(c), SQLModel.metadata),
                           MigrationContext.configure(c).get_current_revision())
            )
        await engine.dispose()
        assert changes == [], f"models and migrations differ: {changes}"
        assert revision == head_revision()
    finally:
        if dropped:
            await drop_postgres_database(postgres_url_or_skip(), dropped)
