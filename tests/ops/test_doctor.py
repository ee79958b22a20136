"""`tradebotd doctor` as an operator runs it, against the Bot API emulator and a real
daemon: running, stopped, a webhook set elsewhere, a corrupt database, a stale
heartbeat, a bad config, a revoked token. It changes nothing and creates no file."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path

from daemon.emulator.client import BotControl
from tests.support.processes import TRADEBOTD, DaemonProcess, Launch


def doctor(daemon: DaemonProcess, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The operator's shell: the daemon's own settings (as the env file gives them)."""
    environ = {**daemon.env, **env}
    return subprocess.run([TRADEBOTD, "doctor", *args], env=environ, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def levels(output: str) -> dict[str, str]:
    """check name → level, from doctor's lines."""
    found = {}
    for line in output.splitlines():
        level, _, rest = line.partition("  ")
        if level.strip() in ("OK", "WARN", "FAIL"):
            found[rest.strip().split("  ")[0]] = level.strip()
    return found


def files_of(directory: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in directory.iterdir()}


def test_a_healthy_running_daemon(launch: Launch) -> None:
    daemon = launch()
    daemon.wait_for_log(r"\[hb\] alive")
    before = set(files_of(daemon.state_directory))
    done = doctor(daemon)
    assert done.returncode == 0, done.stdout + done.stderr
    found = levels(done.stdout)
    for name in ("config", "token", "webhook", "poller lock", "database", "schema",
                 "heartbeat", "ledger", "outbox", "disk", "legacy pollers"):  # fmt: skip
        assert found[name] == "OK", done.stdout
    assert f"held by pid {daemon.pid}" in done.stdout
    assert "integrity ok" in done.stdout
    assert set(files_of(daemon.state_directory)) == before
    # Never a getUpdates of its own: the running poller is the only one.
    assert daemon.bot.counters()["conflicts"] == 0
    assert daemon.bot.token.partition(":")[2] not in done.stdout + done.stderr


def test_a_stopped_daemon_warns_and_nothing_is_created(launch: Launch) -> None:
    daemon = launch()
    daemon.wait_for_log(r"\[hb\] alive")
    assert daemon.stop() == 0
    before = files_of(daemon.state_directory)
    done = doctor(daemon, "--json")
    assert done.returncode == 0, done.stdout  # WARNs do not fail
    report = json.loads(done.stdout)
    assert report["verdict"] == "WARN"
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["poller lock"]["level"] == "WARN"
    assert checks["poller lock"]["fix"] == "systemctl start tradebotd"
    assert checks["database"]["level"] == "OK"
    # No WAL or shared-memory file, no lock file rewritten: nothing at all.
    assert files_of(daemon.state_directory) == before


def test_a_webhook_set_elsewhere_fails_with_the_fix(launch: Launch, bot: BotControl) -> None:
    daemon = launch()
    assert daemon.stop() == 0
    bot.set_webhook_elsewhere("https://elsewhere.example/hook")
    done = doctor(daemon)
    assert done.returncode == 1
    assert levels(done.stdout)["webhook"] == "FAIL"
    assert (
        "a webhook is set (https://elsewhere.example/hook) while this daemon polls: "
        "getUpdates gets 409 Conflict" in done.stdout
    )
    assert "the daemon deletes the webhook before polling" in done.stdout
    assert bot.summary()["webhook"]["url"] == "https://elsewhere.example/hook"  # unchanged


def test_a_corrupt_database_fails(launch: Launch) -> None:
    daemon = launch()
    assert daemon.stop() == 0
    database = daemon.state_directory / "tradebotd.db"
    database.write_bytes(b"this is not a database" * 500)
    done = doctor(daemon)
    assert done.returncode == 1
    assert levels(done.stdout)["database"] == "FAIL"
    assert "file is not a database" in done.stdout
    assert "tradebotd restore BACKUP" in done.stdout


def test_a_stale_heartbeat_of_a_running_daemon_fails(launch: Launch) -> None:
    daemon = launch()
    daemon.wait_for_log(r"\[hb\] alive")
    daemon.signal(signal.SIGSTOP)  # stuck: it holds the lock, its heartbeat stops
    try:
        with sqlite3.connect(daemon.state_directory / "tradebotd.db", timeout=10) as db:
            db.execute("UPDATE key_value SET value = '2026-01-01T00:00:00'"
                       " WHERE key = 'heartbeat.last'")  # fmt: skip
        done = doctor(daemon)
    finally:
        daemon.signal(signal.SIGCONT)
    assert done.returncode == 1
    assert levels(done.stdout)["heartbeat"] == "FAIL"
    assert "the daemon holds the lock but its heartbeat stopped" in done.stdout


def test_a_config_error_exits_78_with_the_configs_own_words(launch: Launch) -> None:
    daemon = launch(polling_started=False)
    daemon.stop()
    done = doctor(daemon, ADMIN_IDS="42,me")
    assert done.returncode == 78
    assert done.stdout.startswith("FAIL  config  ADMIN_IDS")


def test_a_revoked_token_fails_without_showing_it(launch: Launch, bot: BotControl) -> None:
    daemon = launch()
    assert daemon.stop() == 0
    bot.revoke_token()
    done = doctor(daemon)
    assert done.returncode == 1
    assert levels(done.stdout)["token"] == "FAIL"
    assert "getMe: 401 Unauthorized" in done.stdout
    assert "put the token from @BotFather in TELEGRAM_BOT_TOKEN" in done.stdout
    assert bot.token.partition(":")[2] not in done.stdout + done.stderr
