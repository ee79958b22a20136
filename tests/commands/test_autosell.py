"""/autosell, /pause and /resume on a real SQLite database with a quote book the test
sets: a rule set before a holding waits for the buy, a buy arms it, the listing shows the
live levels, bad rules are refused with the reason and change nothing, the kill switch
answers once."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.autosell.decide import Costs
from daemon.autosell.engine import AutoSell
from daemon.autosell.settings import AutoSellSettings, RuleSettings
from daemon.prices.quotes import QuoteBook
from daemon.store.database import Store, execute
from daemon.trading.desk import PaperDesk
from tests.commands.test_paper import ADMIN, Clock, book, clock, harness  # noqa: F401
from tests.support.commands import CommandHarness, make_harness


@pytest.fixture
def autosell_harness(
    tmp_path: Path,
    harness: CommandHarness,  # noqa: F811
    book: QuoteBook,  # noqa: F811
    clock: Clock,  # noqa: F811
) -> CommandHarness:
    paper = harness.services.paper
    assert paper is not None
    rules = AutoSellSettings(defaults=RuleSettings(sl="-5%"))

    def engine(store: Store, desk: PaperDesk) -> AutoSell:
        made = AutoSell(rules, desk, book, store, clock, Costs(10, 5))
        desk.after_fill.append(made.after_fill)
        return made

    return make_harness(tmp_path / "a", admin_ids=str(ADMIN), paper=lambda _: paper,
                        autosell=engine)  # fmt: skip


async def say(h: CommandHarness, text: str) -> str:
    return h.text(await h.run(text, ADMIN))


def overrides() -> list[tuple[object, ...]]:
    return [tuple(r) for r in execute("SELECT symbol, spec FROM autosell_override").fetchall()]


async def test_rules_wait_for_a_buy_arm_on_it_and_list_their_levels(
    autosell_harness: CommandHarness,
) -> None:
    h = autosell_harness
    assert await say(h, "/autosell") == (
        "AutoSell rules\nNo rule armed: AutoSell arms one on each holding that has a rule."
    )
    assert await say(h, "/autosell btc/usdt tp=+10%:50%,+20%:50% be=on") == (
        "AutoSell rule set\nBTC/USDT: sl=-5% tp=+10%:50%,+20%:50% be=on — armed at the next buy."
    )
    assert (await say(h, "/buy BTC/USDT 0.1")).startswith("Filled")
    assert await say(h, "/autosell list") == (
        "AutoSell rules\nBTC/USDT: 0.1 held, entry 50025 — sl=-5% tp=+10%:50%,+20%:50% be=on; "
        "stop 47523.75 (stop-loss); next target 55027.5 sells 0.05 (1 of 2); high 50025"
    )


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("/autosell BTC/USDT tp=+10%:80%,+20%:30%",
         "Not changed: tp=+10%:80%,+20%:30%: the shares add up to 110%, more than 100%"),
        ("/autosell BTC/USDT trail=0%", "Not changed: trail=0%: a percentage must be more than "
         "zero, got '0'"),
        ("/autosell BTC/USDT stop=-5%", "Not changed: unknown key 'stop' (known: sl, tp, trail, "
         "arm, be, time)"),
        ("/autosell BTC/USDT sl=51000", "Not changed: sl=51000 is at or above the price "
         "(50000): a stop for a long sits below it"),
        ("/autosell DOGE/USDT sl=-5%", "Not changed: DOGE/USDT is not tradable here "
         "(tradable: BTC/USDT, PEPE/USDT)"),
        ("/autosell BTC/USDT", "Usage: /autosell list | off SYMBOL | SYMBOL sl=-5% "
         "tp=+10%:50%,+20%:50% trail=3% arm=+5% be=on time=48h"),
    ],
)  # fmt: skip
async def test_bad_rules_are_refused_with_the_reason_and_change_nothing(
    autosell_harness: CommandHarness, command: str, reason: str
) -> None:
    assert await say(autosell_harness, command) == reason
    assert overrides() == []


async def test_off_closes_the_armed_rule_and_keeps_it_off_for_later_buys(
    autosell_harness: CommandHarness,
) -> None:
    h = autosell_harness
    await say(h, "/buy BTC/USDT 0.1")
    assert await say(h, "/autosell off BTC/USDT") == (
        "AutoSell is off for BTC/USDT (the armed rule is closed); /autosell SYMBOL … sets a "
        "rule again."
    )
    await say(h, "/buy BTC/USDT 0.1")
    assert "No rule armed" in await say(h, "/autosell")
    assert overrides() == [("BTC/USDT", None)]


async def test_the_kill_switch_answers_once_each_way(autosell_harness: CommandHarness) -> None:
    h = autosell_harness
    assert await say(h, "/resume") == "AutoSell was not paused."
    assert await say(h, "/pause exchange incident") == (
        "AutoSell paused\nNo automated exit executes until /resume; crossings are reported "
        "instead. Manual /sell still works."
    )
    assert (await say(h, "/pause again")).startswith("Already paused since ")
    assert (await say(h, "/autosell")).startswith("AutoSell rules\nPAUSED since ")
    assert (await say(h, "/resume")).startswith("AutoSell resumed\n")
    assert await say(h, "/resume") == "AutoSell was not paused."
