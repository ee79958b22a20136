"""Digest sections: small plug-ins, each turning DigestFacts into a titled block. Pure.

A later subsystem (alerts, paper trading, AutoSell) adds a Section to SECTIONS; the
renderer needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from daemon.digest.facts import DigestFacts
from daemon.money import plain
from daemon.vitals import format_duration

DOWN_AFTER_BEATS = 3  # heartbeats missed before the daemon counts as down
DOWN_AFTER_MIN = timedelta(minutes=3)


@dataclass(frozen=True)
class Block:
    title: str
    lines: tuple[str, ...]


class Section(Protocol):
    def render(self, facts: DigestFacts) -> Block | None:
        """The section's block; None when it has nothing to say (not configured)."""
        ...


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
                backup_line(facts),
            ),
        )


def backup_line(facts: DigestFacts) -> str:
    if facts.last_backup is None:
        return "last backup: never (tradebotd backup)"
    age = format_duration((facts.now - facts.last_backup).total_seconds())
    return f"last backup {age} ago ({facts.last_backup:%Y-%m-%d %H:%M} UTC)"


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


class PaperTrading:
    """Equity, the last 24 h's realized P&L and fills, unrealized P&L, best and worst."""

    def render(self, facts: DigestFacts) -> Block | None:
        paper = facts.paper
        if paper is None:
            return None
        q = paper.quote
        unrealized = paper.unrealized

        def money(value: Decimal | None) -> str:
            return "unknown (no price)" if value is None else f"{plain(value)} {q}"

        lines = [
            f"equity {money(paper.equity)}, cash {plain(paper.cash)} {q}",
            f"24 h: {paper.fills} fills, realized {plain(paper.realized)} {q}, "
            f"fees {plain(paper.fees)} {q}",
            f"unrealized now {money(unrealized)}",
        ]
        ranked = paper.ranked()
        if ranked:
            best, worst = ranked[0], ranked[-1]
            lines.append(f"best {best.symbol} {money(best.unrealized)}")
            if worst is not best:
                lines.append(f"worst {worst.symbol} {money(worst.unrealized)}")
        stale = [p.symbol for p in paper.positions if not p.fresh]
        if stale:
            lines.append(f"marked at stale prices: {', '.join(stale)}")
        return Block("Paper trading", tuple(lines))


class AutoSell:
    """The period's executions with their P&L, the rules armed, the kill switch."""

    SHOWN = 10

    def render(self, facts: DigestFacts) -> Block | None:
        summary = facts.autosell
        if summary is None:
            return None
        q = summary.quote
        paused = summary.paused
        state = (
            f"PAUSED since {paused.since:%Y-%m-%d %H:%M} UTC"
            + (f" ({paused.reason})" if paused.reason else "")
            if paused
            else "running"
        )
        lines = [
            f"{state}, {summary.rules_active} rules armed",
            f"{len(summary.executions)} executions this {facts.period.kind}, realized "
            f"{plain(summary.realized)} {q} before fees",
        ]
        for line in summary.executions[-self.SHOWN :]:
            lines.append(
                f"{line.at:%m-%d %H:%M} {line.symbol} {line.rule}: sold {plain(line.qty)} at "
                f"{plain(line.price)}, realized {plain(line.realized)} {q}"
            )
        if len(summary.executions) > self.SHOWN:
            lines.append(f"(the last {self.SHOWN} shown)")
        return Block("AutoSell", tuple(lines))


class Alerts:
    """Alerts received, silenced, sent per receiver; dead letters; price alerts fired."""

    def render(self, facts: DigestFacts) -> Block | None:
        summary = facts.alerts
        if summary is None:
            return None
        sent = ", ".join(f"{name} {count}" for name, count in summary.sent.items()) or "none"
        return Block(
            "Alerts",
            (
                f"{summary.received} received this {facts.period.kind}, "
                f"{summary.silenced} silenced",
                f"sent: {sent}",
                f"dead letters in the queue: {summary.dead_letters}",
                f"personal price alerts fired: {summary.price_alerts_fired}",
            ),
        )


class Cluster:
    def render(self, facts: DigestFacts) -> Block | None:
        if facts.cluster is None:
            return None
        rows = [f"{name}: {text}" for name, text in facts.cluster]
        seconds = facts.period.minutes * 60
        for node, up in sorted(facts.nodes_up.items()):
            share = min(100.0, 100 * up / seconds) if seconds else 0.0
            rows.append(f"node {node}: up {share:.1f}% of the {facts.period.kind}")
        return Block("Cluster", tuple(rows))


SECTIONS: tuple[Section, ...] = (
    DaemonHealth(),
    Cluster(),
    AdminCommands(),
    PaperTrading(),
    AutoSell(),
    Alerts(),
)
