"""Alert routing's admin commands: /routes (the tree, the receivers, what waits for each;
`test RECEIVER` sends a test alert there), /mute and /unmute (silences, kept in the
database until they expire)."""

from __future__ import annotations

from datetime import timedelta

from daemon.alerts.grouping import Flush
from daemon.alerts.matchers import MatcherError
from daemon.alerts.model import Alert
from daemon.alerts.router import targets
from daemon.alerts.routing import Route
from daemon.alerts.settings import AlertsSettings
from daemon.alerts.silences import MuteError, parse_mute
from daemon.clock import utcnow
from daemon.commands.registry import Command, CommandCall, CommandError, Registry, Role, Services
from daemon.config import Settings
from daemon.numbers import ascii_int
from daemon.reply import Reply
from daemon.settings_schema import format_seconds
from daemon.store import alerts as stored
from daemon.store import outbox

NO_ROUTES = "No alert routing: add [alerts.route] and [[alerts.receivers]] (docs/alerts.md)."


def alerts_of(services: Services) -> AlertsSettings:
    section: AlertsSettings = services.settings().section("alerts")
    return section


def _route_line(route: Route, depth: int) -> str:
    t = route.timing
    matchers = " ".join(str(m) for m in route.matchers) or "everything"
    carry = ", continue" if route.carry_on else ""
    return (
        f"{'  ' * depth}{route.path}: {matchers} → {route.receiver}{carry} "
        f"(group by {', '.join(route.group_by) or 'nothing'}; wait {format_seconds(t.group_wait)}, "
        f"interval {format_seconds(t.group_interval)}, repeat {format_seconds(t.repeat_interval)})"
    )


def _lines(route: Route, depth: int = 0) -> list[str]:
    return [_route_line(route, depth), *(x for r in route.routes for x in _lines(r, depth + 1))]


async def routes(call: CommandCall, services: Services) -> Reply:
    alerts = alerts_of(services)
    tree = alerts.tree()
    if call.args and call.args[0].lower() == "test":
        return _test(call, services, alerts)
    if call.args not in ((), ("list",)):
        raise CommandError("Usage: /routes [list|test RECEIVER]")
    if tree is None:
        return Reply(lines=(NO_ROUTES,))
    queue = outbox.by_receiver()
    lines = _lines(tree)
    for receiver in alerts.receivers:
        waiting = dead = 0
        for target in targets(receiver):
            fates = queue.get(target)
            if fates is not None:
                waiting, dead = waiting + fates.pending, dead + fates.dead
        lines.append(
            f"receiver {receiver.name}: {len(receiver.telegram)} Telegram chats, "
            f"{len(receiver.apprise)} Apprise targets; waiting {waiting}, dead letters {dead}"
        )
    router = services.alert_router
    if router is not None:
        c = router.counters
        lines.append(f"since start: {c.received} alerts, {c.silenced} silenced, "
                     f"{c.notifications} notifications queued")  # fmt: skip
    return Reply(title="Alert routes", lines=tuple(lines))


def _test(call: CommandCall, services: Services, alerts: AlertsSettings) -> Reply:
    if len(call.args) != 2:
        raise CommandError("Usage: /routes test RECEIVER")
    name = call.args[1]
    names = [r.name for r in alerts.receivers]
    if name not in names:
        known = ", ".join(names) or "none configured"
        raise CommandError(f"No receiver {name!r} (receivers: {known}).")
    labels = {"kind": "test", "severity": "info", "id": f"test:{call.origin or call.now}"}
    alert = Alert(labels, f"Test alert from /routes test, asked by {call.user_name}.", call.now)
    flush = Flush(name, "test", (("kind", "test"),), (alert,))
    router = services.alert_router
    if router is None:
        raise CommandError("The alert router is not running.")
    count = router.queue_to(name, flush, call.now)
    return Reply(lines=(f"Test alert queued for {name}: {count} notifications.",))


async def mute(call: CommandCall, services: Services) -> Reply:
    if not call.args:
        return _silences(call)
    try:
        asked = parse_mute(" ".join(call.args))
    except (MatcherError, MuteError) as exc:
        raise CommandError(f"Not muted: {exc}") from None
    ends = call.now + timedelta(seconds=asked.seconds)
    written = tuple(str(m) for m in asked.matchers)
    silence_id = stored.add_silence(written, call.now, ends, asked.comment, call.user_id)
    comment = f" ({asked.comment})" if asked.comment else ""
    return Reply(
        title=f"Silence #{silence_id}",
        lines=(f"{' '.join(written)} muted until {ends:%Y-%m-%d %H:%M} UTC{comment}. "
               f"/unmute {silence_id} ends it.",),
    )  # fmt: skip


def _silences(call: CommandCall) -> Reply:
    rows = stored.active_silences(call.now)
    if not rows:
        return Reply(lines=("No silence is active. /mute MATCHERS DURATION [comment] sets one.",))
    return Reply(
        title="Active silences",
        lines=tuple(
            f"#{r.id} {' '.join(r.matchers)} until {r.ends:%Y-%m-%d %H:%M} UTC by {r.created_by}"
            + (f": {r.comment}" if r.comment else "")
            for r in rows
        ),
    )


async def unmute(call: CommandCall, services: Services) -> Reply:
    silence_id = ascii_int(call.args[0].lstrip("#"), 1, 2**31) if len(call.args) == 1 else None
    if silence_id is None:
        raise CommandError("Usage: /unmute ID (the number /mute gave)")
    if not stored.end_silence(silence_id, call.now):
        raise CommandError(f"No active silence #{silence_id}.")
    return Reply(lines=(f"Silence #{silence_id} ended.",))


def _readable(settings: Settings) -> object:
    """The digest's self-check: the alert tables answer (reads only)."""
    return stored.active_silences(utcnow()), outbox.by_receiver()


def register(registry: Registry) -> None:
    for name, usage, description, handler in (
        ("routes", "[list|test RECEIVER]", "the alert routing tree and receivers", routes),
        ("mute", "[MATCHERS DURATION [comment]]", "silence matching alerts; list silences", mute),
        ("unmute", "ID", "end a silence", unmute),
    ):
        registry.add(Command(name, Role.ADMIN, usage, description, handler, "alerts", _readable))
