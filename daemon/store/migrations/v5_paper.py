"""Version 5: paper trading — the journal (transactions, postings, kept balances), fills
with their idempotency keys, open lots, last known quotes, equity snapshots."""

from __future__ import annotations

import peewee

from daemon.store.fields import ExactDecimalField
from daemon.store.migrations.frozen import FrozenModel, create


class LedgerTransaction(FrozenModel):
    id = peewee.AutoField()
    created_at = peewee.DateTimeField(index=True)
    memo = peewee.TextField()


class LedgerPosting(FrozenModel):
    id = peewee.AutoField()
    transaction_id = peewee.IntegerField(index=True)
    account = peewee.CharField(max_length=64)
    commodity = peewee.CharField(max_length=32)
    amount = ExactDecimalField()


class LedgerBalance(FrozenModel):
    account = peewee.CharField(max_length=64)
    commodity = peewee.CharField(max_length=32)
    amount = ExactDecimalField()

    class Meta:
        primary_key = peewee.CompositeKey("account", "commodity")


class PaperFill(FrozenModel):
    id = peewee.AutoField()
    key = peewee.CharField(max_length=128, unique=True)
    symbol = peewee.CharField(max_length=32)
    side = peewee.CharField(max_length=8)
    qty = ExactDecimalField()
    price = ExactDecimalField()
    gross = ExactDecimalField()
    fee = ExactDecimalField()
    realized = ExactDecimalField()
    cash_change = ExactDecimalField()
    cash_after = ExactDecimalField()
    transaction_id = peewee.IntegerField()
    filled_at = peewee.DateTimeField(index=True)


class PaperLot(FrozenModel):
    id = peewee.AutoField()
    base = peewee.CharField(max_length=32, index=True)
    fill_id = peewee.IntegerField()
    opened_at = peewee.DateTimeField()
    qty = ExactDecimalField()
    cost = ExactDecimalField()


class PriceQuote(FrozenModel):
    symbol = peewee.CharField(max_length=32, primary_key=True)
    price = ExactDecimalField()
    source = peewee.CharField(max_length=32)
    observed_at = peewee.DateTimeField()
    received_at = peewee.DateTimeField()


class EquitySnapshot(FrozenModel):
    id = peewee.AutoField()
    taken_at = peewee.DateTimeField(index=True)
    equity = ExactDecimalField()
    cash = ExactDecimalField()


def apply(db: peewee.Database) -> None:
    create(
        db,
        [LedgerTransaction, LedgerPosting, LedgerBalance, PaperFill, PaperLot, PriceQuote,
         EquitySnapshot],
    )  # fmt: skip
