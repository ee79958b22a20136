"""tradebotd end to end against a bare python-telegram-bot Application, same run.

- updates/s: N /start updates wait in the emulator's queue; each contender is started,
  and the clock runs from its first getUpdates to the N-th reply the emulator counted.
  tradebotd commits every update (effects, reply, offset) to SQLite before replying;
  the bare bot persists nothing. Target: tradebotd ≥ 1.0 × bare PTB.
- idle RSS of each process a few seconds after it started (target ≤ 80 MB).
- start → READY=1 for tradebotd over a real sd_notify socket (target ≤ 2 s), beside the
  bare bot's start → the deleteWebhook that precedes its first poll.
Flood control is off in the emulator and tradebotd's pacing is set far above the run's
rate, so both run as fast as they can.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from daemon.emulator.client import BotControl, EmulatorClient
from daemon.emulator.launcher import start_emulator, stop_process

ROOT = Path(__file__).resolve().parent.parent  # bench.bare_ptb runs from here
# tradebotd's timings for the run: a 10 s long poll, quick back-off, no pacing.
BENCH_CONFIG = """\
[polling]
timeout = 10
error_delay = 0.2
error_delay_max = 1.0

[telegram]
# 100 commands per user within the run: the bare Application throttles nobody either
public_command_limit = 1000

[notify]
# flood control is off in the emulator, as for the bare Application: do not wait for it
global_per_second = 1000
chat_per_second = 100
chat_burst = 100
group_per_minute = 6000
"""

RATIO_TARGET = 1.0  # durable and at least as fast as the bare bot that persists nothing
UPDATES = 5000
USERS = 50
STARTS = 5
IDLE_SECONDS = 3.0


async def user_messages(bot: BotControl, senders: list[int], text: str) -> None:
    """Each of `senders` writes `text` to the bot (16 requests at a time)."""
    url = f"{bot.emulator.base_url}/_emulator/bots/{bot.id}/messages"
    async with httpx.AsyncClient(timeout=30) as client:
        semaphore = asyncio.Semaphore(16)

        async def one(user: int) -> None:
            async with semaphore:
                body = {"from": user, "text": text}
                (await client.post(url, json=body)).raise_for_status()

        await asyncio.gather(*(one(user) for user in senders))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def tradebotd_command(bot: BotControl, workdir: Path) -> tuple[list[str], dict[str, str]]:
    config = workdir / "config.toml"
    config.write_text(BENCH_CONFIG)
    env = {
        "PATH": os.environ["PATH"],
        "TELEGRAM_BOT_TOKEN": bot.token,
        "TELEGRAM_API_URL": bot.api_root,
        "POLLING_ENABLED": "1",
        "STATE_DIRECTORY": str(workdir / "state"),
        "TRADEBOTD_CONFIG": str(config),
        "LOG_LEVEL": "WARNING",
    }
    return [sys.executable, "-m", "daemon", "run"], env


def bare_command(bot: BotControl) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, "-m", "bench.bare_ptb", bot.token, bot.api_root], dict(os.environ)


def first_poll_and_replies(
    bot: BotControl, replies: int, timeout: float, first: str = "getUpdates"
) -> tuple[float, float]:
    """Monotonic times of the first answered `first` call and of the `replies`-th
    sendMessage (the emulator counts a call when it answers it)."""
    first_poll = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        requests = bot.counters()["requests"]
        now = time.monotonic()
        if first_poll is None and requests.get(first, 0) >= 1:
            first_poll = now
        if first_poll is not None and requests.get("sendMessage", 0) >= replies:
            return first_poll, now
        time.sleep(0.01)
    raise TimeoutError(f"{replies} replies not within {timeout}s: {bot.counters()['requests']}")


def wait_for_ready(listener: socket.socket, timeout: float) -> float:
    """The monotonic time READY=1 arrived on this sd_notify socket."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        listener.settimeout(left)
        if b"READY=1" in listener.recv(4096).split(b"\n"):
            return time.monotonic()
    raise TimeoutError(f"no READY=1 within {timeout}s")


def run_contender(emulator: EmulatorClient, name: str, workdir: Path) -> dict[str, Any]:
    bot = emulator.create_bot()
    asyncio.run(user_messages(bot, [1000 + n % USERS for n in range(UPDATES)], "/start"))
    argv, env = tradebotd_command(bot, workdir) if name == "tradebotd" else bare_command(bot)
    log = (workdir / f"{name}.log").open("wb")
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        started, finished = first_poll_and_replies(bot, UPDATES, timeout=300)
        sent = bot.counters()["requests"].get("sendMessage", 0)
        return {
            "updates": UPDATES,
            "replies": sent,
            "seconds": round(finished - started, 3),
            "updates_per_s": round(UPDATES / (finished - started), 1),
            "rss_after_mb": round(rss_mb(process.pid), 1),
        }
    finally:
        stop_process(process)
        log.close()


def idle_and_ready(emulator: EmulatorClient, workdir: Path) -> dict[str, Any]:
    """tradebotd's start → READY=1 (median of STARTS) and idle RSS; bare PTB beside it."""
    ready_times, idle_rss = [], []
    for n in range(STARTS):
        bot = emulator.create_bot()
        run_dir = workdir / f"ready{n}"
        run_dir.mkdir()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(run_dir / "notify.sock"))
        argv, env = tradebotd_command(bot, run_dir)
        env["NOTIFY_SOCKET"] = str(run_dir / "notify.sock")
        began = time.monotonic()
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
        try:
            ready_times.append(wait_for_ready(listener, timeout=30) - began)
            if n == 0:
                time.sleep(IDLE_SECONDS)
                idle_rss.append(rss_mb(process.pid))
        finally:
            stop_process(process)
            listener.close()
    bare_first_poll, bare_rss = [], []
    for n in range(STARTS):
        bot = emulator.create_bot()
        argv, env = bare_command(bot)
        began = time.monotonic()
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
        try:
            # run_polling's bootstrap calls deleteWebhook right before its first long
            # poll, which the emulator only counts when it ends, seconds later.
            first, _ = first_poll_and_replies(bot, 0, timeout=30, first="deleteWebhook")
            bare_first_poll.append(first - began)
            if n == 0:
                time.sleep(IDLE_SECONDS)
                bare_rss.append(rss_mb(process.pid))
        finally:
            stop_process(process)
    return {
        "tradebotd_start_to_ready_s": round(statistics.median(ready_times), 3),
        "bare_ptb_start_to_polling_s": round(statistics.median(bare_first_poll), 3),
        "start_target_s": 2.0,
        "tradebotd_idle_rss_mb": round(idle_rss[0], 1),
        "bare_ptb_idle_rss_mb": round(bare_rss[0], 1),
        "rss_target_mb": 80,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        process, url = start_emulator(workdir, "--no-flood")
        try:
            with EmulatorClient(url, timeout=60) as emulator:
                bare = run_contender(emulator, "bare_ptb", workdir)
                ours = run_contender(emulator, "tradebotd", workdir)
                startup = idle_and_ready(emulator, workdir)
        finally:
            stop_process(process)
    ratio = ours["updates_per_s"] / bare["updates_per_s"]
    return {
        "bare_ptb": bare,
        "tradebotd": ours,
        "ratio": round(ratio, 3),
        "ratio_target": RATIO_TARGET,
        **startup,
        "meets_targets": ratio >= RATIO_TARGET
        and startup["tradebotd_start_to_ready_s"] <= 2.0
        and startup["tradebotd_idle_rss_mb"] <= 80,
    }
