"""Alert routing.

- ingest: `POST /alerts` on loopback, 16 clients at a time, each alert stored durably
  (SQLite, opened as the daemon opens it) before its 202: accepted alerts/s and accept
  latency p50/p99, against a bare aiohttp handler answering 202 on the same loopback in
  the same run.
- delivery: 1,000 distinct alerts through the real router and sender: each to one of 50
  Telegram chats (20 each; grouping off: every alert its own group) on the emulator with
  Telegram's flood limits enforced, plus a copy of each to 5 Apprise json:// receivers
  (a local HTTP server). Delivered Telegram messages/s ÷ the enforced global limit (goal
  ≥ 0.9), and the 429s the emulator answered (goal 0).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from telegram import Bot

from bench.daemon_throughput import user_messages
from daemon.alerts.ingest import AlertIngest
from daemon.alerts.router import AlertRouter
from daemon.alerts.settings import AlertsSettings
from daemon.clock import utcnow
from daemon.config import load_settings
from daemon.emulator.client import EmulatorClient
from daemon.emulator.launcher import start_emulator, stop_process
from daemon.notify.apprise_transport import AppriseTransport
from daemon.notify.sender import NotificationSender
from daemon.notify.telegram import TelegramTransport
from daemon.policy.pacing import PacingLimits
from daemon.policy.retry import RetryPolicy
from daemon.store import alerts as stored
from daemon.store import schema
from daemon.store.checkpoint import DAEMON_AUTOCHECKPOINT
from daemon.store.database import Store, execute, open_database

POSTS, CONCURRENCY = 2000, 16
SECRET = "bench-secret"
ALERTS, CHATS, APPRISE = 1000, 50, 5
CHAT_BASE = 30_000
LIMITS = PacingLimits(global_per_second=30, chat_per_second=1, chat_burst=3, group_per_minute=20)
FLOOD = {"global_per_second": 30, "chat_per_second": 1, "chat_burst": 3, "grace_seconds": 0.05}


def alerts_settings(workdir: Path, toml: str) -> AlertsSettings:
    path = workdir / "bench.toml"
    path.write_text(toml)
    import daemon.features  # noqa: F401  # registers [alerts]

    settings = load_settings({"TRADEBOTD_CONFIG": str(path)}, require_token=False)
    section: AlertsSettings = settings.section("alerts")
    return section


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def _post_all(url: str, headers: dict[str, str]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession() as session:

        async def one(n: int) -> None:
            body = f'{{"labels": {{"kind": "bench", "n": "{n}"}}, "text": "alert {n}"}}'
            async with semaphore:
                began = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 202, response.status
                latencies.append((time.perf_counter() - began) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(POSTS)))
        return time.perf_counter() - began, latencies


async def ingest(workdir: Path) -> dict[str, Any]:
    settings = alerts_settings(workdir, f'[alerts.ingest]\nsecret = "{SECRET}"\n')
    db = open_database(f"sqlite:///{workdir / 'ingest.db'}", autocheckpoint=DAEMON_AUTOCHECKPOINT)
    schema.upgrade(db)
    receiver = AlertIngest(lambda: settings, Store(db), utcnow, lambda: None)
    runner, port = await _serve(receiver.app())
    headers = {"X-Tradebotd-Secret": SECRET, "Content-Type": "application/json"}
    seconds, latencies = await _post_all(f"http://127.0.0.1:{port}/alerts", headers)
    await runner.cleanup()
    stored_count = int(execute("SELECT COUNT(*) FROM alert").fetchone()[0])
    db.close()

    async def bare(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202, text="{}")

    app = web.Application()
    app.router.add_post("/alerts", bare)
    runner, port = await _serve(app)
    base_seconds, base_latencies = await _post_all(f"http://127.0.0.1:{port}/alerts", {})
    await runner.cleanup()
    ordered = sorted(latencies)
    return {
        "posts": POSTS,
        "concurrency": CONCURRENCY,
        "stored": stored_count,
        "accepted_per_s": round(POSTS / seconds, 1),
        "accept_p50_ms": round(statistics.median(ordered), 2),
        "accept_p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 2),
        "baseline_bare_aiohttp_per_s": round(POSTS / base_seconds, 1),
        "baseline_bare_p99_ms": round(sorted(base_latencies)[int(POSTS * 0.99) - 1], 2),
    }


def delivery_config(apprise_port: int) -> str:
    receivers = "".join(
        f'\n[[alerts.receivers]]\nname = "tg{i}"\ntelegram = [{CHAT_BASE + i}]\n'
        for i in range(CHATS)
    )
    receivers += "".join(
        f'\n[[alerts.receivers]]\nname = "ap{j}"\n'
        f'apprise = ["json://127.0.0.1:{apprise_port}/ap{j}"]\n'
        for j in range(APPRISE)
    )
    routes = "".join(
        f'\n[[alerts.route.routes]]\nreceiver = "ap{j}"\ncontinue = true\n' for j in range(APPRISE)
    )
    routes += "".join(
        f'\n[[alerts.route.routes]]\nmatchers = [\'chat="{i}"\']\nreceiver = "tg{i}"\n'
        for i in range(CHATS)
    )
    return (
        receivers
        + '\n[alerts.route]\nreceiver = "tg0"\ngroup_by = ["id"]\ngroup_wait = 0\n'
        + routes
    )


async def delivery(workdir: Path, bot_token: str, base_url: str, flood_429: Any) -> dict[str, Any]:
    posted: list[str] = []

    async def collect(request: web.Request) -> web.Response:
        posted.append(request.path)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/{name}", collect)
    runner, apprise_port = await _serve(app)
    settings = alerts_settings(workdir, delivery_config(apprise_port))
    db = open_database(f"sqlite:///{workdir / 'delivery.db'}", autocheckpoint=DAEMON_AUTOCHECKPOINT)
    schema.upgrade(db)
    store = Store(db)
    now = utcnow()
    async with store.transaction():
        for n in range(ALERTS):
            labels = {"kind": "bench", "chat": str(n % CHATS), "id": f"bench:{n}"}
            stored.add(f"bench:{n}", f"fp{n}", labels, f"alert {n}", now)
    delivered: list[float] = []
    all_delivered = asyncio.Event()

    class Counted(TelegramTransport):
        async def deliver(self, call: Any) -> None:
            await super().deliver(call)
            delivered.append(time.monotonic())
            if len(delivered) == ALERTS:
                all_delivered.set()

    async with Bot(bot_token, base_url=base_url) as ptb:
        sender = NotificationSender(
            store=store,
            transports=[Counted(ptb, lambda: LIMITS),
                        AppriseTransport(lambda: settings.apprise_urls())],
            retry=lambda: RetryPolicy(),
            utcnow=utcnow,
        )  # fmt: skip
        router = AlertRouter(lambda: settings, store, utcnow, sender.wake)
        stop = asyncio.Event()
        began = time.monotonic()
        sending = asyncio.create_task(sender.run(stop))
        routing = asyncio.create_task(router.run(stop))
        await asyncio.wait_for(all_delivered.wait(), 300)
        telegram_done = time.monotonic()
        stop.set()
        sending.cancel()
        await asyncio.gather(sending, routing, return_exceptions=True)
    await runner.cleanup()
    db.close()
    rate = (len(delivered) - 1) / (max(delivered) - min(delivered))
    return {
        "alerts": ALERTS,
        "telegram_chats": CHATS,
        "apprise_receivers": APPRISE,
        "telegram_delivered": len(delivered),
        "telegram_seconds": round(telegram_done - began, 1),
        "telegram_per_s": round(rate, 1),
        "rate_over_limit": round(rate / LIMITS.global_per_second, 3),
        "http_429": flood_429(),
        "apprise_posts_meanwhile": len(posted),
        "goals": {"rate_over_limit": 0.9, "http_429": 0},
        "meets_goals": rate / LIMITS.global_per_second >= 0.9 and flood_429() == 0,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        ingested = asyncio.run(ingest(workdir))
        process, url = start_emulator(workdir)
        try:
            with EmulatorClient(url, timeout=60) as emulator:
                bot = emulator.create_bot(flood=FLOOD)
                asyncio.run(user_messages(bot, [CHAT_BASE + i for i in range(CHATS)], "hi"))
                bot.reset_counters()
                delivered = asyncio.run(
                    delivery(workdir, bot.token, bot.base_url, lambda: bot.counters()["flood"])
                )
        finally:
            stop_process(process)
    return {"ingest": ingested, "delivery": delivered}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
