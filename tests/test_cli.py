"""The `tradebotd` command line."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

import httpx

from daemon.emulator.client import BotControl
from daemon.emulator.launcher import start_emulator, stop_process
from daemon.store import outbox, schema
from daemon.store.database import open_database
from daemon.store.outbox import Priority, Receiver
from tests.support.processes import REPO, TRADEBOTD


def tradebotd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRADEBOTD, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={"PATH": os.environ["PATH"], **(env or {})} if env is not None else None,
    )


def test_version() -> None:
    from daemon import __version__

    assert tradebotd("--version").stdout.strip() == f"tradebotd {__version__}"


def test_the_emulator_refuses_to_listen_beyond_loopback() -> None:
    result = tradebotd("emulator", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 64
    assert result.stderr.strip() == (
        "tradebotd emulator: --host '0.0.0.0' is not a loopback address (127.0.0.0/8, ::1)"
    )


def test_a_malformed_token_is_refused() -> None:
    result = tradebotd("emulator", "--port", "0", "--token", "no-colon")
    assert result.returncode == 64
    assert result.stderr.strip() == "tradebotd emulator: a token is <numeric bot id>:<secret>"


def test_the_emulator_serves_the_tokens_it_was_given(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`tradebotd emulator --token` registers the bot, answers getMe, stops on SIGTERM."""
    process, url = start_emulator(tmp_path, "--token", "123456:sandbox-secret")
    try:
        me = httpx.get(f"{url}/bot123456:sandbox-secret/getMe").json()
    finally:
        stop_process(process)
    assert me["result"]["id"] == 123456
    assert process.returncode == 0
    assert "stopped after serving 1 bot(s)" in (tmp_path / "emulator.log").read_text()


def test_a_port_in_use_is_one_clear_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A second sandbox on the same port says so instead of printing a traceback."""
    process, url = start_emulator(tmp_path)
    port = url.rsplit(":", 1)[1]
    try:
        result = tradebotd("emulator", "--port", port)
    finally:
        stop_process(process)
    assert result.returncode == 69
    assert result.stderr.strip() == (
        f"tradebotd emulator: cannot listen on 127.0.0.1:{port}: address already in use"
    )


def test_the_webhook_retry_must_be_positive() -> None:
    result = tradebotd("emulator", "--port", "0", "--webhook-retry", "-1")
    assert result.returncode == 2
    assert "--webhook-retry: must be a positive number of seconds, got '-1'" in result.stderr
    for text in ("nan", "inf"):
        result = tradebotd("emulator", "--port", "0", "--webhook-retry", text)
        assert result.returncode == 2
        assert f"--webhook-retry: must be a positive number of seconds, got '{text}'" in (
            result.stderr
        )


def test_run_without_a_token_is_one_config_line_and_status_78(tmp_path: Path) -> None:
    """EX_CONFIG, one line naming the variable, nothing created."""
    result = tradebotd("run", env={"STATE_DIRECTORY": str(tmp_path / "state")})
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        "ERROR    config: TELEGRAM_BOT_TOKEN: not set (put the token from "
        "@BotFather in the env file; `make run` without a token starts the "
        "sandbox instead)"
    )
    assert not (tmp_path / "state").exists()


def test_run_with_a_bad_variable_names_it(tmp_path: Path) -> None:
    result = tradebotd(
        "run",
        env={
            "TELEGRAM_BOT_TOKEN": "1:" + "a" * 30,
            "ADMIN_IDS": "me",
            "STATE_DIRECTORY": str(tmp_path),
        },
    )
    assert result.returncode == 78
    assert "config: ADMIN_IDS: 'me' is not a Telegram user id" in result.stderr


def test_a_token_the_api_rejects_is_a_config_error_and_never_printed(
    tmp_path: Path, bot: BotControl
) -> None:
    """401 from getMe: EX_CONFIG, and neither the token nor its secret half in the output."""
    token = f"{bot.id}:wrong-secret-that-must-not-leak-000"
    result = tradebotd(
        "run",
        env={
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": bot.api_root,
            "STATE_DIRECTORY": str(tmp_path / "state"),
            "POLLING_ENABLED": "1",
            "LOG_LEVEL": "DEBUG",
        },
    )
    assert result.returncode == 78
    assert f"TELEGRAM_BOT_TOKEN: rejected by the Bot API at {bot.api_root}" in result.stderr
    assert "wrong-secret-that-must-not-leak" not in result.stderr + result.stdout


def test_db_upgrade_creates_then_reports_the_schema(tmp_path: Path) -> None:
    env = {"STATE_DIRECTORY": str(tmp_path / "state")}
    first = tradebotd("db", "upgrade", env=env)
    assert first.returncode == 0
    assert f"db upgrade: created schema version {schema.latest_version()}" in first.stderr
    again = tradebotd("db", "upgrade", env=env)
    assert f"db upgrade: schema is at version {schema.latest_version()} already" in again.stderr


def test_db_clear_dead_letters_removes_only_dead_letters(tmp_path: Path) -> None:
    """The way out /health points to: dead letters go, queued messages stay."""
    state = tmp_path / "state"
    env = {"STATE_DIRECTORY": str(state)}
    assert tradebotd("db", "upgrade", env=env).returncode == 0
    db = open_database(f"sqlite:///{state / 'tradebotd.db'}")
    with db.atomic():
        for text in ("refused", "refused too", "waiting"):
            outbox.enqueue(Receiver.chat(7), text, datetime(2026, 11, 29), priority=Priority.REPLY)
        outbox.failed(1, "Forbidden: bot was blocked by the user")
        outbox.failed(2, "Bad Request: chat not found")
    db.close()
    result = tradebotd("db", "clear-dead-letters", env=env)
    assert result.returncode == 0
    assert "db clear-dead-letters: removed 2 dead letters" in result.stderr
    db = open_database(f"sqlite:///{state / 'tradebotd.db'}")
    assert db.execute_sql("SELECT text FROM outbox_message").fetchall() == [("waiting",)]
    db.close()
