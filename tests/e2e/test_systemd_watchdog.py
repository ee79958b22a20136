"""A real systemd manager kills and restarts a daemon whose poller hangs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.emulator.client import BotControl
from tests.e2e.systemd_user import UserManager, require_user_manager
from tests.processes import FAST_CONFIG, REPO, wait_until

UNIT = """\
[Unit]
Description=tradebotd under test

[Service]
Type=notify
ExecStart={python} -m daemon run
WorkingDirectory={repo}
Environment=TELEGRAM_BOT_TOKEN={token}
Environment=TELEGRAM_API_URL={api}
Environment=POLLING_ENABLED=1
Environment=STATE_DIRECTORY={state}
Environment=TRADEBOTD_CONFIG={config}
Environment=HEARTBEAT_INTERVAL=1
Environment=PTB_TIMEDELTA=1
Environment=PYTHONFAULTHANDLER=1
# Pings every second; a poll that hangs past timeout+grace (4 s) stops them, and systemd
# acts 2 s later, before httpx's own read timeout (7 s) could rescue the poll.
WatchdogSec=2
Restart=on-failure
RestartSec=1
# systemd hands the outcome to ExecStopPost; keep it where the test can read it.
ExecStopPost=/bin/sh -c 'echo "systemd: result=$$SERVICE_RESULT signal=$$EXIT_STATUS" >> {log}'
StandardOutput=append:{log}
StandardError=append:{log}
"""


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[UserManager]:
    require_user_manager()
    started = UserManager(tmp_path)
    yield started
    started.stop()


def test_a_hung_poller_is_killed_by_the_watchdog_and_polls_again(
    tmp_path: Path, bot: BotControl, manager: UserManager
) -> None:
    """getUpdates hangs: pings stop, systemd's Result=watchdog, Restart= brings it back."""
    config = tmp_path / "config.toml"
    config.write_text(FAST_CONFIG)
    log = tmp_path / "daemon.log"
    manager.install_unit(
        "tradebotd-test.service",
        UNIT.format(
            python=sys.executable,
            repo=REPO,
            token=bot.token,
            api=bot.api_root,
            state=tmp_path / "state",
            config=config,
            log=log,
        ),
    )
    manager.systemctl("start", "tradebotd-test.service")  # returns after READY=1
    wait_until(lambda: "Polling service started successfully" in log.read_text(), 15, "polling")
    bot.add_fault("delay", method="getUpdates", times=-1, seconds=60)
    wait_until(
        lambda: manager.show("tradebotd-test.service", "NRestarts")["NRestarts"] != "0",
        30,
        "a watchdog restart",
    )
    wait_until(lambda: "systemd: result=" in log.read_text(), 10, "ExecStopPost")
    assert "systemd: result=watchdog signal=ABRT" in log.read_text()
    bot.clear_faults()
    wait_until(
        lambda: log.read_text().count("Polling service started successfully") >= 2,
        40,
        "polling again after the restart",
    )
    text = log.read_text()
    assert "withholding WATCHDOG=1 so systemd restarts the daemon" in text
    assert "Fatal Python error: Aborted" in text  # SIGABRT + PYTHONFAULTHANDLER: stacks
    assert "the previous run did not stop cleanly" in text
    state = manager.show("tradebotd-test.service", "ActiveState")
    assert state["ActiveState"] == "active"
