"""`[paper]` in the TOML file: the paper account. Money is written as strings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from daemon import settings_schema as declare
from daemon.config import register_section
from daemon.trading.execution import MAX_BPS, Terms

_CURRENCY = re.compile(r"[A-Z0-9]{2,10}")


def _currency(code: str) -> None:
    if not _CURRENCY.fullmatch(code):
        raise ValueError("is not a currency code (2-10 capital letters or digits, e.g. USDT)")


@dataclass(frozen=True)
class PaperSettings:
    # Built into the feed, the book and the broker at start: a reload keeps the old value.
    APPLIES_AT_START: ClassVar[bool] = True

    quote: str = field(
        default="USDT",
        metadata=declare.text(_currency, doc="the account's currency; USD and USDT differ"),
    )
    start_balance: Decimal = field(
        default=Decimal("10000"),
        metadata=declare.amount("posted once, as a contribution, before the first fill"),
    )
    fee_bps: int = field(
        default=10, metadata=declare.number(0, MAX_BPS, "fee per fill, basis points")
    )
    slippage_bps: int = field(
        default=5,
        metadata=declare.number(0, MAX_BPS, "how far a market fill lands from the quote"),
    )

    def terms(self) -> Terms:
        return Terms(self.fee_bps, self.slippage_bps)


register_section("paper", PaperSettings)
