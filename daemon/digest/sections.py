"""Digest sections: small plug-ins, each turning DigestFacts into a titled block. Pure.

A later subsystem (alerts, paper trading, AutoSell) adds a Section to SECTIONS; the
renderer needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from daemon.digest.facts import DigestFacts
from daemon.vitals import format_duration

DOWN_AFTER_BEATS = 3  # heartbeats missed before the daemon counts as down
DOWN_AFTER_MIN = timedelta(minutes=3)


@dataclass(frozen=True)
class Block:
    title: str
    lines: tuple[str, ...]


class Section(Protocol):
    def render(self, facts: DigestFacts) -> Block: ...


def is_down(facts: DigestFacts) -> bool:
    if facts.last_heartbeat is None or facts.poller_running is False:
        return True
    allowed = max(timedelta(seconds=facts.heartbeat_interval * DOWN_AFTER_BEATS), DOWN_AFTER_MIN)
    return facts.now - facts.last_heartbeat > allowed


class DaemonHealth:
    def render(self, facts: DigestFacts) -> Block:
        if facts.last_heartbeat is None:
            state = "DAEMON DOWN: no heartbeat was ever recorded"
        else:
            age = format_duration((facts.now - facts.last_heartbeat).total_seconds())
            if facts.poller_running is False:
                state = f"DAEMON DOWN: no tradebotd process runs (last heartbeat {age} ago)"
            elif is_down(facts):
                state = f"DAEMON DOWN: last heartbeat {age} ago"
            else:
                state = f"daemon up: last heartbeat {age} ago"
        share = 100 * facts.minutes_up / facts.period.minutes if facts.period.minutes else 0
        commands = ", ".join(f"/{n} {c}" for n, c in sorted(facts.commands_run.items()))
        return Block(
            "Daemon",
            (
                state,
                f"uptime {min(share, 100):.1f}% of the {facts.period.kind}",
                f"starts {facts.starts}, of them after a crash or watchdog kill "
                f"{facts.unclean_starts}",
                f"409 conflict episodes {facts.conflicts}",
                f"updates handled {facts.updates}",
                f"commands run {commands or 'none'}",
                f"errors logged {facts.errors}",
            ),
        )


class AdminCommands:
    """N/18: in the registry, in the admin menu Telegram holds, and self-check passing."""

    def render(self, facts: DigestFacts) -> Block:
        menu = facts.published_admin_menu
        answering, problems = [], []
        for name in facts.admin_commands:
            error = facts.self_checks.get(name, "no self-check")
            if menu is not None and name not in menu:
                problems.append(f"/{name}: not in the admin menu")
            elif error is not None:
                problems.append(f"/{name}: {error}")
            else:
                answering.append(name)
        head = (
            f"{len(answering)}/{facts.planned_admin_commands} admin commands registered "
            "and answering"
        )
        if menu is None:
            head += " (admin menu unknown: no admin has a chat with the bot)"
        return Block("Commands", (head, *problems))


SECTIONS: tuple[Section, ...] = (DaemonHealth(), AdminCommands())
