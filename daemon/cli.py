"""The `tradebotd` command: parses arguments and runs one subcommand."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from loguru import logger

import daemon.features  # noqa: F401  # registers the features' settings sections
from daemon import __version__, guard
from daemon.config import EX_CONFIG, ConfigError, Settings, load_settings, read_env_file
from daemon.lifecycle import EX_TEMPFAIL, EX_UNAVAILABLE, Daemon
from daemon.logs import RingBuffer, setup_logging
from daemon.numbers import finite_in_range
from daemon.policy.liveness import heartbeat_stale_after
from daemon.store import outbox, schema
from daemon.store.database import (
    Database,
    open_database,
    snapshot_in_this_thread,
    transaction,
)
from daemon.trading.books import LEDGER_SCHEMA, audit_store

EX_USAGE = 64
ENV_FILE_HELP = "read NAME=value settings from this file (hosts without systemd)"


def emulator_command(args: argparse.Namespace) -> int:
    from daemon.emulator.flood import FloodSettings
    from daemon.emulator.registry import TokenError
    from daemon.emulator.server import EmulatorOptions, NotLoopbackError, serve_until_signalled

    options = EmulatorOptions(
        host=args.host,
        port=args.port,
        tokens=args.token,
        flood=FloodSettings(enabled=not args.no_flood),
        webhook_retry_seconds=args.webhook_retry,
        port_file=args.port_file,
    )
    try:
        asyncio.run(serve_until_signalled(options))
    except (NotLoopbackError, TokenError) as exc:
        print(f"tradebotd emulator: {exc}", file=sys.stderr)
        return EX_USAGE
    except OSError as exc:
        print(
            f"tradebotd emulator: cannot listen on {args.host}:{args.port}: {_reason(exc)}",
            file=sys.stderr,
        )
        return EX_UNAVAILABLE
    return 0


def apply_env_file(env_file: Path | None) -> None:
    """The file's NAME=value lines into the environment, as systemd's EnvironmentFile=
    would; values already set win. ConfigError for an unreadable or malformed file."""
    if env_file is not None:
        for name, value in read_env_file(env_file).items():
            os.environ.setdefault(name, value)


def _settings_and_lock(what: str, env_file: Path | None = None) -> tuple[Settings, int] | int:
    """Settings and the poller lock's fd, for tools that need the daemon stopped (it
    cannot start while they hold the lock); else the exit status, after saying why."""
    loaded = _settings_or_exit(require_token=False, env_file=env_file)
    if isinstance(loaded, int):
        return loaded
    settings, _ring = loaded
    try:
        return settings, guard.take_lock_file_in(settings.state_directory)
    except guard.AlreadyRunning as exc:
        logger.error("{}: {}; stop it first (systemctl stop tradebotd)", what, exc)
        return EX_TEMPFAIL


def _settings_or_exit(
    require_token: bool, env_file: Path | None = None
) -> tuple[Settings, RingBuffer] | int:
    """Settings from the environment and logging set up for them (level, the token
    redacted), or EX_CONFIG after one line naming the variable.

    With --env-file (supervisor, cron) the file's values are put into the environment
    first, as systemd's EnvironmentFile= would; values already set win.
    """
    setup_logging("INFO")
    try:
        apply_env_file(env_file)
        settings = load_settings(os.environ, require_token=require_token)
    except ConfigError as exc:
        logger.error("config: {}", exc)
        return EX_CONFIG
    ring = setup_logging(settings.log_level, settings.secrets)
    for warning in settings.warnings:
        logger.warning("config: {}", warning)
    return settings, ring


def run_command(args: argparse.Namespace) -> int:
    loaded = _settings_or_exit(require_token=True, env_file=args.env_file)
    if isinstance(loaded, int):
        return loaded
    settings, ring = loaded
    return asyncio.run(Daemon(settings, os.environ, ring).run())


def sandbox_command(args: argparse.Namespace) -> int:
    from daemon.sandbox import SANDBOX_TOKEN, run_sandbox

    ring = setup_logging(os.environ.get("LOG_LEVEL", "INFO").upper(), [SANDBOX_TOKEN])
    try:
        return asyncio.run(run_sandbox(args.port, ring))
    except ConfigError as exc:
        logger.error("config: {}", exc)
        return EX_CONFIG
    except OSError as exc:
        logger.error("sandbox: cannot listen on 127.0.0.1:{}: {}", args.port, _reason(exc))
        return EX_UNAVAILABLE


def digest_command(args: argparse.Namespace) -> int:
    from daemon.clock import utcnow
    from daemon.commands.catalogue import build_registry
    from daemon.commands.digest import admin_catalogue
    from daemon.digest.runner import DigestOptions, run_digest

    loaded = _settings_or_exit(require_token=True, env_file=args.env_file)
    if isinstance(loaded, int):
        return loaded
    settings, _ring = loaded
    options = DigestOptions(period=args.period, force=args.force, dry_run=args.dry_run)
    # The CLI hands the digest its admin catalogue: digest/ never imports commands/.
    catalogue = admin_catalogue(build_registry(), settings)
    return asyncio.run(run_digest(settings, options, utcnow(), catalogue))


def legacy_scan_command(args: argparse.Namespace) -> int:
    from daemon.ops.legacy import Needles
    from daemon.ops.legacy_scan import run_legacy_scan

    loaded = _settings_or_exit(require_token=True, env_file=args.env_file)
    if isinstance(loaded, int):
        return loaded
    settings, _ring = loaded
    assert settings.token is not None
    needles = Needles(settings.token, tuple(args.script))
    nodes = None
    if settings.ha.enabled:
        from daemon.cluster.facts import nodes_on_this_host

        nodes = nodes_on_this_host(settings)
        if nodes is None:
            print("legacy-scan: the cluster's node list cannot be read: nothing is stopped")
            args.stop = False
    return run_legacy_scan(
        needles,
        stop=args.stop and not args.dry_run,
        root=args.root,
        grace=args.grace,
        cluster_nodes=nodes,
    )


def backup_command(args: argparse.Namespace) -> int:
    from daemon.clock import utcnow
    from daemon.ops.backup import BackupError, default_path, take_backup
    from daemon.store import backups

    loaded = _settings_or_exit(require_token=False, env_file=args.env_file)
    if isinstance(loaded, int):
        return loaded
    settings, _ring = loaded
    now, url = utcnow(), settings.database_url
    target = args.path or default_path(settings.state_directory, url, now)
    try:
        verified, size = take_backup(url, target, settings.section("paper").quote)
    except BackupError as exc:
        logger.error("backup: {}; nothing was written", exc)
        return 1
    db = open_database(url)
    try:
        with transaction():
            backups.record(backups.BackupRecord(now, str(target), size))
    finally:
        db.close()
    logger.info("backup: wrote {} ({} bytes): {}", target, size, verified)
    return 0


def restore_command(args: argparse.Namespace) -> int:
    from daemon.clock import utcnow
    from daemon.ops.backup import BackupError, restore_backup

    locked = _settings_and_lock("restore", args.env_file)
    if isinstance(locked, int):
        return locked
    settings, fd = locked  # held throughout: no daemon starts on a half-replaced database
    try:
        verified, kept = restore_backup(
            settings.database_url, args.path, settings.section("paper").quote, utcnow()
        )
    except BackupError as exc:
        logger.error("restore: {}; the database was not changed", exc)
        return 1
    finally:
        os.close(fd)
    logger.info(
        "restore: restored {} ({}); the database it replaced: {}", args.path, verified, kept
    )
    return 0


def doctor_command(args: argparse.Namespace) -> int:
    from daemon.ops.doctor.run import run_doctor

    try:
        apply_env_file(args.env_file)
    except ConfigError as exc:
        print(f"FAIL  config  {exc}")
        return EX_CONFIG
    return run_doctor(os.environ, as_json=args.json)


def supervisor_watchdog_command(args: argparse.Namespace) -> int:
    from daemon.ops.supervisor_watchdog import listen

    # stdout belongs to the event-listener protocol: logging goes to stderr (the default).
    loaded = _settings_or_exit(require_token=False, env_file=args.env_file)
    if isinstance(loaded, int):
        return loaded
    settings, _ring = loaded
    stale_after = args.stale_after or heartbeat_stale_after(settings.heartbeat_interval)
    return listen(settings.state_directory, args.program, stale_after)


def db_upgrade_command(args: argparse.Namespace) -> int:
    locked = _settings_and_lock("db upgrade")
    if isinstance(locked, int):
        return locked
    settings, fd = locked  # no daemon sees its schema change underneath it
    try:
        db = open_database(settings.database_url)
        before = schema.current_version(db)
        steps = schema.upgrade(db)
        for step in steps:
            logger.info("db upgrade: {}", step)
        if not steps:
            logger.info("db upgrade: schema is at version {} already", before)
        db.close()
    except schema.SchemaError as exc:
        logger.error("db upgrade: {}", exc)
        return EX_CONFIG
    finally:
        os.close(fd)
    return 0


def config_check_command(args: argparse.Namespace) -> int:
    """Load the settings as `run` would (the env file, the TOML file it names) and say
    whether they are valid: `make upgrade` asks the new version before it stops the old."""
    loaded = _settings_or_exit(require_token=False, env_file=args.env_file)
    if isinstance(loaded, int):
        return loaded
    settings, _ring = loaded
    where = f" and {settings.config_file}" if settings.config_file else ""
    logger.info("config check: the settings{} load with tradebotd {}", where, __version__)
    return 0


def _existing_database(settings: Settings, version: int, missing: str) -> Database | None:
    """The database if its schema is at `version` or later; else None, after logging
    `missing` (which may name the URL with {})."""
    db = open_database(settings.database_url)
    if schema.current_version(db) < version:
        db.close()
        logger.error(missing, settings.database_url)
        return None
    return db


def db_clear_dead_letters_command(args: argparse.Namespace) -> int:
    """Forget the outbox's dead letters (after reading why they failed in /logs)."""
    loaded = _settings_or_exit(require_token=False)
    if isinstance(loaded, int):
        return loaded
    settings, _ring = loaded
    db = _existing_database(settings, 1, "db clear-dead-letters: no database at {}")
    if db is None:
        return EX_CONFIG
    try:
        with transaction():
            cleared = outbox.clear_dead_letters()
    finally:
        db.close()
    logger.info("db clear-dead-letters: removed {} dead letters", cleared)
    return 0


def ledger_check_command(args: argparse.Namespace) -> int:
    """Check the paper account's books: exit 0 when consistent, 1 with one line per
    problem otherwise."""
    loaded = _settings_or_exit(require_token=False)
    if isinstance(loaded, int):
        return loaded
    settings, _ring = loaded
    db = _existing_database(settings, LEDGER_SCHEMA, "ledger check: no paper-trading books at {}")
    if db is None:
        return EX_CONFIG
    try:
        # One read-only snapshot: a running daemon goes on posting, never waiting for it.
        with snapshot_in_this_thread():
            report = audit_store(settings.section("paper").quote)
    finally:
        db.close()
    for problem in report.problems:
        logger.error("ledger check: {}", problem)
    logger.info("ledger check: {}", report.summary)
    return 0 if report.clean else 1


def _reason(exc: OSError) -> str:
    # asyncio's message repeats the address; the errno text alone is the news.
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not finite_in_range(value, 0.001, 86400 * 365):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradebotd", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tradebotd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    emulator = commands.add_parser(
        "emulator", help="serve a local Telegram Bot API emulator (tests and the sandbox)"
    )
    emulator.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    emulator.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    emulator.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="register a bot with this token (repeatable); more can be "
        "created through the control API",
    )
    emulator.add_argument(
        "--no-flood",
        action="store_true",
        help="switch off 429 flood control (on by default, as on Telegram)",
    )
    emulator.add_argument(
        "--webhook-retry",
        type=positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="first delay before re-delivering to a failing webhook",
    )
    emulator.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    emulator.set_defaults(handler=emulator_command)

    run = commands.add_parser(
        "run", help="run the bot (settings from the environment; see docs/configuration.md)"
    )
    run.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    run.set_defaults(handler=run_command)

    sandbox = commands.add_parser(
        "sandbox", help="run the bot against a built-in Bot API emulator (no token needed)"
    )
    sandbox.add_argument("--port", type=int, default=8081, help="emulator port (0 picks one)")
    sandbox.set_defaults(handler=sandbox_command)

    digest = commands.add_parser(
        "digest", help="send the heartbeat digest to every admin (once per period)"
    )
    digest.add_argument("--period", choices=("day", "week"), default="day")
    digest.add_argument("--force", action="store_true", help="send even if sent already")
    digest.add_argument("--dry-run", action="store_true", help="print it; send nothing")
    digest.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    digest.set_defaults(handler=digest_command)

    legacy = commands.add_parser(
        "legacy-scan", help="find (and with --stop remove) other pollers of this token"
    )
    legacy.add_argument("--stop", action="store_true", help="stop, disable, comment out")
    legacy.add_argument("--dry-run", action="store_true", help="only list (the default)")
    legacy.add_argument(
        "--script",
        action="append",
        default=[],
        metavar="PATH",
        help="a legacy bot script; processes and entries running it count (repeatable)",
    )
    legacy.add_argument("--root", type=Path, default=Path("/"), help="scan files below this")
    legacy.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    legacy.add_argument(
        "--grace", type=positive_seconds, default=10.0, help="SIGTERM to SIGKILL, seconds"
    )
    legacy.set_defaults(handler=legacy_scan_command)

    backup = commands.add_parser(
        "backup", help="write a consistent, checked copy of the database (the daemon may run)"
    )
    backup.add_argument(
        "path", nargs="?", type=Path, help="where (default: STATE_DIRECTORY/backups/…)"
    )
    backup.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    backup.set_defaults(handler=backup_command)

    restore = commands.add_parser(
        "restore", help="put a backup in place of the database (the daemon stopped)"
    )
    restore.add_argument("path", type=Path, help="a file `tradebotd backup` wrote")
    restore.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    restore.set_defaults(handler=restore_command)

    doctor = commands.add_parser(
        "doctor", help="check this host's tradebotd: one line per check, and how to fix it"
    )
    doctor.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    doctor.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    doctor.set_defaults(handler=doctor_command)

    watchdog = commands.add_parser(
        "supervisor-watchdog",
        help="supervisor event listener: restart the daemon when its heartbeat goes stale",
    )
    watchdog.add_argument("--program", default="tradebotd", help="supervisor program name")
    watchdog.add_argument(
        "--stale-after",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="default: 3 × HEARTBEAT_INTERVAL + 30",
    )
    watchdog.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    watchdog.set_defaults(handler=supervisor_watchdog_command)

    config = commands.add_parser("config", help="configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_commands.add_parser("check", help="load the settings; exit 78 if invalid")
    check.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    check.set_defaults(handler=config_check_command)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="bring the schema to this version")
    upgrade.set_defaults(handler=db_upgrade_command)
    clear = db_commands.add_parser(
        "clear-dead-letters", help="forget outbox messages Telegram refused for good"
    )
    clear.set_defaults(handler=db_clear_dead_letters_command)

    ledger = commands.add_parser("ledger", help="the paper-trading books")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    check_books = ledger_commands.add_parser(
        "check", help="every transaction balances, lots match holdings, cash matches fills"
    )
    check_books.set_defaults(handler=ledger_check_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
