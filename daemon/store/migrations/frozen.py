"""The base of frozen model copies: bound to a database only while a step runs."""

from __future__ import annotations

import peewee


class FrozenModel(peewee.Model):
    class Meta:
        database = None
        legacy_table_names = False


def create(db: peewee.Database, models: list[type[peewee.Model]]) -> None:
    with db.bind_ctx(models):
        db.create_tables(models)
