"""getUpdates as Telegram serves it: who gets the 409, offsets, limits, long polls."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import httpx
import pytest
from telegram.error import Conflict

from daemon.emulator.client import BotControl
from daemon.emulator.errors import CONFLICT_OTHER_POLL
from tests.emulator.ptb import ptb_bot, running

USER = 501


async def wait_until_polling(control: BotControl, who: str | None, within: float = 10) -> None:
    """Until the emulator holds a long poll from `who` (a User-Agent prefix), or none."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        waiting = control.summary()["waiting_poller"]
        if (who is None and waiting is None) or (who and waiting and waiting.startswith(who)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"waiting poller is {control.summary()['waiting_poller']!r}, wanted {who!r}"
    )


async def test_a_second_long_poller_ends_the_first_with_409(bot: BotControl) -> None:
    """Two PTB pollers on one token: the older poll gets Telegram's exact 409 text."""
    async with running(ptb_bot(bot, "poller-A")) as a, running(ptb_bot(bot, "poller-B")) as b:
        first = asyncio.create_task(a.get_updates(timeout=10))
        await wait_until_polling(bot, "poller-A")
        second = asyncio.create_task(b.get_updates(timeout=10))
        with pytest.raises(Conflict) as ended:
            await first
        assert str(ended.value) == CONFLICT_OTHER_POLL
        await wait_until_polling(bot, "poller-B")
        bot.send_text(USER, "/start")
        delivered = await second
    assert [u.message.text for u in delivered] == ["/start"]
    counters = bot.counters()
    assert counters["by_user_agent"]["poller-A"]["conflicts"] == 1
    assert counters["by_user_agent"]["poller-B"]["conflicts"] == 0
    # The poll log shows the overlap (what a cluster's tests look for), and how each ended.
    first_poll, second_poll = bot.polls()
    assert first_poll["caller"].startswith("poller-A")
    assert second_poll["caller"].startswith("poller-B")
    assert second_poll["started"] < first_poll["ended"] <= second_poll["ended"]
    assert (first_poll["ended_by"], second_poll["ended_by"]) == ("409", "answered")
    [event] = counters["events"]
    assert (event["status"], event["user_agent"]) == (409, "poller-A")


async def test_the_fight_repeats_while_both_keep_polling(bot: BotControl) -> None:
    """Two pollers that retry after each 409 keep producing 409s: the classic failure."""
    async with running(ptb_bot(bot, "fighter-A")) as a, running(ptb_bot(bot, "fighter-B")) as b:

        async def keep_polling(client: object, rounds: int) -> int:
            conflicts = 0
            for _ in range(rounds):
                try:
                    await client.get_updates(timeout=5)  # type: ignore[attr-defined]
                except Conflict:
                    conflicts += 1
            return conflicts

        results = await asyncio.gather(keep_polling(a, 4), keep_polling(b, 4))
    assert sum(results) >= 4
    assert bot.counters()["conflicts"] == sum(results)


async def test_a_short_poll_displaces_nobody(bot: BotControl) -> None:
    """timeout=0 answers at once and leaves the waiting long poll alone."""
    async with running(ptb_bot(bot, "long")) as long, running(ptb_bot(bot, "short")) as short:
        waiting = asyncio.create_task(long.get_updates(timeout=10))
        await wait_until_polling(bot, "long")
        assert await short.get_updates(timeout=0) == ()
        await wait_until_polling(bot, "long")
        bot.send_text(USER, "hello")
        delivered = await waiting
    assert [u.message.text for u in delivered] == ["hello"]
    assert bot.counters()["conflicts"] == 0


async def test_a_poll_whose_client_went_away_is_dropped(bot: BotControl) -> None:
    """A client that gives up mid-poll leaves no pending poll to 409 its successor."""
    url = f"{bot.api_root}/bot{bot.token}/getUpdates"
    async with httpx.AsyncClient(timeout=0.5) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.get(url, params={"timeout": 30})
    await wait_until_polling(bot, None)
    async with running(ptb_bot(bot, "successor")) as successor:
        assert await successor.get_updates(timeout=1) == ()
    assert bot.counters()["conflicts"] == 0


LEGACY_POLLER = """
import asyncio, sys
from telegram import Bot
from tests.emulator.ptb import named_request

async def main():
    bot = Bot(sys.argv[1], base_url=sys.argv[2], get_updates_request=named_request("legacy"))
    async with bot:
        while True:
            await bot.get_updates(timeout=30)

asyncio.run(main())
"""


async def test_a_kill_9_poller_leaves_no_conflict_for_its_successor(bot: BotControl) -> None:
    """kill -9 of a long-polling process: the kernel closes its socket, the poll is
    dropped, and the next poller on the token sees no 409."""
    legacy = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LEGACY_POLLER, bot.token, bot.base_url, cwd=os.getcwd()
    )
    try:
        await wait_until_polling(bot, "legacy", within=20)
    finally:
        os.kill(legacy.pid, signal.SIGKILL)
        await legacy.wait()
    async with running(ptb_bot(bot, "successor")) as successor:
        for _ in range(2):
            assert await successor.get_updates(timeout=1) == ()
    counters = bot.counters()
    assert counters["conflicts"] == 0
    assert counters["by_user_agent"]["legacy"]["get_updates"] >= 1


async def test_offset_confirms_updates_below_it(bot: BotControl) -> None:
    """An offset above an update_id confirms it for good; a negative one keeps the tail."""
    ids = [bot.send_text(USER, f"m{n}")["update_id"] for n in range(4)]
    async with running(ptb_bot(bot)) as client:
        assert [u.update_id for u in await client.get_updates()] == ids
        assert [u.update_id for u in await client.get_updates(offset=ids[2])] == ids[2:]
        assert [u["update_id"] for u in bot.pending_updates()] == ids[2:]
        assert [u.update_id for u in await client.get_updates(offset=-1)] == ids[3:]
        assert [u.update_id for u in await client.get_updates(offset=ids[3] + 1)] == []
    assert bot.pending_updates() == []


async def test_limit_is_clamped_to_1_through_100(bot: BotControl) -> None:
    """limit takes 1-100; out-of-range values are clamped, as the Bot API server does."""
    for n in range(3):
        bot.send_text(USER, f"m{n}")
    url = f"{bot.api_root}/bot{bot.token}/getUpdates"
    async with httpx.AsyncClient() as raw:
        sizes = [
            len((await raw.get(url, params={"limit": limit})).json()["result"])
            for limit in (2, 0, -5, 1000, "junk")
        ]
    assert sizes == [2, 1, 1, 3, 1]


async def test_a_long_poll_answers_when_an_update_arrives(bot: BotControl) -> None:
    """A waiting long poll returns the update that arrives during it."""
    async with running(ptb_bot(bot, "waiter")) as client:
        waiting = asyncio.create_task(client.get_updates(timeout=30))
        await wait_until_polling(bot, "waiter")
        update_id = bot.send_text(USER, "/ping")["update_id"]
        delivered = await asyncio.wait_for(waiting, 10)
    assert [u.update_id for u in delivered] == [update_id]


async def test_an_idle_long_poll_ends_empty_after_its_timeout(bot: BotControl) -> None:
    async with running(ptb_bot(bot)) as client:
        assert await client.get_updates(timeout=1) == ()
    assert bot.summary()["waiting_poller"] is None


async def test_allowed_updates_filters_updates_created_afterwards(bot: BotControl) -> None:
    """allowed_updates persists across calls; an empty list restores the default set."""
    async with running(ptb_bot(bot)) as client:
        await client.get_updates(allowed_updates=["callback_query"])
        assert bot.send_text(USER, "dropped")["update_id"] is None
        assert await client.get_updates() == ()
        await client.get_updates(allowed_updates=[])
        kept = bot.send_text(USER, "kept")["update_id"]
        assert [u.update_id for u in await client.get_updates()] == [kept]
