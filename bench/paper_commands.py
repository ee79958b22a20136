"""Paper trading through the whole daemon, against the emulator.

- /buy end to end: N queued `/buy` commands (each a durable fill, its journal entry, its
  reply), updates/s from the first getUpdates to the N-th reply, as a ratio to N queued
  `/status` commands in the same run.
- idle RSS: tradebotd with no prices configured (the baseline), then with a replayed
  feed flowing, then after the first `/pnl chart` (matplotlib loaded). Goal: prices
  flowing within 10 MB of the baseline.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.daemon_throughput import (
    BENCH_CONFIG,
    ROOT,
    first_poll_and_replies,
    rss_mb,
    tradebotd_command,
    user_messages,
)
from daemon.emulator.client import BotControl, EmulatorClient
from daemon.emulator.launcher import start_emulator, stop_process

COMMANDS = 1500
# Many admins, so that Telegram's per-chat pace (which the queue keeps) is not what the
# benchmark measures.
ADMINS = [5100 + n for n in range(50)]
ADMIN = ADMINS[0]
SETTLE_SECONDS = 5.0


def prices_config(workdir: Path) -> str:
    ticks = workdir / "ticks.csv"
    ticks.write_text("time,symbol,price\n0,BTC/USDT,50000\n60,BTC/USDT,50000\n")
    return (
        BENCH_CONFIG
        + f"""
[prices]
poll_interval = 1

[prices.sources.replay]
file = "{ticks}"

[[prices.symbols]]
symbol = "BTC/USDT"
source = "replay"
id = "BTC/USDT"
"""
    )


def start(bot: BotControl, workdir: Path, config: str) -> subprocess.Popen[bytes]:
    workdir.mkdir(parents=True, exist_ok=True)
    argv, env = tradebotd_command(bot, workdir)
    (workdir / "config.toml").write_text(config)
    env["ADMIN_IDS"] = ",".join(map(str, ADMINS))
    log = (workdir / "daemon.log").open("wb")
    return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_for_log(workdir: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in (workdir / "daemon.log").read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} not logged")
        time.sleep(0.05)


def commands_per_second(emulator: EmulatorClient, workdir: Path, text: str, config: str) -> float:
    bot = emulator.create_bot()
    asyncio.run(user_messages(bot, [ADMINS[n % len(ADMINS)] for n in range(COMMANDS)], text))
    process = start(bot, workdir, config)
    try:
        began, finished = first_poll_and_replies(bot, COMMANDS, timeout=300)
        return COMMANDS / (finished - began)
    finally:
        stop_process(process)


def resident(emulator: EmulatorClient, workdir: Path, config: str, chart: bool) -> list[float]:
    """RSS after settling; with `chart`, also after the first /pnl chart was sent."""
    bot = emulator.create_bot()
    process = start(bot, workdir, config)
    try:
        first_poll_and_replies(bot, 0, timeout=30)
        time.sleep(SETTLE_SECONDS)
        figures = [rss_mb(process.pid)]
        if chart:
            bot.send_text(from_user=ADMIN, text="/pnl chart")
            bot.wait_for_sent(chat_id=ADMIN, timeout=60, where=lambda m: "photo" in m)
            time.sleep(1.0)
            figures.append(rss_mb(process.pid))
        return figures
    finally:
        stop_process(process)


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        process, url = start_emulator(workdir, "--no-flood")
        try:
            with EmulatorClient(url, timeout=60) as emulator:
                config = prices_config(workdir)
                # 0.00005 BTC at about 50,000 is 2.5 USDT: 1,500 of them fit in 10,000.
                buys = commands_per_second(emulator, workdir / "buy", "/buy BTC/USDT 0.00005",
                                           config)  # fmt: skip
                status = commands_per_second(emulator, workdir / "status", "/status", config)
                (baseline,) = resident(emulator, workdir / "idle", BENCH_CONFIG, chart=False)
                flowing, charted = resident(emulator, workdir / "prices", config, chart=True)
        finally:
            stop_process(process)
    return {
        "commands": COMMANDS,
        "buy_per_s": round(buys, 1),
        "status_per_s": round(status, 1),
        "buy_to_status_ratio": round(buys / status, 3),
        "idle_rss_mb_no_prices": round(baseline, 1),
        "idle_rss_mb_prices_flowing": round(flowing, 1),
        "rss_mb_after_first_chart": round(charted, 1),
        "prices_rss_goal_mb": "within 10 of no prices",
        "meets_goal": flowing - baseline <= 10,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
