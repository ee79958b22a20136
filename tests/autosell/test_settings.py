"""`[autosell]`: defaults for every new holding, per-symbol overrides in the command's own
words, and errors that name the key and quote the value."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from daemon.autosell.rules import Spec, Target
from daemon.autosell.settings import AutoSellSettings
from daemon.config import ConfigError
from tests.support.config import settings_from


def autosell_from(tmp_path: Path, toml: str) -> AutoSellSettings:
    section: AutoSellSettings = settings_from(tmp_path, toml).section("autosell")
    return section


def test_defaults_apply_to_every_symbol_and_overrides_change_single_keys(tmp_path: Path) -> None:
    loaded = autosell_from(tmp_path, """
[autosell.defaults]
sl = "-5%"
tp = "+10%:50%,+20%:50%"
be = true

[autosell.symbols."BTC/USDT"]
sl = "-3%"
time = "48h"

[autosell.symbols."PEPE/USDT"]
enabled = false
""")  # fmt: skip
    ladder = (Target(D(10), D(50)), Target(D(20), D(50)))
    assert loaded.spec_for("ETH/USDT") == Spec(stop_percent=D(-5), targets=ladder, breakeven=True)
    assert loaded.spec_for("BTC/USDT") == Spec(
        stop_percent=D(-3), targets=ladder, breakeven=True, hold=172800
    )
    assert loaded.spec_for("PEPE/USDT") is None
    assert autosell_from(tmp_path, "").spec_for("BTC/USDT") is None  # no rule unless set


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        ('[autosell.defaults]\nsl = "5%"\n',
         "autosell.defaults.sl: '5%' is not a rule: a stop-loss is below the entry, e.g. sl=-5%"),
        ('[autosell.defaults]\ntp = "+10%:70%,+20%:50%"\n',
         "autosell.defaults.tp: '+10%:70%,+20%:50%' is not a rule: the shares add up to "
         "120%, more than 100%"),
        ('[autosell.defaults]\narm = "+5%"\n',
         "autosell.defaults.arm: arm sets when the trailing stop starts: it needs trail=N%"),
        ('[autosell.defaults]\nstop = "-5%"\n',
         "autosell.defaults: unknown key 'stop' (known: enabled, sl, tp, trail, arm, be, time)"),
        ('[autosell.defaults]\nbe = "on"\n',
         "autosell.defaults.be: must be true or false, got 'on'"),
        ('[autosell.defaults]\ntp = "+10%:100%"\nbe = true\n[autosell.symbols."BTC/USDT"]\n'
         'tp = "off"\n',
         'autosell.symbols."BTC/USDT": be moves the stop after the first take-profit: it '
         "needs tp=…"),
        ('[autosell.symbols."BTC/USDT"]\ntrail = "0%"\n',
         "autosell.symbols.\"BTC/USDT\".trail: '0%' is not a rule: a percentage must be more "
         "than zero, got '0'"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused_naming_the_key(tmp_path: Path, toml: str, error: str) -> None:
    with pytest.raises(ConfigError) as refused:
        autosell_from(tmp_path, toml)
    assert str(refused.value) == f"{tmp_path / 'config.toml'}: {error}"
