"""The double-entry journal's values: postings, entries, and the rule they keep. Pure.

Accounts (a commodity's amounts never mix with another's):
- `cash:USDT`           the account's quote currency;
- `asset:BTC`           holdings of a base asset, in that asset;
- `trading:BTC`         the conversion account of a pair (Selinger's trading accounts):
                        it balances the asset in BTC and holds the open lots' cost in
                        USDT, so every entry sums to zero per commodity;
- `expense:fees`        fees paid, in the quote currency;
- `equity:realized-pnl` gains (negative: a credit) and losses booked when lots close;
- `equity:contributions` money put in (the start balance), a credit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from daemon.money import exact, plain, total

FEES = "expense:fees"
REALIZED = "equity:realized-pnl"
CONTRIBUTIONS = "equity:contributions"


def cash(quote: str) -> str:
    return f"cash:{quote}"


def asset(base: str) -> str:
    return f"asset:{base}"


def trading(base: str) -> str:
    return f"trading:{base}"


@dataclass(frozen=True)
class Posting:
    account: str
    commodity: str
    amount: Decimal

    def __str__(self) -> str:
        return f"{self.account} {plain(self.amount)} {self.commodity}"


@dataclass(frozen=True)
class Entry:
    """One journal transaction: postings that sum to zero in each commodity."""

    memo: str
    postings: tuple[Posting, ...]


def imbalances(postings: Iterable[Posting]) -> dict[str, Decimal]:
    """Each commodity whose postings do not sum to zero, with the sum."""
    amounts: dict[str, list[Decimal]] = defaultdict(list)
    for posting in postings:
        amounts[posting.commodity].append(posting.amount)
    sums = {commodity: total(values) for commodity, values in amounts.items()}
    return {commodity: value for commodity, value in sorted(sums.items()) if value != 0}


def balances(postings: Iterable[Posting]) -> dict[tuple[str, str], Decimal]:
    """Each (account, commodity) with its balance; zero balances included."""
    amounts: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for posting in postings:
        amounts[(posting.account, posting.commodity)].append(posting.amount)
    return {key: total(values) for key, values in sorted(amounts.items())}


@exact
def entry(memo: str, *postings: Posting) -> Entry:
    """An Entry, refused (ValueError naming the commodity) unless it balances; postings
    of zero are left out, since they say nothing."""
    kept = tuple(p for p in postings if p.amount != 0)
    unbalanced = imbalances(kept)
    if unbalanced:
        sums = ", ".join(f"{plain(v)} {c}" for c, v in unbalanced.items())
        raise ValueError(f"entry {memo!r} does not balance: {sums}")
    return Entry(memo, kept)
