"""Version 9: active/standby nodes (docs/ha.md): the leadership lease with its fencing
epoch, and one row per node. Created on SQLite too (the schema is one), used only with
PostgreSQL and `[ha] enabled`."""

from __future__ import annotations

import peewee

from daemon.store.migrations.frozen import FrozenModel, create


class ClusterLease(FrozenModel):
    id = peewee.IntegerField(primary_key=True)  # always 1: one lease per database
    holder = peewee.CharField(max_length=64)  # a node name; "" when released
    epoch = peewee.BigIntegerField()
    since = peewee.DateTimeField()
    renewed_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField()


class ClusterNode(FrozenModel):
    name = peewee.CharField(primary_key=True, max_length=64)
    host = peewee.CharField(max_length=255)
    pid = peewee.IntegerField()
    version = peewee.CharField(max_length=32)
    role = peewee.CharField(max_length=16)
    epoch = peewee.BigIntegerField()
    started_at = peewee.DateTimeField()
    seen_at = peewee.DateTimeField()
    running = peewee.BooleanField()


def apply(db: peewee.Database) -> None:
    create(db, [ClusterLease, ClusterNode])
