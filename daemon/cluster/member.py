"""This node's lease loop: stand by, take the lease when it expires, renew it while
leading, and step down the moment it cannot (docs/ha.md).

It runs for the daemon's whole life, on its own database connection, its blocking calls
in a thread and each bounded by a deadline: a database that hangs delays no decision.
While the node stands by it is the only source of WATCHDOG=1 (the heartbeat that pings
for a leader does not run); STATUS= says who leads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from loguru import logger

from daemon.policy.lease import LeaseTiming
from daemon.store import cluster as stored
from daemon.store.cluster import Fenced, Lease, LeaseConnection, LeaseUnavailable, Takeover
from daemon.systemd import Notifier
from daemon.waiting import pause

T = TypeVar("T")

# A lease call that takes longer than this (seconds) is abandoned with its connection.
CALL_DEADLINE = 4.0
# The node's up time is added to the database this often (seconds), and at its stop.
UPTIME_FLUSH = 10.0


class ClusterMember:
    name = "cluster"

    def __init__(
        self,
        connection: LeaseConnection,
        timing: LeaseTiming,
        notifier: Notifier,
        watchdog_interval: float | None,
        clock: Callable[[], float] = time.monotonic,
        beat_every: Callable[[], float] = lambda: 60.0,
    ):
        self._db = connection
        self.node = connection.node
        self.timing = timing
        self._notifier = notifier
        self._watchdog_interval = watchdog_interval
        self._clock = clock
        self._beat_every = beat_every
        self.epoch: int | None = None  # set while leading
        self.permit_until = 0.0
        self.leading = asyncio.Event()  # set while this node holds the lease
        self.lost = asyncio.Event()  # set when a term must end
        self.why_lost = ""
        self.observed: Lease | None = None  # the lease as last read while standing by
        self.takeovers = 0
        # While a term's heartbeat runs, it pings the watchdog (it knows whether the poll
        # loop is alive); otherwise this loop does.
        self.term_pings_watchdog = False
        self.previous_run_unclean = False
        self._up_since: float | None = None  # the last round that reached the database
        self._up_seconds = 0.0  # not yet added to the database

    # -- what the daemon asks --

    def permit_left(self) -> float:
        return self.permit_until - self._clock() if self.leading.is_set() else 0.0

    def poll_seconds(self, configured: int) -> int | None:
        """The poller's long-poll timeout now, or None: not now."""
        if not self.leading.is_set():
            return None
        return self.timing.poll_seconds(self._clock(), self.permit_until, configured)

    def fence(self) -> None:
        """The check every effect's transaction makes (Store.fence): raises Fenced, and
        ends the term, when this node no longer holds the lease in its epoch."""
        try:
            stored.check_epoch(self.node, self.epoch if self.leading.is_set() else None)
        except Fenced as exc:
            self.step_down(str(exc))
            raise

    def beat_line(self) -> str:
        lease = self.observed
        leader = (
            f"leader={lease.holder} epoch={lease.epoch}" if lease and lease.live else "leader=none"
        )
        return f"standby node={self.node} {leader} takeovers={self.takeovers}"

    def status_line(self) -> str:
        lease = self.observed
        if lease is None or not lease.live:
            return "standby (no leader: taking over)"
        return f"standby (leader: {lease.holder} since {lease.since:%Y-%m-%d %H:%M:%S} UTC)"

    # -- the loop --

    async def _call(self, call: Callable[[], T], deadline: float = CALL_DEADLINE) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), deadline)
        except TimeoutError:
            self._db.abandon()
            raise

    async def start(self) -> None:
        """Enter the node list (before READY=1): whether its last run ended uncleanly."""
        self.previous_run_unclean = await self._call(self._db.register)

    async def run(self, stop: asyncio.Event) -> None:
        next_ping = next_beat = self._clock()
        try:
            while not stop.is_set():
                sent = self._clock()
                if self.leading.is_set():
                    await self._renew(sent)
                else:
                    await self._look(sent)
                interval = self._watchdog_interval
                if not self.term_pings_watchdog and interval and self._clock() >= next_ping:
                    self._notifier.watchdog()
                    next_ping = self._clock() + interval
                if not self.term_pings_watchdog and self._clock() >= next_beat:
                    # A leader's heartbeat logs [hb] alive; a standby says so itself.
                    logger.info("[hb] {}", self.beat_line())
                    next_beat = self._clock() + self._beat_every()
                leading = self.leading.is_set()
                period = self.timing.renew_every if leading else self.timing.look_every
                await pause(stop, max(0.0, sent + period - self._clock()))
        finally:
            await self._leave()

    async def _look(self, sent: float) -> None:
        try:
            outcome = await self._call(lambda: self._db.try_take(self.timing.lease))
        except (LeaseUnavailable, TimeoutError) as exc:
            logger.warning("cluster: cannot read the lease: {}", _brief(exc))
            return
        if isinstance(outcome, Takeover):
            self.epoch = outcome.epoch
            self.permit_until = self.timing.permit_until(sent)
            self.lost.clear()
            self.why_lost = ""
            self.takeovers += 1
            self.leading.set()
            logger.info(
                "cluster: node {} leads in epoch {} ({})",
                self.node,
                outcome.epoch,
                f"took over from {outcome.previous}" if outcome.previous else "the lease was free",
            )
            await self._seen("leader")
            return
        before, self.observed = self.observed, outcome
        if before is None or (before.holder, before.epoch, before.live) != (
            outcome.holder,
            outcome.epoch,
            outcome.live,
        ):
            self._notifier.status(self.status_line())
        await self._seen("standby")

    async def _renew(self, sent: float) -> None:
        assert self.epoch is not None
        epoch = self.epoch
        try:
            # Never waited on past the permit: a leader steps down the moment it ends.
            left = max(0.05, min(CALL_DEADLINE, self.permit_until - self._clock()))
            still_ours = await self._call(lambda: self._db.renew(epoch, self.timing.lease), left)
        except (LeaseUnavailable, TimeoutError) as exc:
            left = self.permit_until - self._clock()
            if left <= self.timing.renew_every:
                # The next round would come too late: stop before the lease can expire.
                self.step_down(f"the lease could not be renewed in time ({_brief(exc)})")
            else:
                logger.warning("cluster: renewal failed ({}); {:.1f}s of lease left",
                               _brief(exc), left)  # fmt: skip
            return
        if not still_ours:
            self.step_down("another node holds the lease now")
            return
        self.permit_until = self.timing.permit_until(sent)
        await self._seen("leader")

    async def _seen(self, role: str) -> None:
        try:
            await self._call(lambda: self._db.seen(role, self.epoch or 0))
        except (LeaseUnavailable, TimeoutError) as exc:
            logger.debug("cluster: node row not updated: {}", _brief(exc))
            self._up_since = None  # a gap: the time until the next round is not up time
            return
        now = self._clock()
        if self._up_since is not None:
            self._up_seconds += now - self._up_since
        self._up_since = now
        if self._up_seconds >= UPTIME_FLUSH:
            await self._count_up()

    async def _count_up(self) -> None:
        whole = int(self._up_seconds)
        if whole <= 0:
            return
        try:
            await self._call(lambda: self._db.count_up(whole))
        except (LeaseUnavailable, TimeoutError) as exc:
            logger.debug("cluster: up time not counted: {}", _brief(exc))
            return
        self._up_seconds -= whole

    def step_down(self, why: str) -> None:
        if not self.leading.is_set():
            return
        logger.warning("cluster: node {} steps down from epoch {}: {}", self.node, self.epoch, why)
        self.why_lost = why
        self.leading.clear()
        self.epoch = None
        self.permit_until = 0.0
        self.observed = None  # STATUS= says standby again at the next look
        self.lost.set()

    async def _leave(self) -> None:
        """At a clean stop: give the lease up (a standby takes over at once) and mark the
        node stopped. Nothing here may raise: the daemon is stopping anyway."""
        epoch = self.epoch
        self.leading.clear()
        try:
            await self._count_up()
            if epoch is not None:
                await self._call(lambda: self._db.release(epoch))
                logger.info("cluster: node {} released the lease (epoch {})", self.node, epoch)
            await self._call(self._db.stopped)
        except (LeaseUnavailable, TimeoutError) as exc:
            logger.warning("cluster: could not record this node's stop: {}", _brief(exc))
        finally:
            self._db.close()

    # -- the component --

    def health(self) -> str | None:
        if self.leading.is_set():
            left = self.permit_left()
            return f"ok: node {self.node} leads (epoch {self.epoch}, {left:.0f}s of lease left)"
        return f"ok: node {self.node} is a {self.status_line()}"

    def facts(self) -> dict[str, int | str]:
        role = "leader" if self.leading.is_set() else "standby"
        facts: dict[str, int | str] = {"node": self.node, "role": role}
        if self.epoch is not None:
            facts["epoch"] = self.epoch
        return facts


def _brief(error: LeaseUnavailable | TimeoutError) -> str:
    """LeaseUnavailable is one line already (LeaseConnection makes it so)."""
    if isinstance(error, TimeoutError):
        return f"no answer within {CALL_DEADLINE:g}s"
    return str(error)
