"""The sandbox: the built-in Bot API emulator and the daemon against it, in one process.

`make run` without a token lands here, so the bot can be tried with no Telegram account:
polling on, state under ./var/sandbox, and one URL to open: the emulator's web chat,
where the operator plays an admin, a guest and a group (docs/sandbox.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import daemon.features  # noqa: F401  # registers the features' settings sections
from daemon.config import load_settings
from daemon.emulator.registry import Emulator
from daemon.emulator.server import EmulatorOptions, start
from daemon.emulator.world import Chat, User
from daemon.lifecycle import Daemon
from daemon.logs import RingBuffer

SANDBOX_TOKEN = "123456:sandbox-token-not-a-real-one"
SANDBOX_USER = 42
SANDBOX_GUEST = 43
SANDBOX_GROUP = -4000000001
# Unless TRADEBOTD_CONFIG names a file: moving prices offline, from the shipped
# synthetic ticks (scripts/make-synthetic-ticks.py) replayed twenty times faster, so a
# 1.5% move (the exits below) comes within a minute or so (p90: 90 s).
SANDBOX_CONFIG = """\
# written by the sandbox: replayed SYNTHETIC prices, not market data
[prices]
poll_interval = 1

[prices.sources.replay]
speed = 20.0

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

# Tight exits, so an AutoSell sale shows within a minute or two of a /buy.
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
    return (
        f"sandbox: open http://127.0.0.1:{port}/ to chat with the bot "
        "(loopback only; replayed synthetic prices). Ctrl-C stops."
    )


def add_people(emulator: Emulator) -> None:
    """The sandbox's cast: the operator (an admin, whose chat is open so the admin menu
    can be published), a guest, and a group with both."""
    world = emulator.by_token[SANDBOX_TOKEN].world
    for user_id, name in ((SANDBOX_USER, "Operator (admin)"), (SANDBOX_GUEST, "Guest")):
        world.private_chat(world.add_user(User(user_id, name)))
    world.add_chat(Chat(SANDBOX_GROUP, "group", title="Trading group"))


async def run_sandbox(port: int, ring: RingBuffer) -> int:
    runner, emulator, bound = await start(EmulatorOptions(port=port, tokens=[SANDBOX_TOKEN]))
    add_people(emulator)
    try:
        env = sandbox_environment(os.environ, bound)
        print(instructions(bound), flush=True)
        return await Daemon(load_settings(env), env, ring).run()
    finally:
        await runner.cleanup()
