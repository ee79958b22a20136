"""Reading numbers from untrusted text (commands, env values, files, /proc). Pure.

str.isdigit() accepts '²' and other Unicode digits that int() then refuses (or reads as
another script's digits): every whole number the daemon reads from text goes through
here, ASCII digits only, with its range checked.
"""

from __future__ import annotations

import math
import re

_ASCII_DIGITS = re.compile(r"[0-9]+")


def ascii_int(text: str, low: int, high: int) -> int | None:
    """The number `text` spells in ASCII digits if it lies in [low, high]; else None."""
    if not _ASCII_DIGITS.fullmatch(text) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None


def finite_in_range(value: float, low: float, high: float) -> bool:
    """True for a finite number in [low, high] (nan and the infinities never are)."""
    return math.isfinite(value) and low <= value <= high
