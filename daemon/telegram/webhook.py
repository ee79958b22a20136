"""Webhook mode: Telegram pushes updates to our aiohttp server instead of being polled.

For operators behind a reverse proxy (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN). A
request without the right X-Telegram-Bot-Api-Secret-Token is refused with 403 and
processes nothing; a body that is not an update gets 400. Updates go through the same
exactly-once processor as polling: Telegram retries a delivery until it gets 200, and an
update at or below the stored offset is applied once only.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from json import JSONDecodeError

from aiohttp import web
from loguru import logger
from telegram import Bot, Update

from daemon.config import WebhookSettings
from daemon.telegram.bot import ALLOWED_UPDATES
from daemon.telegram.processor import UpdateProcessor
from daemon.vitals import Vitals

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


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
            body = await request.json()
            update = Update.de_json(body, bot)
        except (JSONDecodeError, ValueError, TypeError, KeyError) as exc:
            logger.warning("webhook: refused a body that is not an update: {}", exc)
            return web.Response(status=400, text="not an update")
        if update is None:
            return web.Response(status=400, text="not an update")
        vitals.liveness.answered(clock(), 0)
        await processor.process(update)
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
    )
    logger.info(
        "webhook mode: Telegram delivers to {}; listening on {}:{}",
        settings.url,
        settings.host,
        settings.port,
    )
    return runner
