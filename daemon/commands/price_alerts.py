"""Public /alert: personal price alerts. `/alert SYMBOL > PRICE` (or `<`), `/alert list`,
`/alert del ID`. Each fires once, when a fresh price crosses it, in the chat it was set
in; at most ten active per user."""

from __future__ import annotations

from daemon.alerts.price_watcher import PriceAlertRefused, PriceAlerts
from daemon.commands.registry import Command, CommandCall, CommandError, Registry, Role, Services
from daemon.money import plain
from daemon.numbers import ascii_int
from daemon.reply import Reply

USAGE = "SYMBOL >|< PRICE | list | del ID"


def watcher_of(services: Services) -> PriceAlerts:
    if services.price_alerts is None:
        raise CommandError("Price alerts need prices: this bot has no price feed configured.")
    return services.price_alerts


async def alert(call: CommandCall, services: Services) -> Reply:
    watcher = watcher_of(services)
    args = list(call.args)
    if not args or args == ["list"]:
        mine = watcher.mine(call.user_id)
        if not mine:
            return Reply(lines=("No price alert set. /alert BTC/USDT > 65000 sets one.",))
        lines = tuple(
            f"#{w.id} {w.symbol} {'>' if w.above else '<'} {plain(w.price)}" for w in mine
        )
        return Reply(title="Your price alerts", lines=lines)
    if args[0].lower() == "del":
        alert_id = ascii_int(args[1].lstrip("#"), 1, 2**31) if len(args) == 2 else None
        if alert_id is None:
            raise CommandError(f"Usage: /alert {USAGE}")
        if not watcher.delete(call.user_id, alert_id):
            raise CommandError(f"You have no active alert #{alert_id}.")
        return Reply(lines=(f"Alert #{alert_id} deleted.",))
    if len(args) < 2:
        raise CommandError(f"Usage: /alert {USAGE}")
    try:
        watch = watcher.add(call.user_id, call.chat_id, args[0], "".join(args[1:]))
    except PriceAlertRefused as exc:
        raise CommandError(f"Not set: {exc}") from None
    word = "rises to" if watch.above else "falls to"
    return Reply(lines=(f"Alert #{watch.id}: I will tell you once when {watch.symbol} {word} "
                        f"{plain(watch.price)}.",))  # fmt: skip


def register(registry: Registry) -> None:
    registry.add(Command("alert", Role.PUBLIC, USAGE, "a price alert for you, once", alert,
                         "alerts"))  # fmt: skip
