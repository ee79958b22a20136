"""A real systemd manager kills and restarts a daemon whose poller hangs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.emulator.client import BotControl
from tests.e2e.systemd_user import UNITS, UserManager, adapt_to_test, require_user_manager
from tests.support.processes import FAST_CONFIG, STARTED, secrets_in, wait_until

# The test's own timings on top of the shipped unit: pings every second; a poll that hangs
# past timeout+grace (4 s) stops them, and systemd acts 2 s later, before httpx's own read
# timeout (7 s) could rescue the poll. ExecStopPost keeps systemd's verdict for the test.
TIMINGS = """\
WatchdogSec=2
RestartSec=1
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
    """The shipped unit: getUpdates hangs, the pings stop, systemd aborts the daemon
    (result 'watchdog') and Restart= brings it back polling."""
    config = tmp_path / "config.toml"
    config.write_text(FAST_CONFIG)
    log = tmp_path / "daemon.log"
    # The session's secret scan reads what the unit and its manager printed.
    secrets = secrets_in({"TELEGRAM_BOT_TOKEN": bot.token})
    STARTED.extend([(log, secrets), (manager.workdir / "manager.log", secrets)])
    env_file = tmp_path / "tradebotd.env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={bot.token}\n"
        f"TELEGRAM_API_URL={bot.api_root}\n"
        "POLLING_ENABLED=1\n"
        f"TRADEBOTD_CONFIG={config}\n"
        "HEARTBEAT_INTERVAL=1\n"
        "PTB_TIMEDELTA=1\n"
    )
    manager.install_unit(
        "tradebotd.service",
        (UNITS / "tradebotd.service").read_text(),
        adapt_to_test(env_file, tmp_path, "run", TIMINGS.format(log=log)),
    )
    manager.systemctl("start", "tradebotd.service")  # returns after READY=1
    wait_until(lambda: "Polling service started successfully" in log.read_text(), 15, "polling")
    bot.add_fault("delay", method="getUpdates", times=-1, seconds=60)
    wait_until(
        lambda: manager.show("tradebotd.service", "NRestarts")["NRestarts"] != "0",
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
    state = manager.show("tradebotd.service", "ActiveState")
    assert state["ActiveState"] == "active"
