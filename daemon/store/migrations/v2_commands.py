"""Version 2: outbox call kinds; runtime admins, subscribers, broadcasts."""

from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from daemon.store.migrations.frozen import FrozenModel, create


class RuntimeAdmin(FrozenModel):
    user_id = peewee.BigIntegerField(primary_key=True)
    added_by = peewee.BigIntegerField()
    added_at = peewee.DateTimeField()


class Subscriber(FrozenModel):
    chat_id = peewee.BigIntegerField(primary_key=True)
    subscribed_at = peewee.DateTimeField()


class Broadcast(FrozenModel):
    id = peewee.AutoField()
    text = peewee.TextField()
    created_by = peewee.BigIntegerField()
    created_at = peewee.DateTimeField()
    state = peewee.CharField(max_length=16, default="pending")
    recipients = peewee.IntegerField(default=0)


def apply(db: peewee.Database) -> None:
    migrator = SchemaMigrator.from_database(db)
    migrate(
        migrator.add_column(
            "outbox_message", "kind", peewee.CharField(max_length=16, default="message")
        ),
        migrator.add_column("outbox_message", "payload", peewee.TextField(null=True)),
    )
    create(db, [RuntimeAdmin, Subscriber, Broadcast])
