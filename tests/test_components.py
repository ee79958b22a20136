"""The daemon's component list: stopped in stages, a component that ends on its own is a
failure that stops the rest, and verdicts and facts are gathered from every component."""

from __future__ import annotations

import asyncio

from daemon.components import DELIVERY, HOUSEKEEPING, INTAKE, Components, Listed


class Part:
    """A component that notes when it starts and stops, and can be told to die."""

    def __init__(self, name: str, log: list[str], verdict: str | None = "ok: fine") -> None:
        self.name = name
        self._log = log
        self._verdict = verdict
        self.die = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        self._log.append(f"{self.name} started")
        done = asyncio.ensure_future(stop.wait())
        died = asyncio.ensure_future(self.die.wait())
        await asyncio.wait({done, died}, return_when=asyncio.FIRST_COMPLETED)
        done.cancel()
        died.cancel()
        if self.die.is_set():
            raise RuntimeError(f"{self.name} broke")
        await asyncio.sleep(0.01)  # finishing work takes a moment
        self._log.append(f"{self.name} stopped")

    def health(self) -> str | None:
        return self._verdict

    def facts(self) -> dict[str, int | str]:
        return {"items": 3} if self.name == "sender" else {}


def listed(log: list[str]) -> tuple[Components, dict[str, Part]]:
    parts = {
        "poller": Part("poller", log, verdict=None),
        "sender": Part("sender", log, verdict="WARN: paused"),
        "heartbeat": Part("heartbeat", log),
    }
    components = Components(
        [
            Listed(parts["heartbeat"], HOUSEKEEPING, 1.0),
            Listed(parts["sender"], DELIVERY, 1.0),
            Listed(parts["poller"], INTAKE, 1.0),
        ]
    )
    return components, parts


async def test_a_stop_request_stops_intake_then_delivery_then_the_rest() -> None:
    log: list[str] = []
    components, _ = listed(log)
    stop = asyncio.Event()
    running = asyncio.create_task(components.run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    assert await running is None
    assert log[3:] == ["poller stopped", "sender stopped", "heartbeat stopped"]


async def test_a_component_that_dies_stops_the_others_and_is_named() -> None:
    log: list[str] = []
    components, parts = listed(log)
    stopping: list[int] = []
    running = asyncio.create_task(components.run(asyncio.Event(), lambda: stopping.append(1)))
    await asyncio.sleep(0.05)
    parts["sender"].die.set()
    failure = await running
    assert failure is not None
    assert failure.name == "sender"
    assert str(failure.error) == "sender broke"
    assert stopping == [1]
    assert "poller stopped" in log
    assert "heartbeat stopped" in log


def test_verdicts_facts_and_problems_are_gathered_from_every_component() -> None:
    components, _ = listed([])
    # The poller's verdict is said elsewhere (None): it has no row of its own.
    assert components.health() == [("heartbeat", "ok: fine"), ("sender", "WARN: paused")]
    assert components.facts() == [("sender", "items=3")]
    assert components.heartbeat_suffix() == " sender.items=3"
    assert components.problems() == "; sender: WARN: paused"


class Briefed(Part):
    """A component that keeps a short line in STATUS= (AutoSell's rules and pause)."""

    def brief(self) -> str:
        return "autosell 2 rules, PAUSED"


def test_status_carries_each_brief_then_the_problems() -> None:
    log: list[str] = []
    components = Components(
        [Listed(Part("sender", log, verdict="WARN: paused"), DELIVERY, 1.0),
         Listed(Briefed("autosell", log), INTAKE, 1.0)]
    )  # fmt: skip
    assert components.status_suffix() == "; autosell 2 rules, PAUSED; sender: WARN: paused"
