"""Copies of the database and their checks, for `tradebotd backup`, `restore` and
`doctor`: the SQLite file operations (the online backup API, folding the WAL, an
integrity check of a file nobody has open) and the integrity of the open database.
Failures are StoreError, whatever raised them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from daemon.store.database import StoreError, execute, sqlite_path

PAGES_PER_STEP = 1024  # the daemon's writers get the database between steps


def copy_sqlite(source: Path, target: Path) -> None:
    """The online backup API, from a live database into a new file, synced."""
    try:
        with sqlite3.connect(source, timeout=30) as live, sqlite3.connect(target) as copy:
            live.backup(copy, pages=PAGES_PER_STEP)
        live.close()
        copy.close()
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from None
    with target.open("rb") as written:
        os.fsync(written.fileno())


def fold_wal(path: Path) -> None:
    """Checkpoint the WAL into the main file, so that the file is whole on its own (to
    move it aside); for a database nobody else has open."""
    try:
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from None


def file_problems(path: Path) -> list[str]:
    """integrity_check of a SQLite file nobody writes (a backup), opened immutable so no
    file is created beside it; [] when it is sound."""
    try:
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as db:
            found = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
        db.close()
    except sqlite3.Error as exc:
        return [str(exc)]
    return [] if found == ["ok"] else found


def integrity_problems(url: str) -> list[str]:
    """The open database's integrity: SQLite's integrity_check; PostgreSQL keeps its
    own, so there it is whether the server answers. [] when sound."""
    if sqlite_path(url) is None:
        execute("SELECT 1")
        return []
    found = [str(row[0]) for row in execute("PRAGMA integrity_check").fetchall()]
    return [] if found == ["ok"] else found
