"""Alert routing through the real daemon on the emulator: a paper fill becomes an alert
that reaches an admin's chat and an Apprise json:// receiver (a local HTTP server); a
silence set by /mute keeps the next one away; a receiver that is down gets its
notification once it is back; /routes test reaches a receiver."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from daemon.emulator.client import BotControl
from tests.support.processes import Launch, free_port, reply_to, wait_until
from tests.trading.test_paper_daemon import PRICES_FRESH, paper_config

ADMIN = 4400


class JsonReceiver:
    """What Apprise's json:// posts, collected; `down` answers 500 instead."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.down = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.down:
                    self.send_response(500)
                else:
                    receiver.bodies.append(json.loads(body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self._http.server_address[1]}/alerts"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def messages(self) -> list[str]:
        return [str(body.get("message", "")) for body in self.bodies]

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def receiver() -> Iterator[JsonReceiver]:
    server = JsonReceiver()
    yield server
    server.close()


SECRET = "ingest-secret-4400"


def config(tmp_path: Path, receiver: JsonReceiver, ingest_port: int) -> str:
    # Quick retries, so a receiver that comes back is reached within seconds.
    fast = "[notify]\nretry_initial = 0.2\nretry_max = 1\n"
    return (
        paper_config(tmp_path).replace("[notify]\n", fast)
        + f"""

[alerts.ingest]
listen = "127.0.0.1:{ingest_port}"
secret = "{SECRET}"

[[alerts.receivers]]
name = "admins"
telegram = [{ADMIN}]

[[alerts.receivers]]
name = "ops"
apprise = ["{receiver.url}"]

[alerts.route]
receiver = "admins"

[[alerts.route.routes]]
matchers = ['kind="fill"']
receiver = "ops"
continue = true

[[alerts.route.routes]]
matchers = ['kind="fill"']
receiver = "admins"
"""
    )


def alerts_in_chat(bot: BotControl) -> list[str]:
    return [str(m.get("text", "")) for m in bot.sent(chat_id=ADMIN)
            if str(m.get("text", "")).startswith("🔔")]  # fmt: skip


def command(bot: BotControl, text: str, starts: str) -> str:
    return reply_to(bot, ADMIN, text, starts)


def test_a_fill_reaches_telegram_and_apprise_and_a_silence_holds_the_next(
    tmp_path: Path, bot: BotControl, launch: Launch, receiver: JsonReceiver
) -> None:
    bot.set_flood(enabled=False)
    port = free_port()
    daemon = launch(admin_ids=str(ADMIN), config=config(tmp_path, receiver, port))
    daemon.wait_for_log(PRICES_FRESH, timeout=15)
    command(bot, "/buy BTC/USDT 0.05", "Filled")
    wait_until(lambda: alerts_in_chat(bot), 10, "the fill alert in the admin's chat")
    [alert] = alerts_in_chat(bot)
    assert alert.startswith("🔔 Alert (kind=fill symbol=BTC/USDT)\n")
    assert alert.endswith("Paper buy 0.05 BTC/USDT at 50025 (fee 2.50125)")
    wait_until(lambda: receiver.messages(), 10, "the fill alert at the Apprise receiver")
    assert receiver.messages()[0].endswith("Paper buy 0.05 BTC/USDT at 50025 (fee 2.50125)")

    assert command(bot, "/mute kind=fill 1h quiet please", "Silence #1").startswith(
        'Silence #1\nkind="fill" muted until '
    )
    command(bot, "/buy BTC/USDT 0.05", "Filled")
    time.sleep(2.5)  # the router reads the event log every second
    assert len(alerts_in_chat(bot)) == 1
    assert len(receiver.messages()) == 1

    # A receiver that is down gets its notification once it is back.
    receiver.down = True
    assert command(bot, "/routes test ops", "Test alert queued") == (
        "Test alert queued for ops: 1 notifications."
    )
    time.sleep(1.0)
    assert len(receiver.messages()) == 1
    receiver.down = False
    wait_until(lambda: len(receiver.messages()) == 2, 15, "the test alert, after retries")
    assert "Test alert from /routes test" in receiver.messages()[1]

    # A TradingView alert through the ingest (the secret in the path, as TradingView
    # must) reaches the admins' chat by the root route.
    body = json.dumps({"ticker": "BTCUSDT", "action": "sell", "price": "64000",
                       "severity": "critical"})  # fmt: skip
    answer = httpx.post(f"http://127.0.0.1:{port}/alerts/{SECRET}", content=body,
                        headers={"Content-Type": "application/json"}, timeout=5)  # fmt: skip
    assert answer.status_code == 202

    def ingested() -> list[str]:
        return [str(m.get("text")) for m in bot.sent(chat_id=ADMIN)
                if "sell BTCUSDT at 64000" in str(m.get("text"))]  # fmt: skip

    wait_until(ingested, 10, "the ingested alert in the admin's chat")
    assert ingested()[0].startswith("🚨 Alert (kind=tradingview symbol=BTCUSDT)")
    # A reload with a broken tree says why and keeps the running routes.
    routes_before = command(bot, "/routes", "Alert routes")
    daemon.config_path.write_text(
        daemon.config_path.read_text() + '\n[[alerts.route.routes]]\nreceiver = "nobody"\n'
    )
    daemon.signal(signal.SIGHUP)
    daemon.wait_for_log(
        r"reload failed, keeping the running configuration: .*alerts\.route\.routes\[2\]"
        r"\.receiver: 'nobody' is not a receiver \(receivers: admins, ops\)"
    )

    def tree(routes: str) -> list[str]:
        return [line for line in routes.splitlines() if line.lstrip().startswith("root")]

    assert tree(command(bot, "/routes", "Alert routes")) == tree(routes_before)
    assert len(tree(routes_before)) == 3  # root and its two children; no root.2
    # Receiver URLs and the ingest secret never reach the log.
    log = daemon.log()
    assert receiver.url.split("//")[1] not in log
    assert SECRET not in log


def test_kill9_with_a_backlog_then_every_alert_is_delivered(
    tmp_path: Path, bot: BotControl, launch: Launch
) -> None:
    """Sixty alerts posted to the ingest for thirty chats, with Telegram's limits on so
    they queue; the daemon is killed mid-delivery and started again. Every alert reaches
    its chat; one arrives twice only if the kill fell between its send and its record."""
    # Slow enough that the kill finds a backlog: 60 messages at 10/s.
    bot.set_flood(enabled=True, global_per_second=10, chat_per_second=1, chat_burst=3)
    chats = [5000 + n for n in range(30)]
    for chat in chats:  # chats the bot may write to
        bot.send_text(from_user=chat, text="hi")
    receivers = "".join(f'\n[[alerts.receivers]]\nname = "c{n}"\ntelegram = [{chat}]\n'
                        for n, chat in enumerate(chats))  # fmt: skip
    route = '\n[[alerts.route.routes]]\nmatchers = [\'chat="{n}"\']\nreceiver = "c{n}"\n'
    routes = "".join(route.format(n=n) for n in range(len(chats)))
    port = free_port()
    config = (
        f'[alerts.ingest]\nlisten = "127.0.0.1:{port}"\nsecret = "{SECRET}"\n{receivers}'
        f'\n[alerts.route]\nreceiver = "c0"\ngroup_by = ["id"]\n{routes}'
    )
    state = tmp_path / "state"
    first = launch(name="first", admin_ids=str(ADMIN), config=config, state_directory=state)
    for n in range(60):
        body = json.dumps({"labels": {"kind": "bench", "chat": str(n % 30)}, "text": f"a{n}"})
        answer = httpx.post(f"http://127.0.0.1:{port}/alerts", content=body, timeout=5,
                            headers={"X-Tradebotd-Secret": SECRET,
                                     "Content-Type": "application/json"})  # fmt: skip
        assert answer.status_code == 202

    def delivered() -> list[str]:
        return [line.split(" ", 1)[1] for chat in chats for m in bot.sent(chat_id=chat)
                for line in str(m.get("text", "")).splitlines()[1:]]  # fmt: skip

    wait_until(lambda: len(delivered()) >= 5, 15, "the first deliveries")
    first.kill9()
    assert len(delivered()) < 60  # a backlog was left
    launch(name="second", admin_ids=str(ADMIN), config=config, state_directory=state)
    wait_until(lambda: {f"a{n}" for n in range(60)} <= set(delivered()), 30, "every alert")
    time.sleep(1.0)
    texts = delivered()
    assert len(texts) - 60 <= 2, sorted(texts)  # at most the sends in flight at the kill
