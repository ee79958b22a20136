"""Alert routing's tables: alerts once per key, the repeat log (what went to which
receiver when), silences; and the router's place in the event log. Every write runs in
the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from daemon.store import named_values
from daemon.store.database import execute, read_timestamp, timestamp

EVENT_CURSOR = "alerts.event_cursor"


@dataclass(frozen=True)
class StoredAlert:
    id: int
    key: str
    labels: dict[str, str]
    text: str
    at: datetime


@dataclass(frozen=True)
class SilenceRow:
    id: int
    matchers: tuple[str, ...]
    starts: datetime
    ends: datetime
    comment: str
    created_by: int


def add(key: str, fingerprint: str, labels: dict[str, str], text: str, at: datetime) -> int | None:
    """The new alert's id; None when an alert with this key was added before."""
    row = execute(
        "INSERT INTO alert (key, fingerprint, labels, text, at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO NOTHING RETURNING id",
        key, fingerprint, json.dumps(labels, sort_keys=True), text, timestamp(at),
    ).fetchone()  # fmt: skip
    return None if row is None else int(row[0])


def find(key: str) -> int | None:
    row = execute("SELECT id FROM alert WHERE key = ?", key).fetchone()
    return None if row is None else int(row[0])


def unrouted(after_id: int = 0, limit: int = 500) -> list[StoredAlert]:
    """Alerts not routed yet, oldest first, from the one after `after_id`."""
    rows = execute(
        "SELECT id, key, labels, text, at FROM alert WHERE routed_at IS NULL AND id > ?"
        " ORDER BY id LIMIT ?",
        after_id,
        limit,
    ).fetchall()
    return [StoredAlert(int(i), str(k), json.loads(lb), str(t), read_timestamp(a))
            for i, k, lb, t, a in rows]  # fmt: skip


def mark_routed(ids: list[int], now: datetime, silenced_by: int | None = None) -> None:
    for alert_id in ids:
        execute("UPDATE alert SET routed_at = ?, silenced_by = ? WHERE id = ?",
                timestamp(now), silenced_by, alert_id)  # fmt: skip


def record_sent(receiver: str, fingerprints: list[str], now: datetime) -> None:
    for fingerprint in fingerprints:
        execute(
            "INSERT INTO alert_sent (receiver, fingerprint, sent_at) VALUES (?, ?, ?)"
            " ON CONFLICT (receiver, fingerprint) DO UPDATE SET sent_at = excluded.sent_at",
            receiver, fingerprint, timestamp(now),
        )  # fmt: skip


def sent_since(since: datetime) -> dict[tuple[str, str], datetime]:
    rows = execute("SELECT receiver, fingerprint, sent_at FROM alert_sent WHERE sent_at >= ?",
                   timestamp(since)).fetchall()  # fmt: skip
    return {(str(r), str(f)): read_timestamp(s) for r, f, s in rows}


def add_silence(matchers: tuple[str, ...], starts: datetime, ends: datetime, comment: str,
                created_by: int) -> int:  # fmt: skip
    row = execute(
        "INSERT INTO alert_silence (matchers, starts, ends, comment, created_by)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        "\n".join(matchers), timestamp(starts), timestamp(ends), comment, created_by,
    ).fetchone()  # fmt: skip
    return int(row[0])


def active_silences(now: datetime) -> list[SilenceRow]:
    rows = execute(
        "SELECT id, matchers, starts, ends, comment, created_by FROM alert_silence"
        " WHERE ends > ? ORDER BY id",
        timestamp(now),
    ).fetchall()
    return [SilenceRow(int(i), tuple(str(m).split("\n")), read_timestamp(s), read_timestamp(e),
                       str(c), int(b)) for i, m, s, e, c, b in rows]  # fmt: skip


def end_silence(silence_id: int, now: datetime) -> bool:
    """End an active silence now; False when there is none by that id."""
    row = execute("UPDATE alert_silence SET ends = ? WHERE id = ? AND ends > ? RETURNING id",
                  timestamp(now), silence_id, timestamp(now)).fetchone()  # fmt: skip
    return row is not None


def counts_since(since: datetime) -> tuple[int, int]:
    """(alerts received, of them silenced) since `since`."""
    row = execute("SELECT COUNT(*), COUNT(silenced_by) FROM alert WHERE at >= ?",
                  timestamp(since)).fetchone()  # fmt: skip
    return int(row[0]), int(row[1])


def sent_by_receiver_since(since: datetime) -> dict[str, int]:
    rows = execute("SELECT receiver, COUNT(*) FROM alert_sent WHERE sent_at >= ?"
                   " GROUP BY receiver ORDER BY receiver", timestamp(since)).fetchall()  # fmt: skip
    return {str(receiver): int(count) for receiver, count in rows}


def prune(before: datetime) -> int:
    """Forget routed alerts, repeat records and ended silences older than `before`."""
    when = timestamp(before)
    removed = execute("DELETE FROM alert WHERE routed_at IS NOT NULL AND at < ?", when).rowcount
    execute("DELETE FROM alert_sent WHERE sent_at < ?", when)
    execute("DELETE FROM alert_silence WHERE ends < ?", when)
    return int(removed)


def event_cursor() -> int:
    value = named_values.get(EVENT_CURSOR)
    return int(value) if value else 0


def set_event_cursor(event_id: int) -> None:
    named_values.put(EVENT_CURSOR, str(event_id))
