"""`tradebotd digest`: a short-lived process that sends the digest to every admin.

It never calls getUpdates (getMe, getMyCommands and sendMessage only), so it runs beside
the polling daemon without a 409. It reads the database (WAL: the daemon is not blocked)
and records the period it sent, so a second run for the same day or week sends nothing
unless --force. A lock file keeps two digest runs from overlapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from datetime import datetime

from loguru import logger
from telegram import Bot, BotCommandScopeChat
from telegram.constants import ParseMode
from telegram.error import InvalidToken, RetryAfter, TelegramError

from daemon import guard
from daemon.config import EX_CONFIG, Settings
from daemon.digest.compose import AdminCatalogue, build_digest
from daemon.digest.period import period_for
from daemon.reply import Reply
from daemon.store import admins, digest_runs, schema
from daemon.store.database import open_database, transaction
from daemon.telegram.errors import describe, retry_after_seconds
from daemon.telegram.formatting import render, render_plain, split_message

EX_SEND_FAILED = 1
LOCK_NAME = "digest.lock"


@dataclass(frozen=True)
class DigestOptions:
    period: str = "day"
    force: bool = False
    dry_run: bool = False


async def _admin_menu(bot: Bot, admin_ids: list[int]) -> tuple[str, ...] | None:
    for admin in admin_ids:
        with contextlib.suppress(TelegramError):
            commands = await bot.get_my_commands(scope=BotCommandScopeChat(admin))
            return tuple(c.command for c in commands)
    return None


async def _send(bot: Bot, chat_id: int, reply: Reply) -> None:
    for part in split_message(render(reply)):
        for attempt in range(3):
            try:
                await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML)
                break
            except RetryAfter as exc:
                if attempt == 2:
                    raise
                await asyncio.sleep(retry_after_seconds(exc))


async def run_digest(
    settings: Settings, options: DigestOptions, now: datetime, catalogue: AdminCatalogue
) -> int:
    settings.state_directory.mkdir(parents=True, exist_ok=True)
    try:
        lock = guard.take_lock_file(settings.state_directory / LOCK_NAME)
    except guard.AlreadyRunning as exc:
        logger.warning("digest: another digest run is in progress ({}); not starting", exc.pid)
        return 0
    try:
        return await _run_locked(settings, options, now, catalogue)
    finally:
        os.close(lock)


async def _run_locked(
    settings: Settings, options: DigestOptions, now: datetime, catalogue: AdminCatalogue
) -> int:
    db = open_database(settings.database_url)
    try:
        version, latest = schema.current_version(db), schema.latest_version()
        if version != latest:
            logger.error(
                "digest: database schema is version {}, this tradebotd expects {}: start the "
                "daemon (it upgrades) or run `tradebotd db upgrade` first",
                version,
                latest,
            )
            return EX_CONFIG
        period = period_for(options.period, now, settings.digest.timezone)
        done = digest_runs.find(period.key)
        if done is not None and not options.force and not options.dry_run:
            logger.info(
                "digest for {} was sent at {} to {} admins; nothing to do (--force sends again)",
                period.key,
                done.sent_at,
                done.recipients,
            )
            return 0
        recipients = admins.all_admins(settings.admin_ids)
        return await _compose_and_send(settings, options, now, recipients, catalogue)
    finally:
        db.close()


async def _compose_and_send(
    settings: Settings,
    options: DigestOptions,
    now: datetime,
    recipients: list[int],
    catalogue: AdminCatalogue,
) -> int:
    assert settings.token is not None
    bot = Bot(settings.token, base_url=f"{settings.api_url}/bot")
    try:
        async with bot:  # getMe
            menu = await _admin_menu(bot, recipients)
            # A daemon killed and not restarted leaves its heartbeat for minutes: its
            # lock, which the kernel drops with the process, says at once.
            running = guard.lock_is_held(settings.state_directory / guard.LOCK_NAME)
            key, reply = build_digest(settings, catalogue, options.period, now, menu, running)
            if options.dry_run:
                print(render_plain(reply), end="", flush=True)
                return 0
            if not recipients:
                logger.error("digest: no admins to send to (ADMIN_IDS is empty)")
                return EX_SEND_FAILED
            failed = []
            for admin in recipients:
                try:
                    await _send(bot, admin, reply)
                except TelegramError as exc:
                    failed.append(admin)
                    logger.error("digest: sending to admin {} failed: {}", admin, describe(exc))
    except InvalidToken:
        logger.error("TELEGRAM_BOT_TOKEN: rejected by the Bot API at {}", settings.api_url)
        return EX_CONFIG
    if failed:
        # Not recorded: the next run sends again (an admin who got it may get it twice).
        logger.error(
            "digest {} not recorded: {} of {} sends failed", key, len(failed), len(recipients)
        )
        return EX_SEND_FAILED
    with transaction():
        digest_runs.record(key, now, len(recipients))
    logger.info("digest {} sent to {} admins", key, len(recipients))
    return 0
