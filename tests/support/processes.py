"""Real tradebotd processes for tests: the daemon, its sd_notify socket, its log."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from daemon.emulator.client import BotControl
from daemon.sandbox import SANDBOX_TOKEN

# Fast timings so conflict, back-off and watchdog behaviour shows within seconds.
FAST_CONFIG = """\
[polling]
timeout = 2
watchdog_grace = 2
conflict_threshold = 2
conflict_window = 30
conflict_delay = 0.6
conflict_delay_max = 1.2
error_delay = 0.2
error_delay_max = 1.0

[telegram]
# tests drive hundreds of commands from one user; the throttle has tests of its own
public_command_limit = 1000

[notify]
# the emulator's flood control is off unless a test turns it on: do not wait for it
global_per_second = 1000
chat_per_second = 100
chat_burst = 100
group_per_minute = 6000
"""


REPO = Path(__file__).resolve().parent.parent.parent
# Every daemon the session started, with the secrets it was given: the session's last
# check (tests/conftest.py) scans all their output for any of them.
STARTED: list[tuple[Path, tuple[str, ...]]] = []
# The console script, as units and scripts run it (never `python -m daemon`, which puts
# the working directory on sys.path).
TRADEBOTD = str(Path(sys.executable).with_name("tradebotd"))


def secrets_in(env: dict[str, str]) -> tuple[str, ...]:
    """The secret values a daemon's environment carries (the token's secret half, the
    webhook secret, a database password)."""
    found = [env.get("TELEGRAM_BOT_TOKEN", "").partition(":")[2], env.get("WEBHOOK_SECRET")]
    database = env.get("DATABASE_URL", "")
    if "@" in database:
        found.append(database.rpartition("@")[0].partition("://")[2].partition(":")[2])
    return tuple(secret for secret in found if secret)


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


class NotifySocket:
    """A real AF_UNIX datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, path: Path):
        self.path = path
        self.messages: list[tuple[float, str]] = []
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(path))
        self._socket.settimeout(0.2)
        self._closed = False
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._closed:
            try:
                data = self._socket.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            for line in data.decode("latin-1").splitlines():
                self.messages.append((time.monotonic(), line))

    def lines(self, prefix: str = "") -> list[str]:
        return [line for _, line in list(self.messages) if line.startswith(prefix)]

    def times(self, line: str) -> list[float]:
        return [at for at, text in list(self.messages) if text == line]

    def wait_for(self, line: str, timeout: float = 10.0, count: int = 1) -> None:
        wait_until(lambda: len(self.times(line)) >= count, timeout, f"{count}x {line!r}")

    def close(self) -> None:
        self._closed = True
        self._socket.close()


class DaemonProcess:
    """`tradebotd run` against the emulator, with its own state directory."""

    def __init__(
        self,
        workdir: Path,
        bot: BotControl,
        name: str = "daemon",
        admin_ids: str = "",
        polling: bool = True,
        state_directory: Path | None = None,
        config: str = FAST_CONFIG,
        env: dict[str, str] | None = None,
    ):
        self.workdir = workdir
        self.bot = bot
        self.state_directory = state_directory or workdir / "state"
        self.log_path = workdir / f"{name}.log"
        config_path = workdir / f"{name}.toml"
        config_path.write_text(config)
        self.config_path = config_path
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PTB_TIMEDELTA": "1",
            "TELEGRAM_BOT_TOKEN": bot.token,
            "TELEGRAM_API_URL": bot.api_root,
            "ADMIN_IDS": admin_ids,
            "POLLING_ENABLED": "1" if polling else "0",
            "STATE_DIRECTORY": str(self.state_directory),
            "TRADEBOTD_CONFIG": str(config_path),
            "HEARTBEAT_INTERVAL": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        log = self.log_path.open("ab")
        STARTED.append((self.log_path, secrets_in(self.env)))
        self.process = subprocess.Popen(
            [TRADEBOTD, "run"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_for_log(self, pattern: str, timeout: float = 15.0, count: int = 1) -> None:
        def seen() -> bool:
            if self.process is not None and self.process.poll() is not None:
                found = len(re.findall(pattern, self.log()))
                if found < count:
                    raise AssertionError(f"daemon exited before {pattern!r}:\n{self.log()}")
            return len(re.findall(pattern, self.log())) >= count

        wait_until(seen, timeout, f"{pattern!r} in {self.log_path}")

    def wait_polling(self, timeout: float = 15.0) -> DaemonProcess:
        self.wait_for_log("Polling service started successfully", timeout)
        return self

    def wait_exit(self, timeout: float = 15.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def signal(self, signum: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signum)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, by PID; SIGKILL if it does not end in time. Returns the exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
        return self.process.wait()

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait()

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        """Read the daemon's real SQLite file."""
        with sqlite3.connect(self.state_directory / "tradebotd.db") as db:
            return list(db.execute(sql, params))


class Launch(Protocol):
    """The `launch` fixture: start a daemon for the test's bot (and wait until it polls)."""

    def __call__(self, polling_started: bool = True, **options: Any) -> DaemonProcess: ...


class ForeignPoller:
    """A legacy bot script's poll loop (plain HTTP, its own User-Agent) in a thread."""

    USER_AGENT = "legacy-bot.py"

    def __init__(self, bot: BotControl, poll_seconds: int = 2):
        self.bot = bot
        self.poll_seconds = poll_seconds
        self.conflicts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        url = f"{self.bot.base_url}{self.bot.token}/getUpdates"
        with httpx.Client(headers={"User-Agent": self.USER_AGENT}, timeout=30) as http:
            while not self._stop.is_set():
                response = http.post(url, json={"timeout": self.poll_seconds})
                if response.status_code == 409:
                    self.conflicts += 1
                    time.sleep(0.1)  # like PTB's retry: quick, and forever

    def __enter__(self) -> ForeignPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll_seconds + 10)


def free_port() -> int:
    """A loopback port free a moment ago, for a server a test starts in another process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def reply_to(bot: BotControl, user: int, text: str, starts: str) -> str:
    """Send `text` as `user`; the reply that starts with `starts` (notices may share the
    chat, so the reply is told by how it starts, not by its place)."""

    def matches(message: dict[str, object]) -> bool:
        return str(message.get("text", "")).startswith(starts)

    before = len([m for m in bot.sent(chat_id=user) if matches(m)])
    bot.send_text(from_user=user, text=text)
    return str(bot.wait_for_sent(chat_id=user, where=matches, count=before + 1)[-1]["text"])


class SandboxProcess:
    """`tradebotd sandbox` (what `make run` starts without a token) on a free port, its
    state and log under `workdir`; stopped by PID with SIGTERM, which must end it cleanly."""

    def __init__(self, workdir: Path, **environ: str):
        self.workdir = workdir
        self.port = free_port()
        self.log_path = workdir / "sandbox.log"
        self.env = {"PATH": os.environ["PATH"], "STATE_DIRECTORY": str(workdir / "state"),
                    "HEARTBEAT_INTERVAL": "1", **environ}  # fmt: skip
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> SandboxProcess:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [TRADEBOTD, "sandbox", "--port", str(self.port)],
                env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        STARTED.append((self.log_path, (SANDBOX_TOKEN.partition(":")[2],)))
        wait_until(lambda: "Polling service started" in self.log(), 30, "the sandbox polling")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        assert self._process.wait(30) == 0, self.log()
