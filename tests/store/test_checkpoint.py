"""The daemon's WAL checkpointer: with SQLite's own checkpoints pushed far out, commits
leave their pages in the WAL, and the checkpointer (a thread, its own connection) copies
them into the database file while the daemon's connection stays open and writing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from daemon.store import schema
from daemon.store.checkpoint import DAEMON_AUTOCHECKPOINT, WalCheckpointer
from daemon.store.database import execute, open_database, transaction


async def test_checkpoints_move_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    db = open_database(f"sqlite:///{path}", autocheckpoint=DAEMON_AUTOCHECKPOINT)
    schema.upgrade(db)
    with transaction():
        execute("INSERT INTO key_value (key, value) VALUES ('seed', '')")
    before = path.stat().st_size
    for n in range(200):
        with transaction():
            execute("INSERT INTO key_value (key, value) VALUES (?, ?)", f"k{n}", "x" * 4000)
    assert path.stat().st_size == before  # all of it still in the WAL
    stop = asyncio.Event()
    checkpointer = WalCheckpointer(path, interval=0.05)
    running = asyncio.create_task(checkpointer.run(stop))
    await asyncio.sleep(0.3)  # six intervals: one checkpoint is enough
    stop.set()
    await running
    assert checkpointer.checkpoints > 0
    assert path.stat().st_size > before + 200 * 4000
    with transaction():  # the daemon's connection writes on, unbothered
        execute("INSERT INTO key_value (key, value) VALUES ('after', '')")
    db.close()
