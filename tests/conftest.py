"""Shared fixtures: one real emulator process per test session, a fresh bot per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.emulator.client import BotControl, EmulatorClient
from daemon.emulator.launcher import start_emulator, stop_process
from tests.support.postgres import PostgresServer, start_server
from tests.support.processes import STARTED, DaemonProcess, Launch, NotifySocket

# PTB 22 warns that RetryAfter.retry_after becomes a timedelta; opt in now.
os.environ.setdefault("PTB_TIMEDELTA", "1")


@pytest.fixture(scope="session", autouse=True)
def no_daemon_ever_printed_a_secret() -> Iterator[None]:
    """After the whole session: no output of any daemon a test started (every log line,
    tracebacks and DEBUG included) holds a secret it was given."""
    yield
    leaks = sorted(
        f"{path} holds a secret of {len(secret)} characters"
        for path, secrets in STARTED
        if path.exists()
        for secret in secrets
        if secret in path.read_text(errors="replace")
    )
    assert not leaks, "\n".join(leaks)


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
def launch(tmp_path: Path, bot: BotControl) -> Iterator[Launch]:
    """Start daemons for this test's bot; each is stopped by PID at teardown."""
    started: list[DaemonProcess] = []

    def start(polling_started: bool = True, **options: Any) -> DaemonProcess:
        daemon = DaemonProcess(tmp_path, bot, **options).start()
        started.append(daemon)
        return daemon.wait_polling() if polling_started else daemon

    yield start
    for daemon in started:
        daemon.stop()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    listener = NotifySocket(tmp_path / "notify.sock")
    yield listener
    listener.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session, started on first use."""
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend the store supports: the test runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()
