"""The running daemon's components, listed in one place: each runs until asked to stop,
reports a health verdict and a few status facts. lifecycle.py lists them; /status,
/health, the `[hb]` line and STATUS= gather from the list, so a new feature (a price
feed, the AutoSell engine, the alert ingest) shows up everywhere by being listed.

Stopping goes in stages: what takes work in (the poller, the webhook receiver) first,
then what delivers its results (the sender, given a flush budget), then the rest. A
component whose `run` returns or raises while the daemon is not stopping is a failure:
the daemon logs why and stops cleanly with EX_SOFTWARE (EX_CONFIG for a rejected token),
and systemd restarts it; it never keeps running half-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from loguru import logger

# The stages, in stopping order.
INTAKE, DELIVERY, HOUSEKEEPING = 0, 1, 2


class Component(Protocol):
    name: str

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then return (within the stage's budget)."""
        ...

    def health(self) -> str | None:
        """ "ok: …", "WARN: …" or "FAIL: …" for /health; None when another row says it
        (the poller's is /health's "telegram polling")."""
        ...

    def facts(self) -> Mapping[str, int | str]:
        """A few figures for /status and the heartbeat line (short names)."""
        ...


@dataclass
class Listed:
    component: Component
    stage: int
    stop_budget: float  # seconds it may take to return once asked to stop
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[object] | None = None


@dataclass(frozen=True)
class Failure:
    name: str
    error: BaseException | None  # None: it returned on its own


class Components:
    def __init__(self, listed: Sequence[Listed]):
        self._listed = list(listed)

    def components(self) -> list[Component]:
        """Every component, those a listed one runs inside it (`members()`: a cluster
        leader's term) included."""
        found: list[Component] = []
        for item in self._listed:
            found.append(item.component)
            members = getattr(item.component, "members", None)
            if members is not None:
                found += members()
        return found

    def health(self) -> list[tuple[str, str]]:
        rows = [(component.name, component.health()) for component in self.components()]
        return [(name, verdict) for name, verdict in rows if verdict is not None]

    def problems(self) -> str:
        """ "; name: verdict" for each verdict that is not ok, for STATUS=."""
        return "".join(
            f"; {name}: {verdict}"
            for name, verdict in self.health()
            if not verdict.startswith("ok")
        )

    def status_suffix(self) -> str:
        """What STATUS= adds to the daemon's own line: each component's brief (if it
        keeps one there, like AutoSell's rules and pause), then the verdicts not ok."""
        briefs = [brief() for c in self.components() if (brief := getattr(c, "brief", None))]
        return "".join(f"; {text}" for text in briefs) + self.problems()

    def facts(self) -> list[tuple[str, str]]:
        """("name", "key=value key=value") per component that has facts."""
        rows = []
        for component in self.components():
            facts = component.facts()
            if facts:
                rows.append((component.name, " ".join(f"{k}={v}" for k, v in facts.items())))
        return rows

    def heartbeat_suffix(self) -> str:
        """name.key=value … for the `[hb]` line."""
        return "".join(
            f" {component.name}.{key}={value}"
            for component in self.components()
            for key, value in component.facts().items()
        )

    async def run(
        self, stop: asyncio.Event, on_stopping: Callable[[], None] = lambda: None
    ) -> Failure | None:
        """Start every component; return when `stop` is set or one of them ends on its
        own (then that one's Failure), after stopping all of them in stages."""
        for item in self._listed:
            item.task = asyncio.create_task(item.component.run(item.stop), name=item.component.name)
        stopper: asyncio.Task[object] = asyncio.create_task(stop.wait())
        by_task: dict[asyncio.Task[object], Listed] = {
            item.task: item for item in self._listed if item.task is not None
        }
        done, _ = await asyncio.wait({stopper, *by_task}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        failure = None
        ended = [by_task[task] for task in done if task in by_task]
        if ended and not stop.is_set():
            task = ended[0].task
            assert task is not None
            error = None if task.cancelled() else task.exception()
            failure = Failure(ended[0].component.name, error)
            logger.opt(exception=error).critical(
                "{} ended unexpectedly: {}", failure.name, error or "it returned"
            )
        on_stopping()
        await self._stop_in_stages()
        return failure

    async def _stop_in_stages(self) -> None:
        for stage in sorted({item.stage for item in self._listed}):
            items = [item for item in self._listed if item.stage == stage]
            for item in items:
                item.stop.set()
            for item in items:
                if item.task is None:
                    continue
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(item.task), item.stop_budget)
                item.task.cancel()
        await asyncio.gather(
            *(item.task for item in self._listed if item.task is not None),
            return_exceptions=True,
        )
