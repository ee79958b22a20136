"""Webhook mode: Telegram pushes updates to our aiohttp server instead of being polled.

For operators behind a reverse proxy (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN). A
request without the right X-Telegram-Bot-Api-Secret-Token is refused with 403 and
processes nothing; a body that is not an update (not a JSON object, an update_id that is
not a 32-bit non-negative integer) gets 400 with the reason and stores nothing.

Updates go through the same exactly-once processor as polling: Telegram retries a
delivery until it gets 200, and an update whose id is recorded as processed is applied
once only, whatever order deliveries arrive in. setWebhook asks for max_connections=1 so
Telegram delivers one update at a time, in order; the duplicate check inside the
transaction holds even when deliveries overlap anyway (a proxy's retry, a test).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from json import JSONDecodeError

from aiohttp import web
from loguru import logger
from telegram import Bot, Update

from daemon.config import WebhookSettings
from daemon.store.database import StoreUnavailable
from daemon.store.progress import MAX_UPDATE_ID
from daemon.telegram.bot import ALLOWED_UPDATES
from daemon.telegram.processor import UpdateProcessor
from daemon.vitals import Vitals

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# One delivery at a time (Telegram's default is 40 in parallel): order is kept and a slow
# handler delays the next update instead of racing it.
MAX_CONNECTIONS = 1


class NotAnUpdate(ValueError):
    """str() is the reason given in the 400 answer."""


def check_update_body(body: object) -> dict[str, object]:
    """The body as an update's JSON object, or NotAnUpdate saying what is wrong. Pure."""
    if not isinstance(body, dict):
        raise NotAnUpdate(f"the body must be a JSON object, got a JSON {type(body).__name__}")
    update_id = body.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise NotAnUpdate(f"update_id must be an integer, got {update_id!r}"[:200])
    if not 0 <= update_id <= MAX_UPDATE_ID:
        raise NotAnUpdate(f"update_id {update_id} is outside 0..{MAX_UPDATE_ID}")
    return body


def refuse(reason: str) -> web.Response:
    logger.warning("webhook: refused a body: {}", reason)
    return web.Response(status=400, text=f"not an update: {reason}")


def build_app(
    settings: WebhookSettings,
    bot: Bot,
    processor: UpdateProcessor,
    vitals: Vitals,
    clock: Callable[[], float] = time.monotonic,
) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        offered = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(offered.encode(), settings.secret.encode()):
            logger.warning("webhook: refused a request from {} without the secret", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            body = check_update_body(await request.json())
            update = Update.de_json(body, bot)
        except JSONDecodeError:
            return refuse("the body is not JSON")
        except NotAnUpdate as exc:
            return refuse(str(exc))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return refuse(f"not an update: {type(exc).__name__}")
        vitals.liveness.answered(clock(), 0)
        try:
            await processor.process(update)
        except StoreUnavailable as exc:
            # Not 200: Telegram delivers it again later; nothing was recorded.
            logger.error("webhook: update {} not processed: {}", update.update_id, exc)
            return web.Response(status=503, text="database unavailable; retry")
        return web.Response(text="ok")

    app = web.Application(client_max_size=1024**2)
    app.router.add_post(settings.path, receive)
    return app


async def start(
    settings: WebhookSettings, bot: Bot, processor: UpdateProcessor, vitals: Vitals
) -> web.AppRunner:
    """Listen, then point Telegram at us (keeping updates queued meanwhile)."""
    runner = web.AppRunner(build_app(settings, bot, processor, vitals), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    await bot.set_webhook(
        settings.url,
        secret_token=settings.secret,
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,
        max_connections=MAX_CONNECTIONS,
    )
    logger.info(
        "webhook mode: Telegram delivers to {}; listening on {}:{}",
        settings.url,
        settings.host,
        settings.port,
    )
    return runner


class WebhookReceiver:
    """Webhook mode as a daemon component: listens from start to stop. The webhook stays
    set at stop: Telegram queues updates until the next start."""

    name = "webhook"

    def __init__(
        self, settings: WebhookSettings, bot: Bot, processor: UpdateProcessor, vitals: Vitals
    ):
        self._settings = settings
        self._bot = bot
        self._processor = processor
        self._vitals = vitals
        self._listening = False

    async def run(self, stop: asyncio.Event) -> None:
        runner = await start(self._settings, self._bot, self._processor, self._vitals)
        self._listening = True
        try:
            await stop.wait()
        finally:
            self._listening = False
            await runner.cleanup()

    def health(self) -> str | None:
        where = f"{self._settings.host}:{self._settings.port}"
        return f"ok: listening on {where}" if self._listening else f"FAIL: not listening on {where}"

    def facts(self) -> dict[str, int | str]:
        return {}
