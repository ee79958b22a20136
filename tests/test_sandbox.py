"""`tradebotd sandbox` (what `make run` starts without a token): the emulator and the
daemon in one process, with replayed synthetic prices that move, offline."""

from __future__ import annotations

import time
from pathlib import Path

from daemon.emulator.client import EmulatorClient
from daemon.sandbox import SANDBOX_TOKEN, SANDBOX_USER
from tests.support.processes import SandboxProcess, wait_until


def test_the_sandbox_has_moving_prices_offline(tmp_path: Path) -> None:
    with SandboxProcess(tmp_path) as sandbox:
        wait_until(lambda: "prices.fresh=3" in sandbox.log(), 30, "three fresh replayed prices")
        with EmulatorClient(sandbox.url) as emulator:
            bot = emulator.bot(int(SANDBOX_TOKEN.split(":")[0]))
            prices = []
            for n in (1, 2):
                bot.send_text(from_user=SANDBOX_USER, text="/price BTC/USDT")
                reply = bot.wait_for_sent(chat_id=SANDBOX_USER, count=n)[-1]["text"]
                prices.append(reply.splitlines()[1])
                time.sleep(2.5)  # a tick every 0.25 s of the replay at 20×
        assert prices[0].startswith("price — ")
        assert prices[0] != prices[1]
        assert "SYNTHETIC" in (tmp_path / "state" / "sandbox.toml").read_text()
        # What `make run` prints: one URL, loopback only.
        assert sandbox.log().splitlines()[0] == (
            f"sandbox: open {sandbox.url}/ to chat with the bot "
            "(loopback only; replayed synthetic prices). Ctrl-C stops."
        )
