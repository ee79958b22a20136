"""Paper trading end to end: the real daemon, the Bot API emulator and a replayed price
feed. Commands fill and answer; kill -9 while /buy and /sell stream in, restart, and
every command has filled exactly once with `tradebotd ledger check` clean."""

from __future__ import annotations

import csv
import io
import random
import signal
import sqlite3
import subprocess
import time
from decimal import Decimal
from pathlib import Path

from PIL import Image

from daemon.emulator.client import BotControl
from tests.support.processes import FAST_CONFIG, TRADEBOTD, DaemonProcess, Launch

ADMIN = 4100
PUBLIC = 4200


def paper_config(tmp_path: Path) -> str:
    """A constant replayed price, so every fill is known in advance."""
    return FAST_CONFIG + paper_sections(tmp_path)


def paper_sections(tmp_path: Path) -> str:
    """The price sections of paper_config, for a config that has its own base."""
    ticks = tmp_path / "ticks.csv"
    ticks.write_text("time,symbol,price\n0,BTC/USDT,50000\n60,BTC/USDT,50000\n")
    return f"""
[prices]
poll_interval = 1

[prices.sources.replay]
file = "{ticks}"

[[prices.symbols]]
symbol = "BTC/USDT"
source = "replay"
id = "BTC/USDT"
"""


PRICES_FRESH = r"\[hb\] alive .*prices\.fresh=1"


def trading_daemon(launch: Launch, tmp_path: Path, **env: str) -> DaemonProcess:
    """A paper-trading daemon for ADMIN (paper_config), once its first price is in."""
    daemon = launch(admin_ids=str(ADMIN), config=paper_config(tmp_path), env=env)
    daemon.wait_for_log(PRICES_FRESH, timeout=15)
    return daemon


def ask(bot: BotControl, user: int, text: str, count: int) -> str:
    bot.send_text(from_user=user, text=text)
    return str(bot.wait_for_sent(chat_id=user, count=count, timeout=15)[-1]["text"])


def document(bot: BotControl, text: str, filename: str) -> bytes:
    """Send `text` as the admin; the bytes of the document named `filename` it gets."""
    bot.send_text(from_user=ADMIN, text=text)
    sent = bot.wait_for_sent(
        chat_id=ADMIN, where=lambda m: m.get("document", {}).get("file_name") == filename
    )
    return bot.file(sent[-1]["document"]["file_id"])


def photo(bot: BotControl, text: str) -> bytes:
    """Send `text` as the admin; the bytes of the (largest) photo it gets."""
    bot.send_text(from_user=ADMIN, text=text)
    sent = bot.wait_for_sent(chat_id=ADMIN, where=lambda m: "photo" in m)
    return bot.file(sent[-1]["photo"][-1]["file_id"])


def ledger_check(daemon: DaemonProcess) -> subprocess.CompletedProcess[str]:
    env = {"PATH": daemon.env["PATH"], "STATE_DIRECTORY": str(daemon.state_directory)}
    return subprocess.run([TRADEBOTD, "ledger", "check"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_commands_fill_answer_and_leave_clean_books(
    tmp_path: Path, bot: BotControl, launch: Launch
) -> None:
    bot.set_flood(enabled=False)
    daemon = trading_daemon(launch, tmp_path)
    assert ask(bot, ADMIN, "/buy BTC/USDT 0.1", 1).splitlines() == [
        "Filled",
        "order — buy 0.1 BTC at 50025 USDT",
        "amount — 5002.5 USDT",
        "fee — 5.0025 USDT",
        "position — 0.1 BTC",
        "cash — 4992.4975 USDT",
    ]
    assert ask(bot, ADMIN, "/sell BTC/USDT all", 2).splitlines()[1] == (
        "order — sell 0.1 BTC at 49975 USDT"
    )
    assert "No open positions." in ask(bot, ADMIN, "/portfolio", 3)
    assert ask(bot, PUBLIC, "/price btc/usdt", 1).splitlines()[:3] == [
        "BTC/USDT",
        "price — 50000",
        "source — replay",
    ]
    assert ask(bot, PUBLIC, "/buy BTC/USDT 1", 2) == "This command is for admins only."
    checked = ledger_check(daemon)
    assert checked.returncode == 0, checked.stderr
    assert "3 transactions, 13 postings: consistent" in checked.stderr

    # Documents are rendered after commit: the journal as CSV parses back to the books,
    # the equity curve is a photo (a PNG that decodes).
    journal = document(bot, "/ledger csv", "journal.csv")
    rows = list(csv.reader(io.StringIO(journal.decode())))
    assert rows[0] == ["transaction", "created_at", "memo", "account", "commodity", "amount"]
    stored = daemon.query(
        "SELECT transaction_id, account, commodity, amount FROM ledger_posting ORDER BY id"
    )
    assert [(int(r[0]), r[3], r[4], Decimal(r[5])) for r in rows[1:]] == [
        (t, a, c, Decimal(str(v))) for t, a, c, v in stored
    ]
    with Image.open(io.BytesIO(photo(bot, "/pnl chart"))) as chart:
        chart.verify()
        assert (chart.format, chart.size) == ("PNG", (800, 400))

    # [paper] is built into the broker at start: a reload says so and keeps the old fee.
    daemon.config_path.write_text(paper_config(tmp_path) + "\n[paper]\nfee_bps = 50\n")
    daemon.signal(signal.SIGHUP)
    daemon.wait_for_log(r"reload: \[paper\] changed; it takes effect at the next restart")
    assert "fee — 5.0025 USDT" in ask(bot, ADMIN, "/buy BTC/USDT 0.1", 6).splitlines()


def fills(daemon: DaemonProcess) -> dict[str, int]:
    try:
        rows = daemon.query("SELECT side, COUNT(*) FROM paper_fill GROUP BY side")
    except sqlite3.OperationalError:  # the schema is not created yet
        return {}
    return {str(side): int(str(count)) for side, count in rows}


def test_kill9_while_orders_stream_in_fills_each_exactly_once(
    tmp_path: Path, bot: BotControl, launch: Launch
) -> None:
    """Alternating /buy and /sell of 0.001 BTC (so every sell has something to sell),
    queued while no daemon runs; each run is killed with SIGKILL at a random point of
    the stream. After a last clean run: one fill per command, books consistent."""
    bot.set_flood(enabled=False)
    config = paper_config(tmp_path)
    state = tmp_path / "state"
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    commands = 0
    for run in range(4):
        for _ in range(60):
            side = "buy" if commands % 2 == 0 else "sell"
            bot.send_text(from_user=ADMIN, text=f"/{side} BTC/USDT 0.001")
            commands += 1
        daemon = launch(name=f"run{run}", admin_ids=str(ADMIN), config=config,
                        state_directory=state, polling_started=False)  # fmt: skip
        target = sum(fills(daemon).values()) + rng.randrange(5, 50)
        deadline = time.monotonic() + 30
        while sum(fills(daemon).values()) < target:
            assert time.monotonic() < deadline, f"{target} fills not reached (seed {seed})"
            time.sleep(0.005)
        daemon.kill9()
    final = launch(name="final", admin_ids=str(ADMIN), config=config, state_directory=state)
    deadline = time.monotonic() + 60
    while sum(n for side, n in fills(final).items() if side != "deposit") < commands:
        assert time.monotonic() < deadline, f"{fills(final)} of {commands} (seed {seed})"
        time.sleep(0.05)
    time.sleep(1.5)  # anything applied twice would show by now
    assert fills(final) == {"deposit": 1, "buy": commands // 2, "sell": commands // 2}, seed
    checked = ledger_check(final)
    assert checked.returncode == 0, checked.stderr
    assert final.query("SELECT COUNT(*) FROM paper_lot") == [(0,)]
