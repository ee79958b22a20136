"""The `tradebotd` command line."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.conftest import REPO, start_emulator, stop_process


def tradebotd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
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
