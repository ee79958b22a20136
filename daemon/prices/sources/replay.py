"""Replayed ticks: a file of timestamped prices played back at a chosen speed, for the
sandbox, demos and tests; from the start again when it ends.

CSV with a header naming `time`, `symbol` and `price` (lines starting with `#` are
comments), or JSON lines with the same keys. `time` is an ISO 8601 moment or seconds;
only differences between ticks matter. The id of a replayed symbol is its name in the
file. Prices are exact decimals as written.
"""

from __future__ import annotations

import bisect
import csv
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from daemon.prices.sources.http import Fetched, Price, read_price

SYNTHETIC = Path(__file__).resolve().parent.parent / "data" / "synthetic-ticks.csv"


class ReplayError(ValueError):
    """The tick file cannot be played; str() names the file and line."""


@dataclass(frozen=True)
class Tick:
    offset: float  # seconds after the file's first tick
    symbol: str
    price: Decimal


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix in (".jsonl", ".json"):
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    row = json.loads(line, parse_float=str, parse_int=str)
                except ValueError:
                    raise ReplayError(f"{path}:{number}: not a JSON object") from None
                if not isinstance(row, dict):
                    raise ReplayError(f"{path}:{number}: not a JSON object")
                yield number, {key: str(value) for key, value in row.items()}
        return
    content = [(n, line) for n, line in enumerate(lines, 1) if not line.startswith("#")]
    reader = csv.DictReader(line for _, line in content)
    for (number, _), row in zip(content[1:], reader, strict=False):
        yield number, row


def load_ticks(path: Path) -> list[Tick]:
    """Every tick of the file in time order; ReplayError on the first bad line."""
    raw: list[tuple[float, str, Decimal]] = []
    try:
        rows = list(_rows(path))
    except OSError as exc:
        raise ReplayError(f"{path}: {exc.strerror or exc}") from None
    for number, row in rows:
        try:
            moment, symbol, text = row["time"], row["symbol"], row["price"]
            when = _seconds(moment)
        except (KeyError, TypeError, ValueError):
            raise ReplayError(f"{path}:{number}: needs time, symbol and price") from None
        price = read_price(text)
        if price is None:
            raise ReplayError(f"{path}:{number}: price {text!r} is not a positive number")
        raw.append((when, symbol, price))
    if not raw:
        raise ReplayError(f"{path}: no ticks")
    raw.sort(key=lambda tick: tick[0])
    first = raw[0][0]
    return [Tick(when - first, symbol, price) for when, symbol, price in raw]


class ReplayClient:
    """Answers, at each moment, the price each symbol had at the same point of the
    replay: (seconds since start × speed), wrapping around at the file's end."""

    kind = "replay"

    def __init__(self, ticks: Sequence[Tick], speed: float, clock: Callable[[], float]):
        self._clock = clock
        self._started = clock()
        self._speed = speed
        self._length = max(tick.offset for tick in ticks) or 1.0
        self._times: dict[str, list[float]] = defaultdict(list)
        self._prices: dict[str, list[Decimal]] = defaultdict(list)
        for tick in ticks:
            self._times[tick.symbol].append(tick.offset)
            self._prices[tick.symbol].append(tick.price)

    async def fetch(self, ids: Sequence[str]) -> Fetched:
        position = ((self._clock() - self._started) * self._speed) % self._length
        fetched = Fetched()
        for symbol in ids:
            times = self._times.get(symbol)
            if not times:
                fetched.rejected[symbol] = "not in the replay file"
                continue
            index = max(bisect.bisect_right(times, position) - 1, 0)
            fetched.prices[symbol] = Price(self._prices[symbol][index], None)
        return fetched
