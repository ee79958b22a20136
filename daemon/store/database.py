"""Opening the database named by DATABASE_URL, and the one lock that orders writes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias, TypeVar
from urllib.parse import quote, unquote

import peewee
from playhouse.db_url import parse

from daemon.store.fields import POSTGRES_FIELD_TYPES, SQLITE_FIELD_TYPES

# Models bind to this proxy; open_database points it at the real database.
database = peewee.DatabaseProxy()
# What open_database returns, named here so that callers need not import peewee.
Database: TypeAlias = peewee.Database
# What a failing statement or an unreadable database raises, for callers outside store/.
StoreError: TypeAlias = peewee.DatabaseError

SQLITE_PRAGMAS = {
    # WAL: readers (the digest, /status) never block the poller's writes.
    "journal_mode": "wal",
    # With WAL, NORMAL loses at most the last commits on power loss, never consistency:
    # an update whose effect is lost is also not marked processed, so it is replayed.
    "synchronous": "normal",
    "foreign_keys": 1,
}
# How long SQLite itself waits for a busy lock, blocking the thread. One-shot processes
# (the digest, the CLI) wait long; the daemon waits briefly, because a blocked event loop
# stops everything: Store.transaction retries with asyncio sleeps instead.
BUSY_TIMEOUT = 5.0
DAEMON_BUSY_TIMEOUT = 0.5
# Write transactions take SQLite's write lock at BEGIN. A deferred transaction that read
# first and writes after another connection committed fails at once with SQLITE_BUSY
# (it cannot wait: its snapshot is stale); an immediate one waits its turn at BEGIN,
# before any handler ran.
SQLITE_LOCK_TYPE = "IMMEDIATE"
# A busy or briefly unreachable database is retried after each of these pauses, and
# never turned into "done": the caller then gets StoreUnavailable and the update stays
# unconfirmed.
TRANSIENT_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0)
# PostgreSQL SQLSTATEs that mean "try the same transaction again".
_TRANSIENT_PG_CODES = ("40001", "40P01", "55P03")
_LOST_CONNECTION_PG_CODES = ("57P01", "57P02", "57P03", "08000", "08001", "08003", "08006")
_LOST_CONNECTION_TEXTS = (
    "server closed the connection",
    "connection already closed",
    "terminating connection",
    "could not connect",
    "connection refused",
    # libpq's words for a connect that failed on the way (a reset, a cut network)
    "connection to server at",
    "connection to server on socket",
    "broken pipe",
    "connection reset",
    "connection timed out",
    "no connection to the server",
    "ssl connection has been closed",
    "the database system is shutting down",
    "the database system is starting up",
)

T = TypeVar("T")


class OutsideTransaction(RuntimeError):
    """A write was attempted without the caller holding a transaction."""


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class _WritesNeedATransaction:
    """Every INSERT, UPDATE and DELETE must run inside a transaction the caller holds
    (Store.transaction, or atomic() in one-shot tools): a write in autocommit mode would
    commit on its own, half of an effect. It fails loudly instead."""

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        if _WRITE.match(sql) and not self.in_transaction():  # type: ignore[attr-defined]
            raise OutsideTransaction(
                f"{sql.split(None, 1)[0].upper()} outside a transaction: open one first"
            )
        return super().execute_sql(sql, params)  # type: ignore[misc]


class GuardedSqliteDatabase(_WritesNeedATransaction, peewee.SqliteDatabase):
    field_types = {  # noqa: RUF012  # peewee reads this class attribute
        **peewee.SqliteDatabase.field_types,
        **SQLITE_FIELD_TYPES,
    }


class GuardedPostgresqlDatabase(_WritesNeedATransaction, peewee.PostgresqlDatabase):
    field_types = {  # noqa: RUF012  # peewee reads this class attribute
        **peewee.PostgresqlDatabase.field_types,
        **POSTGRES_FIELD_TYPES,
    }

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        """A statement outside any transaction (a read: writes need one) whose connection
        was lost (the server restarted) runs once more on a new connection; inside a
        transaction the loss is the transaction's (Store.transaction)."""
        try:
            return super().execute_sql(sql, params)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            if self.in_transaction() or not is_lost_connection(exc):
                raise
            forget_connection()
            return super().execute_sql(sql, params)


class StoreUnavailable(RuntimeError):
    """The database stayed busy (locked) or unreachable through every retry."""


def _pgcode(error: BaseException) -> str | None:
    code = getattr(getattr(error, "orig", None), "pgcode", None) or getattr(error, "pgcode", None)
    return str(code) if code is not None else None


def is_lost_connection(error: BaseException) -> bool:
    """PostgreSQL went away (a restart, a reset, an administrator's termination): this
    connection is dead, a new one may work. psycopg2 gives most of these no SQLSTATE,
    so its messages are read too."""
    if not isinstance(error, peewee.OperationalError | peewee.InterfaceError):
        return False
    code = _pgcode(error)
    if code is not None:
        return code in _LOST_CONNECTION_PG_CODES
    text = str(error).lower()
    return any(words in text for words in _LOST_CONNECTION_TEXTS)


def is_transient(error: BaseException) -> bool:
    """True for errors that a retry of the same transaction can cure: SQLite's "database
    is locked"/"busy", PostgreSQL serialization failures, deadlocks, lost connections."""
    if not isinstance(error, peewee.OperationalError | peewee.InterfaceError):
        return False
    if is_lost_connection(error):
        return True
    code = _pgcode(error)
    if code is not None:
        return code in _TRANSIENT_PG_CODES
    text = str(error).lower()
    return "locked" in text or "busy" in text


def forget_connection() -> None:
    """After a lost connection: drop it without a rollback (no server is there to roll
    back on) and forget its transaction stack; the next statement connects anew."""
    db = database.obj
    if db is None:
        return
    state = db._state
    connection = state.conn
    state.reset()
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()


# Tables whose ids readers follow as a log (a cursor past the last id read). PostgreSQL
# takes sequence numbers before commit, so two writers may commit ids out of order and a
# cursor would skip the slower one's row: their writers take turns (one advisory lock
# per table, held to commit). SQLite has one writer at a time already.
EVENT_LOG = 0x7472_6164_6576_0001
# Not a log, but the same need: two digest runs (two nodes' timers) queue one digest.
DIGEST_RUNS = 0x7472_6164_6576_0002


def serialize_writers(log: int) -> None:
    """In the caller's transaction: wait for, then hold until commit, the turn to write
    to the log `log` (PostgreSQL; nothing on SQLite)."""
    db = database.obj
    if isinstance(db, peewee.PostgresqlDatabase):
        execute("SELECT pg_advisory_xact_lock(?)", log)


@functools.cache
def _for_paramstyle(sql: str, param: str) -> str:
    return sql if param == "?" else sql.replace("?", param)


def execute(sql: str, *params: Any) -> Any:
    """Run hand-written SQL (written with `?` placeholders) on the open database.

    The per-update path uses these few portable statements (ON CONFLICT and RETURNING
    work in SQLite >= 3.35 and PostgreSQL): building them through peewee's query
    builder cost more than the rest of an update's processing together.
    """
    db = database.obj
    return db.execute_sql(_for_paramstyle(sql, db.param), params)


def timestamp(moment: datetime) -> str:
    """The text peewee's DateTimeField stores (sqlite3's adapter: ISO with a space, no
    microseconds when they are zero), so hand-written rows compare like peewee's."""
    return moment.isoformat(" ")


def read_timestamp(value: datetime | str) -> datetime:
    """A timestamp column as a hand-written SELECT returns it: the stored text on SQLite,
    a datetime from psycopg2."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def sqlite_path(url: str) -> Path | None:
    return Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None


# The daemon's PostgreSQL connection notices a dead server or network within about
# idle + interval × count seconds (an idle connection), or tcp_user_timeout (data sent
# and never acknowledged), instead of waiting on a socket forever.
PG_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                 "keepalives_count": 3, "tcp_user_timeout": 10_000,
                 "connect_timeout": 5}  # fmt: skip
# In a cluster a row lock may be held by a frozen leader until the new one ends it:
# wait this long (ms) at most, then retry as for any transient error.
CLUSTER_LOCK_TIMEOUT_MS = 5000


def open_database(
    url: str,
    busy_timeout: float = BUSY_TIMEOUT,
    autocheckpoint: int = 1000,
    application_name: str | None = None,
) -> peewee.Database:
    """`autocheckpoint`: the WAL pages after which a commit checkpoints (SQLite's
    default); the daemon raises it and checkpoints off the event loop (checkpoint.py).
    `application_name`: a cluster node's name for its PostgreSQL connections (see
    store/cluster.py), which also bounds its lock waits."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pragmas = {**SQLITE_PRAGMAS, "busy_timeout": int(busy_timeout * 1000),
                   "wal_autocheckpoint": autocheckpoint}  # fmt: skip
        db: peewee.Database = GuardedSqliteDatabase(
            str(path),
            pragmas=pragmas,
            timeout=busy_timeout,
            lock_type=SQLITE_LOCK_TYPE,
        )
    else:
        options = {**PG_KEEPALIVES, **postgres_options(url)}
        if application_name is not None:
            options["application_name"] = application_name
            options["options"] = f"-c lock_timeout={CLUSTER_LOCK_TIMEOUT_MS}"
        db = GuardedPostgresqlDatabase(**options)
    db.connect(reuse_if_open=True)
    database.initialize(db)
    return db


def postgres_options(url: str) -> dict[str, Any]:
    options: dict[str, Any] = parse(url)
    for key in ("user", "password"):  # percent-encoded in the URL ('@' is %40)
        if options.get(key):
            options[key] = unquote(options[key])
    return options


def open_read_only(url: str) -> peewee.Database:
    """The database for looking only (`tradebotd doctor`): nothing is written and no file
    is created, whoever runs it (root must not leave root-owned files behind).

    SQLite: FileNotFoundError when there is no database. With the daemon running its WAL
    and shared-memory files exist and are read as they are (mode=ro); without them the
    file is opened immutable, since mode=ro would create them. PostgreSQL: a read-only
    session."""
    path = sqlite_path(url)
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(f"no database at {path}")
        live = all(path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))
        uri = f"file:{quote(str(path))}?{'mode=ro' if live else 'immutable=1'}"
        db: peewee.Database = GuardedSqliteDatabase(uri, uri=True, timeout=BUSY_TIMEOUT)
        db.connect()
    else:
        db = GuardedPostgresqlDatabase(**postgres_options(url))
        db.connect()
        db.execute_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    database.initialize(db)
    return db


def transaction() -> AbstractContextManager[object]:
    """One write transaction, for one-shot tools (the digest run, the CLI), which have no
    event loop to share the connection with (the daemon uses Store.transaction)."""
    return database.obj.atomic()  # type: ignore[no-any-return]


def savepoint() -> AbstractContextManager[object]:
    """A savepoint in the caller's transaction: if the block raises, what it wrote is
    rolled back alone and the transaction goes on."""
    db = database.obj
    if not db.in_transaction():
        raise OutsideTransaction("a savepoint needs the caller's transaction")
    return db.atomic()  # type: ignore[no-any-return]


@contextmanager
def snapshot_in_this_thread() -> Iterator[None]:
    """Reads from a worker thread (a document rendered after commit): this thread's own
    connection (peewee keeps one per thread), one read-only transaction so every read
    sees the same moment, closed afterwards. It never waits for, nor blocks, the writers
    on the event loop's connection (SQLite WAL; PostgreSQL MVCC)."""
    db = database.obj
    with db.connection_context():
        sqlite = isinstance(db, peewee.SqliteDatabase)
        execute("BEGIN DEFERRED" if sqlite else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            execute("ROLLBACK")


class Store:
    """The open database plus the asyncio lock every writer takes.

    peewee keeps one connection per thread, so coroutines on the event loop share it: a
    write from the heartbeat while an update's transaction is open would join (and
    commit or roll back with) that transaction. Taking this lock around every write keeps
    one effect per transaction.
    """

    def __init__(self, db: peewee.Database):
        self.db = db
        self.lock = asyncio.Lock()
        # In a cluster ([ha]): the check every fenced transaction makes first, which
        # raises (a StoreUnavailable) unless this node still leads (cluster/member.py).
        self.fence: Callable[[], None] | None = None

    @asynccontextmanager
    async def transaction(self, fenced: bool = True) -> AsyncIterator[None]:
        """One write transaction under the lock; a busy BEGIN is retried with back-off
        (StoreUnavailable after the last attempt). `fenced=False` for the few writes any
        node of a cluster may make (its own start and stop, an ingested alert)."""
        async with self.lock:
            atomic = self.db.atomic()

            async def begin() -> None:
                atomic.__enter__()

            await retry_transient(begin)
            try:
                try:
                    if fenced and self.fence is not None:
                        self.fence()
                    yield
                except BaseException as exc:
                    atomic.__exit__(type(exc), exc, exc.__traceback__)  # rolls back
                    raise
                else:
                    atomic.__exit__(None, None, None)  # commits
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                if not is_lost_connection(exc):
                    raise
                # The server went away mid-transaction (or at COMMIT, outcome unknown):
                # the effect is retried by its owner, whose keys make a second run a
                # no-op if the first did commit.
                forget_connection()
                raise StoreUnavailable(f"database connection lost: {exc}") from exc

    def savepoint(self) -> AbstractContextManager[object]:
        return savepoint()

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()


async def retry_transient(
    attempt: Callable[[], Awaitable[T]],
    delays: tuple[float, ...] = TRANSIENT_DELAYS,
) -> T:
    """Run `attempt` again after a transient database error, len(delays) times at most;
    then StoreUnavailable (the error's text kept, for the log)."""
    for delay in (*delays, None):
        try:
            return await attempt()
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            if not is_transient(exc):
                raise
            if is_lost_connection(exc):
                forget_connection()
            if delay is None:
                raise StoreUnavailable(f"database unavailable after retries: {exc}") from exc
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
