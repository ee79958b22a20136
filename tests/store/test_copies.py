"""SQLite copies for backup and restore: the online backup includes what is still only
in the WAL, folding the WAL makes the file whole on its own, and a file check reports
what is wrong without creating anything beside the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from daemon.store.copies import copy_sqlite, file_problems, fold_wal


def wal_database(path: Path) -> sqlite3.Connection:
    """A WAL database whose last rows are committed to the WAL only (still open)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (n INTEGER)")
    db.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(100)])
    db.commit()
    return db


def count(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM t").fetchone()[0])


def test_the_online_copy_holds_what_is_only_in_the_wal(tmp_path: Path) -> None:
    live = wal_database(tmp_path / "live.db")
    try:
        copy_sqlite(tmp_path / "live.db", tmp_path / "copy.db")
        assert count(tmp_path / "copy.db") == 100
        assert file_problems(tmp_path / "copy.db") == []
    finally:
        live.close()


def test_folding_the_wal_makes_the_main_file_whole(tmp_path: Path) -> None:
    path, alone = tmp_path / "live.db", tmp_path / "alone.db"
    live = wal_database(path)
    try:
        alone.write_bytes(path.read_bytes())  # the main file without its WAL: no rows yet
        assert file_problems(alone) == []
        assert not has_table(alone)
        fold_wal(path)
        alone.write_bytes(path.read_bytes())
        assert count(alone) == 100
    finally:
        live.close()


def has_table(path: Path) -> bool:
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as db:
        return db.execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetchone()[0] == 1


def test_a_damaged_file_is_reported_and_nothing_is_created(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 300)
    assert file_problems(garbage) == ["file is not a database"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.db"]
