"""The notification queue under load, on the emulator with flood control on.

1,000 alert-priority messages to 50 chats are queued while a 2,000-message broadcast
(one message to each of 2,000 chats) drains. Measured, from the sender's side:
- the alerts' delay from enqueue to delivery (p50, p99);
- delivered messages per second ÷ the limit the emulator enforces (goal ≥ 0.9);
- 429s the emulator answered (goal 0).
Baseline in the same run: the same 1,000 alerts with no broadcast, so the broadcast's
cost to alerts shows as the difference; and the floor no sender can beat, 1,000 ÷ the
global limit. The limits are Telegram's documented ones (30/s overall, 1/s per chat after
a burst of 3), applied by the emulator and followed by the sender.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Bot

from bench.daemon_throughput import user_messages
from daemon.clock import utcnow
from daemon.emulator.client import BotControl, EmulatorClient
from daemon.emulator.launcher import start_emulator, stop_process
from daemon.notify.sender import NotificationSender
from daemon.notify.telegram import TelegramTransport
from daemon.policy.pacing import PacingLimits
from daemon.policy.retry import RetryPolicy
from daemon.store import outbox, schema
from daemon.store.database import Store, open_database
from daemon.store.outbox import Priority, QueuedCall, Receiver

ALERTS, ALERT_CHATS = 1000, 50
BROADCAST = 2000
LIMITS = PacingLimits(global_per_second=30, chat_per_second=1, chat_burst=3, group_per_minute=20)
FLOOD = {"global_per_second": 30, "chat_per_second": 1, "chat_burst": 3, "grace_seconds": 0.05}
ALERT_BASE, BROADCAST_BASE = 10_000, 20_000


class TimedTransport(TelegramTransport):
    """The Telegram transport, noting when each item was accepted."""

    def __init__(self, bot: Bot, limits: PacingLimits):
        super().__init__(bot, lambda: limits)
        self.accepted: dict[int, float] = {}

    async def deliver(self, call: QueuedCall) -> None:
        await super().deliver(call)
        self.accepted[call.id] = time.monotonic()


async def scenario(bot: BotControl, workdir: Path, with_broadcast: bool) -> dict[str, Any]:
    db = open_database(f"sqlite:///{workdir / ('mixed' if with_broadcast else 'alone')}.db")
    schema.upgrade(db)
    store = Store(db)
    bot.reset_counters()
    async with Bot(bot.token, base_url=bot.base_url) as ptb:
        transport = TimedTransport(ptb, LIMITS)
        sender = NotificationSender(
            store=store,
            transports=[transport],
            retry=lambda: RetryPolicy(),
            utcnow=utcnow,
        )
        if with_broadcast:
            async with store.transaction():
                for n in range(BROADCAST):
                    receiver = Receiver.chat(BROADCAST_BASE + n)
                    outbox.enqueue(receiver, "news", utcnow(), priority=Priority.BULK)
        stop = asyncio.Event()
        started = time.monotonic()
        task = asyncio.create_task(sender.run(stop))
        if with_broadcast:
            await asyncio.sleep(2.0)  # the broadcast is draining
        enqueued: dict[int, float] = {}
        async with store.transaction():
            for n in range(ALERTS):
                receiver = Receiver.chat(ALERT_BASE + n % ALERT_CHATS)
                item = outbox.enqueue(receiver, f"alert {n}", utcnow(), priority=Priority.ALERT)
                assert item is not None
                enqueued[item] = time.monotonic()
        stop.set()  # the sender returns once nothing is left to send
        sender.wake()
        await task
        finished = time.monotonic()
    db.close()
    delays = sorted(transport.accepted[item] - at for item, at in enqueued.items())
    delivered = ALERTS + (BROADCAST if with_broadcast else 0)
    first = min(transport.accepted.values())
    rate = delivered / (max(transport.accepted.values()) - first)
    return {
        "messages": delivered,
        "seconds": round(finished - started, 1),
        "alert_delay_p50_s": round(statistics.median(delays), 2),
        "alert_delay_p99_s": round(delays[int(len(delays) * 0.99) - 1], 2),
        "delivered_per_s": round(rate, 1),
        "rate_over_limit": round(rate / LIMITS.global_per_second, 3),
        "http_429": bot.counters()["flood"],
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        process, url = start_emulator(workdir)
        try:
            with EmulatorClient(url, timeout=60) as emulator:
                bot = emulator.create_bot(flood=FLOOD)
                chats = [ALERT_BASE + n for n in range(ALERT_CHATS)]
                chats += [BROADCAST_BASE + n for n in range(BROADCAST)]
                asyncio.run(user_messages(bot, chats, "hi"))  # chats the bot may write to
                alone = asyncio.run(scenario(bot, workdir, with_broadcast=False))
                mixed = asyncio.run(scenario(bot, workdir, with_broadcast=True))
        finally:
            stop_process(process)
    return {
        "limits": {"global_per_second": 30, "chat_per_second": 1, "chat_burst": 3},
        "alerts_alone": alone,
        "alerts_during_broadcast": mixed,
        "alert_floor_s": round(ALERTS / LIMITS.global_per_second, 1),
        "goals": {"rate_over_limit": 0.9, "http_429": 0},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
