"""`[autosell]` in the TOML file: the rules every new holding gets (`[autosell.defaults]`)
and per-symbol overrides (`[autosell.symbols."BTC/USDT"]`), in the command's own words:
`sl = "-5%"`, `tp = "+10%:50%,+20%:50%"`, `trail = "3%"`, `arm = "+5%"`, `be = true`,
`time = "48h"`. Rules set by /autosell take precedence over both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import ClassVar

from daemon import settings_schema as declare
from daemon.autosell.rules import NO_RULE, RuleError, Spec, checked, edit
from daemon.config import register_section


def _key(name: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        try:
            edit(Spec(), name, value)
        except RuleError as exc:
            raise ValueError(f"is not a rule: {str(exc).split(': ', 1)[-1]}") from None

    return check


@dataclass(frozen=True)
class RuleSettings:
    enabled: bool | None = field(
        default=None, metadata={"doc": "false: no rule for these holdings (default: true)"}
    )
    sl: str | None = field(default=None, metadata=declare.text(_key("sl"), doc="stop-loss"))
    tp: str | None = field(
        default=None, metadata=declare.text(_key("tp"), doc="take-profit ladder")
    )
    trail: str | None = field(
        default=None, metadata=declare.text(_key("trail"), doc="trailing stop")
    )
    arm: str | None = field(
        default=None, metadata=declare.text(_key("arm"), doc="gain that arms the trail")
    )
    be: bool | None = field(
        default=None, metadata={"doc": "after the first take-profit, stop at break-even"}
    )
    time: str | None = field(
        default=None, metadata=declare.text(_key("time"), doc="holding period, then sell")
    )

    def __post_init__(self) -> None:
        try:
            self.spec()
        except RuleError as exc:
            raise ValueError(f"{_first_key(self)}: {exc}") from None

    def spec(self, base: Spec = NO_RULE) -> Spec:
        spec = base
        for name in ("sl", "tp", "trail", "arm", "time"):
            value = getattr(self, name)
            if value is not None:
                spec = edit(spec, name, value)
        if self.be is not None:
            spec = edit(spec, "be", "on" if self.be else "off")
        return checked(spec)


def _first_key(rules: RuleSettings) -> str:
    return next((f.name for f in fields(rules) if getattr(rules, f.name) is not None), "")


@dataclass(frozen=True)
class AutoSellSettings:
    # The rule a holding gets is decided when it is armed: a reload keeps the old rules.
    APPLIES_AT_START: ClassVar[bool] = True

    defaults: RuleSettings = field(default_factory=RuleSettings)
    symbols: dict[str, RuleSettings] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.symbols:
            try:
                self.spec_for(name)  # an override may not fit with the defaults
            except RuleError as exc:
                raise ValueError(f'symbols."{name}": {exc}') from None

    def spec_for(self, symbol: str) -> Spec | None:
        """The configured rule for a new holding of `symbol`; None: no rule."""
        own = self.symbols.get(symbol) or self.symbols.get(symbol.upper())
        enabled = self.defaults.enabled is not False
        if own is not None and own.enabled is not None:
            enabled = own.enabled
        if not enabled:
            return None
        spec = self.defaults.spec()
        if own is not None:
            spec = own.spec(spec)
        return None if spec.empty else spec


register_section("autosell", AutoSellSettings)
