"""Paper trading: /buy, /sell, /portfolio, /pnl, /ledger (admin) and /price (public).

Each order's idempotency key is the update that carried it, so a replayed update never
fills twice; the fill, its journal entry and the reply commit in the update's
transaction (the broker writes in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from daemon.commands.registry import Command, CommandCall, CommandError, Registry, Role, Services
from daemon.config import Settings
from daemon.money import plain, quantize
from daemon.numbers import ascii_int
from daemon.prices.quotes import age_text
from daemon.reply import RenderLater, Reply
from daemon.store import ledger
from daemon.trading.desk import PaperDesk, Placed, Portfolio, fills_since
from daemon.trading.execution import OrderRefused, Side
from daemon.trading.periods import PERIODS, period_start
from daemon.trading.renderers import EQUITY_CHART, JOURNAL_CSV

MAX_LEDGER = 50


def local_time(moment: datetime, timezone: str) -> str:
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {timezone}"


def desk_of(services: Services) -> PaperDesk:
    if services.paper is None:
        raise CommandError(
            "Paper trading needs prices: add [[prices.symbols]] to the config (docs/paper.md)."
        )
    return services.paper


def _args(call: CommandCall, usage: str, count: int) -> tuple[str, ...]:
    if len(call.args) != count:
        raise CommandError(f"Usage: /{call.name} {usage}")
    return call.args


def _order_key(call: CommandCall) -> str:
    if not call.origin:
        raise CommandError("Orders need the update that carried them; this one has none.")
    return f"command:{call.origin}"


def fill_reply(placed: Placed) -> Reply:
    fill, after = placed.fill, placed.portfolio
    base, quote = placed.market.base, placed.market.quote
    title = "Already filled (this order was seen before)" if fill.replayed else "Filled"
    rows = [
        ("order", f"{fill.side} {plain(fill.qty)} {base} at {plain(fill.price)} {quote}"),
        ("amount", f"{plain(fill.gross)} {quote}"),
        ("fee", f"{plain(fill.fee)} {quote}"),
    ]
    if fill.side == "sell":
        rows.append(("realized P&L", f"{plain(fill.realized)} {quote} (before fees)"))
    held = after.position(placed.market.symbol)
    rows.append(("position", f"{plain(held.qty) if held else '0'} {base}"))
    rows.append(("cash", f"{plain(after.cash)} {quote}"))
    return Reply(title=title, rows=tuple(rows))


def _order(call: CommandCall, services: Services, side: Side, usage: str) -> Reply:
    desk = desk_of(services)
    symbol, amount = _args(call, usage, 2)
    place = desk.buy if side is Side.BUY else desk.sell
    try:
        placed = place(_order_key(call), symbol, amount)
    except OrderRefused as exc:
        raise CommandError(f"Not filled: {exc}") from None
    return fill_reply(placed)


async def buy(call: CommandCall, services: Services) -> Reply:
    return _order(call, services, Side.BUY, "SYMBOL QTY|$AMOUNT")


async def sell(call: CommandCall, services: Services) -> Reply:
    return _order(call, services, Side.SELL, "SYMBOL QTY|all|N%")


def _money(value: Decimal | None, quote: str) -> str:
    return "no price" if value is None else f"{plain(value)} {quote}"


def portfolio_reply(portfolio: Portfolio) -> Reply:
    quote = portfolio.quote
    rows: list[tuple[str, str]] = []
    for p in portfolio.positions:
        mark = "no price" if p.mark is None else f"{plain(p.mark)}{'' if p.fresh else ' (stale)'}"
        rows.append(
            (
                p.symbol,
                f"{plain(p.qty)} {p.base}, average cost {plain(quantize(p.average_cost, 8))}, "
                f"mark {mark}, unrealized {_money(p.unrealized, quote)}",
            )
        )
    rows.append(("cash", f"{plain(portfolio.cash)} {quote}"))
    rows.append(("equity", _money(portfolio.equity, quote)))
    lines = () if portfolio.positions else ("No open positions.",)
    return Reply(title="Paper portfolio", lines=lines, rows=tuple(rows))


async def portfolio(call: CommandCall, services: Services) -> Reply:
    return portfolio_reply(desk_of(services).portfolio())


async def pnl(call: CommandCall, services: Services) -> Reply:
    desk = desk_of(services)
    period = call.args[0].lower() if call.args else "all"
    if len(call.args) > 1 or (period not in PERIODS and period not in ("all", "chart")):
        raise CommandError("Usage: /pnl [day|week|month|all|chart]")
    if period == "chart":
        desk.portfolio()  # funds the account, so the curve has its first point
        args = (("since", "1970-01-01T00:00:00"), ("quote", desk.quote))
        return Reply(
            title="Paper equity", render_later=RenderLater("equity.png", EQUITY_CHART, args)
        )
    timezone = services.settings().digest.timezone
    since = period_start(period, call.now, timezone) if period in PERIODS else None
    held = desk.portfolio()
    fills = fills_since(since)
    change = desk.change_since(since, held)
    quote = desk.quote
    rows = (
        ("equity now", _money(held.equity, quote)),
        ("gained", _money(change, quote) + ("" if since else " (money put in left out)")),
        ("realized (closed lots)", f"{plain(fills.realized)} {quote}"),
        ("fees paid", f"{plain(fills.fees)} {quote}"),
        ("unrealized (open now)", _money(held.unrealized, quote)),
        ("fills", str(fills.count)),
    )
    if since is None:
        return Reply(title="P&L, all time", rows=rows)
    return Reply(title=f"P&L this {period} (since {local_time(since, timezone)})", rows=rows)


async def ledger_command(call: CommandCall, services: Services) -> Reply:
    desk = desk_of(services)
    count = 10
    if call.args == ("csv",) or call.args == ("CSV",):
        return Reply(title="Paper journal", render_later=RenderLater("journal.csv", JOURNAL_CSV))
    if call.args:
        asked = ascii_int(call.args[0], 1, MAX_LEDGER) if len(call.args) == 1 else None
        if asked is None:
            raise CommandError(f"Usage: /ledger [N|csv] (N from 1 to {MAX_LEDGER})")
        count = asked
    entries = desk.journal(count)
    if not entries:
        return Reply(lines=("The journal is empty.",))
    lines = []
    for entry in entries:
        lines.append(f"#{entry.id} {entry.created_at:%Y-%m-%d %H:%M} {entry.memo}")
        lines += [f"  {p}" for p in entry.postings]
    return Reply(title=f"Journal, last {len(entries)}", lines=tuple(lines))


async def price(call: CommandCall, services: Services) -> Reply:
    desk = desk_of(services)
    (symbol,) = _args(call, "SYMBOL", 1)
    try:
        view = desk.price(symbol)
    except OrderRefused as exc:
        raise CommandError(str(exc)) from None
    quote = view.quote
    source = quote.source + (f" ({quote.detail})" if quote.detail else "")
    rows = [
        ("price", plain(quote.price)),
        ("source", source),
        ("age", age_text(view.age_seconds) + ("" if view.fresh else " — stale")),
    ]
    if not view.tradable:
        rows.append(("trading", "watch-only"))
    return Reply(title=quote.symbol, rows=tuple(rows))


def _books_readable(settings: Settings) -> object:
    """The digest's self-check: the books' tables answer (reads only)."""
    return ledger.balances(), ledger.last_transactions(1)


def register(registry: Registry) -> None:
    for name, role, usage, description, handler in (
        ("price", Role.PUBLIC, "SYMBOL", "the latest price, its source and age", price),
        ("buy", Role.ADMIN, "SYMBOL QTY|$AMOUNT", "paper-buy at the market price", buy),
        ("sell", Role.ADMIN, "SYMBOL QTY|all|N%", "paper-sell at the market price", sell),
        ("portfolio", Role.ADMIN, "", "positions, marks, cash, equity", portfolio),
        ("pnl", Role.ADMIN, "[day|week|month|all|chart]", "P&L, or the equity curve", pnl),
        ("ledger", Role.ADMIN, "[N|csv]", "the last journal transactions, or all", ledger_command),
    ):
        check = _books_readable if role is Role.ADMIN else None
        registry.add(Command(name, role, usage, description, handler, "paper", check))
