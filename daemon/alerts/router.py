"""The alert router, a daemon component: it turns the daemon's events into alerts, mutes
what a silence matches, sends each alert down the routing tree, groups it, and queues
each due group for its receiver's Telegram chats and Apprise targets.

Nothing is lost to a crash: an alert is stored (once per key) before it is routed, and
marked routed only in the transaction that queues the last of its notifications and
records them in the repeat log. Killed in between, the restarted router routes it again,
and the repeat log keeps a receiver that already had it from getting it twice. The
groups live in memory only; a transaction that fails ends the component, and the daemon
with it, for systemd to restart and the groups to be rebuilt from the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger

from daemon.alerts import render
from daemon.alerts.grouping import Flush, Grouper
from daemon.alerts.matchers import parse_matcher
from daemon.alerts.model import Alert
from daemon.alerts.routing import Route, match
from daemon.alerts.settings import AlertsSettings, ReceiverSettings
from daemon.alerts.silences import Silence, silenced
from daemon.alerts.sources import KINDS, from_event
from daemon.notify import apprise_transport
from daemon.notify.replies import queue_reply
from daemon.store import alerts as stored
from daemon.store import events, outbox
from daemon.store.database import Store
from daemon.store.outbox import Priority, Receiver
from daemon.waiting import doze

POLL = 1.0  # how often the event log is read when nothing wakes the router
FORGET_EVERY = timedelta(minutes=1)


@dataclass
class Counters:
    received: int = 0
    silenced: int = 0
    notifications: int = 0


def targets(receiver: ReceiverSettings) -> list[Receiver]:
    """Where a receiver's notifications are queued: each Telegram chat (an id or an
    @username), and its Apprise URLs as one queue receiver by its name."""
    found = [Receiver.chat(c) if isinstance(c, int) else Receiver.username(c)
             for c in receiver.telegram]  # fmt: skip
    if receiver.apprise:
        found.append(apprise_transport.receiver(receiver.name))
    return found


def silences_of(rows: list[stored.SilenceRow]) -> list[Silence]:
    return [Silence(r.id, tuple(parse_matcher(m) for m in r.matchers), r.starts, r.ends,
                    r.comment, r.created_by) for r in rows]  # fmt: skip


class AlertRouter:
    name = "alerts"

    def __init__(
        self,
        settings: Callable[[], AlertsSettings],
        store: Store,
        clock: Callable[[], datetime],
        on_queued: Callable[[], None],
    ):
        self._settings = settings
        self._store = store
        self._clock = clock
        self._on_queued = on_queued
        self._grouper = Grouper()
        self._waiting: dict[int, set[str]] = {}  # alert id → route paths still to flush
        # fingerprint → the ids of the stored alerts the grouper holds under it (a repeat
        # waiting in its group replaces the text, and is routed with the first)
        self._alert_ids: dict[str, list[int]] = {}
        self._wake = asyncio.Event()
        self._tree_of: AlertsSettings | None = None  # the settings _built was built from
        self._built: Route | None = None
        self._read_up_to = 0  # the highest alert id read
        self._last_full_pass: datetime | None = None
        self.counters = Counters()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        async with self._store.transaction():
            if stored.event_cursor() == 0:
                # The first run routes what happens from now, not the whole history.
                stored.set_event_cursor(events.last_id())
            longest = max((r.timing.repeat_interval for r in self._routes()), default=0.0)
            self._grouper.sent = stored.sent_since(self._clock() - timedelta(seconds=longest))
        forgot = self._clock()
        while not stop.is_set():
            await self.cycle()
            if self._clock() - forgot > FORGET_EVERY:
                forgot = self._clock()
                self._forget(forgot)
            due = self._grouper.next_due()
            delay = POLL if due is None else min(POLL, (due - self._clock()).total_seconds())
            await doze(stop, self._wake, delay)

    def _forget(self, now: datetime) -> None:
        """Drop groups and repeat records no longer needed, so memory does not grow
        with every alert ever sent."""
        longest: dict[str, float] = {}
        for route in self._routes():
            longest[route.receiver] = max(longest.get(route.receiver, 0.0),
                                          route.timing.repeat_interval)  # fmt: skip
        self._grouper.forget(now, longest)

    def _tree(self) -> Route | None:
        """The routing tree of the running settings, built again only after a reload
        (building compiles every regex: not something to do each second)."""
        settings = self._settings()
        if settings is not self._tree_of:
            self._tree_of, self._built = settings, settings.tree()
        return self._built

    def _routes(self) -> list[Route]:
        tree = self._tree()
        return [] if tree is None else tree.walk()

    async def cycle(self) -> None:
        """Read new events, route new alerts, send what is due: one transaction."""
        tree = self._tree()
        if tree is None:
            return
        async with self._store.transaction():
            now = self._clock()
            self._read_events()
            self._route(tree, now)
            queued = self._flush(now)
        if queued:
            self._on_queued()

    def _read_events(self) -> None:
        cursor = stored.event_cursor()
        read = events.after(cursor, KINDS)
        for event_id, event in read:
            alert = from_event(event_id, event.kind, event.at, event.detail)
            stored.add(f"event:{event_id}", alert.fingerprint, dict(alert.labels), alert.text,
                       alert.at)  # fmt: skip
        if read:
            stored.set_event_cursor(read[-1][0])

    def _route(self, tree: Route, now: datetime) -> None:
        silences = silences_of(stored.active_silences(now))
        # From past the last alert read: the oldest may all be waiting in their groups,
        # and must not keep newer ones from being read. A full pass now and then picks up
        # an alert whose id was taken before a higher one committed (PostgreSQL).
        full_pass = self._last_full_pass is None or now - self._last_full_pass > FORGET_EVERY
        if full_pass:
            self._last_full_pass = now
        for row in stored.unrouted(0 if full_pass else self._read_up_to):
            self._read_up_to = max(self._read_up_to, row.id)
            if row.id in self._waiting:
                continue
            self.counters.received += 1
            alert = Alert(row.labels, row.text, row.at)
            muting = silenced(alert.labels, silences, now)
            if muting is not None:
                self.counters.silenced += 1
                stored.mark_routed([row.id], now, silenced_by=muting.id)
                continue
            accepted = {
                r.path for r in match(tree, alert.labels) if self._grouper.add(alert, r, now)
            }
            if not accepted:  # a repeat for every route it matched
                stored.mark_routed([row.id], now)
                continue
            self._waiting[row.id] = accepted
            self._alert_ids.setdefault(alert.fingerprint, []).append(row.id)

    def _flush(self, now: datetime) -> int:
        receivers = {r.name: r for r in self._settings().receivers}
        queued = 0
        for flush in self._grouper.flush(now):
            receiver = receivers.get(flush.receiver)
            if receiver is None:
                logger.error("alerts: route {} names receiver {!r}, which the config no longer has",
                             flush.route, flush.receiver)  # fmt: skip
            else:
                queued += self._queue(receiver, flush, now)
            stored.record_sent(flush.receiver, [a.fingerprint for a in flush.alerts], now)
            done = []
            for alert in flush.alerts:
                ids = self._alert_ids.get(alert.fingerprint, [])
                for alert_id in list(ids):
                    remaining = self._waiting.get(alert_id, set())
                    remaining.discard(flush.route)
                    if not remaining:
                        done.append(alert_id)
                        self._waiting.pop(alert_id, None)
                        ids.remove(alert_id)
                if not ids:
                    self._alert_ids.pop(alert.fingerprint, None)
            stored.mark_routed(done, now)
        self.counters.notifications += queued
        return queued

    def queue_to(self, name: str, flush: Flush, now: datetime) -> int:
        """Queue a notification for a receiver by name, in the caller's transaction (the
        test alert of /routes test); how many items were queued."""
        receiver = next(r for r in self._settings().receivers if r.name == name)
        return self._queue(receiver, flush, now)

    def _queue(self, receiver: ReceiverSettings, flush: Flush, now: datetime) -> int:
        queued = 0
        for target in targets(receiver):
            if target.kind == apprise_transport.APPRISE:
                outbox.enqueue(target, render.plain(flush), now, priority=Priority.ALERT,
                               parse_mode=None, payload={"title": render.title(flush)})  # fmt: skip
                queued += 1
            else:
                queued += len(queue_reply(target, render.reply(flush), now, Priority.ALERT))
        return queued

    def health(self) -> str | None:
        if self._settings().route is None:
            return None  # no routing configured: nothing to say
        waiting = len(self._waiting)
        return f"ok: {self.counters.received} received, {waiting} waiting for their group"

    def facts(self) -> Mapping[str, int | str]:
        if self._settings().route is None:
            return {}
        c = self.counters
        return {"received": c.received, "silenced": c.silenced, "sent": c.notifications}
