"""The poll loop: getUpdates over PTB's Bot, fed to the exactly-once processor.

The daemon owns the offset (stored with each update's effects), the back-off, the
conflict policy and the liveness that the watchdog reads. The first poll is a short one
(timeout 0): it confirms the stored offset and proves the token and the API work, and
only then "Polling service started successfully" is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from loguru import logger
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from daemon.config import PollingSettings
from daemon.notify.errors import describe, retry_after_seconds
from daemon.policy.backoff import Backoff
from daemon.policy.conflicts import Verdict
from daemon.store.database import StoreUnavailable
from daemon.telegram.bot import ALLOWED_UPDATES, DaemonBot
from daemon.telegram.processor import Unreadable, UpdateProcessor
from daemon.vitals import Vitals
from daemon.waiting import pause

CONFLICT_ADVICE = (
    "another process is polling this bot's token (or a webhook was set). tradebotd does "
    "not fight it: it polls at most once every {low:.1f}-{high:.1f}s until the other one "
    "is gone. Find and stop it: `tradebotd legacy-scan` on this host, other hosts, "
    "containers, a second gunicorn worker; check getWebhookInfo."
)


# Seconds between looks at the lease while it leaves no room for a poll.
LEASE_WAIT = 0.1


def read_update(raw: dict[str, Any], bot: Bot) -> Update | None:
    """PTB's Update from one getUpdates item (raises on what PTB cannot read)."""
    return Update.de_json(dict(raw), bot)


class Poller:
    def __init__(
        self,
        *,
        bot: DaemonBot,
        processor: UpdateProcessor,
        vitals: Vitals,
        settings: Callable[[], PollingSettings],
        on_foreign_poller: Callable[[str], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        poll_seconds: Callable[[int], int | None] | None = None,
        term: str = "",
    ):
        """`poll_seconds`: in a cluster, the long-poll timeout the leader's lease leaves
        room for (None: send no getUpdates now); `term`: said when polling starts."""
        self._bot = bot
        self._processor = processor
        self._vitals = vitals
        self._settings = settings
        self._on_foreign_poller = on_foreign_poller
        self._clock = clock
        self._jitter = jitter
        self._poll_seconds = poll_seconds
        self._term = term
        initial = settings()
        self._errors = Backoff(initial.error_delay, initial.error_delay_max)
        self.live = False

    async def _fetch(
        self, poll_seconds: int, stop: asyncio.Event
    ) -> Sequence[dict[str, Any]] | None:
        """One getUpdates, abandoned (None) if stop comes first."""
        poll = asyncio.ensure_future(
            self._bot.get_update_dicts(
                offset=self._vitals.offset or None,
                poll_seconds=poll_seconds,
                allowed_updates=ALLOWED_UPDATES,
            )
        )
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({poll, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if not poll.done():
            # Nothing is lost: the offset only moves when an update's effects commit.
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await poll
            return None
        return poll.result()

    name = "poller"

    def health(self) -> str | None:
        return None  # /health's "telegram polling" row is its verdict

    def facts(self) -> dict[str, int | str]:
        return {}

    async def run(self, stop: asyncio.Event) -> None:
        vitals = self._vitals
        while not stop.is_set():
            settings = self._settings()
            vitals.liveness.timeout = settings.timeout
            vitals.liveness.grace = settings.watchdog_grace
            wanted = settings.timeout if self.live else 0
            timeout = wanted if self._poll_seconds is None else self._poll_seconds(wanted)
            if timeout is None:
                # The lease has too little left for a poll to end within it: wait for its
                # renewal (or the step-down). A planned pause, for the watchdog too.
                vitals.liveness.answered(self._clock(), LEASE_WAIT)
                await pause(stop, LEASE_WAIT)
                continue
            try:
                updates = await self._fetch(timeout, stop)
            except Conflict as exc:
                await self._conflict(exc, stop)
                continue
            except RetryAfter as exc:
                delay = retry_after_seconds(exc)
                logger.warning("getUpdates: flood control, waiting {:.0f}s as told", delay)
                vitals.liveness.answered(self._clock(), delay)
                await pause(stop, delay)
                continue
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as exc:
                # Not an answer for the watchdog: a network that stays down (or a hung
                # API) lets the deadline pass, and systemd restarts us.
                vitals.state = "backing-off"
                delay = self._error_delay()
                logger.warning("getUpdates failed: {}; retrying in {:.1f}s", describe(exc), delay)
                await pause(stop, delay)
                continue
            if updates is None:
                break
            self._answered()
            await self._process_batch(updates, stop)

    async def _process_batch(self, updates: Sequence[dict[str, Any]], stop: asyncio.Event) -> None:
        batch: list[Update | Unreadable] = []
        broken = False
        for raw in updates:
            update_id = raw.get("update_id")
            if isinstance(update_id, bool) or not isinstance(update_id, int):
                # Nothing to confirm it by: the answer itself is broken. Apply what came
                # before it, then poll again later.
                logger.error("getUpdates answered an update without an integer update_id")
                broken = True
                break
            try:
                update = read_update(raw, self._bot)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                update = None
                reason = f"{type(exc).__name__}: {exc}"
            else:
                reason = "not an update"
            batch.append(update if update is not None else Unreadable(update_id, reason))
        try:
            if batch:
                await self._processor.process_batch(batch)
        except StoreUnavailable as exc:
            # Nothing was recorded and the offset did not move: the next poll fetches
            # these updates again.
            delay = self._error_delay()
            logger.error(
                "updates {}–{} not processed: {}; fetching them again in {:.1f}s",
                batch[0].update_id,
                batch[-1].update_id,
                exc,
                delay,
            )
            await pause(stop, delay)
            return
        if broken:
            await pause(stop, self._error_delay())

    def _error_delay(self) -> float:
        """Count a poll error; the next pause of the error back-off."""
        self._vitals.poll_errors += 1
        return self._errors.next_delay(self._jitter())

    def _answered(self) -> None:
        now = self._clock()
        vitals = self._vitals
        vitals.liveness.answered(now, 0)
        self._errors.reset()
        if vitals.conflicts.on_answer(now):
            logger.success("conflict cleared: polls are answered normally again")
        vitals.state = "conflict" if vitals.conflicts.in_conflict else "polling"
        if not self.live:
            self.live = True
            logger.info("Polling service started successfully{}", self._term)

    async def _conflict(self, exc: Conflict, stop: asyncio.Event) -> None:
        vitals = self._vitals
        now = self._clock()
        verdict = vitals.conflicts.on_conflict(now)
        delay = vitals.conflicts.delay(verdict, self._jitter())
        vitals.liveness.answered(now, delay)
        if verdict is Verdict.ISOLATED:
            logger.warning("getUpdates: 409 {}; retrying in {:.1f}s", exc.message, delay)
        else:
            vitals.state = "conflict"
            if verdict is Verdict.FOREIGN_DETECTED:
                settings = self._settings()
                advice = CONFLICT_ADVICE.format(
                    low=settings.conflict_delay * 0.75, high=settings.conflict_delay_max
                )
                logger.error(
                    "409 {} ({} times within {:.0f}s): {}",
                    exc.message,
                    settings.conflict_threshold,
                    settings.conflict_window,
                    advice,
                )
            else:
                logger.warning("getUpdates: still in conflict; next poll in {:.1f}s", delay)
            if vitals.conflicts.should_notify(now):
                await self._on_foreign_poller(exc.message)
        await pause(stop, delay)
