#!/usr/bin/env python3
"""Writes daemon/prices/data/synthetic-ticks.csv: one hour of made-up prices, a tick
every 5 seconds, for the sandbox and demos. A seeded random walk: the same file every
time. SYNTHETIC: these are not market data."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "daemon" / "prices" / "data" / "synthetic-ticks.csv"
START = {"BTC/USDT": Decimal("60000"), "ETH/USDT": Decimal("3000"), "PEPE/USDT": Decimal("0.00001")}
PLACES = {"BTC/USDT": 2, "ETH/USDT": 2, "PEPE/USDT": 10}


def main() -> None:
    rng = random.Random(20261129)
    prices = dict(START)
    lines = [
        "# SYNTHETIC price ticks for the tradebotd sandbox: a seeded random walk, not market data.",
        "# Regenerate with scripts/make-synthetic-ticks.py.",
        "time,symbol,price",
    ]
    for step in range(720):
        for symbol, price in prices.items():
            move = Decimal(str(round(rng.gauss(0, 0.0015), 6)))
            price = (price * (1 + move)).quantize(Decimal(1).scaleb(-PLACES[symbol]))
            prices[symbol] = price
            lines.append(f"{step * 5},{symbol},{price}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
