"""Version 4: the outbox becomes a notification queue — receivers, priorities, dedup keys,
retry times."""

from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator, migrate


def apply(db: peewee.Database) -> None:
    migrator = SchemaMigrator.from_database(db)
    table = "outbox_message"
    migrate(
        migrator.add_column(
            table, "receiver_kind", peewee.CharField(max_length=16, default="telegram")
        ),
        migrator.add_column(table, "receiver_name", peewee.CharField(max_length=64, default="")),
        # Rows queued before the upgrade were interactive replies or notices (1).
        migrator.add_column(table, "priority", peewee.SmallIntegerField(default=1)),
        migrator.add_column(table, "dedup_key", peewee.CharField(max_length=128, null=True)),
        migrator.add_column(table, "next_attempt_at", peewee.DateTimeField(null=True)),
        migrator.add_index(table, ("dedup_key",), True),
        migrator.add_index(table, ("receiver_kind", "chat_id", "receiver_name"), False),
    )
