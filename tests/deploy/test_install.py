"""`make install` / `make uninstall` into a directory (DESTDIR): the tree an operator gets."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from daemon.config import load_settings
from tests.support.processes import REPO

TOKEN = "123456:install-test-token-not-a-real-one0"


def make(target: str, destdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target, f"DESTDIR={destdir}"],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **env},
        stdin=subprocess.DEVNULL,  # not a terminal: no prompts
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    result = make("install", root, TELEGRAM_BOT_TOKEN=TOKEN, ADMIN_IDS="42")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def test_install_lays_out_venv_units_and_settings(installed: Path) -> None:
    python = installed / "opt/tradebotd/venv/bin/python"
    version = subprocess.run(
        [python, "-m", "daemon", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("tradebotd ")
    # The console script too: the venv was built as venv.new and its shebangs moved.
    script = installed / "opt/tradebotd/venv/bin/tradebotd"
    assert script.read_text().splitlines()[0].startswith(f"#!{installed}/opt/tradebotd/venv/bin/")
    console = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert console.stdout == version.stdout
    for unit in (
        "tradebotd.service",
        "tradebotd-digest.service",
        "tradebotd-digest.timer",
        "tradebotd-digest-weekly.service",
        "tradebotd-digest-weekly.timer",
    ):
        assert (installed / "etc/systemd/system" / unit).read_text() == (
            REPO / "units" / unit
        ).read_text()
    assert (installed / "opt/tradebotd/docs/operations.md").exists()


def test_the_env_file_is_private_has_the_token_and_polls(installed: Path) -> None:
    env_file = installed / "etc/tradebotd/tradebotd.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o640
    values = dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values["TELEGRAM_BOT_TOKEN"] == TOKEN
    assert values["ADMIN_IDS"] == "42"
    assert values["POLLING_ENABLED"] == "1"
    values["TRADEBOTD_CONFIG"] = str(installed / "etc/tradebotd/config.toml")
    assert load_settings(values).polling_enabled


def test_a_second_install_never_overwrites_settings(installed: Path) -> None:
    env_file = installed / "etc/tradebotd/tradebotd.env"
    env_file.write_text(env_file.read_text() + "LOG_LEVEL=DEBUG\n")
    result = make("install", installed, TELEGRAM_BOT_TOKEN="999:something-else-entirely-000000")
    assert result.returncode == 0, result.stderr
    assert "install: kept " in result.stdout
    assert env_file.read_text().endswith("LOG_LEVEL=DEBUG\n")
    assert TOKEN in env_file.read_text()


def test_without_a_token_it_installs_and_says_what_to_fill_in(tmp_path: Path) -> None:
    result = make("install", tmp_path)
    assert result.returncode == 0, result.stderr
    env = (tmp_path / "etc/tradebotd/tradebotd.env").read_text()
    assert "TELEGRAM_BOT_TOKEN=\n" in env
    assert "install: no token yet: fill in TELEGRAM_BOT_TOKEN and ADMIN_IDS" in result.stdout
    uninstall = make("uninstall", tmp_path)
    assert uninstall.returncode == 0
    assert not (tmp_path / "opt/tradebotd").exists()
    assert not list((tmp_path / "etc/systemd/system").iterdir())
    assert (tmp_path / "etc/tradebotd/tradebotd.env").exists()  # kept without PURGE=1
    assert make("uninstall", tmp_path, PURGE="1").returncode == 0
    assert not (tmp_path / "etc/tradebotd").exists()


def test_on_a_terminal_it_asks_without_echoing_the_token(tmp_path: Path) -> None:
    """stdin a terminal and no env file: prompts; the token typed is not echoed back."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "install", f"DESTDIR={tmp_path}"],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        while marker not in seen:
            ready, _, _ = select.select([controller], [], [], 120)
            assert ready, f"no {marker!r} in {seen!r}"
            seen += os.read(controller, 4096)

    read_until(b"Telegram bot token (from @BotFather): ")
    os.write(controller, TOKEN.encode() + b"\n")
    read_until(b"Admin Telegram user ids (comma-separated): ")
    os.write(controller, b"42,43\n")
    with contextlib.suppress(OSError):  # EIO once the child side closes
        read_until(b"installed into")
    assert process.wait(600) == 0
    os.close(controller)
    assert TOKEN.encode() not in seen
    env = (tmp_path / "etc/tradebotd/tradebotd.env").read_text()
    assert f"TELEGRAM_BOT_TOKEN={TOKEN}\n" in env
    assert "ADMIN_IDS=42,43\n" in env


def test_upgrade_needs_an_installation(tmp_path: Path) -> None:
    result = make("upgrade", tmp_path)
    assert result.returncode != 0
    assert f"install: nothing to upgrade at {tmp_path}: run make install first" in result.stderr


# Commands the installer could hand a token to; each is wrapped to record its arguments.
WRAPPED = [
    "sed",
    "grep",
    "install",
    "mv",
    "cp",
    "chmod",
    "chown",
    "mkdir",
    "rm",
    "cat",
    "tee",
    "awk",
    "env",
    "xargs",
    "head",
    "tail",
    "cut",
    "tr",
    "date",
    "seq",
    "id",
    "basename",
    "dirname",
    "readlink",
    "printf",
    "echo",
    "touch",
    "ln",
    "find",
    "sort",
]


def test_the_token_never_reaches_a_command_line(tmp_path: Path) -> None:
    """From TELEGRAM_BOT_TOKEN_FILE into the env file through shell builtins only: every
    external command the install runs is wrapped, and none was given the token."""
    wrappers, log = tmp_path / "bin", tmp_path / "argv.log"
    wrappers.mkdir()
    for name in WRAPPED:
        real = shutil.which(name)
        if real is None:
            continue
        wrapper = wrappers / name
        wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >> "{log}"\nexec {real} "$@"\n')
        wrapper.chmod(0o755)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    root = tmp_path / "root"
    result = subprocess.run(
        ["make", "--no-print-directory", "install", f"DESTDIR={root}"],
        cwd=REPO,
        env={
            "PATH": f"{wrappers}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", "/root"),
            "TELEGRAM_BOT_TOKEN_FILE": str(token_file),
            "ADMIN_IDS": "42",
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"TELEGRAM_BOT_TOKEN={TOKEN}\n" in (root / "etc/tradebotd/tradebotd.env").read_text()
    recorded = log.read_text()
    assert "chmod 0640" in recorded  # the wrappers did see the install's commands
    assert TOKEN.split(":", 1)[1] not in recorded
    assert TOKEN.split(":", 1)[1] not in result.stdout + result.stderr


def test_docs_never_show_a_token_on_a_command_line() -> None:
    """`TELEGRAM_BOT_TOKEN=… make …` puts the token in shell history and teaches it."""
    on_a_command = re.compile(
        r"(sudo\s+)?TELEGRAM_BOT_TOKEN=\S+\s+(\S+=\S*\s+)*(sudo|make|tradebotd|python|env)\b"
    )
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for line in doc.read_text().splitlines():
            assert not on_a_command.search(line), f"{doc.name}: {line}"


def test_config_toml_is_private_like_the_env_file(installed: Path) -> None:
    """It will hold receiver URLs and ingest secrets: 0640, as the env file."""
    config = installed / "etc/tradebotd/config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o640


def test_an_upgrade_refuses_kept_settings_the_new_version_rejects(tmp_path: Path) -> None:
    """`make upgrade` asks the new version to load the kept settings before it touches
    anything: a bad config.toml stops it with the reason, the installed venv unchanged."""
    assert make("install", tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, ADMIN_IDS="42").returncode == 0
    script = tmp_path / "opt/tradebotd/venv/bin/tradebotd"
    before = script.stat().st_mtime_ns
    config = tmp_path / "etc/tradebotd/config.toml"
    config.write_text("[polling]\ntimeout = 99\n")
    result = make("upgrade", tmp_path)
    assert result.returncode != 0
    assert f"config: {config}: polling.timeout: must be between 1 and 50, got 99" in result.stderr
    assert (
        f"install: the kept settings in {tmp_path}/etc/tradebotd do not load with the new "
        "version (above); nothing was changed"
    ) in result.stderr
    assert script.stat().st_mtime_ns == before
    assert not (tmp_path / "opt/tradebotd/venv.new").exists()
    config.write_text("[polling]\ntimeout = 20\n")
    assert make("upgrade", tmp_path).returncode == 0
