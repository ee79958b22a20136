"""AutoSell rule specs: what an operator writes (`sl=-5% tp=+10%:50%,+20%:50% trail=3%
arm=+5% be=on time=48h`), read strictly into a Spec, and written back the same way. Pure.

The same text serves the command, the TOML file (one key each) and the database (the
canonical text), so a rule reads the same wherever it is seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from daemon.money import AmountError, plain, read_amount, total
from daemon.settings_schema import format_seconds, parse_duration

KEYS = ("sl", "tp", "trail", "arm", "be", "time")
MAX_TARGETS = 10
MAX_HOLD = 365 * 86400
_PERCENT = re.compile(r"([+-]?)([^%]*)%")


class RuleError(ValueError):
    """A rule that cannot be armed; str() is the reason, naming the key and its value."""


@dataclass(frozen=True)
class Target:
    """Sell `fraction` % of the holding as it was armed once the price is `gain` % above
    the average entry."""

    gain: Decimal
    fraction: Decimal


@dataclass(frozen=True)
class Spec:
    """A symbol's exit rules; every part optional. `stop_percent` is negative (below
    entry); `stop_price` is an absolute level instead."""

    stop_percent: Decimal | None = None
    stop_price: Decimal | None = None
    targets: tuple[Target, ...] = ()
    trail: Decimal | None = None
    arm: Decimal | None = None
    breakeven: bool = False
    hold: int | None = None  # seconds

    @property
    def empty(self) -> bool:
        return self == Spec()

    def text(self) -> str:
        """The canonical form, which `parse` reads back to the same Spec."""
        parts = []
        if self.stop_percent is not None:
            parts.append(f"sl={plain(self.stop_percent)}%")
        if self.stop_price is not None:
            parts.append(f"sl={plain(self.stop_price)}")
        if self.targets:
            steps = ",".join(f"+{plain(t.gain)}%:{plain(t.fraction)}%" for t in self.targets)
            parts.append(f"tp={steps}")
        if self.trail is not None:
            parts.append(f"trail={plain(self.trail)}%")
        if self.arm is not None:
            parts.append(f"arm=+{plain(self.arm)}%")
        if self.breakeven:
            parts.append("be=on")
        if self.hold is not None:
            parts.append(f"time={format_seconds(self.hold)}")
        return " ".join(parts)


NO_RULE = Spec()


def _percent(key: str, value: str, sign: str) -> Decimal:
    """A percentage: `sign` "-" (must be negative), "+" (positive, "+" optional)."""
    match = _PERCENT.fullmatch(value)
    if match is None:
        raise RuleError(f"{key}={value}: expected a percentage like {sign}5%")
    written_sign, digits = match[1], match[2]
    try:
        amount = read_amount(digits, "a percentage")
    except AmountError as exc:
        raise RuleError(f"{key}={value}: {exc}") from None
    if sign == "-" and written_sign != "-":
        raise RuleError(f"{key}={value}: a stop-loss is below the entry, e.g. {key}=-{digits}%")
    if sign == "+" and written_sign == "-":
        raise RuleError(f"{key}={value}: must be a gain above the entry, e.g. {key}=+{digits}%")
    return -amount if sign == "-" else amount


def _stop(value: str) -> tuple[Decimal | None, Decimal | None]:
    if value.endswith("%"):
        percent = _percent("sl", value, "-")
        if percent <= -100:
            raise RuleError(f"sl={value}: a stop at or below -100% never triggers")
        return percent, None
    try:
        return None, read_amount(value, "a stop price")
    except AmountError as exc:
        raise RuleError(f"sl={value}: {exc} (or a percentage like -5%)") from None


def _targets(value: str) -> tuple[Target, ...]:
    targets = []
    for part in value.split(","):
        gain_text, colon, fraction_text = part.partition(":")
        if not colon:
            raise RuleError(f"tp={value}: each target is GAIN:SHARE, e.g. +10%:50%")
        gain = _percent("tp", gain_text, "+")
        fraction = _percent("tp", fraction_text, "+")
        targets.append(Target(gain, fraction))
    if len(targets) > MAX_TARGETS:
        raise RuleError(f"tp={value}: at most {MAX_TARGETS} targets")
    gains = [t.gain for t in targets]
    if gains != sorted(set(gains)):
        raise RuleError(f"tp={value}: targets must rise, each above the one before")
    shares = total([t.fraction for t in targets])
    if shares > 100:
        raise RuleError(f"tp={value}: the shares add up to {plain(shares)}%, more than 100%")
    return tuple(targets)


def _switch(key: str, value: str) -> bool:
    if value.lower() in ("on", "true", "yes"):
        return True
    if value.lower() in ("off", "false", "no"):
        return False
    raise RuleError(f"{key}={value}: expected on or off")


def _hold(value: str) -> int:
    seconds = parse_duration(value)
    if seconds is None or not 0 < seconds <= MAX_HOLD:
        raise RuleError(f"time={value}: expected a holding period like 30m, 48h or 7d")
    return int(seconds)


def edit(spec: Spec, key: str, value: str) -> Spec:
    """`spec` with one key set from text; `off` clears it."""
    if key not in KEYS:
        raise RuleError(f"unknown key {key!r} (known: {', '.join(KEYS)})")
    if value.lower() == "off":
        cleared = {
            "sl": {"stop_percent": None, "stop_price": None},
            "tp": {"targets": ()},
            "trail": {"trail": None, "arm": None},
            "arm": {"arm": None},
            "be": {"breakeven": False},
            "time": {"hold": None},
        }[key]
        return replace(spec, **cleared)  # type: ignore[arg-type]
    if key == "sl":
        percent, price = _stop(value)
        return replace(spec, stop_percent=percent, stop_price=price)
    if key == "tp":
        return replace(spec, targets=_targets(value))
    if key == "trail":
        trail = _percent("trail", value, "+")
        if trail >= 100:
            raise RuleError(f"trail={value}: must be less than 100%")
        return replace(spec, trail=trail)
    if key == "arm":
        return replace(spec, arm=_percent("arm", value, "+"))
    if key == "be":
        return replace(spec, breakeven=_switch("be", value))
    return replace(spec, hold=_hold(value))


def parse(words: list[str] | tuple[str, ...], base: Spec = NO_RULE) -> Spec:
    """`base` with each `key=value` word applied; RuleError on the first bad one."""
    seen: set[str] = set()
    spec = base
    for word in words:
        key, equals, value = word.partition("=")
        key = key.lower()
        if not equals or not value:
            raise RuleError(f"{word!r}: expected key=value (keys: {', '.join(KEYS)})")
        if key in seen:
            raise RuleError(f"{key} is given twice")
        seen.add(key)
        spec = edit(spec, key, value)
    return checked(spec)


def checked(spec: Spec) -> Spec:
    """How the parts fit together."""
    if spec.arm is not None and spec.trail is None:
        raise RuleError("arm sets when the trailing stop starts: it needs trail=N%")
    if spec.breakeven and not spec.targets:
        raise RuleError("be moves the stop after the first take-profit: it needs tp=…")
    return spec
