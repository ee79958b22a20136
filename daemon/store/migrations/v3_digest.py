"""Version 3: hourly counters, uptime minutes, digest runs."""

from __future__ import annotations

import peewee

from daemon.store.migrations.frozen import FrozenModel, create


class HourlyStat(FrozenModel):
    hour = peewee.DateTimeField()
    name = peewee.CharField(max_length=48)
    value = peewee.IntegerField(default=0)

    class Meta:
        primary_key = peewee.CompositeKey("hour", "name")


class UptimeMinute(FrozenModel):
    minute = peewee.DateTimeField(primary_key=True)


class DigestRun(FrozenModel):
    period = peewee.CharField(primary_key=True, max_length=32)
    sent_at = peewee.DateTimeField()
    recipients = peewee.IntegerField()


def apply(db: peewee.Database) -> None:
    create(db, [HourlyStat, UptimeMinute, DigestRun])
