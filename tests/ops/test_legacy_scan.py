"""`tradebotd legacy-scan` against real processes and a real file tree."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.emulator.launcher import REPO

TOKEN = "424242:legacy-scan-test-token-not-real-00000"
OTHER = "535353:someone-elses-bot-token-not-real-0000"
SLEEPER = "import signal, sys, time\n{setup}\nprint('up', flush=True)\ntime.sleep(120)\n"


def spawn(token: str, ignore_term: bool = False) -> subprocess.Popen[str]:
    setup = "signal.signal(signal.SIGTERM, signal.SIG_IGN)" if ignore_term else ""
    process = subprocess.Popen(
        [sys.executable, "-c", SLEEPER.format(setup=setup)],
        env={"PATH": os.environ["PATH"], "TELEGRAM_BOT_TOKEN": token},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "up"
    return process


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def legacy_scan(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", "legacy-scan", "--root", str(root), "--grace", "1", *args],
        env={"PATH": os.environ["PATH"], "TELEGRAM_BOT_TOKEN": TOKEN},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def legacy_tree(root: Path) -> None:
    (root / "etc/cron.d").mkdir(parents=True)
    (root / "etc/cron.d/oldbot").write_text("@reboot root python /srv/oldbot/bot.py\n")
    (root / "etc/supervisor/conf.d").mkdir(parents=True)
    (root / "etc/supervisor/conf.d/bots.conf").write_text(
        "[program:web]\ncommand=gunicorn app\n\n"
        "[program:oldbot]\ncommand=python /srv/oldbot/bot.py\n"
    )
    units = root / "etc/systemd/system"
    (units / "multi-user.target.wants").mkdir(parents=True)
    (units / "oldbot.service").write_text(
        "[Service]\nExecStart=/usr/bin/python3 /srv/oldbot/bot.py\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    (units / "multi-user.target.wants/oldbot.service").symlink_to(units / "oldbot.service")


def test_listing_changes_nothing(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    legacy_tree(tmp_path)
    poller = spawn(TOKEN)
    processes.append(poller)
    result = legacy_scan(tmp_path, "--script", "/srv/oldbot/bot.py")
    assert result.returncode == 0
    assert f"legacy-scan: process pid {poller.pid}: " in result.stdout
    assert "has the token in its environment" in result.stdout
    assert f"cron {tmp_path}/etc/cron.d/oldbot:1" in result.stdout
    assert "supervisor " in result.stdout
    assert f"unit {tmp_path}/etc/systemd/system/oldbot.service" in result.stdout
    assert "4 found; run with --stop to remove them" in result.stdout
    assert poller.poll() is None
    assert "#" not in (tmp_path / "etc/cron.d/oldbot").read_text()


def test_stop_removes_every_kind_and_spares_other_bots(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    legacy_tree(tmp_path)
    polite, stubborn, other = spawn(TOKEN), spawn(TOKEN, ignore_term=True), spawn(OTHER)
    processes += [polite, stubborn, other]
    result = legacy_scan(tmp_path, "--stop", "--script", "/srv/oldbot/bot.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"pid {polite.pid}" in result.stdout
    assert polite.wait(5) == -15
    assert stubborn.wait(5) == -9
    assert "killed (SIGKILL after 1s)" in result.stdout
    assert other.poll() is None  # another token's bot is none of our business
    cron = (tmp_path / "etc/cron.d/oldbot").read_text()
    assert cron.startswith("# disabled by tradebotd legacy-scan: @reboot")
    assert (tmp_path / "etc/cron.d/oldbot.tradebotd-backup").read_text().startswith("@reboot")
    supervisor = (tmp_path / "etc/supervisor/conf.d/bots.conf").read_text()
    assert "# disabled by tradebotd legacy-scan: [program:oldbot]" in supervisor
    assert "\n[program:web]" in "\n" + supervisor
    assert not (tmp_path / "etc/systemd/system/multi-user.target.wants/oldbot.service").exists()
    again = legacy_scan(tmp_path, "--script", "/srv/oldbot/bot.py")
    assert "legacy-scan: no other poller of this token found" in again.stdout


def test_a_token_on_a_legacy_command_line_is_not_printed_back(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    """`python bot.py --token …` is found by its command line, and reported redacted."""
    poller = subprocess.Popen(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(120)", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.append(poller)
    assert poller.stdout is not None
    assert poller.stdout.readline().strip() == "up"
    result = legacy_scan(tmp_path)
    assert f"legacy-scan: process pid {poller.pid}: " in result.stdout
    assert "has the token in its command line" in result.stdout
    assert TOKEN.split(":", 1)[1] not in result.stdout + result.stderr
    assert "424242:<redacted>" in result.stdout
