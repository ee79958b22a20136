"""Opening the database named by DATABASE_URL, and the one lock that orders writes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import peewee
from playhouse.db_url import connect

# Models bind to this proxy; open_database points it at the real database.
database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    # WAL: readers (the digest, /status) never block the poller's writes.
    "journal_mode": "wal",
    # With WAL, NORMAL loses at most the last commits on power loss, never consistency:
    # an update whose effect is lost is also not marked processed, so it is replayed.
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
}


@functools.cache
def _for_paramstyle(sql: str, param: str) -> str:
    return sql if param == "?" else sql.replace("?", param)


def execute(sql: str, *params: Any) -> Any:
    """Run hand-written SQL (written with `?` placeholders) on the open database.

    The per-update path uses these few portable statements (ON CONFLICT and RETURNING
    work in SQLite >= 3.35 and PostgreSQL): building them through peewee's query
    builder cost more than the rest of an update's processing together.
    """
    db = database.obj
    return db.execute_sql(_for_paramstyle(sql, db.param), params)


def timestamp(moment: datetime) -> str:
    """The text peewee's DateTimeField stores (sqlite3's adapter: ISO with a space, no
    microseconds when they are zero), so hand-written rows compare like peewee's."""
    return moment.isoformat(" ")


def sqlite_path(url: str) -> Path | None:
    return Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None


def open_database(url: str) -> peewee.Database:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        db: peewee.Database = peewee.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS)
    else:
        db = connect(url)
    db.connect(reuse_if_open=True)
    database.initialize(db)
    return db


class Store:
    """The open database plus the asyncio lock every writer takes.

    peewee keeps one connection per thread, so coroutines on the event loop share it: a
    write from the heartbeat while an update's transaction is open would join (and
    commit or roll back with) that transaction. Taking this lock around every write keeps
    one effect per transaction.
    """

    def __init__(self, db: peewee.Database):
        self.db = db
        self.lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self.lock:
            with self.db.atomic():
                yield

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()
