"""`tradebotd digest`: a short-lived process that sends the digest to every admin.

It never calls getUpdates (getMe, getMyCommands and sendMessage only), so it runs beside
the polling daemon without a 409. It reads the database (WAL: the daemon is not blocked),
then queues the digest for every admin and records the period in one transaction, so a
second run for the same day or week queues nothing unless --force. Delivery goes through
the notification queue like every other message: a running daemon's sender delivers it
(paced with the rest, retried on temporary errors); with no daemon running, this process
runs the same sender until its messages are out. A lock file keeps two digest runs from
overlapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from datetime import datetime

from loguru import logger
from telegram import Bot, BotCommandScopeChat
from telegram.error import InvalidToken, TelegramError

from daemon import guard
from daemon.clock import utcnow
from daemon.config import EX_CONFIG, Settings
from daemon.digest.compose import AdminCatalogue, build_digest
from daemon.digest.period import period_for
from daemon.notify.formatting import render_plain
from daemon.notify.replies import queue_reply
from daemon.notify.sender import NotificationSender
from daemon.notify.telegram import TelegramTransport
from daemon.store import admins, cluster, digest_runs, outbox, schema
from daemon.store.database import (
    DIGEST_RUNS,
    Store,
    open_database,
    serialize_writers,
    transaction,
)
from daemon.store.outbox import Priority

EX_SEND_FAILED = 1
LOCK_NAME = "digest.lock"
# How long the oneshot waits for its messages: beyond it they stay queued for the daemon.
DELIVERY_BUDGET = 60.0


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
        return await _compose_and_send(settings, options, now, recipients, catalogue, Store(db))
    finally:
        db.close()


async def _compose_and_send(
    settings: Settings,
    options: DigestOptions,
    now: datetime,
    recipients: list[int],
    catalogue: AdminCatalogue,
    store: Store,
) -> int:
    assert settings.token is not None
    bot = Bot(settings.token, base_url=f"{settings.api_url}/bot")
    try:
        async with bot:  # getMe
            menu = await _admin_menu(bot, recipients)
            # A daemon killed and not restarted leaves its heartbeat for minutes: its
            # lock, which the kernel drops with the process, says at once.
            running = _daemon_running(settings)
            composed = build_digest(settings, catalogue, options.period, now, menu, running)
            key, reply = composed.key, composed.reply
            if options.dry_run:
                print(render_plain(reply), end="", flush=True)
                return 0
            if not recipients:
                logger.error("digest: no admins to send to (ADMIN_IDS is empty)")
                return EX_SEND_FAILED
            with transaction():
                serialize_writers(DIGEST_RUNS)
                if not options.force and digest_runs.find(key) is not None:
                    # Another node's timer fired at the same moment, and queued it first.
                    logger.info("digest for {} was queued by another node; nothing to do", key)
                    return 0
                queued = [
                    item
                    for admin in recipients
                    for item in queue_reply(
                        admin, reply, now, Priority.ALERT, dedup_key=f"digest:{key}:{admin}"
                    )
                ]
                digest_runs.record(key, now, len(recipients))
            return await _deliver(
                settings,
                TelegramTransport(bot, settings.notify.pacing),
                store,
                Batch(key, queued, len(recipients)),
                # Only a live daemon delivers: one that is down, or hung (it holds the
                # lock but its heartbeat is stale), would never send; this process does.
                # In a cluster, only the leader's sender may send: never this process.
                daemon_delivers=settings.ha.enabled
                or (running is True and not composed.daemon_down),
            )
    except InvalidToken:
        logger.error("TELEGRAM_BOT_TOKEN: rejected by the Bot API at {}", settings.api_url)
        return EX_CONFIG


def _daemon_running(settings: Settings) -> bool:
    """Whether a daemon runs that delivers: in a cluster, a node holds a live lease;
    otherwise a process holds the poller lock on this host."""
    if settings.ha.enabled:
        lease = cluster.view().lease
        return lease is not None and lease.live
    return guard.lock_is_held(settings.state_directory / guard.LOCK_NAME)


@dataclass(frozen=True)
class Batch:
    key: str  # the period, "day:2026-11-29"
    queued: list[int]  # the notification ids
    admins: int


async def _deliver(
    settings: Settings,
    transport: TelegramTransport,
    store: Store,
    batch: Batch,
    *,
    daemon_delivers: bool,
) -> int:
    """Wait for the daemon's sender to deliver the batch, or deliver it here when no
    daemon runs; the exit status says how it went."""
    key, queued, daemon = batch.key, batch.queued, daemon_delivers
    deadline = time.monotonic() + DELIVERY_BUDGET

    def settled() -> bool:
        return outbox.fates(queued).pending == 0

    logger.info(
        "digest {}: {} messages queued for {} admins; {}",
        key,
        len(queued),
        batch.admins,
        "the running daemon delivers them"
        if daemon
        else "the daemon is down: delivering them here",
    )
    if daemon:
        # The daemon's sender delivers them; another process has no way to signal here.
        while not settled() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    else:
        sender = NotificationSender(
            store=store,
            transports=[transport],
            retry=settings.notify.retry,
            utcnow=utcnow,
        )
        await sender.drain(settled, deadline)
    fates = outbox.fates(queued)
    if fates.dead:
        logger.error(
            "digest {}: {} of {} messages could not be delivered (dead letters: see /health)",
            key,
            fates.dead,
            len(queued),
        )
        return EX_SEND_FAILED
    if fates.pending:
        logger.warning(
            "digest {}: {} of {} messages still queued after {:.0f}s; the daemon delivers them{}",
            key,
            fates.pending,
            len(queued),
            DELIVERY_BUDGET,
            "" if daemon else " when it starts",
        )
        return 0 if daemon else EX_SEND_FAILED
    logger.info("digest {} sent to {} admins", key, batch.admins)
    return 0
