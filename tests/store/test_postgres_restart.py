"""PostgreSQL restarts while commands stream in (a server upgrade, an operator's
restart): the daemon reconnects and goes on, or ends for systemd to restart it, and
every command is applied exactly once with the books balanced. Never "done" without the
effect, never twice."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.emulator.client import BotControl
from daemon.store import named_values, schema
from daemon.store.database import Store, StoreUnavailable, open_database
from tests.support.postgres import PostgresServer, start_server
from tests.support.processes import TRADEBOTD, Launch, wait_until
from tests.support.tcp_proxy import CuttableProxy
from tests.trading.test_paper_daemon import ADMIN, trading_daemon

BUYS = 60


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own: restarting it must not disturb the session's."""
    server = start_server()
    yield server
    server.stop()


def filled(bot: BotControl) -> int:
    return sum(1 for m in bot.sent(chat_id=ADMIN) if m.get("text", "").startswith("Filled"))


def test_a_postgres_restart_mid_stream_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path, own_postgres: PostgresServer, bot: BotControl, launch: Launch
) -> None:
    # (own_postgres first: set up before the daemon, so it is torn down after it)
    bot.set_flood(enabled=False)
    url = own_postgres.create_database()
    daemon = trading_daemon(launch, tmp_path, DATABASE_URL=url)

    def stream() -> None:
        for _ in range(BUYS):
            bot.send_text(from_user=ADMIN, text="/buy BTC/USDT 0.001")
            time.sleep(0.05)

    sender = threading.Thread(target=stream)
    sender.start()
    wait_until(lambda: filled(bot) >= 10, 20, "the first fills")
    own_postgres.restart()
    sender.join()
    # Either it reconnected and goes on, or it ended (for systemd to restart it): then
    # start it again, as Restart=on-failure would.
    deadline = time.monotonic() + 60
    while filled(bot) < BUYS and time.monotonic() < deadline:
        if daemon.process is not None and daemon.process.poll() is not None:
            assert daemon.process.returncode != 0, "a lost database is not a clean stop"
            daemon.start().wait_polling()
        time.sleep(0.2)
    assert filled(bot) == BUYS, daemon.log()[-3000:]
    fills = own_postgres.query(url, "SELECT count(*) FROM paper_fill WHERE side = 'buy'")
    assert fills == [(BUYS,)]
    assert daemon.stop() == 0
    checked = subprocess.run([TRADEBOTD, "ledger", "check"], env=daemon.env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert f"{BUYS + 1} transactions" in checked.stderr


async def test_the_store_reconnects_after_the_server_restarts(
    own_postgres: PostgresServer,
) -> None:
    """A read after a restart runs on a new connection; a transaction's BEGIN on the dead
    one is retried on a new one; a loss inside a transaction is StoreUnavailable with
    nothing written (its owner retries, its keys make that safe)."""
    db = open_database(own_postgres.create_database())
    schema.upgrade(db)
    store = Store(db)
    try:
        async with store.transaction():
            named_values.put("k", "1")
        own_postgres.restart()
        assert named_values.get("k") == "1"
        own_postgres.restart()
        async with store.transaction():
            named_values.put("k", "2")
        assert named_values.get("k") == "2"

        async def cut_off_halfway() -> None:
            async with store.transaction():
                named_values.put("k", "3")
                own_postgres.restart()
                named_values.put("k", "4")

        with pytest.raises(StoreUnavailable, match="database connection lost"):
            await cut_off_halfway()
        assert named_values.get("k") == "2"
    finally:
        store.close()


async def test_a_network_cut_between_the_store_and_the_server_is_unavailable_then_heals(
    postgres: PostgresServer,
) -> None:
    """Every connection reset and new ones refused (a firewall's REJECT between the
    daemon and PostgreSQL): a transaction ends in StoreUnavailable after its retries,
    never a raw driver error that would crash a component; healed, the next one works."""
    url = postgres.create_database()
    proxy = CuttableProxy(("127.0.0.1", postgres.port))
    store = Store(open_database(url.replace(f":{postgres.port}/", f":{proxy.port}/")))
    try:
        schema.upgrade(store.db)
        proxy.cut()
        with pytest.raises(StoreUnavailable):
            async with store.transaction():
                named_values.put("probe", "cut")
        proxy.heal()
        async with store.transaction():
            named_values.put("probe", "healed")
        assert named_values.get("probe") == "healed"
    finally:
        store.close()
        proxy.close()
