"""`tradebotd ledger check` as a pure function: the journal's postings, the open lots and
the fills' cash movements in, every inconsistency out as one line. Pure, and one pass
over the postings, because a journal of a million postings is checked in seconds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from daemon.trading import journal
from daemon.trading.lots import Lot, cost_of, held
from daemon.trading.money import exact, plain

ZERO = Decimal(0)


@dataclass(frozen=True)
class Audit:
    transactions: int
    postings: int
    problems: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.problems


@exact
def audit(
    postings: Iterable[tuple[int, str, str, Decimal]],
    lots: Mapping[str, Sequence[Lot]],
    quote: str,
    cash_moved: Decimal,
) -> Audit:
    """`postings`: (transaction id, account, commodity, amount), ordered by transaction.
    `lots`: open lots per base asset. `cash_moved`: what the fills and contributions
    recorded as cash in and out, which the cash account must equal."""
    problems: list[str] = []
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    current: int | None = None
    sums: dict[str, Decimal] = defaultdict(Decimal)
    transactions = count = 0

    def close(transaction: int | None) -> None:
        unbalanced = {c: v for c, v in sums.items() if v != 0}
        if transaction is not None and unbalanced:
            shown = ", ".join(f"{plain(v)} {c}" for c, v in sorted(unbalanced.items()))
            problems.append(f"transaction {transaction} does not balance: {shown}")
        sums.clear()

    for transaction, account, commodity, amount in postings:
        if transaction != current:
            close(current)
            current = transaction
            transactions += 1
        sums[commodity] += amount
        balances[(account, commodity)] += amount
        count += 1
    close(current)

    for base in sorted({*lots, *_bases(balances)}):
        open_lots = lots.get(base, ())
        if any(lot.qty <= 0 or lot.cost < 0 for lot in open_lots):
            problems.append(f"{base}: an open lot has no quantity or a negative cost")
        holding = balances.get((journal.asset(base), base), ZERO)
        if holding < 0:
            problems.append(f"{journal.asset(base)} is negative: {plain(holding)} {base}")
        if holding != held(open_lots):
            problems.append(
                f"{journal.asset(base)} is {plain(holding)} {base} but the open lots hold "
                f"{plain(held(open_lots))}"
            )
        basis = balances.get((journal.trading(base), quote), ZERO)
        if basis != cost_of(open_lots):
            problems.append(
                f"{journal.trading(base)} holds {plain(basis)} {quote} of cost but the open "
                f"lots carry {plain(cost_of(open_lots))}"
            )
    cash = balances.get((journal.cash(quote), quote), ZERO)
    if cash < 0:
        problems.append(f"{journal.cash(quote)} is negative: {plain(cash)} {quote}")
    if cash != cash_moved:
        problems.append(
            f"{journal.cash(quote)} is {plain(cash)} {quote} but fills and contributions "
            f"moved {plain(cash_moved)}"
        )
    return Audit(transactions, count, tuple(problems))


def _bases(balances: Mapping[tuple[str, str], Decimal]) -> set[str]:
    prefix = journal.asset("")
    return {account[len(prefix) :] for account, _ in balances if account.startswith(prefix)}
