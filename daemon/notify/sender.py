"""The one sender: drains the notification queue after commit, most urgent first, paced
per receiver, through the transport of each receiver kind.

Each round takes the oldest due items of every receiver (store/outbox.runs), lets through
those the pacer allows now — receivers by priority, so an admin's reply or an alert
overtakes a broadcast; within a receiver in order — and delivers to a few receivers at
once. What a failure does is decided here, the same for every transport:
- Throttled (429): that receiver pauses for retry_after; 429s for two receivers within a
  second mean the bot-wide limit, and everything pauses.
- Temporary: tried again with capped exponential back-off until the item is older than
  `max_age`, then a dead letter. Meanwhile only that receiver waits (order holds there).
- Refused: a dead letter at once; the receiver's next item goes.
- ReceiverGone: everything queued for it becomes a dead letter and it is forgotten.
Delivered items are deleted once per round (at-least-once: a crash re-sends at most the
round in flight). Idle, it looks at the queue every IDLE_POLL seconds, for what another
process (the digest) queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from loguru import logger

from daemon.notify.rendering import render_document
from daemon.notify.transport import (
    DeliveryFailed,
    ReceiverGone,
    Refused,
    Temporary,
    Throttled,
    Transport,
)
from daemon.policy.backoff import Backoff
from daemon.policy.pacing import Pacer
from daemon.policy.retry import RetryPolicy
from daemon.store import events, outbox
from daemon.store.database import Store, StoreUnavailable
from daemon.store.outbox import QueuedCall, Receiver
from daemon.waiting import wait_any

ROUND_RECEIVERS = 64  # receivers considered per round
RUN_DEPTH = 32  # items per receiver per round, in order; one commit per round
IN_FLIGHT = 4  # receivers delivered to at once: 30/s at a 100 ms round trip needs 3
THROTTLE_WINDOW = 1.0  # 429s for two receivers this close mean the bot-wide limit
IDLE_POLL = 5.0  # an enqueue from another process (the digest) is seen this late at most
FORGET_EVERY = 60.0  # seconds between dropping idle receivers' buckets
COUNT_EVERY = 1.0  # seconds between counts of the backlog while delivering
THROTTLE_RECENT = 60.0  # a 429 this recent makes the health verdict WARN


@dataclass
class SenderCounters:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    throttled: int = 0
    backlog: int = 0


class NotificationSender:
    name = "notifications"  # as a daemon component

    def __init__(
        self,
        *,
        store: Store,
        transports: Iterable[Transport],
        retry: Callable[[], RetryPolicy],
        utcnow: Callable[[], datetime],
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        on_delivered: Callable[[int], None] = lambda count: None,
    ):
        self._store = store
        self._transports: Mapping[str, Transport] = {t.kind: t for t in transports}
        self._pacers: dict[str, Pacer] = {}
        self._retry = retry
        self._utcnow = utcnow
        self._clock = clock
        self._jitter = jitter
        self._on_delivered = on_delivered
        self._wake = asyncio.Event()
        self._store_backoff = Backoff(initial=1.0, maximum=30.0)
        self._recent_throttles: list[tuple[float, Receiver]] = []
        self._forgot_at = self._counted_at = clock()
        self._throttled_at = float("-inf")
        self.counters = SenderCounters()

    def wake(self) -> None:
        self._wake.set()

    def health(self) -> str | None:
        counters = self.counters
        since = self._clock() - self._throttled_at
        if since < THROTTLE_RECENT:
            return (
                f"WARN: Telegram's flood control answered 429 {since:.0f}s ago; "
                f"{counters.backlog} waiting"
            )
        return f"ok: {counters.backlog} waiting, {counters.delivered} delivered since start"

    def facts(self) -> dict[str, int | str]:
        return {"dead": self.counters.dead, "throttled": self.counters.throttled}

    async def run(self, stop: asyncio.Event) -> None:
        """Send until stopped; once `stop` is set, return when nothing is due (the caller
        bounds how long it waits for that)."""
        while True:
            delay, due = await self._guarded_round()
            if stop.is_set() and not due:
                return
            if delay > 0:
                await self._sleep(delay, stop)

    async def drain(self, finished: Callable[[], bool], deadline: float) -> bool:
        """Deliver until `finished()` or the monotonic `deadline` (a oneshot process such
        as the digest); returns `finished()`."""
        while not finished():
            if self._clock() >= deadline:
                return False
            delay, _ = await self._guarded_round()
            if delay > 0:
                await self._sleep(min(delay, max(0.0, deadline - self._clock())), asyncio.Event())
        return True

    async def _guarded_round(self) -> tuple[float, bool]:
        self._wake.clear()
        try:
            result = await self._round()
        except StoreUnavailable as exc:
            # What was sent but not recorded goes again (at-least-once).
            logger.error("notifications: {}; trying again shortly", exc)
            return self._store_backoff.next_delay(self._jitter()), True
        self._store_backoff.reset()
        return result

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wait_any(self._wake, stop), seconds)

    async def _round(self) -> tuple[float, bool]:
        """One round. Returns how long to wait before the next (0: go again at once) and
        whether anything was due."""
        now = self._utcnow()
        async with self._store.lock:
            due = outbox.runs(now, ROUND_RECEIVERS, RUN_DEPTH)
        chosen, wait = self._choose(due)
        if chosen:
            outcomes = await asyncio.gather(*(self._deliver_run(run) for run in chosen))
            results = [pair for run in outcomes for pair in run]
            async with self._store.transaction():
                outbox.delivered([call.id for call, failed in results if failed is None])
                for call, failed in results:
                    if failed is not None:
                        self._record_failure(call, failed, now)
            delivered = sum(1 for _, failed in results if failed is None)
            self.counters.delivered += delivered
            self._on_delivered(delivered)
            wait = 0.0
        else:
            async with self._store.lock:
                retry_at = outbox.next_retry_at()
            if retry_at is not None:
                wait = min(wait, max(0.0, (retry_at - now).total_seconds()))
        if not chosen or self._clock() - self._counted_at > COUNT_EVERY:
            # Counting every pending row each round would cost more than the round.
            async with self._store.lock:
                self.counters.backlog = outbox.backlog()
            self._counted_at = self._clock()
        return wait, bool(due)

    def _choose(self, due: list[list[QueuedCall]]) -> tuple[list[list[QueuedCall]], float]:
        """Of each receiver's run, the items the pacers let through now (a prefix: order
        within a receiver holds), for IN_FLIGHT receivers, most urgent first; and how long
        until an item held back would be let through."""
        now, wait = self._clock(), IDLE_POLL
        if now - self._forgot_at > FORGET_EVERY:
            for pacer in self._pacers.values():
                pacer.forget_idle(now)
            self._forgot_at = now
        chosen: list[list[QueuedCall]] = []
        for run in due:
            if len(chosen) == IN_FLIGHT:
                break
            allowed: list[QueuedCall] = []
            for call in run:
                needed = self._admit(call, now)
                if needed > 0:
                    wait = min(wait, needed)
                    break
                allowed.append(call)
            if allowed:
                chosen.append(allowed)
        return chosen, wait

    def _admit(self, call: QueuedCall, now: float) -> float:
        """0 (and a token taken, for a paced call) when the call may go now; else seconds
        to wait."""
        transport = self._transports.get(call.receiver.kind)
        if transport is None:
            return 0.0
        pacer, receiver = self._pacer(transport), call.receiver
        if not transport.paced(call):
            return pacer.paused_for(receiver, now)  # a 429 holds edits and answers too
        needed = pacer.wait(receiver, receiver.is_group, now)
        if needed == 0:
            pacer.take(receiver, receiver.is_group, now)
        return needed

    def _pacer(self, transport: Transport) -> Pacer:
        limits = transport.limits()
        pacer = self._pacers.get(transport.kind)
        if pacer is None or pacer.limits != limits:  # new, or changed by a reload
            pacer = self._pacers[transport.kind] = Pacer(limits)
        return pacer

    # --- one delivery ------------------------------------------------------------------

    async def _deliver_run(
        self, run: list[QueuedCall]
    ) -> list[tuple[QueuedCall, DeliveryFailed | None]]:
        """A receiver's items one after another; after a failure the rest wait (order)."""
        results: list[tuple[QueuedCall, DeliveryFailed | None]] = []
        for call in run:
            failed = await self._deliver(call)
            results.append((call, failed))
            if failed is not None:
                break
        return results

    async def _deliver(self, call: QueuedCall) -> DeliveryFailed | None:
        transport = self._transports.get(call.receiver.kind)
        try:
            if transport is None:
                raise Refused(f"no transport for receiver kind {call.receiver.kind!r}")
            if "render" in call.payload:
                data = await render_document(call.payload["render"], call.payload.get("args", {}))
                call = replace(call, payload={**call.payload, "data": data})
            await transport.deliver(call)
        except DeliveryFailed as failure:
            if isinstance(failure, Throttled) and transport is not None:
                self._throttled(transport, call, failure)
            return failure
        except Exception as exc:  # a transport's bug must not stop every delivery
            logger.opt(exception=exc).error("notification {}: transport failed", call.id)
            return Temporary(f"{type(exc).__name__} in the {call.receiver.kind} transport")
        return None

    def _throttled(self, transport: Transport, call: QueuedCall, failure: Throttled) -> None:
        now = self._throttled_at = self._clock()
        self.counters.throttled += 1
        until = now + failure.seconds
        recent = [(at, r) for at, r in self._recent_throttles if at > now - THROTTLE_WINDOW]
        others = {r for _, r in recent if r != call.receiver}
        self._recent_throttles = [*recent, (now, call.receiver)]
        pacer = self._pacer(transport)
        if others:
            pacer.pause_all(until)
            logger.warning(
                "{}: flood control for the whole bot; every send waits {:.0f}s",
                transport.kind,
                failure.seconds,
            )
        else:
            pacer.pause(call.receiver, until)
            logger.warning("{}: flood control; it waits {:.0f}s", call.receiver, failure.seconds)

    def _record_failure(self, call: QueuedCall, failure: DeliveryFailed, now: datetime) -> None:
        """Inside the round's transaction: what the failure means for the item."""
        if isinstance(failure, Throttled):
            return  # not the item's fault: it stays at the head of its paused receiver
        if isinstance(failure, ReceiverGone):
            dropped = outbox.fail_receiver(call.receiver, str(failure))
            record_dead_letter(call.receiver, failure, now)
            self._transports[call.receiver.kind].gone(call.receiver)
            self.counters.dead += dropped
            logger.warning(
                "{} cannot be reached ({}): forgotten, {} queued items dropped",
                call.receiver,
                failure,
                dropped,
            )
            return
        retry_at = None
        if isinstance(failure, Temporary):
            retry_at = self._retry().next_attempt(
                call.attempts + 1, call.created_at, now, self._jitter()
            )
        if retry_at is not None:
            self.counters.retried += 1
            outbox.retry_later(call.id, str(failure), retry_at)
            logger.warning(
                "notification {} to {} failed ({}); trying again at {:%H:%M:%S}",
                call.id,
                call.receiver,
                failure,
                retry_at,
            )
            return
        self.counters.dead += 1
        outbox.failed(call.id, str(failure))
        record_dead_letter(call.receiver, failure, now)
        logger.error(
            "notification {} to {} is a dead letter: {}{}",
            call.id,
            call.receiver,
            failure,
            "" if isinstance(failure, Refused) else " (failing past its max age)",
        )


def record_dead_letter(receiver: Receiver, failure: DeliveryFailed, now: datetime) -> None:
    """In the failure's transaction: the event alert routing reports (a condition per
    receiver, repeated only after its repeat interval)."""
    detail = json.dumps({"receiver": str(receiver), "error": str(failure)[:200]})
    events.record("dead_letter", now, detail)
