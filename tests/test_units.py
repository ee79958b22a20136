"""The shipped systemd units: hardening score, and timers wired to the right services."""

from __future__ import annotations

import configparser
import shutil
import subprocess

import pytest

from tests.support.processes import REPO

UNITS = REPO / "units"
DIGEST_SERVICES = ("tradebotd-digest.service", "tradebotd-digest-weekly.service")
SERVICES = ("tradebotd.service", *DIGEST_SERVICES)


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


@pytest.mark.parametrize("name", SERVICES)
def test_services_keep_an_exposure_of_at_most_1_2(name: str) -> None:
    """`systemd-analyze security` (offline) must not regress above 1.2."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (CI installs systemd)")
    result = subprocess.run(
        [
            "systemd-analyze",
            "security",
            "--offline=yes",
            "--threshold=12",
            "--no-pager",
            str(UNITS / name),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Overall exposure level" in result.stdout


@pytest.mark.parametrize(
    ("timer", "service", "period"),
    [
        ("tradebotd-digest.timer", "tradebotd-digest.service", "day"),
        ("tradebotd-digest-weekly.timer", "tradebotd-digest-weekly.service", "week"),
    ],
)
def test_each_timer_starts_its_oneshot_with_the_right_period(
    timer: str, service: str, period: str
) -> None:
    settings = unit(timer)["Timer"]
    assert settings["Unit"] == service
    assert settings["Persistent"] == "true"
    assert settings["AccuracySec"] == "1s"
    assert unit(timer)["Install"]["WantedBy"] == "timers.target"
    exec_settings = unit(service)["Service"]
    assert exec_settings["Type"] == "oneshot"
    assert (
        exec_settings["ExecStart"] == f"/opt/tradebotd/venv/bin/tradebotd digest --period {period}"
    )
    assert exec_settings["EnvironmentFile"] == "/etc/tradebotd/tradebotd.env"
    assert exec_settings["User"] == "tradebotd"


def test_every_service_shares_one_hardening_block() -> None:
    def hardening(name: str) -> list[str]:
        lines = (UNITS / name).read_text().splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("# --- hardening"))
        block = lines[start:]
        return block[: block.index("")] if "" in block else block

    blocks = [hardening(name) for name in SERVICES]
    assert all(block == blocks[0] for block in blocks)
    assert "ProtectSystem=strict" in blocks[0]


def test_no_unit_mentions_a_path_outside_the_install_layout() -> None:
    for path in UNITS.iterdir():
        text = path.read_text()
        assert "/work/" not in text, path.name
        assert "/tmp/" not in text, path.name
        assert path.suffix in (".service", ".timer")


def test_the_daemon_unit_is_a_watched_notify_service() -> None:
    service = unit("tradebotd.service")["Service"]
    assert service["Type"] == "notify"
    assert service["ExecStart"] == "/opt/tradebotd/venv/bin/tradebotd run"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["WatchdogSec"] == "90s"
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "78"
    assert service["KillMode"] == "mixed"
    assert service["StateDirectory"] == "tradebotd"
    start_limit = unit("tradebotd.service")["Unit"]
    assert start_limit["StartLimitIntervalSec"] == "10min"
    assert start_limit["StartLimitBurst"] == "5"  # 10 min > 5 × RestartSec: it bites
