"""`tradebotd backup` beside a running daemon under load, and `tradebotd restore` with
it stopped: the copy is one consistent moment (books balanced, a prefix of the live
journal), restores into a fresh state directory with the same ledger, subscribers and
settings, and bad restores change nothing. On SQLite and on PostgreSQL (pg_dump)."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from daemon.emulator.client import BotControl
from tests.support.postgres import PostgresServer
from tests.support.processes import TRADEBOTD, DaemonProcess, Launch, reply_to
from tests.trading.test_paper_daemon import ADMIN, trading_daemon

STEADY_TABLES = ("subscriber", "runtime_admin", "autosell_override")
LEDGER = "SELECT id, transaction_id, account, commodity, amount FROM ledger_posting ORDER BY id"


def tool(daemon: DaemonProcess, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TRADEBOTD, *args], env={**daemon.env, **env}, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return list(db.execute(sql))


def settle_some_state(bot: BotControl) -> None:
    """Subscribers, a runtime admin and an AutoSell override: what must come back."""
    reply_to(bot, ADMIN, "/subscribe", "Subscribed")
    reply_to(bot, ADMIN, "/admins add 4300", "4300 is now an admin.")
    reply_to(bot, ADMIN, "/autosell BTC/USDT sl=-5%", "AutoSell")


def stream_buys(bot: BotControl, count: int, done: threading.Event) -> threading.Thread:
    def send() -> None:
        for _ in range(count):
            bot.send_text(from_user=ADMIN, text="/buy BTC/USDT 0.001")
            time.sleep(0.02)  # a stream over seconds, so backups land in the middle of it
        done.set()

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_backup_under_load_restores_the_same_books(
    tmp_path: Path, bot: BotControl, launch: Launch
) -> None:
    bot.set_flood(enabled=False)
    daemon = trading_daemon(launch, tmp_path)
    settle_some_state(bot)
    sent = threading.Event()
    loader = stream_buys(bot, 200, sent)
    copies = []
    while not sent.is_set() or len(copies) < 2:
        target = tmp_path / f"copy-{len(copies)}.sqlite"
        done = tool(daemon, "backup", str(target))
        assert done.returncode == 0, done.stderr
        assert f"backup: wrote {target}" in done.stderr
        assert "consistent" in done.stderr
        copies.append(target)
    loader.join()
    bot.wait_for_sent(chat_id=ADMIN, count=203, timeout=60)
    live = daemon.state_directory / "tradebotd.db"
    assert daemon.stop() == 0

    # Each copy is one moment: its journal is a prefix of the live one, balanced.
    journal = rows(live, LEDGER)
    for copy in copies:
        copied = rows(copy, LEDGER)
        assert copied == journal[: len(copied)]
        assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert len(rows(copies[0], LEDGER)) < len(journal)  # it was taken while buys streamed

    # Restored into a fresh state directory: the same ledger, subscribers and settings.
    fresh = tmp_path / "fresh"
    final = tmp_path / "final.sqlite"
    assert tool(daemon, "backup", str(final)).returncode == 0
    restored = tool(daemon, "restore", str(final), STATE_DIRECTORY=str(fresh))
    assert restored.returncode == 0, restored.stderr
    assert "restore: restored" in restored.stderr
    assert "the database it replaced: there was none" in restored.stderr
    assert rows(fresh / "tradebotd.db", LEDGER) == journal
    for table in STEADY_TABLES:
        query = f"SELECT * FROM {table} ORDER BY 1"
        assert rows(fresh / "tradebotd.db", query) == rows(live, query), table
    checked = tool(daemon, "ledger", "check", STATE_DIRECTORY=str(fresh))
    assert checked.returncode == 0
    assert f"{len({r[1] for r in journal})} transactions" in checked.stderr
    # The last backup is recorded in the live database (the digest and doctor say it).
    recorded = rows(live, "SELECT value FROM key_value WHERE key = 'backup.last'")
    assert str(final) in str(recorded[0][0])


def test_restore_is_refused_while_the_daemon_runs(tmp_path: Path, launch: Launch) -> None:
    daemon = launch()
    target = tmp_path / "copy.sqlite"
    assert tool(daemon, "backup", str(target)).returncode == 0
    database = daemon.state_directory / "tradebotd.db"
    before = rows(database, "SELECT key, value FROM key_value WHERE key = 'schema.version'")
    refused = tool(daemon, "restore", str(target))
    assert refused.returncode == 75
    assert f"another tradebotd (pid {daemon.pid}) already holds the lock" in refused.stderr
    assert "stop it first (systemctl stop tradebotd)" in refused.stderr
    assert rows(database, "SELECT key, value FROM key_value WHERE key = 'schema.version'") == before
    assert not list(daemon.state_directory.glob("*.before-restore-*"))


def test_a_bad_backup_is_refused_and_changes_nothing(tmp_path: Path, launch: Launch) -> None:
    daemon = launch()
    assert daemon.stop() == 0
    database = daemon.state_directory / "tradebotd.db"
    digest = hashlib.sha256(database.read_bytes()).hexdigest()
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"not a database at all" * 100)
    refused = tool(daemon, "restore", str(corrupt))
    assert refused.returncode == 1
    assert "file is not a database; the database was not changed" in refused.stderr
    missing = tool(daemon, "restore", str(tmp_path / "nothing.sqlite"))
    assert f"no backup at {tmp_path / 'nothing.sqlite'}" in missing.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in daemon.state_directory.iterdir() if "restor" in p.name) == []
    # A backup never overwrites: an existing PATH is refused.
    taken = tool(daemon, "backup", str(corrupt))
    assert taken.returncode == 1
    assert f"{corrupt} exists already: choose another PATH; nothing was written" in taken.stderr


def test_restore_over_an_existing_database_keeps_it_aside(tmp_path: Path, launch: Launch) -> None:
    daemon = launch()
    target = tmp_path / "copy.sqlite"
    assert tool(daemon, "backup", str(target)).returncode == 0
    assert daemon.stop() == 0
    restored = tool(daemon, "restore", str(target))
    assert restored.returncode == 0, restored.stderr
    aside = list(daemon.state_directory.glob("tradebotd.db.before-restore-*"))
    assert len(aside) == 1
    assert f"kept as {aside[0]}" in restored.stderr
    assert daemon.start().wait_polling()  # the restored database serves the daemon


def test_postgresql_backup_and_restore_with_pg_dump(
    tmp_path: Path, bot: BotControl, launch: Launch, postgres: PostgresServer
) -> None:
    bot.set_flood(enabled=False)
    source = postgres.create_database()
    daemon = trading_daemon(launch, tmp_path, DATABASE_URL=source)
    settle_some_state(bot)
    for n in range(1, 4):
        bot.send_text(from_user=ADMIN, text="/buy BTC/USDT 0.01")
        bot.wait_for_sent(chat_id=ADMIN, count=3 + n)
    dump = tmp_path / "pg.dump"
    taken = tool(daemon, "backup", str(dump))
    assert taken.returncode == 0, taken.stderr
    assert "consistent" in taken.stderr
    assert daemon.stop() == 0
    other = postgres.create_database()
    restored = tool(daemon, "restore", str(dump), DATABASE_URL=other)
    assert restored.returncode == 0, restored.stderr
    assert "replaced in one transaction" in restored.stderr
    assert postgres.query(other, LEDGER) == postgres.query(source, LEDGER)
    for table in STEADY_TABLES:
        query = f"SELECT * FROM {table} ORDER BY 1"
        assert postgres.query(other, query) == postgres.query(source, query), table
