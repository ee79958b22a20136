"""A leader's terms: while this node holds the lease, the daemon's leader-only work runs
(polling, the sender, prices, AutoSell, alert timers); when the lease is lost it is
stopped in stages, in-process, and the node stands by again.

A term builds its components afresh (`serve_term`), so nothing a previous term or the
other node changed in the database is missed: the offset, AutoSell's rules, the queue
are read at its start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

from loguru import logger

from daemon.cluster.member import ClusterMember
from daemon.components import Component, Components
from daemon.store.database import StoreUnavailable
from daemon.waiting import wait_any


class TermFailed(Exception):
    """A term ended with a failure: the daemon stops with this status."""

    def __init__(self, status: int):
        super().__init__(f"the leader's work ended with status {status}")
        self.status = status


async def _end_term(term_stop: asyncio.Event, *causes: asyncio.Event) -> None:
    await wait_any(*causes)
    term_stop.set()


class Leadership:
    name = "leadership"

    def __init__(
        self, member: ClusterMember, serve_term: Callable[[asyncio.Event], Awaitable[int]]
    ):
        self._member = member
        self._serve_term = serve_term
        self.term: Components | None = None  # the running term's components
        self.terms = 0

    def members(self) -> Sequence[Component]:
        """The running term's components: /status, /health and [hb] list them too."""
        return self.term.components() if self.term is not None else ()

    async def run(self, stop: asyncio.Event) -> None:
        member = self._member
        while not stop.is_set():
            await wait_any(stop, member.leading)
            if stop.is_set():
                return
            self.terms += 1
            term_stop = asyncio.Event()
            watcher = asyncio.create_task(_end_term(term_stop, stop, member.lost))
            try:
                status = await self._serve_term(term_stop)
            except StoreUnavailable as exc:
                # Fenced (another node leads now) or the database went away, at the
                # term's start or in one of its components: stand by; the lease decides
                # who leads next.
                member.step_down(f"the term could not go on: {exc}")
                status = 0
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                self.term = None
            if status != 0:
                raise TermFailed(status)
            if not stop.is_set():
                logger.info(
                    "cluster: node {} stood down ({}); standing by",
                    member.node,
                    member.why_lost or "the term ended",
                )

    def health(self) -> str | None:
        return None  # the cluster row says who leads

    def facts(self) -> dict[str, int | str]:
        return {"terms": self.terms} if self.terms else {}
