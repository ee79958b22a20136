"""The shipped supervisor configuration with a real supervisord: start, heartbeat, a hung
poller restarted by the watchdog listener, a crash restarted with back-off, clean stop."""

from __future__ import annotations

import getpass
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xmlrpc.client import ServerProxy

import pytest
from supervisor.xmlrpc import SupervisorTransport

from daemon.emulator.client import BotControl
from tests.support.processes import FAST_CONFIG, REPO, TRADEBOTD, wait_until

SUPERVISORD = Path(sys.executable).parent / "supervisord"
ADMIN = 871


class Supervisord:
    """supervisord in the foreground with the shipped program and listener sections,
    paths moved into the test's directory."""

    def __init__(self, workdir: Path, env_file: Path):
        self.workdir = workdir
        self.socket = workdir / "supervisor.sock"
        self.log = workdir / "tradebotd.log"
        shipped = (REPO / "etc/supervisor/tradebotd.conf").read_text()
        program = (
            shipped.replace("/opt/tradebotd/venv/bin/tradebotd", TRADEBOTD)
            .replace("/etc/tradebotd/tradebotd.env", str(env_file))
            .replace("/var/lib/tradebotd", str(workdir / "state"))
            .replace("/var/log/tradebotd", str(workdir))
            # user= stays, naming the test's own user (there is no tradebotd user here).
            .replace("user=tradebotd\n", f"user={getpass.getuser()}\n")
            .replace("startsecs=10", "startsecs=1")
            # Heartbeats come every second here; 12 silent seconds are stale (more than
            # the 10 s a restarted daemon waits after a failure before it polls again).
            .replace(
                "--program tradebotd --env-file", "--program tradebotd --stale-after 12 --env-file"
            )
        )
        (workdir / "state").mkdir()
        config = workdir / "supervisord.conf"
        config.write_text(
            f"[unix_http_server]\nfile={self.socket}\n\n"
            f"[supervisord]\nlogfile={workdir / 'supervisord.log'}\n"
            f"pidfile={workdir / 'supervisord.pid'}\nnodaemon=true\n\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
            + program
        )
        self.process = subprocess.Popen(
            [str(SUPERVISORD), "-c", str(config)],
            env={"PATH": os.environ["PATH"]},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        self.rpc = ServerProxy("http://127.0.0.1", transport=transport)
        wait_until(self.socket.exists, 20, "supervisord's socket")

    def info(self) -> dict[str, object]:
        return self.rpc.supervisor.getProcessInfo("tradebotd")  # type: ignore[no-any-return]

    def daemon_log(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # stops its programs first
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def supervisord(tmp_path: Path, bot: BotControl) -> Iterator[Supervisord]:
    config = tmp_path / "config.toml"
    config.write_text(FAST_CONFIG)
    env_file = tmp_path / "tradebotd.env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={bot.token}\nTELEGRAM_API_URL={bot.api_root}\n"
        f"ADMIN_IDS={ADMIN}\nPOLLING_ENABLED=1\nHEARTBEAT_INTERVAL=1\n"
        f"TRADEBOTD_CONFIG={config}\nPTB_TIMEDELTA=1\n"
    )
    started = Supervisord(tmp_path, env_file)
    yield started
    started.stop()


def test_supervisor_runs_restarts_and_stops_the_daemon(
    supervisord: Supervisord, bot: BotControl, tmp_path: Path
) -> None:
    wait_until(
        lambda: "Polling service started successfully" in supervisord.daemon_log(), 30, "polling"
    )
    bot.send_text(from_user=ADMIN, text="/start")
    bot.wait_for_sent(chat_id=ADMIN)
    # umask=077: the database and the stamp are the service user's alone.
    for name in ("tradebotd.db", "heartbeat"):
        wait_until((tmp_path / "state" / name).exists, 10, name)
        assert stat.S_IMODE((tmp_path / "state" / name).stat().st_mode) & 0o077 == 0, name

    # getUpdates hangs: heartbeats stop, the listener restarts the program.
    rpc = supervisord.rpc.supervisor
    first_pid = supervisord.info()["pid"]
    bot.add_fault("delay", method="getUpdates", times=-1, seconds=60)
    wait_until(lambda: supervisord.info()["pid"] != first_pid, 60, "a watchdog restart")
    bot.clear_faults()
    wait_until(
        lambda: supervisord.daemon_log().count("Polling service started successfully") >= 2,
        60,
        "polling again",
    )
    watchdog_log = (tmp_path / "watchdog.log").read_text()
    assert "no heartbeat for " in watchdog_log
    assert f"(pid {first_pid}): restarting tradebotd (SIGABRT)" in watchdog_log
    # faulthandler's dump of the hung poller, as under systemd's watchdog.
    assert "Fatal Python error: Aborted" in supervisord.daemon_log()

    # A crash: supervisor restarts at once, the daemon waits before calling Telegram.
    # (The listener is stopped first: the kill itself is the test here.)
    rpc.stopProcess("tradebotd-watchdog", True)
    os.kill(int(supervisord.info()["pid"]), signal.SIGKILL)
    wait_until(
        lambda: "(supervisor has no restart delay)" in supervisord.daemon_log(), 30, "back-off"
    )
    wait_until(
        lambda: supervisord.daemon_log().count("Polling service started successfully") >= 3,
        40,
        "polling after the back-off",
    )

    # A clean stop.
    rpc.stopProcess("tradebotd", True)
    assert supervisord.info()["exitstatus"] == 0
    assert "stopped after" in supervisord.daemon_log()
    assert bot.counters()["conflicts"] == 0


def test_the_watchdog_listener_creates_no_file(tmp_path: Path) -> None:
    """Ticks against a state directory without a daemon or database: the listener
    answers the protocol and leaves the directory empty (a database file it created,
    as another user, could lock the daemon out)."""
    state = tmp_path / "state"
    state.mkdir()
    listener = subprocess.Popen(
        [TRADEBOTD, "supervisor-watchdog", "--program", "tradebotd", "--stale-after", "1"],
        env={"PATH": os.environ["PATH"], "STATE_DIRECTORY": str(state)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert listener.stdin is not None
    assert listener.stdout is not None
    try:
        for serial in range(3):
            assert listener.stdout.readline() == "READY\n"
            payload = "when:1"
            listener.stdin.write(
                f"ver:3.0 server:supervisor serial:{serial} pool:w poolserial:{serial} "
                f"eventname:TICK_5 len:{len(payload)}\n{payload}"
            )
            listener.stdin.flush()
            assert listener.stdout.readline() == "RESULT 2\n"
            assert listener.stdout.read(2) == "OK"
    finally:
        listener.kill()
        listener.wait()
    assert list(state.iterdir()) == []
