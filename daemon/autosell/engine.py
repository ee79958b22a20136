"""The AutoSell engine, a daemon component: each fresh tick is evaluated as it arrives
against the rules on its symbol (found through the index, not a scan); a timer wakes it
for time exits and after /resume. Nothing polls.

Exactly once: a tick's decisions, their fills, the rules' new state and the admins'
notices commit in one transaction. Each trigger's idempotency key (symbol, arming,
rule) is the fill's key, so a decision made again after a crash or a restart finds its
fill and sells nothing twice. The database is the truth: the in-memory index follows it
after each commit, and a symbol whose rule another transaction changed (a buy, a manual
sell, an edit) is read again before its next decision.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from loguru import logger

from daemon.autosell import rules as rule_text
from daemon.autosell.decide import Armed, Costs, Decision, Exit, Tick, arm, decide
from daemon.autosell.index import RuleBook
from daemon.autosell.rules import RuleError, Spec
from daemon.autosell.settings import AutoSellSettings
from daemon.autosell.views import RuleView, view
from daemon.crashpoints import crash_point
from daemon.money import exact, plain
from daemon.prices.quotes import Quote, QuoteBook
from daemon.store import autosell as stored
from daemon.store import events, outbox
from daemon.store.database import Store
from daemon.store.ledger import FillRecord
from daemon.store.outbox import Priority, Receiver
from daemon.trading.desk import PaperDesk
from daemon.trading.execution import Order, OrderRefused, Side
from daemon.waiting import doze

KEY_PREFIX = "autosell:"
# A deadline is acted on a moment after it passes, never a moment before.
TIMER_SLACK = 0.05


def to_row(state: Armed) -> stored.RuleRow:
    return stored.RuleRow(state.symbol, state.arming, state.spec.text(), state.entry,
                          state.armed_qty, state.held, state.high, state.opened_at,
                          state.decimals, state.steps, state.trail_stop, state.last_tick,
                          state.held_back)  # fmt: skip


def from_row(row: stored.RuleRow) -> Armed:
    spec = rule_text.parse(row.spec.split()) if row.spec else Spec()
    return Armed(row.symbol, spec, row.entry, row.armed_qty, row.held, row.high, row.opened_at,
                 row.arming, row.decimals, row.steps, row.trail_stop, row.last_tick_at,
                 row.held_back)  # fmt: skip


@dataclass(frozen=True)
class Execution:
    """An exit that filled: what the admins are told and alert routing will see."""

    exit: Exit
    fill: FillRecord
    quote: str
    during_pause: bool

    def event(self) -> dict[str, str | bool]:
        return {
            "kind": "autosell",
            "symbol": self.exit.symbol,
            "rule": self.exit.rule,
            "qty": plain(self.fill.qty),
            "price": plain(self.fill.price),
            "realized": plain(self.fill.realized),
            "key": self.exit.key,
            "crossed_during_pause": self.during_pause,
        }

    def text(self) -> str:
        level = "" if self.exit.level is None else f"level {plain(self.exit.level)}, "
        crossed = " — crossed during the pause" if self.during_pause else ""
        return (
            f"🔻 AutoSell {self.exit.symbol}: {self.exit.rule}{crossed}. Sold "
            f"{plain(self.fill.qty)} at {plain(self.fill.price)} {self.quote} ({level}tick "
            f"{plain(self.exit.price)}); realized {plain(self.fill.realized)} {self.quote} "
            "before fees"
        )


class AutoSell:
    name = "autosell"

    def __init__(
        self,
        settings: AutoSellSettings,
        desk: PaperDesk,
        book: QuoteBook,
        store: Store,
        clock: Callable[[], datetime],
        costs: Costs,
    ):
        self._settings = settings
        self._desk = desk
        self._book = book
        self._store = store
        self._clock = clock
        self._costs = costs
        self._rules = RuleBook(costs)
        self._dirty: set[str] = set()
        self._inbox: deque[list[Quote]] = deque()
        self._wake = asyncio.Event()
        self._resume_pending = False
        self._waiting: dict[str, str] = {}  # time exits due, waiting for a fresh price
        self._paused: stored.Paused | None = None
        self._last = ""
        self.executions = 0
        # Set by the daemon: who is told, and how the sender learns there is mail.
        self.admins: Callable[[], list[int]] = list
        self.on_queued: Callable[[], None] = lambda: None

    # -- the rule a holding gets -------------------------------------------------------

    def spec_for(self, symbol: str) -> Spec | None:
        """/autosell's rule for the symbol if one was set, else the config's."""
        was_set, text = stored.override(symbol)
        if was_set:
            return None if text is None else rule_text.parse(text.split())
        return self._settings.spec_for(symbol)

    def rearm(self, symbol: str, spec: Spec | None) -> Armed | None:
        """Arm `spec` on the holding as it is now (in the caller's transaction); None
        closes the rule. The index follows once the transaction committed."""
        row = stored.rule(symbol)
        previous = None if row is None or row.held <= 0 else from_row(row)
        held, entry = self._desk.holding(symbol)
        now = self._clock()
        self.wake(symbol)
        if spec is None or held <= 0:
            if previous is not None:
                stored.save_rule(to_row(replace(previous, held=Decimal(0))), now)
            return None
        arming = (row.arming if row else 0) + 1
        decimals = self._desk.market(symbol).base_decimals
        state = arm(previous, symbol, spec, entry, held, now, arming, decimals)
        stored.save_rule(to_row(state), now)
        return state

    def after_fill(self, fill: FillRecord) -> None:
        """The desk's hook, in the fill's transaction: a buy arms (or re-arms) the rule on
        the new holding; a manual sell leaves the rule on what is left."""
        if fill.key.startswith(KEY_PREFIX) or fill.side not in ("buy", "sell"):
            return
        if fill.side == "buy":
            self.rearm(fill.symbol, self.spec_for(fill.symbol))
            return
        row = stored.rule(fill.symbol)
        if row is not None and row.held > 0:
            held, _ = self._desk.holding(fill.symbol)
            stored.save_rule(replace(row, held=held), self._clock())
            self.wake(fill.symbol)

    def wake(self, changed: str | None = None) -> None:
        """Look again now: at a symbol whose rule another transaction changed (read once
        that transaction ends), or at the clock (time exits)."""
        if changed is not None:
            self._dirty.add(changed)
        self._wake.set()

    # -- the component -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        async with self._store.transaction():
            self._load()
        while not stop.is_set():
            deadline = self._rules.next_deadline(skip=self._waiting.keys())
            delay = 3600.0
            if deadline is not None:
                delay = max((deadline - self._clock()).total_seconds(), 0) + TIMER_SLACK
            if not self._inbox:
                await doze(stop, self._wake, delay)
            if stop.is_set():
                return
            if self._dirty:
                async with self._store.transaction():  # waits for the changing one to end
                    for symbol in sorted(self._dirty):
                        self._refresh(symbol)
                    self._dirty.clear()
            while self._inbox:
                await self._ticks(self._inbox.popleft())
            if self._resume_pending:
                self._resume_pending = False
                await self._evaluate(self._rules.symbols(), resumed=True)
            due = [s for s in self._rules.due(self._clock()) if s not in self._waiting]
            if due:
                await self._evaluate(due, resumed=False)

    def _load(self) -> None:
        """The rules as stored; holdings without one (bought before AutoSell was set up)
        get the configured rule."""
        self._paused = stored.paused()
        covered = set()
        for row in stored.open_rules():
            self._rules.put(row.symbol, from_row(row))
            covered.add(row.symbol)
        for position in self._desk.portfolio().positions:
            if position.symbol not in covered:
                state = self.rearm(position.symbol, self.spec_for(position.symbol))
                if state is not None:
                    self._rules.put(state.symbol, state)
        self._dirty.clear()
        last = events.last_of_kind("autosell")
        if last is not None:
            self._last = _brief(json.loads(last.detail), last.at)
        logger.info("autosell: {} rules armed{}", len(self._rules),
                    "; PAUSED" if self._paused else "")  # fmt: skip

    def _refresh(self, symbol: str) -> None:
        """Read a symbol's rule again: another transaction changed it."""
        row = stored.rule(symbol)
        if row is None or row.held <= 0:
            self._rules.remove(symbol)
        else:
            self._rules.put(symbol, from_row(row))
        self._waiting.pop(symbol, None)

    async def on_quotes(self, quotes: list[Quote]) -> None:
        """The feed's listener: the quotes are handed to the engine's own task, so a
        failure there stops the daemon (for systemd to restart) instead of the feed."""
        self._inbox.append(quotes)
        self._wake.set()

    async def _ticks(self, quotes: list[Quote]) -> None:
        """Each new quote is a tick."""
        for quote in quotes:
            now = self._clock()
            symbol = quote.symbol
            if symbol not in self._dirty and not self._rules.touched(symbol, quote.price, now):
                continue
            await self._evaluate([symbol], resumed=False)

    async def _evaluate(self, symbols: list[str], resumed: bool) -> None:
        """Each symbol's rule against its latest fresh price, in one transaction each."""
        for symbol in symbols:
            try:
                async with self._store.transaction():
                    done = self._evaluate_one(symbol, resumed)
            except Exception:
                self._dirty.add(symbol)  # rolled back: the index reads the database again
                raise
            if done is not None:
                self._rules.put(symbol, done)
                self._dirty.discard(symbol)
            self.on_queued()

    def _evaluate_one(self, symbol: str, resumed: bool) -> Armed | None:
        if symbol in self._dirty:
            self._refresh(symbol)
            self._dirty.discard(symbol)
        state = self._rules.get(symbol)
        if state is None:
            return None
        quote = self._book.latest(symbol)
        now = self._clock()
        if quote is None or not self._book.is_fresh(symbol):
            self._wait_for_price(state, now)
            return None
        held, _ = self._desk.holding(symbol)
        state = replace(state, held=held)
        tick = Tick(symbol, quote.price, quote.observed_at)
        decision = decide(state, tick, now, self._costs)
        self._waiting.pop(symbol, None)
        if decision.ignored:
            return None
        if not decision.exits:
            after = replace(decision.after, held_back=()) if resumed else decision.after
            stored.save_rule(to_row(after), now)
            return after
        paused = stored.paused()
        self._paused = paused
        if paused is not None:
            return self._hold_back(decision, now)
        return self._execute(decision, now)

    def _wait_for_price(self, state: Armed, now: datetime) -> None:
        deadline = state.deadline
        if deadline is None or now < deadline or state.symbol in self._waiting:
            return
        try:
            self._book.fresh(state.symbol)
            reason = "no price yet"
        except LookupError as exc:
            reason = str(exc)
        self._waiting[state.symbol] = reason
        logger.warning("autosell: {} time exit is due; waiting for a fresh price ({})",
                       state.symbol, reason)  # fmt: skip

    def _hold_back(self, decision: Decision, now: datetime) -> Armed:
        """Paused: the exits are reported once each, not executed."""
        state = decision.observed
        new = [e for e in decision.exits if e.rule not in state.held_back]
        for crossed in new:
            level = "" if crossed.level is None else f" (level {plain(crossed.level)})"
            text = (f"⏸ AutoSell is paused: {crossed.symbol} {crossed.rule} crossed at "
                    f"{plain(crossed.price)}{level}; not sold. /resume sells at the price "
                    "then.")  # fmt: skip
            logger.warning("autosell: paused, not executing {} {} at {}", crossed.symbol,
                           crossed.rule, plain(crossed.price))  # fmt: skip
            self._tell_admins(text, now)
        kept = replace(state, held_back=(*state.held_back, *(e.rule for e in new)))
        stored.save_rule(to_row(kept), now)
        return kept

    @exact
    def _execute(self, decision: Decision, now: datetime) -> Armed:
        state = decision.observed
        sold = Decimal(0)
        after = decision.after
        for step in decision.exits:
            order = Order(step.key, step.symbol, Side.SELL, qty=step.qty)
            crash_point("autosell.decided")
            try:
                fill = self._desk.fill_only(order)
            except OrderRefused as exc:
                logger.error("autosell: {} {} not filled: {}", step.symbol, step.rule, exc)
                self._tell_admins(f"⚠️ AutoSell {step.symbol}: {step.rule} not filled: {exc}",
                                  now)  # fmt: skip
                after = state  # what filled before the refusal is replayed next time
                break
            if fill.replayed:
                continue  # decided and filled before (the holding read already shows it)
            sold += fill.qty
            done = Execution(step, fill, self._desk.quote, step.rule in state.held_back)
            events.record("autosell", now, json.dumps(done.event(), sort_keys=True))
            self._tell_admins(done.text(), now)
            logger.info("autosell: {}", done.text())
            self._last = _brief(done.event(), now)
            self.executions += 1
        after = replace(after, held=state.held - sold, held_back=())
        stored.save_rule(to_row(after), now)
        crash_point("autosell.filled")  # all written, nothing committed
        return after

    def _tell_admins(self, text: str, now: datetime) -> None:
        for admin in self.admins():
            outbox.enqueue(Receiver.chat(admin), text, now, priority=Priority.ALERT,
                           parse_mode=None)  # fmt: skip

    # -- what the commands call (in the command's transaction) ------------------------

    def views(self) -> list[RuleView]:
        return [self.view_of(from_row(row)) for row in stored.open_rules()]

    def view_of(self, state: Armed) -> RuleView:
        return view(state, self._costs, self._clock())

    def waiting(self, symbol: str) -> str | None:
        return self._waiting.get(symbol)

    def set_rule(self, symbol: str, words: list[str]) -> Armed | Spec:
        """Edit a symbol's rule (over the one it has); re-armed at once if held. The
        rule as armed, or as kept for the next buy. RuleError: nothing changed."""
        market = self._desk.market(symbol)
        current = self.spec_for(market.symbol) or Spec()
        spec = rule_text.parse(words, current)
        setting_stop = any(word.lower().startswith("sl=") for word in words)
        if setting_stop and spec.stop_price is not None:
            try:
                price = self._book.fresh_price(market.symbol)
            except LookupError as exc:
                raise RuleError(f"sl={plain(spec.stop_price)}: cannot check it: {exc}") from None
            if spec.stop_price >= price:
                raise RuleError(
                    f"sl={plain(spec.stop_price)} is at or above the price ({plain(price)}): "
                    "a stop for a long sits below it"
                )
        stored.set_override(market.symbol, spec.text() if not spec.empty else None, self._clock())
        armed = self.rearm(market.symbol, None if spec.empty else spec)
        return spec if armed is None else armed

    def switch_off(self, symbol: str) -> bool:
        """No rule for the symbol until /autosell sets one; True if one was armed."""
        market = self._desk.market(symbol)
        stored.set_override(market.symbol, None, self._clock())
        row = stored.rule(market.symbol)
        self.rearm(market.symbol, None)
        return row is not None and row.held > 0

    # -- the kill switch ---------------------------------------------------------------

    def pause(self, reason: str) -> stored.Paused:
        """In the caller's transaction; returns the pause in force (the first one)."""
        current = stored.paused()
        if current is not None:
            return current
        paused = stored.Paused(self._clock(), reason)
        stored.set_paused(paused)
        self._paused = paused
        logger.warning("autosell: paused: {}", reason or "no reason given")
        return paused

    def resume(self) -> stored.Paused | None:
        """Clears the switch; the rules are then evaluated at the current fresh prices
        (after the caller's transaction commits). Returns the pause it ended."""
        current = stored.paused()
        if current is None:
            return None
        stored.set_paused(None)
        self._paused = None
        self._resume_pending = True
        self.wake()
        logger.info("autosell: resumed")
        return current

    @property
    def paused(self) -> stored.Paused | None:
        return self._paused

    # -- what /status, /health, [hb] and STATUS= show ----------------------------------

    def health(self) -> str | None:
        rules = f"{len(self._rules)} rules active"
        waiting = "".join(
            f"; {s} time exit waits: {why}" for s, why in sorted(self._waiting.items())
        )
        if self._paused is not None:
            reason = f" ({self._paused.reason})" if self._paused.reason else ""
            return f"WARN: paused since {self._paused.since:%Y-%m-%d %H:%M} UTC{reason}; {rules}"
        if waiting:
            return f"WARN: {rules}{waiting}"
        return f"ok: {rules}" + (f", last {self._last}" if self._last else "")

    def facts(self) -> Mapping[str, int | str]:
        return {
            "rules": len(self._rules),
            "paused": "yes" if self._paused else "no",
            "last": self._last.replace(" ", "_") or "none",
        }

    def brief(self) -> str:
        """For STATUS=: short, always there."""
        paused = ", PAUSED" if self._paused else ""
        return f"autosell {len(self._rules)} rules{paused}, last {self._last or 'none'}"


def _brief(event: Mapping[str, object], at: datetime) -> str:
    return f"{event['symbol']} {event['rule']} {at:%m-%d %H:%M}"
