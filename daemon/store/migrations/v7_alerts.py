"""Version 7: alert routing — alerts as received (with their idempotency keys), what was
sent to which receiver (the repeat log), silences."""

from __future__ import annotations

import peewee

from daemon.store.migrations.frozen import FrozenModel, create


class Alert(FrozenModel):
    id = peewee.AutoField()
    key = peewee.CharField(max_length=200, unique=True)
    fingerprint = peewee.CharField(max_length=32)
    labels = peewee.TextField()
    text = peewee.TextField()
    at = peewee.DateTimeField(index=True)
    routed_at = peewee.DateTimeField(null=True, index=True)
    silenced_by = peewee.IntegerField(null=True)


class AlertSent(FrozenModel):
    receiver = peewee.CharField(max_length=64)
    fingerprint = peewee.CharField(max_length=32)
    sent_at = peewee.DateTimeField(index=True)

    class Meta:
        primary_key = peewee.CompositeKey("receiver", "fingerprint")


class AlertSilence(FrozenModel):
    id = peewee.AutoField()
    matchers = peewee.TextField()
    starts = peewee.DateTimeField()
    ends = peewee.DateTimeField(index=True)
    comment = peewee.TextField()
    created_by = peewee.BigIntegerField()


def apply(db: peewee.Database) -> None:
    create(db, [Alert, AlertSent, AlertSilence])
