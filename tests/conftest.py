"""Shared fixtures: one real emulator process per test session, a fresh bot per test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.emulator.client import BotControl, EmulatorClient
from tests.processes import DaemonProcess, NotifySocket

REPO = Path(__file__).resolve().parent.parent
# PTB 22 warns that RetryAfter.retry_after becomes a timedelta; opt in now.
os.environ.setdefault("PTB_TIMEDELTA", "1")


def start_emulator(workdir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """A `tradebotd emulator` process on a free loopback port, and its base URL."""
    port_file = workdir / "emulator.port"
    log = (workdir / "emulator.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daemon",
            "emulator",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    deadline = time.monotonic() + 20
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            raise RuntimeError(f"emulator did not start: {(workdir / 'emulator.log').read_text()}")
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port_file.read_text().strip()}"


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a process this test session started, by its PID only."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A short webhook retry keeps the delivery-retry tests quick.
    process, url = start_emulator(tmp_path_factory.mktemp("emulator"), "--webhook-retry", "0.2")
    yield url
    stop_process(process)


@pytest.fixture(scope="session")
def emulator(emulator_url: str) -> Iterator[EmulatorClient]:
    with EmulatorClient(emulator_url) as client:
        yield client


@pytest.fixture
def bot(emulator: EmulatorClient) -> BotControl:
    """A bot of its own for each test, so counters, queues and limits never leak."""
    return emulator.create_bot()


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[list[DaemonProcess]]:
    """Daemons a test starts; each is stopped by PID at teardown, whatever happened."""
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        daemon.stop()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    listener = NotifySocket(tmp_path / "notify.sock")
    yield listener
    listener.close()
