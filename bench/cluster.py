"""Two nodes of a cluster on one PostgreSQL (docs/ha.md), and PostgreSQL against SQLite.

- failover: two nodes with the default lease (10 s); the leader is killed with SIGKILL
  at a random moment, a /start is sent at once, and the clock runs to its reply from
  the new leader. 20 drills (the killed node comes back as the standby each time):
  p50, p99 and max. Target: lease + 2 s.
- updates/s on PostgreSQL as a ratio to SQLite, same run: N queued /start updates,
  from the first getUpdates to the N-th reply, one single node each (no [ha], so the
  ratio is the store's alone). Reported, no target: PostgreSQL pays a network round trip
  per statement that SQLite does not.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.daemon_throughput import BENCH_CONFIG, first_poll_and_replies, user_messages
from daemon.emulator.client import BotControl, EmulatorClient
from daemon.emulator.launcher import start_emulator, stop_process
from tests.support.postgres import PostgresServer, find_bindir

ROOT = Path(__file__).resolve().parent.parent
DRILLS = 20
LEASE = 10.0
UPDATES = 2000
USERS = 50
LEADS = re.compile(r"cluster: node (\w+) leads in epoch (\d+)")


def node_env(bot: BotControl, workdir: Path, name: str, url: str, ha: bool) -> dict[str, str]:
    config = workdir / f"{name}.toml"
    section = f'\n[ha]\nenabled = true\nnode = "{name}"\nlease = {LEASE}\n' if ha else ""
    config.write_text(BENCH_CONFIG + section)
    return {
        "PATH": os.environ["PATH"],
        "TELEGRAM_BOT_TOKEN": bot.token,
        "TELEGRAM_API_URL": bot.api_root,
        "POLLING_ENABLED": "1",
        "STATE_DIRECTORY": str(workdir / f"state-{name}"),
        "TRADEBOTD_CONFIG": str(config),
        "DATABASE_URL": url,
        "LOG_LEVEL": "INFO",
    }


class Node:
    def __init__(self, bot: BotControl, workdir: Path, name: str, url: str):
        self.name = name
        self.env = node_env(bot, workdir, name, url, ha=True)
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_start = 0

    def start(self) -> None:
        self.log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "daemon", "run"],
                                            env=self.env, cwd=ROOT, stdout=log,
                                            stderr=subprocess.STDOUT)  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_bytes()[self.log_start :].decode(errors="replace")

    def polling(self) -> bool:
        log = self.log()
        leads = [m.end() for m in LEADS.finditer(log)]
        return bool(leads) and "Polling service started successfully" in log[leads[-1] :]

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


def wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout}s: {what}")
        time.sleep(0.01)


def replies(bot: BotControl) -> int:
    return int(bot.counters()["requests"].get("sendMessage", 0))


def failover(emulator: EmulatorClient, workdir: Path, url: str) -> dict[str, Any]:
    bot = emulator.create_bot()
    nodes = {name: Node(bot, workdir, name, url) for name in ("a", "b")}
    rng = random.Random(16)
    times = []
    try:
        nodes["a"].start()
        wait(nodes["a"].polling, 30, "a polls")
        nodes["b"].start()
        wait(lambda: "standing by" in nodes["b"].log(), 30, "b stands by")
        leader, standby = nodes["a"], nodes["b"]
        for _ in range(DRILLS):
            time.sleep(rng.uniform(0.5, LEASE / 2))  # anywhere between two renewals
            before = replies(bot)
            leader.kill()
            killed = time.monotonic()
            asyncio.run(user_messages(bot, [1001], "/start"))
            wait(lambda b=before: replies(bot) > b, LEASE + 30, "the new leader's reply")  # type: ignore[misc]
            times.append(time.monotonic() - killed)
            leader.start()  # back, as the standby
            wait(lambda n=leader: "standing by" in n.log(), 30, "the killed node stands by")  # type: ignore[misc]
            leader, standby = standby, leader
    finally:
        for node in nodes.values():
            if node.process is not None and node.process.poll() is None:
                stop_process(node.process)
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "drills": DRILLS,
        "lease_s": LEASE,
        "p50_s": round(statistics.median(ordered), 3),
        "p99_s": round(p99, 3),
        "max_s": round(ordered[-1], 3),
        "target_s": LEASE + 2,
    }


def throughput(emulator: EmulatorClient, workdir: Path, url: str, name: str) -> float:
    bot = emulator.create_bot()
    asyncio.run(user_messages(bot, [1000 + n % USERS for n in range(UPDATES)], "/start"))
    env = node_env(bot, workdir, name, url, ha=False)
    env["LOG_LEVEL"] = "WARNING"
    process = subprocess.Popen([sys.executable, "-m", "daemon", "run"], env=env, cwd=ROOT,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        started, finished = first_poll_and_replies(bot, UPDATES, timeout=300)
    finally:
        stop_process(process)
    return UPDATES / (finished - started)


def run() -> dict[str, Any]:
    bindir = find_bindir()
    if bindir is None:
        return {"skipped": "PostgreSQL's server binaries are not installed"}
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        server = PostgresServer(bindir).start()
        process, emulator_url = start_emulator(workdir, "--no-flood")
        try:
            with EmulatorClient(emulator_url, timeout=60) as emulator:
                sqlite = throughput(emulator, workdir, f"sqlite:///{workdir}/t.db", "sqlite")
                postgres = throughput(emulator, workdir, server.create_database(), "postgres")
                drills = failover(emulator, workdir, server.create_database())
        finally:
            stop_process(process)
            server.stop()
    return {
        "failover": drills,
        "sqlite_updates_per_s": round(sqlite, 1),
        "postgres_updates_per_s": round(postgres, 1),
        "postgres_to_sqlite_ratio": round(postgres / sqlite, 3),
        "meets_targets": drills["max_s"] <= drills["target_s"],
    }
