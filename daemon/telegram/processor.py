"""Exactly-once processing: an update's effects, its reply and its offset in one transaction.

For each update whose id is not below the offset, under the store's write lock:
  BEGIN; run PTB's handlers (they write state and queue their
  replies in the outbox); record the update id and the new offset; COMMIT.
A kill -9 before COMMIT loses the whole effect and the offset with it, so the update is
fetched again and applied once; after COMMIT the stored offset confirms it to Telegram on
the next start. Replies leave the outbox only after commit (at-least-once).

A handler that raises rolls back everything it wrote; the update is then recorded as
processed on its own, with an apology quoting an error id, so a poison update can never
wedge the poll loop.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from loguru import logger
from telegram import Update
from telegram.ext import Application, ContextTypes

from daemon.store import outbox, progress, stats
from daemon.store.database import Store
from daemon.vitals import Vitals


class _HandlerFailed(Exception):
    def __init__(self, error: BaseException):
        self.error = error


class UpdateProcessor:
    def __init__(
        self,
        app: Application,
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
        # PTB catches handler exceptions and hands them here; keep it for process().
        self._failure = context.error

    async def process(self, update: Update) -> None:
        update_id = update.update_id
        # Telegram hands out updates in id order, so every id below the offset is done:
        # a replayed delivery (a webhook retry, a duplicate) changes nothing.
        if update_id < self._vitals.offset:
            logger.debug("update {} was processed before; skipping", update_id)
            return
        async with self._store.lock:
            try:
                offset = await self._apply(update)
            except _HandlerFailed as failed:
                offset = self._record_failed(update, failed.error)
            self._vitals.updates_handled += 1
        self._vitals.offset = offset
        self._on_committed()

    async def _apply(self, update: Update) -> int:
        with self._store.db.atomic():
            self._failure = None
            await self._app.process_update(update)
            if self._failure is not None:
                # Raising inside atomic() rolls back what the handler wrote.
                raise _HandlerFailed(self._failure)
            return self._mark_done(update.update_id)

    def _mark_done(self, update_id: int) -> int:
        """Count the update and move the offset past it (inside the caller's transaction)."""
        now = self._utcnow()
        stats.bump(stats.UPDATES, now)
        return progress.mark_processed(update_id, now)

    def _record_failed(self, update: Update, error: BaseException) -> int:
        error_id = secrets.token_hex(4)
        logger.opt(exception=error).error(
            "update {} failed (error id {}); its effects were rolled back",
            update.update_id,
            error_id,
        )
        with self._store.db.atomic():
            chat = update.effective_chat
            if chat is not None:
                outbox.enqueue(
                    chat.id,
                    f"Something went wrong (error id {error_id}); nothing was changed.",
                    self._utcnow(),
                )
            return self._mark_done(update.update_id)
