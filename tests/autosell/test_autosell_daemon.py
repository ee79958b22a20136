"""AutoSell through the real daemon on the emulator, driven by a scripted price path (a
local Binance-speaking server): each scenario's exits, their fill prices and the admins'
notices; then kill -9 between a trigger and its fill, and at random moments while the
path streams, and still exactly one sale per trigger with `ledger check` clean."""

from __future__ import annotations

import random
import signal
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from daemon.crashpoints import VARIABLE as CRASH_VARIABLE
from daemon.emulator.client import BotControl
from tests.support.price_server import PriceServer
from tests.support.processes import FAST_CONFIG, DaemonProcess, Launch, reply_to, wait_until
from tests.trading.test_paper_daemon import ledger_check

ADMIN = 4300
SYMBOLS = ("AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH")


def config(server: PriceServer, rules: str) -> str:
    symbols = "".join(
        f'\n[[prices.symbols]]\nsymbol = "{s}/USDT"\nsource = "binance"\nid = "{s}USDT"\n'
        for s in SYMBOLS
    )
    return (
        FAST_CONFIG + f"\n[prices]\npoll_interval = 1\nmax_age = 30\n\n[prices.sources.binance]\n"
        f'base_url = "{server.url}"\n{symbols}\n{rules}'
    )


def started(
    launch: Launch, prices: PriceServer, rules: str, name: str = "daemon", **options: Any
) -> DaemonProcess:
    """A daemon with every symbol at 100, once all eight prices are fresh."""
    prices.set(**{f"{s}_USDT": "100" for s in SYMBOLS})
    daemon = launch(name=name, admin_ids=str(ADMIN), config=config(prices, rules), **options)
    daemon.wait_for_log(r"\[hb\] alive .*prices\.fresh=8", timeout=20)
    return daemon


def sells(daemon: DaemonProcess, symbol: str) -> list[tuple[str, D, D]]:
    """(trigger key, qty, fill price) of each sale of the symbol."""
    rows = daemon.query(
        "SELECT key, qty, price FROM paper_fill WHERE side = 'sell' AND symbol = ? ORDER BY id",
        f"{symbol}/USDT",
    )
    return [(str(k), D(str(q)), D(str(p))) for k, q, p in rows]


def wait_sells(daemon: DaemonProcess, symbol: str, count: int) -> list[tuple[str, D, D]]:
    wait_until(lambda: len(sells(daemon, symbol)) >= count, 15, f"{count} sells of {symbol}")
    return sells(daemon, symbol)


def notice(bot: BotControl, start: str) -> str:
    sent = bot.wait_for_sent(
        chat_id=ADMIN, where=lambda m: str(m.get("text", "")).startswith(start)
    )
    return str(sent[-1]["text"])


def reply(bot: BotControl, text: str, title: str) -> str:
    return reply_to(bot, ADMIN, text, title)


SLIPPED = D("0.9995")  # a sale fills 5 bps below the tick


def test_stops_trails_ladders_and_break_even_on_a_scripted_path(
    tmp_path: Path, bot: BotControl, launch: Launch, prices: PriceServer
) -> None:
    bot.set_flood(enabled=False)
    rules = """
[autosell.symbols."AAA/USDT"]
sl = "-5%"
[autosell.symbols."BBB/USDT"]
trail = "10%"
arm = "+5%"
[autosell.symbols."CCC/USDT"]
tp = "+10%:50%,+20%:50%"
[autosell.symbols."DDD/USDT"]
sl = "-10%"
tp = "+10%:50%,+50%:50%"
be = true
"""
    daemon = started(launch, prices, rules)
    for symbol, qty in (("AAA", "1"), ("BBB", "1"), ("CCC", "2"), ("DDD", "2")):
        reply(bot, f"/buy {symbol}/USDT {qty}", "Filled")
    # The engine shows in the heartbeat line and /health with the rules it armed.
    daemon.wait_for_log(r"\[hb\] alive .* autosell\.rules=4 autosell\.paused=no", timeout=10)
    health = reply(bot, "/health", "Health")
    assert "autosell — ok: 4 rules active" in health
    prices.step(daemon, AAA_USDT="97", BBB_USDT="104", CCC_USDT="111", DDD_USDT="111")
    assert sells(daemon, "AAA") == []
    assert sells(daemon, "BBB") == []
    assert wait_sells(daemon, "CCC", 1) == [("autosell:CCC/USDT:1:tp1", D(1), 111 * SLIPPED)]
    assert wait_sells(daemon, "DDD", 1) == [("autosell:DDD/USDT:1:tp1", D(1), 111 * SLIPPED)]
    # A gap from 97 to 80 fills at 80 less slippage, not at the stop (95.0475).
    prices.step(daemon, AAA_USDT="80", BBB_USDT="120", CCC_USDT="115", DDD_USDT="105")
    assert wait_sells(daemon, "AAA", 1) == [("autosell:AAA/USDT:1:stop", D(1), 80 * SLIPPED)]
    told = notice(bot, "🔻 AutoSell AAA/USDT")
    assert told.startswith("🔻 AutoSell AAA/USDT: stop-loss. Sold 1 at 79.96 USDT (level 95.0475")
    prices.step(daemon, BBB_USDT="112", CCC_USDT="121", DDD_USDT="100.2")
    assert sells(daemon, "BBB") == []  # the trail (armed at 120) stands at 108
    assert wait_sells(daemon, "CCC", 2)[1] == ("autosell:CCC/USDT:1:tp2", D(1), 121 * SLIPPED)
    # After the first target the stop moved from -10% to break-even (entry 100.05 + costs).
    assert wait_sells(daemon, "DDD", 2)[1] == (
        "autosell:DDD/USDT:1:stop",
        D(1),
        D("100.2") * SLIPPED,
    )
    assert "break-even" in notice(bot, "🔻 AutoSell DDD/USDT: break-even")
    prices.step(daemon, BBB_USDT="107")
    assert wait_sells(daemon, "BBB", 1) == [("autosell:BBB/USDT:1:stop", D(1), 107 * SLIPPED)]
    assert "trailing stop" in notice(bot, "🔻 AutoSell BBB/USDT")
    checked = ledger_check(daemon)
    assert checked.returncode == 0, checked.stderr


def test_time_exit_rearming_an_edit_mid_trend_and_a_pause_through_a_crash(
    tmp_path: Path, bot: BotControl, launch: Launch, prices: PriceServer
) -> None:
    bot.set_flood(enabled=False)
    rules = """
[autosell.symbols."EEE/USDT"]
time = "4s"
[autosell.symbols."FFF/USDT"]
sl = "-5%"
[autosell.symbols."GGG/USDT"]
tp = "+10%:100%"
[autosell.symbols."HHH/USDT"]
sl = "-5%"
"""
    daemon = started(launch, prices, rules)
    for symbol in ("EEE", "FFF", "GGG", "HHH"):
        reply(bot, f"/buy {symbol}/USDT 1", "Filled")
    bought = time.monotonic()
    prices.step(daemon, EEE_USDT="101", GGG_USDT="105", HHH_USDT="110")
    # A second buy re-arms GGG on the new average entry (~102.55): its target moves up
    # from 110.055 to ~112.8, and the ladder's share is of the new holding (2).
    reply(bot, "/buy GGG/USDT 1", "Filled")
    # An edit mid-trend: HHH trades its fixed stop for a trailing one, armed at once.
    armed = reply(bot, "/autosell HHH/USDT sl=off trail=5%", "AutoSell rule")
    assert armed.startswith("AutoSell rule armed\nHHH/USDT: 1 held, entry 100.05 — trail=5%;")
    prices.step(daemon, GGG_USDT="111", HHH_USDT="115")
    assert sells(daemon, "GGG") == []
    wait_until(lambda: time.monotonic() - bought > 5, 10, "the holding period")
    assert [s[:2] for s in wait_sells(daemon, "EEE", 1)] == [("autosell:EEE/USDT:1:time", D(1))]
    prices.step(daemon, GGG_USDT="113", HHH_USDT="109")
    assert [s[:2] for s in wait_sells(daemon, "GGG", 1)] == [("autosell:GGG/USDT:2:tp1", D(2))]
    assert wait_sells(daemon, "HHH", 1) == [("autosell:HHH/USDT:2:stop", D(1), 109 * SLIPPED)]

    # The kill switch: a crash while paused is reported, not sold; /resume sells at the
    # price then, saying the stop was crossed during the pause. Manual /sell still works.
    reply(bot, "/pause exchange incident", "AutoSell paused")
    prices.step(daemon, FFF_USDT="80")
    assert notice(bot, "⏸ AutoSell is paused: FFF/USDT").startswith(
        "⏸ AutoSell is paused: FFF/USDT stop-loss crossed at 80 (level 95.0475); not sold."
    )
    prices.step(daemon, FFF_USDT="70")
    assert sells(daemon, "FFF") == []
    listing = reply(bot, "/autosell list", "AutoSell rules")
    assert "PAUSED since" in listing
    assert "crossed while paused: stop-loss" in listing
    reply(bot, "/resume", "AutoSell resumed")
    assert wait_sells(daemon, "FFF", 1) == [("autosell:FFF/USDT:1:stop", D(1), 70 * SLIPPED)]
    assert "stop-loss — crossed during the pause" in notice(bot, "🔻 AutoSell FFF/USDT")
    checked = ledger_check(daemon)
    assert checked.returncode == 0, checked.stderr


CRASH_RULES = """
[autosell.symbols."AAA/USDT"]
sl = "-5%"
"""


@pytest.mark.parametrize("point", ["autosell.decided", "autosell.filled"])
def test_kill9_between_trigger_and_fill_then_restart_sells_exactly_once(
    tmp_path: Path, bot: BotControl, launch: Launch, prices: PriceServer, point: str
) -> None:
    """The process is killed right after deciding (nothing written yet), or after the
    fill, the rule's new state and the notice were written but before they commit. The
    restarted daemon decides again at the next tick and sells once."""
    bot.set_flood(enabled=False)
    state = tmp_path / "state"
    first = started(launch, prices, CRASH_RULES, "first", state_directory=state,
                    env={CRASH_VARIABLE: point})  # fmt: skip
    reply(bot, "/buy AAA/USDT 1", "Filled")
    prices.set(AAA_USDT="90")
    assert first.wait_exit(timeout=15) == -signal.SIGKILL
    assert sells(first, "AAA") == []
    assert first.query("SELECT held FROM autosell_rule") == [("1",)]
    second = launch(name="second", admin_ids=str(ADMIN), config=config(prices, CRASH_RULES),
                    state_directory=state)  # fmt: skip
    assert wait_sells(second, "AAA", 1) == [("autosell:AAA/USDT:1:stop", D(1), 90 * SLIPPED)]
    prices.step(second, AAA_USDT="89")
    prices.step(second, AAA_USDT="88")
    assert len(sells(second, "AAA")) == 1
    notices = [m for m in bot.sent(chat_id=ADMIN) if str(m.get("text", "")).startswith("🔻")]
    assert len(notices) == 1
    checked = ledger_check(second)
    assert checked.returncode == 0, checked.stderr


STREAM_RULES = "".join(
    f'\n[autosell.symbols."{s}/USDT"]\ntp = "+10%:25%,+20%:25%,+30%:25%"\nsl = "-20%"\n'
    for s in ("AAA", "BBB", "CCC", "DDD")
)
# Each step holds a few seconds, so every level is seen by some run of the daemon.
PATH_STEPS = ("100", "111", "115", "121", "125", "131", "120", "70")


def test_kill9_at_random_moments_while_the_path_streams_sells_once_per_trigger(
    tmp_path: Path, bot: BotControl, launch: Launch, prices: PriceServer
) -> None:
    """Four holdings walk a path through three targets and then the stop; the daemon is
    killed with SIGKILL at random moments and started again. In the end each trigger
    sold exactly once, its share exactly, and the books are consistent."""
    bot.set_flood(enabled=False)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    held = ("AAA", "BBB", "CCC", "DDD")
    prices.set(**{f"{s}_USDT": "100" for s in SYMBOLS})
    state = tmp_path / "state"
    runs = 0

    def start() -> DaemonProcess:
        nonlocal runs
        runs += 1
        return launch(name=f"run{runs}", admin_ids=str(ADMIN),
                      config=config(prices, STREAM_RULES), state_directory=state)  # fmt: skip

    daemon = start()
    daemon.wait_for_log(r"\[hb\] alive .*prices\.fresh=8", timeout=20)
    for symbol in held:
        reply(bot, f"/buy {symbol}/USDT 1", "Filled")
    for price in PATH_STEPS[1:]:
        prices.set(**{f"{s}_USDT": price for s in held})
        until = time.monotonic() + 4
        while time.monotonic() < until:
            time.sleep(rng.uniform(0.2, 1.5))
            daemon.kill9()
            daemon = start()
    expected = [
        (f"autosell:{{}}/USDT:1:{slug}", qty)
        for slug, qty in (("tp1", "0.25"), ("tp2", "0.25"), ("tp3", "0.25"), ("stop", "0.25"))
    ]
    for symbol in held:
        got = [(key, qty) for key, qty, _ in wait_sells(daemon, symbol, 4)]
        assert got == [(key.format(symbol), D(qty)) for key, qty in expected], seed
    time.sleep(1.5)  # a second sale of anything would show by now
    assert all(len(sells(daemon, s)) == 4 for s in held), seed
    checked = ledger_check(daemon)
    assert checked.returncode == 0, (seed, checked.stderr)
