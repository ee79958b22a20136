"""Version 8: personal price alerts (/alert), each fired at most once."""

from __future__ import annotations

import peewee

from daemon.store.fields import ExactDecimalField
from daemon.store.migrations.frozen import FrozenModel, create


class PriceAlert(FrozenModel):
    id = peewee.AutoField()
    user_id = peewee.BigIntegerField(index=True)
    chat_id = peewee.BigIntegerField()
    symbol = peewee.CharField(max_length=32)
    above = peewee.BooleanField()
    price = ExactDecimalField()
    created_at = peewee.DateTimeField()
    fired_at = peewee.DateTimeField(null=True, index=True)
    fired_price = ExactDecimalField(null=True)


def apply(db: peewee.Database) -> None:
    create(db, [PriceAlert])
