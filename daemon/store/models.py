"""Tables. Timestamps are naive UTC datetimes (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

import peewee

from daemon.store.database import database


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class KeyValue(BaseModel):
    """Small named facts: schema version, poll offset, last heartbeat."""

    key = peewee.CharField(primary_key=True, max_length=64)
    value = peewee.TextField()


class ProcessedUpdate(BaseModel):
    """Updates whose effects are committed; written in the same transaction as the effects."""

    update_id = peewee.BigIntegerField(primary_key=True)
    processed_at = peewee.DateTimeField()


class OutboxMessage(BaseModel):
    """A message to send after commit; deleted once Telegram accepted it (at-least-once)."""

    id = peewee.AutoField()
    chat_id = peewee.BigIntegerField()
    text = peewee.TextField()
    parse_mode = peewee.CharField(null=True, max_length=16)
    created_at = peewee.DateTimeField()
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    dead = peewee.BooleanField(default=False, index=True)


class KnownChat(BaseModel):
    """Chats that talked to the bot, and how often they ran /start."""

    chat_id = peewee.BigIntegerField(primary_key=True)
    kind = peewee.CharField(max_length=16)
    name = peewee.TextField(default="")
    first_seen = peewee.DateTimeField()
    last_seen = peewee.DateTimeField()
    starts = peewee.IntegerField(default=0)


class CommandCount(BaseModel):
    """Commands run per UTC day, for /status and the digest."""

    day = peewee.DateField()
    command = peewee.CharField(max_length=32)
    runs = peewee.IntegerField(default=0)

    class Meta:
        primary_key = peewee.CompositeKey("day", "command")


class Event(BaseModel):
    """Lifecycle facts: starts, clean stops, conflicts, reloads."""

    id = peewee.AutoField()
    at = peewee.DateTimeField(index=True)
    kind = peewee.CharField(max_length=32, index=True)
    detail = peewee.TextField(default="")


ALL_MODELS: tuple[type[BaseModel], ...] = (
    KeyValue,
    ProcessedUpdate,
    OutboxMessage,
    KnownChat,
    CommandCount,
    Event,
)
