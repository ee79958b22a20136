"""`tradebotd backup [PATH]` and `tradebotd restore PATH`: copies of the store.

Backup runs beside the daemon. SQLite: the online backup API copies pages from one read
transaction, so the copy is the database as of one moment while the daemon goes on
writing. PostgreSQL: `pg_dump` (custom format), which reads from one snapshot. The copy
is written under a temporary name, synced, checked (integrity, schema version, the
ledger) and only then renamed to PATH: a PATH never holds half a backup or a bad one.

Restore runs with the daemon stopped (the caller holds the poller lock, so it cannot
start meanwhile). The backup is checked first; the database it replaces is kept beside
it (SQLite) or replaced in one transaction (PostgreSQL); the result is checked again.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from daemon.guard import give_to_directory_owner
from daemon.store import schema
from daemon.store.copies import copy_sqlite, file_problems, fold_wal
from daemon.store.database import (
    StoreError,
    open_read_only,
    postgres_options,
    snapshot_in_this_thread,
    sqlite_path,
)
from daemon.trading.books import LEDGER_SCHEMA, audit_store


class BackupError(RuntimeError):
    """str() says what went wrong; nothing was changed."""


@dataclass(frozen=True)
class Verified:
    schema: int
    ledger: str  # "N transactions, M postings: consistent", or "no books"

    def __str__(self) -> str:
        return f"schema version {self.schema}, ledger {self.ledger}"


def default_path(state_directory: Path, url: str, now: datetime) -> Path:
    suffix = "sqlite" if sqlite_path(url) is not None else "pgdump"
    return state_directory / "backups" / f"tradebotd-{now:%Y%m%d-%H%M%S}.{suffix}"


# -- checks -------------------------------------------------------------------------------
def verify_database(url: str, quote: str) -> Verified:
    """The schema and the books of the database at `url`, opened read-only and read in
    one snapshot; BackupError when the books do not balance or the schema is newer than
    this tradebotd's."""
    try:
        db = open_read_only(url)
    except (FileNotFoundError, StoreError) as exc:
        raise BackupError(str(exc)) from None
    try:
        with snapshot_in_this_thread():
            version = schema.current_version(db)
            if version > schema.latest_version():
                raise BackupError(
                    f"schema version {version} is newer than this tradebotd's "
                    f"{schema.latest_version()}"
                )
            if version < LEDGER_SCHEMA:
                return Verified(version, "no books")
            report = audit_store(quote)
    except StoreError as exc:
        raise BackupError(str(exc)) from None
    finally:
        db.close()
    if not report.clean:
        raise BackupError(f"ledger check: {len(report.problems)} problems: {report.problems[0]}")
    return Verified(version, report.summary)


def verify_sqlite_file(path: Path, quote: str) -> Verified:
    problems = file_problems(path)
    if problems:
        raise BackupError(f"{path}: {'; '.join(problems[:3])}")
    return verify_database(f"sqlite:///{path}", quote)


# -- PostgreSQL ---------------------------------------------------------------------------
def pg_arguments(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump and pg_restore; the password goes in PGPASSWORD,
    never on a command line (which every local user can read)."""
    options = postgres_options(url)
    args = ["--dbname", str(options["database"])]
    for key, flag in (("host", "--host"), ("port", "--port"), ("user", "--username")):
        if options.get(key):
            args += [flag, str(options[key])]
    env = dict(os.environ)
    if options.get("password"):
        env["PGPASSWORD"] = str(options["password"])
    return args, env


def run_pg_tool(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise BackupError(f"{command[0]} failed: {lines[-1] if lines else done.returncode}")


# -- the two commands ---------------------------------------------------------------------
def take_backup(url: str, target: Path, quote: str) -> tuple[Verified, int]:
    """Write a checked backup to `target`; what was checked, and its size in bytes."""
    if target.exists():
        raise BackupError(f"{target} exists already: choose another PATH")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite_path(url)
    try:
        if source is not None:
            if not source.is_file():
                raise BackupError(f"no database at {source}")
            copy_sqlite(source, partial)
            verified = verify_sqlite_file(partial, quote)
        else:
            verified = verify_database(url, quote)
            args, env = pg_arguments(url)
            dump = ["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), *args]
            run_pg_tool(dump, env)
        os.chmod(partial, 0o600)  # the copy holds what the database holds
        partial.rename(target)
    except (OSError, StoreError) as exc:
        raise BackupError(f"backup to {target} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return verified, target.stat().st_size


def restore_backup(url: str, backup: Path, quote: str, now: datetime) -> tuple[Verified, str]:
    """Put `backup` in place of the database at `url` (the daemon stopped); what the
    restored database holds, and what became of the one it replaced."""
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    target = sqlite_path(url)
    if target is None:
        args, env = pg_arguments(url)
        run_pg_tool(["pg_restore", "--list", str(backup)], env)  # a dump, readable
        restore = ["pg_restore", "--clean", "--if-exists", "--no-owner",
                   "--single-transaction", *args, str(backup)]  # fmt: skip
        run_pg_tool(restore, env)
        return verify_database(url, quote), "replaced in one transaction"
    before = verify_sqlite_file(backup, quote)
    incoming = target.with_name(target.name + ".restoring")
    incoming.unlink(missing_ok=True)
    kept = "there was none"
    try:
        copy_sqlite(backup, incoming)
        give_to_directory_owner(incoming)  # the service user's, even from root
        os.chmod(incoming, 0o600)
        if target.exists():
            fold_wal(target)  # so that the old database is whole on its own, aside
            aside = target.with_name(f"{target.name}.before-restore-{now:%Y%m%d-%H%M%S}")
            target.rename(aside)
            kept = f"kept as {aside}"
        for leftover in ("-wal", "-shm"):
            target.with_name(target.name + leftover).unlink(missing_ok=True)
        incoming.rename(target)
    except (OSError, StoreError) as exc:
        raise BackupError(f"restore into {target} failed: {exc}") from None
    finally:
        incoming.unlink(missing_ok=True)
    after = verify_database(url, quote)
    if after.schema != before.schema:
        raise BackupError(f"restored schema {after.schema}, backup has {before.schema}")
    return after, kept
