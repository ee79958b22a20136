"""A daemon store on each backend (SQLite, PostgreSQL), schema up to date."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from daemon.store import schema
from daemon.store.database import Store, open_database


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """The test runs once per backend (database_url is parametrized)."""
    db = open_database(database_url)
    schema.upgrade(db)
    yield Store(db)
    db.close()
