"""`tradebotd sandbox` (what `make run` starts without a token): the emulator and the
daemon in one process, with replayed synthetic prices that move, offline."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from daemon.emulator.client import EmulatorClient
from daemon.sandbox import SANDBOX_TOKEN, SANDBOX_USER
from tests.support.processes import REPO, TRADEBOTD, free_port, wait_until


def test_the_sandbox_has_moving_prices_offline(tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": os.environ["PATH"], "STATE_DIRECTORY": str(tmp_path / "state"),
           "HEARTBEAT_INTERVAL": "1"}  # fmt: skip
    log = (tmp_path / "sandbox.log").open("wb")
    process = subprocess.Popen([TRADEBOTD, "sandbox", "--port", str(port)], env=env, cwd=REPO,
                               stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_until(lambda: "prices.fresh=3" in (tmp_path / "sandbox.log").read_text(), 30,
                   "three fresh replayed prices")  # fmt: skip
        with EmulatorClient(f"http://127.0.0.1:{port}") as emulator:
            bot = emulator.bot(int(SANDBOX_TOKEN.split(":")[0]))
            prices = []
            for n in (1, 2):
                bot.send_text(from_user=SANDBOX_USER, text="/price BTC/USDT")
                reply = bot.wait_for_sent(chat_id=SANDBOX_USER, count=n)[-1]["text"]
                prices.append(reply.splitlines()[1])
                time.sleep(2.5)  # a tick every 0.5 s of the replay at 10×
        assert prices[0].startswith("price — ")
        assert prices[0] != prices[1]
        assert "SYNTHETIC" in (tmp_path / "state" / "sandbox.toml").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        log.close()
