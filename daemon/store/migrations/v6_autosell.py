"""Version 6: AutoSell — each symbol's rule state (kept after the holding closes, so
its arming number is never reused) and the rules set by command."""

from __future__ import annotations

import peewee

from daemon.store.fields import ExactDecimalField
from daemon.store.migrations.frozen import FrozenModel, create


class AutosellRule(FrozenModel):
    symbol = peewee.CharField(max_length=32, primary_key=True)
    arming = peewee.IntegerField()
    spec = peewee.TextField()
    entry = ExactDecimalField()
    armed_qty = ExactDecimalField()
    held = ExactDecimalField()
    high = ExactDecimalField()
    opened_at = peewee.DateTimeField()
    decimals = peewee.IntegerField()
    steps = peewee.IntegerField()
    trail_stop = ExactDecimalField(null=True)
    last_tick_at = peewee.DateTimeField(null=True)
    held_back = peewee.TextField()
    updated_at = peewee.DateTimeField()


class AutosellOverride(FrozenModel):
    symbol = peewee.CharField(max_length=32, primary_key=True)
    spec = peewee.TextField(null=True)
    set_at = peewee.DateTimeField()


def apply(db: peewee.Database) -> None:
    create(db, [AutosellRule, AutosellOverride])
