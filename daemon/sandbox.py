"""The sandbox: the built-in Bot API emulator and the daemon against it, in one process.

`make run` without a token lands here, so the bot can be tried with no Telegram account:
polling on, the operator's stand-in user as admin, state under ./var/sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import daemon.features  # noqa: F401  # registers the features' settings sections
from daemon.config import load_settings
from daemon.emulator.server import EmulatorOptions, start
from daemon.lifecycle import Daemon
from daemon.logs import RingBuffer

SANDBOX_TOKEN = "123456:sandbox-token-not-a-real-one"
SANDBOX_USER = 42
# Unless TRADEBOTD_CONFIG names a file: moving prices offline, from the shipped
# synthetic ticks (scripts/make-synthetic-ticks.py) replayed ten times faster.
SANDBOX_CONFIG = """\
# written by the sandbox: replayed SYNTHETIC prices, not market data
[prices]
poll_interval = 1

[prices.sources.replay]
speed = 10.0

[[prices.symbols]]
symbol = "BTC/USDT"
source = "replay"
id = "BTC/USDT"

[[prices.symbols]]
symbol = "ETH/USDT"
source = "replay"
id = "ETH/USDT"

[[prices.symbols]]
symbol = "PEPE/USDT"
source = "replay"
id = "PEPE/USDT"
decimals = 0

# Tight exits, so an AutoSell sale shows within a few minutes of a /buy.
[autosell.defaults]
sl = "-1.5%"
tp = "+1.5%:50%,+3%:50%"
trail = "1%"
arm = "+1%"
"""


def sandbox_environment(environ: Mapping[str, str], port: int) -> dict[str, str]:
    env = dict(environ)
    env.update(
        TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN,
        TELEGRAM_API_URL=f"http://127.0.0.1:{port}",
        POLLING_ENABLED="1",
    )
    env.setdefault("ADMIN_IDS", str(SANDBOX_USER))
    env.setdefault("STATE_DIRECTORY", "./var/sandbox")
    if "TRADEBOTD_CONFIG" not in env:
        config = Path(env["STATE_DIRECTORY"]) / "sandbox.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(SANDBOX_CONFIG)
        env["TRADEBOTD_CONFIG"] = str(config)
    return env


def instructions(port: int) -> str:
    bot_id = SANDBOX_TOKEN.split(":", 1)[0]
    control = f"http://127.0.0.1:{port}/_emulator/bots/{bot_id}"
    return (
        f"sandbox: Bot API emulator on 127.0.0.1:{port}; the daemon polls it as bot {bot_id}\n"
        f"sandbox: talk to the bot as user {SANDBOX_USER} (an admin here):\n"
        f"  curl -s -X POST {control}/messages \\\n"
        f'       -d \'{{"from": {SANDBOX_USER}, "text": "/status"}}\'\n'
        f"sandbox: prices are replayed synthetic ticks; try /price BTC/USDT, /buy BTC/USDT 0.01,\n"
        f"         /portfolio, /pnl chart, /autosell list (each buy gets tight exit rules)\n"
        f"sandbox: read its replies:\n"
        f"  curl -s '{control}/sent?chat_id={SANDBOX_USER}'\n"
        f"sandbox: Ctrl-C stops both."
    )


async def run_sandbox(port: int, ring: RingBuffer) -> int:
    runner, _emulator, bound = await start(EmulatorOptions(port=port, tokens=[SANDBOX_TOKEN]))
    try:
        env = sandbox_environment(os.environ, bound)
        print(instructions(bound), flush=True)
        return await Daemon(load_settings(env), env, ring).run()
    finally:
        await runner.cleanup()
