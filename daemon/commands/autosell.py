"""AutoSell: /autosell (list, set, off), /pause and /resume (admin).

Edits and the kill switch are written in the update's transaction, like every command;
the engine follows once it commits."""

from __future__ import annotations

from decimal import Decimal

from daemon.autosell.decide import Armed
from daemon.autosell.engine import AutoSell
from daemon.autosell.rules import RuleError
from daemon.autosell.views import RuleView
from daemon.commands.registry import Command, CommandCall, CommandError, Registry, Role, Services
from daemon.config import Settings
from daemon.money import plain, quantize
from daemon.prices.quotes import age_text
from daemon.reply import Reply
from daemon.store import autosell as stored
from daemon.trading.execution import OrderRefused

USAGE = "list | off SYMBOL | SYMBOL sl=-5% tp=+10%:50%,+20%:50% trail=3% arm=+5% be=on time=48h"
MAX_REASON = 200


def engine_of(services: Services) -> AutoSell:
    if services.autosell is None:
        raise CommandError(
            "AutoSell needs paper trading: add [[prices.symbols]] to the config (docs/paper.md)."
        )
    return services.autosell


def _price(value: Decimal) -> str:
    return plain(quantize(value, 8))


def describe(rule: RuleView, waiting: str | None) -> str:
    parts = [f"{rule.symbol}: {plain(rule.held)} held, entry {_price(rule.entry)} — {rule.rule}"]
    if rule.stop is not None:
        parts.append(f"stop {_price(rule.stop[0])} ({rule.stop[1]})")
    if rule.target is not None:
        level, number, qty = rule.target
        parts.append(f"next target {_price(level)} sells {plain(qty)} ({number} of {rule.targets})")
    parts.append(f"high {_price(rule.high)}")
    if rule.trail_arms_at is not None:
        parts.append(f"trail arms at {_price(rule.trail_arms_at)}")
    if rule.seconds_left is not None:
        parts.append(f"time left {age_text(rule.seconds_left)}")
    if rule.held_back:
        parts.append(f"crossed while paused: {', '.join(rule.held_back)}")
    if waiting:
        parts.append(f"time exit waiting for a fresh price ({waiting})")
    return "; ".join(parts)


def _listing(engine: AutoSell) -> Reply:
    views = engine.views()
    lines = [describe(rule, engine.waiting(rule.symbol)) for rule in views]
    if not views:
        lines.append("No rule armed: AutoSell arms one on each holding that has a rule.")
    paused = engine.paused
    if paused is not None:
        lines.insert(0, f"PAUSED since {paused.since:%Y-%m-%d %H:%M} UTC"
                        + (f": {paused.reason}" if paused.reason else ""))  # fmt: skip
    return Reply(title="AutoSell rules", lines=tuple(lines))


async def autosell(call: CommandCall, services: Services) -> Reply:
    engine = engine_of(services)
    args = list(call.args)
    if not args or args == ["list"]:
        return _listing(engine)
    try:
        if args[0].lower() == "off":
            if len(args) != 2:
                raise CommandError(f"Usage: /autosell {USAGE}")
            was_armed = engine.switch_off(args[1])
            note = "the armed rule is closed" if was_armed else "no rule was armed"
            return Reply(lines=(f"AutoSell is off for {args[1].upper()} ({note}); "
                                "/autosell SYMBOL … sets a rule again.",))  # fmt: skip
        if len(args) < 2:
            raise CommandError(f"Usage: /autosell {USAGE}")
        result = engine.set_rule(args[0], args[1:])
    except (RuleError, OrderRefused) as exc:
        raise CommandError(f"Not changed: {exc}") from None
    if isinstance(result, Armed):
        return Reply(title="AutoSell rule armed", lines=(describe(engine.view_of(result), None),))
    return Reply(
        title="AutoSell rule set",
        lines=(f"{args[0].upper()}: {result.text() or 'no rule'} — armed at the next buy.",),
    )


async def pause(call: CommandCall, services: Services) -> Reply:
    engine = engine_of(services)
    reason = " ".join(call.args)[:MAX_REASON]
    before = stored.paused()
    paused = engine.pause(reason)
    if before is not None:
        return Reply(lines=(f"Already paused since {paused.since:%Y-%m-%d %H:%M} UTC.",))
    return Reply(
        title="AutoSell paused",
        lines=("No automated exit executes until /resume; crossings are reported instead. "
               "Manual /sell still works.",),
    )  # fmt: skip


async def resume(call: CommandCall, services: Services) -> Reply:
    engine = engine_of(services)
    if call.args:
        raise CommandError("Usage: /resume")
    ended = engine.resume()
    if ended is None:
        return Reply(lines=("AutoSell was not paused.",))
    return Reply(
        title="AutoSell resumed",
        lines=("Every rule is evaluated at the current fresh price now: a level crossed "
               "during the pause sells at once.",),
    )  # fmt: skip


def _rules_readable(settings: Settings) -> object:
    """The digest's self-check: AutoSell's tables answer (reads only)."""
    return stored.open_rules(), stored.paused()


def register(registry: Registry) -> None:
    for name, usage, description, handler in (
        ("autosell", "[list|off SYMBOL|SYMBOL rules…]", "exit rules: list, set, off", autosell),
        ("pause", "[reason]", "stop automated exits (kill switch)", pause),
        ("resume", "", "resume automated exits", resume),
    ):
        registry.add(Command(name, Role.ADMIN, usage, description, handler, "autosell",
                             _rules_readable))  # fmt: skip
