"""Documents rendered after commit: in a worker thread with its own connection and one
read-only snapshot, so rendering neither waits for nor blocks a write transaction that
is open on the event loop's connection, and never sees its uncommitted rows. A renderer
that is missing or fails refuses the item (a dead letter), it is not retried."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from daemon.notify.rendering import register_renderer, render_document
from daemon.notify.transport import Refused
from daemon.store import named_values, schema
from daemon.store.database import open_database, snapshot_in_this_thread, transaction


def read_marker(args: Mapping[str, str]) -> bytes:
    with snapshot_in_this_thread():
        return (named_values.get("marker") or "none").encode()


def broken(args: Mapping[str, str]) -> bytes:
    raise ValueError("no data")


register_renderer("test.marker", read_marker)
register_renderer("test.broken", broken)


async def test_a_render_reads_committed_data_while_a_write_transaction_is_open(
    tmp_path: Path,
) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    schema.upgrade(db)
    with transaction():
        named_values.put("marker", "committed")
    with transaction():  # open on this thread's connection, as an update's would be
        named_values.put("marker", "uncommitted")
        began = time.monotonic()
        assert await render_document("test.marker", {}) == b"committed"
        assert time.monotonic() - began < 2.0  # did not wait for the writer's lock
    assert named_values.get("marker") == "uncommitted"
    db.close()


async def test_missing_and_failing_renderers_refuse_the_item() -> None:
    with pytest.raises(Refused) as missing:
        await render_document("test.absent", {})
    assert str(missing.value) == "no renderer 'test.absent' in this build"
    with pytest.raises(Refused) as failing:
        await render_document("test.broken", {})
    assert str(failing.value) == "rendering test.broken failed: ValueError: no data"
