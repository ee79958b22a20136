"""Version 1: offsets and facts, processed updates, the outbox, chats, counts, events."""

from __future__ import annotations

import peewee

from daemon.store.migrations.frozen import FrozenModel, create


class KeyValue(FrozenModel):
    key = peewee.CharField(primary_key=True, max_length=64)
    value = peewee.TextField()


class ProcessedUpdate(FrozenModel):
    update_id = peewee.BigIntegerField(primary_key=True)
    processed_at = peewee.DateTimeField()


class OutboxMessage(FrozenModel):
    id = peewee.AutoField()
    chat_id = peewee.BigIntegerField()
    text = peewee.TextField()
    parse_mode = peewee.CharField(null=True, max_length=16)
    created_at = peewee.DateTimeField()
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    dead = peewee.BooleanField(default=False, index=True)


class KnownChat(FrozenModel):
    chat_id = peewee.BigIntegerField(primary_key=True)
    kind = peewee.CharField(max_length=16)
    name = peewee.TextField(default="")
    first_seen = peewee.DateTimeField()
    last_seen = peewee.DateTimeField()
    starts = peewee.IntegerField(default=0)


class CommandCount(FrozenModel):
    day = peewee.DateField()
    command = peewee.CharField(max_length=32)
    runs = peewee.IntegerField(default=0)

    class Meta:
        primary_key = peewee.CompositeKey("day", "command")


class Event(FrozenModel):
    id = peewee.AutoField()
    at = peewee.DateTimeField(index=True)
    kind = peewee.CharField(max_length=32, index=True)
    detail = peewee.TextField(default="")


def apply(db: peewee.Database) -> None:
    create(db, [KeyValue, ProcessedUpdate, OutboxMessage, KnownChat, CommandCount, Event])
