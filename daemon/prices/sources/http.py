"""What every HTTP price source shares: one GET, its failures sorted into the classes
the feed reacts to, JSON read with exact decimals, prices checked."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import aiohttp

USER_AGENT = "tradebotd price feed"
MAX_BODY = 4 * 1024 * 1024


class SourceError(Exception):
    """The source failed this time (5xx, timeout, garbage): back off and try again."""


class Throttled(SourceError):
    """429 (or Binance's 418): wait `retry_after` seconds before asking again."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class Blocked(SourceError):
    """The source refuses this host for good (Binance's 451: region-blocked)."""


@dataclass(frozen=True)
class Price:
    price: Decimal
    observed_at: datetime | None  # None: the source gives no time; stamp on receipt
    detail: str = ""


@dataclass
class Fetched:
    prices: dict[str, Price] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)  # id → why it has no price


class Client(Protocol):
    kind: str

    async def fetch(self, ids: Sequence[str]) -> Fetched: ...


def read_price(value: Any) -> Decimal | None:
    """A positive finite price from a JSON string or number (already Decimal); None if
    the source sent something else."""
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if isinstance(value, bool) or not price.is_finite() or price <= 0:
        return None
    return price


def retry_after(headers: Mapping[str, str], default: float) -> float:
    try:
        return max(1.0, min(float(headers.get("Retry-After", default)), 3600.0))
    except ValueError:
        return default


async def get_json(
    session: aiohttp.ClientSession,
    url: str,
    params: Mapping[str, str],
    within: float,
    accept: tuple[int, ...] = (200,),
) -> tuple[int, Any]:
    """GET `url` → (status, JSON with exact decimals) for statuses in `accept`; the
    failure classes otherwise."""
    try:
        async with session.get(
            url,
            params=params,
            headers={"User-Agent": USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=within),
        ) as response:
            body = await response.content.read(MAX_BODY + 1)
            status, headers = response.status, response.headers
    except TimeoutError:
        raise SourceError(f"no answer within {within:g}s") from None
    except aiohttp.ClientError as exc:
        raise SourceError(f"{type(exc).__name__}: {exc}") from None
    if status in (418, 429):
        raise Throttled(f"HTTP {status}: rate limited", retry_after(headers, 60.0))
    if status == 451:
        raise Blocked("HTTP 451: the source refuses requests from this host's region")
    if status not in accept:
        raise SourceError(f"HTTP {status}")
    if len(body) > MAX_BODY:
        raise SourceError("answer too large")
    try:
        return status, json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise SourceError(f"HTTP {status} with a body that is not JSON") from None
