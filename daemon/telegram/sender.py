"""The one place that talks back to Telegram: it drains the outbox in order, after commit.

Outbox rows are messages, documents, message edits and callback answers.

A message is deleted from the outbox only once Telegram accepted it, so a crash between
sending and deleting sends it again (at-least-once). RetryAfter is honoured; a message
Telegram refuses for good (bad request, bot blocked) becomes a dead letter instead of
blocking the queue; network errors and 5xx back off exponentially.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from loguru import logger
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from daemon.policy.backoff import Backoff
from daemon.store import outbox, subscribers
from daemon.store.database import Store, StoreUnavailable
from daemon.store.outbox import QueuedCall
from daemon.telegram.errors import describe, retry_after_seconds
from daemon.vitals import Vitals
from daemon.waiting import pause, wait_any


class OutboxSender:
    def __init__(
        self,
        *,
        bot: Bot,
        store: Store,
        vitals: Vitals,
        jitter: Callable[[], float] = random.random,
    ):
        self._bot = bot
        self._store = store
        self._vitals = vitals
        self._jitter = jitter
        self._wake = asyncio.Event()
        self._backoff = Backoff(initial=1.0, maximum=30.0)

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until stopped; when `stop` is set, return once the outbox is empty."""
        while True:
            self._wake.clear()
            async with self._store.lock:
                batch = outbox.next_batch()
                self._vitals.outbox_backlog = outbox.backlog()
            if not batch:
                if stop.is_set():
                    return
                await wait_any(self._wake, stop)
                continue
            try:
                await self._send_batch(batch, stop)
            except StoreUnavailable as exc:
                # What was sent but not recorded goes again (at-least-once).
                logger.error("outbox: {}; trying again shortly", exc)
                await pause(stop, self._backoff.next_delay(self._jitter()))

    async def _send_batch(self, batch: list[QueuedCall], stop: asyncio.Event) -> None:
        sent: list[int] = []
        try:
            for message in batch:
                if not await self._send_one(message, stop, sent):
                    break
        finally:
            # One transaction per batch: a crash before it re-sends at most this
            # batch (at-least-once), and the poller is not held up per message.
            async with self._store.transaction():
                outbox.delivered(sent)
            self._vitals.replies_sent += len(sent)

    async def _call(self, message: QueuedCall) -> None:
        payload = message.payload
        markup = payload.get("reply_markup")
        reply_markup = InlineKeyboardMarkup.de_json(markup, self._bot) if markup else None
        bot, chat_id, text, mode = self._bot, message.chat_id, message.text, message.parse_mode
        if message.kind == "message":
            await bot.send_message(chat_id, text, parse_mode=mode, reply_markup=reply_markup)
        elif message.kind == "document":
            await bot.send_document(
                chat_id,
                document=payload["content"].encode(),
                filename=payload["filename"],
                caption=text or None,
                parse_mode=mode,
            )
        elif message.kind == "edit":
            await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=payload["message_id"],
                parse_mode=mode,
                reply_markup=reply_markup,
            )
        elif message.kind == "answer":
            await bot.answer_callback_query(payload["callback_query_id"], text=text or None)
        else:
            raise BadRequest(f"unknown outbox kind {message.kind!r}")

    async def _send_one(self, message: QueuedCall, stop: asyncio.Event, sent: list[int]) -> bool:
        """True when the message left the queue (sent or dead); False to retry later."""
        try:
            await self._call(message)
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            logger.warning("sendMessage: flood control, retrying in {:.0f}s", seconds)
            await pause(stop, seconds)
            return False
        except Forbidden as exc:
            # The user blocked the bot (or it left the group): a permanent state of the
            # receiver, not of this message. Everything queued for it is dead, it leaves
            # the broadcast list, and nothing is retried (my_chat_member keeps it current).
            async with self._store.transaction():
                dropped = outbox.fail_chat(message.chat_id, str(exc))
                subscribers.unsubscribe(message.chat_id)
            logger.warning(
                "chat {} cannot be reached ({}): unsubscribed, {} queued messages dropped",
                message.chat_id,
                exc,
                dropped,
            )
            return False  # this batch may hold more for that chat: fetch afresh
        except BadRequest as exc:
            logger.error(
                "message {} to chat {} refused for good: {}", message.id, message.chat_id, exc
            )
            async with self._store.transaction():
                outbox.failed(message.id, str(exc), dead=True)
            return True
        except (NetworkError, TelegramError) as exc:
            delay = self._backoff.next_delay(self._jitter())
            logger.warning("sendMessage failed ({}); retrying in {:.1f}s", describe(exc), delay)
            async with self._store.transaction():
                outbox.failed(message.id, describe(exc), dead=False)
            await pause(stop, delay)
            return False
        self._backoff.reset()
        sent.append(message.id)
        return True
