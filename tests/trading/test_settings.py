"""`[paper]`: defaults, money as strings only, and errors that name the key and quote
the value, as operators will read them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from daemon.config import ConfigError
from daemon.trading.settings import PaperSettings
from tests.support.config import settings_from


def paper_from(tmp_path: Path, toml: str) -> PaperSettings:
    section: PaperSettings = settings_from(tmp_path, toml).section("paper")
    return section


def test_defaults_and_a_start_balance_kept_exactly(tmp_path: Path) -> None:
    assert paper_from(tmp_path, "") == PaperSettings("USDT", Decimal("10000"), 10, 5)
    exact = paper_from(tmp_path, '[paper]\nstart_balance = "1234.567890123456789"\n')
    assert exact.start_balance == Decimal("1234.567890123456789")


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        ("start_balance = 10000.1", 'paper.start_balance: money is written as a string, '
         'e.g. "10000", got 10000.1'),
        ('start_balance = "1e4"', "paper.start_balance: an amount must be a plain decimal "
         "number like 0.25, got '1e4'"),
        ('start_balance = "0"', "paper.start_balance: an amount must be more than zero, "
         "got '0'"),
        ('quote = "usd"', "paper.quote: 'usd' is not a currency code (2-10 capital letters "
         "or digits, e.g. USDT)"),
        ("fee_bps = 1001", "paper.fee_bps: must be between 0 and 1000, got 1001"),
        ("slippage_bps = 2.5", "paper.slippage_bps: must be a whole number, got 2.5"),
        ("leverage = 10", "paper: unknown key 'leverage' (known: quote, start_balance, "
         "fee_bps, slippage_bps)"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_naming_the_key(tmp_path: Path, toml: str, error: str) -> None:
    with pytest.raises(ConfigError) as refused:
        paper_from(tmp_path, f"[paper]\n{toml}\n")
    assert str(refused.value) == f"{tmp_path / 'config.toml'}: {error}"
