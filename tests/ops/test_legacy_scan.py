"""`tradebotd legacy-scan` against real processes and a real file tree."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import REPO

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


def test_stop_signals_only_the_real_poller_among_lookalikes(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    """Real processes: `python3 bot.py` is stopped; robot.py, otherbot.py, `vim bot.py`
    and a shell that exports the token (around its own poller) are left alone, and the
    shell's child poller is stopped."""
    scripts = tmp_path / "srv"
    scripts.mkdir()
    for name in ("bot.py", "robot.py", "otherbot.py", "poll.py"):
        (scripts / name).write_text(SLEEPER.format(setup=""))

    def run(
        argv: list[str], env: dict[str, str] | None = None, **kw: object
    ) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            argv,
            env={"PATH": os.environ["PATH"], **(env or {})},
            stdout=subprocess.PIPE,
            text=True,
            **kw,  # type: ignore[call-overload]
        )
        processes.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "up"
        return process

    bot = run([sys.executable, str(scripts / "bot.py")])
    robot = run([sys.executable, str(scripts / "robot.py")])
    otherbot = run([sys.executable, str(scripts / "otherbot.py")])
    # argv[0] "vim", argv[1] bot.py: an editor open on the script (python stands in).
    vim = run(["vim", str(scripts / "bot.py")], executable=sys.executable)
    shell = run(
        ["bash", "-c", f"{sys.executable} {scripts / 'poll.py'}; echo shell-still-here; sleep 120"],
        env={"TELEGRAM_BOT_TOKEN": TOKEN},
    )
    result = legacy_scan(tmp_path / "root", "--stop", "--script", "bot.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert bot.wait(5) == -15
    assert shell.stdout is not None
    assert shell.stdout.readline().strip() == "shell-still-here"  # its poller was stopped
    for spared in (robot, otherbot, vim, shell):
        assert spared.poll() is None
    assert f"pid {shell.pid}" not in result.stdout
    assert result.stdout.count("legacy-scan: process pid ") == 2


def test_edits_keep_mode_and_owner_back_up_privately_and_refuse_symlinks(
    tmp_path: Path,
) -> None:
    legacy_tree(tmp_path)
    cron = tmp_path / "etc/cron.d/oldbot"
    os.chmod(cron, 0o640)
    if os.getuid() == 0:
        os.chown(cron, 65534, 65534)
    # An older backup is the original: it is never overwritten.
    backup = tmp_path / "etc/cron.d/oldbot.tradebotd-backup"
    backup.write_text("the very first original\n")
    # A supervisor file that is a link to somewhere else is refused, not rewritten.
    real = tmp_path / "elsewhere.conf"
    real.write_text("[program:oldbot]\ncommand=python /srv/oldbot/bot.py\n")
    (tmp_path / "etc/supervisor/conf.d/bots.conf").unlink()
    (tmp_path / "etc/supervisor/conf.d/bots.conf").symlink_to(real)
    result = legacy_scan(tmp_path, "--stop", "--script", "/srv/oldbot/bot.py")
    assert result.returncode == 1  # one removal could not be done
    stat = cron.stat()
    assert stat.st_mode & 0o7777 == 0o640
    if os.getuid() == 0:
        assert (stat.st_uid, stat.st_gid) == (65534, 65534)
    assert cron.read_text().startswith("# disabled by tradebotd legacy-scan: @reboot")
    assert backup.read_text() == "the very first original\n"
    assert f"is a symlink (to {real}); comment the lines out by hand" in result.stdout
    assert real.read_text().startswith("[program:oldbot]")
    fresh = tmp_path / "etc/systemd/system"
    assert not any(p.name.endswith(".tradebotd-tmp") for p in fresh.parent.rglob("*"))


def test_a_new_backup_is_private(tmp_path: Path) -> None:
    legacy_tree(tmp_path)
    os.chmod(tmp_path / "etc/cron.d/oldbot", 0o644)
    assert legacy_scan(tmp_path, "--stop", "--script", "/srv/oldbot/bot.py").returncode == 0
    backup = tmp_path / "etc/cron.d/oldbot.tradebotd-backup"
    assert backup.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "etc/cron.d/oldbot").stat().st_mode & 0o777 == 0o644
