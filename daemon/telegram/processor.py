"""Exactly-once processing: an update's effects, its reply and its record in one transaction.

For a batch of updates (one getUpdates answer, or one webhook delivery), under the
store's write lock, in one (immediate) transaction, for each update in order:
  claim its id in processed_update — already there means a duplicate: apply nothing;
  run PTB's handlers in a savepoint (they write state and queue their replies in the
  outbox); store the new offset;
then COMMIT once. One commit per batch instead of one per update is what makes durable
processing faster than a bare Application: the fsync-bound commit is shared, and each
update's savepoint still rolls back alone when its handler fails. A crash before COMMIT
replays the whole batch, which the recorded ids make harmless.
The claim happens inside the transaction, so a second delivery of the same update
(a webhook retry, two parallel deliveries) waits for the first and then sees its record.
Being below the offset proves nothing: Telegram restarts update ids at a random, possibly
lower, value after a week without updates. The offset follows the ids Telegram returns
(polling) or the highest delivered (webhook, where it is only informational).

A kill -9 before COMMIT loses the whole effect and the record with it, so the update is
fetched again and applied once. Replies leave the outbox only after commit.

A handler that raises rolls back its savepoint; the update is recorded with an apology
quoting an error id, so a poison update can never wedge the loop. A transient database
error (busy, lost connection) is not a handler bug: the whole transaction is retried with
back-off and, if the database stays unavailable, StoreUnavailable reaches the caller with
nothing recorded, so the update stays unconfirmed and is fetched again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from loguru import logger
from telegram import Update
from telegram.ext import ContextTypes

from daemon.store import outbox, progress, stats
from daemon.store.database import Store, is_transient, retry_transient
from daemon.store.outbox import Priority, Receiver
from daemon.telegram.bot import PtbApplication
from daemon.vitals import Vitals


class _HandlerFailed(Exception):
    def __init__(self, error: BaseException):
        self.error = error


@dataclass(frozen=True)
class Unreadable:
    """An update python-telegram-bot could not parse: recorded as processed (replaying
    it would fail again and wedge the loop) and reported."""

    update_id: int
    reason: str


@dataclass(frozen=True)
class BatchResult:
    applied: int
    duplicates: int
    offset: int


class UpdateProcessor:
    def __init__(
        self,
        *,
        app: PtbApplication,
        store: Store,
        vitals: Vitals,
        utcnow: Callable[[], datetime],
        on_committed: Callable[[], None],
    ):
        self._app = app
        self._store = store
        self._vitals = vitals
        self._utcnow = utcnow
        self._on_committed = on_committed
        self._failure: BaseException | None = None
        app.add_error_handler(self._record_failure)

    async def _record_failure(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # PTB catches handler exceptions and hands them here; keep it for _run_handlers().
        self._failure = context.error

    async def process(self, update: Update) -> bool:
        """Apply one update once; False when it was a duplicate."""
        return (await self.process_batch([update])).applied == 1

    async def process_batch(self, batch: Sequence[Update | Unreadable]) -> BatchResult:
        """Apply each update of the batch once, in order, in one transaction. Raises
        StoreUnavailable (nothing recorded) when the database stays busy or unreachable;
        a transient error rolls the whole batch back and retries it."""
        result = await retry_transient(lambda: self._apply(batch))
        self._vitals.updates_handled += result.applied
        self._vitals.offset = result.offset
        for item in batch:
            if isinstance(item, Unreadable):
                logger.error(
                    "update {} could not be read ({}): skipped", item.update_id, item.reason[:300]
                )
        if result.duplicates:
            logger.debug("{} updates were processed before; skipped", result.duplicates)
        self._on_committed()
        return result

    def _record(self, update_id: int, now: datetime) -> tuple[bool, int]:
        """Move the offset and claim the id, in the caller's transaction: (claimed — not a
        duplicate, the new offset)."""
        offset = update_id + 1
        if not self._vitals.polling_enabled:
            # Webhook deliveries may come out of order: keep the highest.
            offset = max(offset, progress.stored_offset())
        progress.store_offset(offset)
        claimed = progress.claim(update_id, now)
        if claimed:
            stats.bump(stats.UPDATES, now)
        return claimed, offset

    async def _apply(self, batch: Sequence[Update | Unreadable]) -> BatchResult:
        applied = duplicates = 0
        offset = self._vitals.offset
        async with self._store.transaction():
            for item in batch:
                now = self._utcnow()
                claimed, offset = self._record(item.update_id, now)
                if isinstance(item, Unreadable):
                    continue
                if not claimed:
                    duplicates += 1
                    continue
                failure = await self._run_handlers(item)
                if failure is not None:
                    if is_transient(failure):
                        raise failure  # rolls the batch back; retry_transient retries it
                    self._apologise(item, failure, now)
                applied += 1
        return BatchResult(applied, duplicates, offset)

    async def _run_handlers(self, update: Update) -> BaseException | None:
        """Run the handlers in a savepoint; their error (after rolling back) or None."""
        try:
            with self._store.savepoint():
                self._failure = None
                await self._app.process_update(update)
                if self._failure is not None:
                    # Raising inside atomic() rolls back what the handler wrote.
                    raise _HandlerFailed(self._failure)
        except _HandlerFailed as failed:
            return failed.error
        return None

    def _apologise(self, update: Update, error: BaseException, now: datetime) -> None:
        error_id = secrets.token_hex(4)
        logger.opt(exception=error).error(
            "update {} failed (error id {}); its effects were rolled back",
            update.update_id,
            error_id,
        )
        chat = update.effective_chat
        if chat is not None:
            outbox.enqueue(
                Receiver.chat(chat.id),
                f"Something went wrong (error id {error_id}); nothing was changed.",
                now,
                priority=Priority.REPLY,
            )
