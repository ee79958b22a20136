"""`tradebotd ledger check`'s rules: the journal's postings, the open lots, the fills'
cash movements and the kept balances in, every inconsistency out as one line. Pure, and
one pass over the postings (a million are checked in seconds); trading/books.py feeds
it from the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from daemon.money import exact, plain
from daemon.trading import journal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Audit:
    transactions: int
    postings: int
    problems: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        """ "N transactions, M postings: consistent" (or ": K problems"), as `ledger check`,
        backup and doctor say it."""
        verdict = "consistent" if self.clean else f"{len(self.problems)} problems"
        return f"{self.transactions} transactions, {self.postings} postings: {verdict}"


@dataclass(frozen=True)
class LotTotals:
    """What the open lots of one base asset add up to, and how many are malformed."""

    qty: Decimal = ZERO
    cost: Decimal = ZERO
    malformed: int = 0


@exact
def lot_totals(lots: Iterable[tuple[str, Decimal, Decimal]]) -> dict[str, LotTotals]:
    """(base, qty, cost) of every open lot → totals per base."""
    qty: dict[str, Decimal] = defaultdict(Decimal)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    malformed: dict[str, int] = defaultdict(int)
    for base, lot_qty, lot_cost in lots:
        qty[base] += lot_qty
        cost[base] += lot_cost
        malformed[base] += lot_qty <= 0 or lot_cost < 0
    return {base: LotTotals(qty[base], cost[base], malformed[base]) for base in qty}


Posting = tuple[int, str, str, Decimal]


@exact
def audit(
    batches: Iterable[Sequence[Posting]],
    lots: Mapping[str, LotTotals],
    quote: str,
    cash_moved: Decimal,
    kept: Mapping[tuple[str, str], Decimal] | None = None,
) -> Audit:
    """`batches`: the postings as (transaction id, account, commodity, amount), ordered
    by transaction, in batches. `lots`: the open lots' totals per base asset.
    `cash_moved`: what the fills and contributions recorded as cash in and out, which
    the cash account must equal. `kept`: the balances the store keeps as it posts, which
    must equal the postings' sums."""
    problems: list[str] = []
    balances: dict[tuple[str, str], Decimal] = {}
    sums: dict[str, Decimal] = {}
    current: int | None = None
    transactions = count = 0
    # One tight loop: a million postings pass through here.
    for batch in batches:
        count += len(batch)
        for transaction, account, commodity, amount in batch:
            if transaction != current:
                if current is not None and any(sums.values()):
                    problems.append(_unbalanced(current, sums))
                sums = {}
                current = transaction
                transactions += 1
            sums[commodity] = sums.get(commodity, ZERO) + amount
            key = (account, commodity)
            balances[key] = balances.get(key, ZERO) + amount
    if current is not None and any(sums.values()):
        problems.append(_unbalanced(current, sums))

    for base in sorted({*lots, *_bases(balances)}):
        totals = lots.get(base, LotTotals())
        if totals.malformed:
            problems.append(f"{base}: {totals.malformed} open lots have no quantity or a "
                            "negative cost")  # fmt: skip
        holding = balances.get((journal.asset(base), base), ZERO)
        if holding < 0:
            problems.append(f"{journal.asset(base)} is negative: {plain(holding)} {base}")
        if holding != totals.qty:
            problems.append(
                f"{journal.asset(base)} is {plain(holding)} {base} but the open lots hold "
                f"{plain(totals.qty)}"
            )
        basis = balances.get((journal.trading(base), quote), ZERO)
        if basis != totals.cost:
            problems.append(
                f"{journal.trading(base)} holds {plain(basis)} {quote} of cost but the open "
                f"lots carry {plain(totals.cost)}"
            )
    cash = balances.get((journal.cash(quote), quote), ZERO)
    if cash < 0:
        problems.append(f"{journal.cash(quote)} is negative: {plain(cash)} {quote}")
    if cash != cash_moved:
        problems.append(
            f"{journal.cash(quote)} is {plain(cash)} {quote} but fills and contributions "
            f"moved {plain(cash_moved)}"
        )
    if kept is not None:
        for account, commodity in sorted({*kept, *balances}):
            said = kept.get((account, commodity), ZERO)
            summed = balances.get((account, commodity), ZERO)
            if said != summed:
                problems.append(
                    f"the kept balance of {account} is {plain(said)} {commodity} but its "
                    f"postings sum to {plain(summed)}"
                )
    return Audit(transactions, count, tuple(problems))


def _unbalanced(transaction: int, sums: Mapping[str, Decimal]) -> str:
    shown = ", ".join(f"{plain(v)} {c}" for c, v in sorted(sums.items()) if v != 0)
    return f"transaction {transaction} does not balance: {shown}"


def _bases(balances: Mapping[tuple[str, str], Decimal]) -> set[str]:
    prefix = journal.asset("")
    return {account[len(prefix) :] for account, _ in balances if account.startswith(prefix)}
