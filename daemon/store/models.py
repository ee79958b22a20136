"""Tables. Timestamps are naive UTC datetimes (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

import peewee

from daemon.store.database import database
from daemon.store.fields import ExactDecimalField


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
    """A notification to deliver after commit; deleted once its receiver accepted it
    (at-least-once).

    The receiver is a Telegram chat (`receiver_kind` "telegram", `chat_id`) or a named
    receiver of another transport (`receiver_name`). `kind` names the call (message,
    document, edit, answer); `payload` holds its other parameters as JSON. `priority`:
    0 admin reply, 1 reply, 2 alert, 3 bulk. `dedup_key`: a second item with the same key
    is not queued while the first is. `next_attempt_at`: set after a temporary failure.
    """

    id = peewee.AutoField()
    kind = peewee.CharField(max_length=16, default="message")
    chat_id = peewee.BigIntegerField()
    text = peewee.TextField()
    parse_mode = peewee.CharField(null=True, max_length=16)
    payload = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    dead = peewee.BooleanField(default=False, index=True)
    receiver_kind = peewee.CharField(max_length=16, default="telegram")
    receiver_name = peewee.CharField(max_length=64, default="")
    priority = peewee.SmallIntegerField(default=1)
    dedup_key = peewee.CharField(max_length=128, null=True, unique=True)
    next_attempt_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("receiver_kind", "chat_id", "receiver_name"), False),)


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


class RuntimeAdmin(BaseModel):
    """Admins added with /admins add, beside the fixed ADMIN_IDS."""

    user_id = peewee.BigIntegerField(primary_key=True)
    added_by = peewee.BigIntegerField()
    added_at = peewee.DateTimeField()


class Subscriber(BaseModel):
    """Chats that receive broadcasts (and, later, alerts)."""

    chat_id = peewee.BigIntegerField(primary_key=True)
    subscribed_at = peewee.DateTimeField()


class Broadcast(BaseModel):
    """A /broadcast waiting for its confirmation button, and what became of it."""

    id = peewee.AutoField()
    text = peewee.TextField()
    created_by = peewee.BigIntegerField()
    created_at = peewee.DateTimeField()
    state = peewee.CharField(max_length=16, default="pending")  # pending, sent, cancelled
    recipients = peewee.IntegerField(default=0)


class HourlyStat(BaseModel):
    """Counters per UTC hour (updates handled, errors logged, commands run by name), so a
    digest over the last 24 hours or 7 days is exact to the hour."""

    hour = peewee.DateTimeField()
    name = peewee.CharField(max_length=48)
    value = peewee.IntegerField(default=0)

    class Meta:
        primary_key = peewee.CompositeKey("hour", "name")


class UptimeMinute(BaseModel):
    """One row per UTC minute in which the daemon's heartbeat ran: the uptime record."""

    minute = peewee.DateTimeField(primary_key=True)


class DigestRun(BaseModel):
    """A digest sent for a period ("day:2026-11-28", "week:2026-W48"): sent once."""

    period = peewee.CharField(primary_key=True, max_length=32)
    sent_at = peewee.DateTimeField()
    recipients = peewee.IntegerField()


class LedgerTransaction(BaseModel):
    """One journal transaction of the paper account; its postings sum to zero per
    commodity."""

    id = peewee.AutoField()
    created_at = peewee.DateTimeField(index=True)
    memo = peewee.TextField()


class LedgerPosting(BaseModel):
    id = peewee.AutoField()
    transaction_id = peewee.IntegerField(index=True)
    account = peewee.CharField(max_length=64)
    commodity = peewee.CharField(max_length=32)
    amount = ExactDecimalField()


class LedgerBalance(BaseModel):
    """Each account's balance per commodity, kept in the transaction that posts to it
    (`ledger check` compares it with the postings' sum)."""

    account = peewee.CharField(max_length=64)
    commodity = peewee.CharField(max_length=32)
    amount = ExactDecimalField()

    class Meta:
        primary_key = peewee.CompositeKey("account", "commodity")


class PaperFill(BaseModel):
    """A fill (buy, sell) or a deposit; `key` is the order's idempotency key."""

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


class PaperLot(BaseModel):
    """An open FIFO lot: what is left of one buy, and the cost it still carries."""

    id = peewee.AutoField()
    base = peewee.CharField(max_length=32, index=True)
    fill_id = peewee.IntegerField()
    opened_at = peewee.DateTimeField()
    qty = ExactDecimalField()
    cost = ExactDecimalField()


class PriceQuote(BaseModel):
    """The last known quote per symbol (stale after a restart until a new one comes)."""

    symbol = peewee.CharField(max_length=32, primary_key=True)
    price = ExactDecimalField()
    source = peewee.CharField(max_length=32)
    observed_at = peewee.DateTimeField()
    received_at = peewee.DateTimeField()


class EquitySnapshot(BaseModel):
    id = peewee.AutoField()
    taken_at = peewee.DateTimeField(index=True)
    equity = ExactDecimalField()
    cash = ExactDecimalField()


class AutosellRule(BaseModel):
    """A symbol's AutoSell rule as armed on its holding (held = 0: closed). The row
    stays after the holding closes so that `arming`, part of every trigger's idempotency
    key, only ever grows."""

    symbol = peewee.CharField(max_length=32, primary_key=True)
    arming = peewee.IntegerField()
    spec = peewee.TextField()
    entry = ExactDecimalField()
    armed_qty = ExactDecimalField()
    held = ExactDecimalField()
    high = ExactDecimalField()
    opened_at = peewee.DateTimeField()
    decimals = peewee.IntegerField()
    steps = peewee.IntegerField()
    trail_stop = ExactDecimalField(null=True)
    last_tick_at = peewee.DateTimeField(null=True)
    held_back = peewee.TextField()  # rules crossed while paused, comma-separated
    updated_at = peewee.DateTimeField()


class AutosellOverride(BaseModel):
    """A symbol's rule as set by /autosell (spec NULL: off), over the config's."""

    symbol = peewee.CharField(max_length=32, primary_key=True)
    spec = peewee.TextField(null=True)
    set_at = peewee.DateTimeField()


class Alert(BaseModel):
    """An alert as received; `key` makes it once-only (an event's id, an ingest's
    idempotency key); routed_at is set once every route it matched has sent it."""

    id = peewee.AutoField()
    key = peewee.CharField(max_length=200, unique=True)
    fingerprint = peewee.CharField(max_length=32)
    labels = peewee.TextField()  # JSON object of strings
    text = peewee.TextField()
    at = peewee.DateTimeField(index=True)
    routed_at = peewee.DateTimeField(null=True, index=True)
    silenced_by = peewee.IntegerField(null=True)


class AlertSent(BaseModel):
    """When a fingerprint last went to a receiver: repeats wait their repeat interval,
    across restarts too."""

    receiver = peewee.CharField(max_length=64)
    fingerprint = peewee.CharField(max_length=32)
    sent_at = peewee.DateTimeField(index=True)

    class Meta:
        primary_key = peewee.CompositeKey("receiver", "fingerprint")


class AlertSilence(BaseModel):
    id = peewee.AutoField()
    matchers = peewee.TextField()  # as /mute wrote them, one per line
    starts = peewee.DateTimeField()
    ends = peewee.DateTimeField(index=True)
    comment = peewee.TextField()
    created_by = peewee.BigIntegerField()


class PriceAlert(BaseModel):
    """A user's /alert: fires once, when a fresh price crosses `price` (upwards when
    `above`), straight to the chat it was set in."""

    id = peewee.AutoField()
    user_id = peewee.BigIntegerField(index=True)
    chat_id = peewee.BigIntegerField()
    symbol = peewee.CharField(max_length=32)
    above = peewee.BooleanField()
    price = ExactDecimalField()
    created_at = peewee.DateTimeField()
    fired_at = peewee.DateTimeField(null=True, index=True)
    fired_price = ExactDecimalField(null=True)


class ClusterLease(BaseModel):
    """The leadership lease (one row, id 1): which node may poll and apply effects, in
    which epoch, until when (the database's clock). Every effect's transaction reads it
    FOR SHARE and commits only if its own node and epoch are still there."""

    id = peewee.IntegerField(primary_key=True)
    holder = peewee.CharField(max_length=64)
    epoch = peewee.BigIntegerField()
    since = peewee.DateTimeField()
    renewed_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField()


class ClusterNode(BaseModel):
    """One row per node: its role as of its lease loop's last round (`seen_at`, the
    database's clock), and whether it is running (set at start, cleared at a clean stop,
    so a start after a crash is told per node)."""

    name = peewee.CharField(primary_key=True, max_length=64)
    host = peewee.CharField(max_length=255)
    pid = peewee.IntegerField()
    version = peewee.CharField(max_length=32)
    role = peewee.CharField(max_length=16)  # leader, standby, stopped
    epoch = peewee.BigIntegerField()
    started_at = peewee.DateTimeField()
    seen_at = peewee.DateTimeField()
    running = peewee.BooleanField()


ALL_MODELS: tuple[type[BaseModel], ...] = (
    KeyValue,
    ProcessedUpdate,
    OutboxMessage,
    KnownChat,
    CommandCount,
    Event,
    RuntimeAdmin,
    Subscriber,
    Broadcast,
    HourlyStat,
    UptimeMinute,
    DigestRun,
    LedgerTransaction,
    LedgerPosting,
    LedgerBalance,
    PaperFill,
    PaperLot,
    PriceQuote,
    EquitySnapshot,
    AutosellRule,
    AutosellOverride,
    Alert,
    AlertSent,
    AlertSilence,
    PriceAlert,
    ClusterLease,
    ClusterNode,
)
