"""SQLite's WAL checkpoints, taken off the event loop: a daemon component.

A checkpoint copies the WAL into the database file and fsyncs it, which takes
milliseconds. Left to SQLite, it runs inside whichever commit crosses the WAL's size
limit, so one AutoSell sale in fifty waited for it (bench/autosell_engine.py: p99 7 ms
against a p50 under 1 ms). The daemon raises that limit (a safety net only) and this
component checkpoints every second from a worker thread, on a connection of its own: a
PASSIVE checkpoint never blocks the daemon's writes, which go on meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from daemon.waiting import pause

# The daemon's WAL limit (pages of 4 KiB): reached only if checkpoints stopped running.
DAEMON_AUTOCHECKPOINT = 10_000
INTERVAL = 1.0


class WalCheckpointer:
    name = "checkpoint"

    def __init__(self, path: Path, interval: float = INTERVAL):
        self._path = path
        self._interval = interval
        self._connection: sqlite3.Connection | None = None
        self.checkpoints = 0

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not await pause(stop, self._interval):
                await asyncio.to_thread(self._checkpoint)
        finally:
            if self._connection is not None:
                self._connection.close()

    def _checkpoint(self) -> None:
        if self._connection is None:
            # One thread at a time uses it (each checkpoint is awaited), not always the same.
            self._connection = sqlite3.connect(self._path, timeout=0.5, check_same_thread=False)
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1

    def health(self) -> str | None:
        return None

    def facts(self) -> Mapping[str, int | str]:
        return {}
