"""scripts/install-lib.sh, the installer's helpers, run by a real bash on their own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.processes import REPO

LIB = REPO / "scripts/install-lib.sh"


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . "{LIB}"; {script}'],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_env_values_are_read_as_data_never_run(tmp_path: Path) -> None:
    """`ADMIN_IDS=1, 2` is valid for systemd; sourced by bash it runs `2`. Command
    substitutions in a value stay text."""
    env_file = tmp_path / "tradebotd.env"
    env_file.write_text(
        "# comment\n"
        "ADMIN_IDS=1, 2\n"
        "LEGACY_SCRIPTS=$(touch pwned) /srv/bot.py\n"
        '  WEBHOOK_URL="https://bot.example/hook"  \n'
        "POLLING_ENABLED=0\n"
        "POLLING_ENABLED=1\n"
    )
    for name, expected in (
        ("ADMIN_IDS", "1, 2"),
        ("LEGACY_SCRIPTS", "$(touch pwned) /srv/bot.py"),
        ("WEBHOOK_URL", "https://bot.example/hook"),
        ("POLLING_ENABLED", "1"),  # the last assignment wins, as for systemd
        ("MISSING", ""),
    ):
        result = bash(f'env_value "{env_file}" {name}', tmp_path)
        assert (result.returncode, result.stdout) == (0, expected), name
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "2").exists()


def test_the_start_marker_follows_the_mode(tmp_path: Path) -> None:
    """Polling, webhook or neither: the installer never claims a polling failure for a
    daemon that was told not to poll."""
    env_file = tmp_path / "tradebotd.env"
    for text, marker in (
        ("POLLING_ENABLED=1\n", "Polling service started successfully"),
        (
            "POLLING_ENABLED=0\nWEBHOOK_URL=https://bot.example/h\n",
            "webhook mode: Telegram delivers to ",
        ),
        ("POLLING_ENABLED=0\n", "NOT polling (POLLING_ENABLED is not 1)"),
    ):
        env_file.write_text(text)
        assert bash(f'start_marker "{env_file}"', tmp_path).stdout == marker


def test_only_the_daemons_own_409_lines_count_as_a_conflict(tmp_path: Path) -> None:
    """Not `grep 409`: PIDs, offsets and bot names with 409 in them are not conflicts."""
    journal = "\n".join(
        (
            "ready in 0.31s: @desk409bot (pid 4091), offset 409, polling",
            "[hb] alive offset=14090 updates=409 replies=409",
            "Polling service started successfully",
            "getUpdates: 409 Conflict: terminated by other getUpdates request; make sure that "
            "only one bot instance is running; retrying in 1.0s",
            "409 Conflict: terminated by other getUpdates request; make sure that only one "
            "bot instance is running (3 times within 120s): another process is polling",
            "getUpdates: still in conflict; next poll in 14.2s",
        )
    )
    (tmp_path / "journal").write_text(journal + "\n")
    lines = bash("conflict_lines < journal", tmp_path).stdout.splitlines()
    assert [line[:22] for line in lines] == [
        "getUpdates: 409 Confli",
        "409 Conflict: terminat",
        "getUpdates: still in c",
    ]
    (tmp_path / "quiet").write_text("\n".join(journal.splitlines()[:3]) + "\n")
    assert bash("conflict_lines < quiet", tmp_path).stdout == ""


def test_a_failure_after_stopping_a_running_service_starts_it_again(tmp_path: Path) -> None:
    """systemctl is a shell function recording its calls: a failing step after the stop
    starts the service again; a failure before the stop, or a service that was not
    running, does not."""
    fake = (
        'systemctl() { echo "systemctl $*" >> calls; [ "$1" != is-active ] || [ "$ACTIVE" = 1 ]; }'
    )
    failed_after_stop = bash(
        f"{fake}; arm_restore; systemctl stop tradebotd.service; SERVICE_STOPPED=1; false",
        tmp_path,
        ACTIVE="1",
    )
    assert failed_after_stop.returncode == 1
    assert "install: failed after stopping tradebotd: starting it again" in failed_after_stop.stderr
    assert (tmp_path / "calls").read_text().splitlines() == [
        "systemctl is-active --quiet tradebotd.service",
        "systemctl stop tradebotd.service",
        "systemctl start tradebotd.service",
    ]
    (tmp_path / "calls").unlink()
    assert bash(f"{fake}; arm_restore; false", tmp_path, ACTIVE="1").returncode == 1
    assert "start" not in (tmp_path / "calls").read_text()
    (tmp_path / "calls").unlink()
    bash(f"{fake}; arm_restore; SERVICE_STOPPED=1; false", tmp_path, ACTIVE="0")
    assert "start" not in (tmp_path / "calls").read_text()
    (tmp_path / "calls").unlink()
    ok = bash(
        f"{fake}; arm_restore; SERVICE_STOPPED=1; SERVICE_STOPPED=0; true", tmp_path, ACTIVE="1"
    )
    assert ok.returncode == 0
    assert "start" not in (tmp_path / "calls").read_text()
