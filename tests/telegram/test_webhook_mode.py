"""Webhook mode against the emulator's webhook delivery: the same exactly-once path,
the secret enforced, never together with polling."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from daemon.config import ConfigError, load_settings
from daemon.emulator.client import BotControl
from tests.support.processes import Launch, free_port

SECRET = "s3cret-webhook_token"
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
ADMIN = 861


def webhook_env(port: int) -> dict[str, str]:
    return {
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
    }


def test_updates_pushed_to_the_webhook_are_answered_and_never_polled(
    bot: BotControl, launch: Launch
) -> None:
    bot.set_flood(enabled=False)
    port = free_port()
    daemon = launch(
        admin_ids=str(ADMIN), polling=False, env=webhook_env(port), polling_started=False
    )
    daemon.wait_for_log("webhook mode: Telegram delivers to ")
    info = bot.summary()["webhook"]
    assert info["url"] == f"http://127.0.0.1:{port}/telegram"
    bot.send_text(from_user=ADMIN, text="/start")
    assert bot.wait_for_sent(chat_id=ADMIN)[0]["text"].startswith("Hello")
    assert bot.counters()["requests"].get("getUpdates", 0) == 0
    assert daemon.query("SELECT count(*) FROM known_chat") == [(1,)]


def start_update(update_id: int, user_id: int) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


RIGHT = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def test_requests_without_the_secret_or_with_garbage_change_nothing(
    bot: BotControl, launch: Launch
) -> None:
    port = free_port()
    daemon = launch(polling=False, env=webhook_env(port), polling_started=False)
    daemon.wait_for_log("webhook mode: Telegram delivers to ")
    update = start_update(500, 70)
    url = f"http://127.0.0.1:{port}/telegram"
    assert httpx.post(url, json=update).status_code == 403
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
    assert httpx.post(url, json=update, headers=wrong).status_code == 403
    assert httpx.post(url, content=b"{not json", headers=RIGHT).status_code == 400
    assert daemon.query("SELECT count(*) FROM known_chat") == [(0,)]
    daemon.wait_for_log("webhook: refused a request from 127.0.0.1 without the secret", count=2)
    # The same update delivered twice (a retried delivery) is applied once.
    for _ in range(2):
        assert httpx.post(url, json=update, headers=RIGHT).status_code == 200
    assert daemon.query("SELECT starts FROM known_chat WHERE chat_id = 70") == [(1,)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([start_update(600, 71)], "the body must be a JSON object, got a JSON list"),
        ("update", "the body must be a JSON object, got a JSON str"),
        ({**start_update(600, 71), "update_id": "600"}, "update_id must be an integer, got '600'"),
        ({**start_update(600, 71), "update_id": 600.5}, "update_id must be an integer, got 600.5"),
        ({**start_update(600, 71), "update_id": True}, "update_id must be an integer, got True"),
        (
            {**start_update(600, 71), "update_id": 2**62},
            "update_id 4611686018427387904 is outside 0..2147483647",
        ),
        ({**start_update(600, 71), "update_id": -1}, "update_id -1 is outside 0..2147483647"),
    ],
)
def test_hostile_bodies_get_400_with_a_reason_and_store_nothing(
    bot: BotControl, launch: Launch, body: object, reason: str
) -> None:
    """Bodies that are not an update (with the right secret) change nothing: no offset,
    no processed id, no chat; a later good update is still applied."""
    port = free_port()
    daemon = launch(polling=False, env=webhook_env(port), polling_started=False)
    daemon.wait_for_log("webhook mode: Telegram delivers to ")
    url = f"http://127.0.0.1:{port}/telegram"
    response = httpx.post(url, json=body, headers=RIGHT)
    assert (response.status_code, response.text) == (400, f"not an update: {reason}")
    assert daemon.query("SELECT count(*) FROM processed_update") == [(0,)]
    assert daemon.query("SELECT count(*) FROM key_value WHERE key = 'poll.offset'") == [(0,)]
    assert httpx.post(url, json=start_update(7, 72), headers=RIGHT).status_code == 200
    assert daemon.query("SELECT chat_id FROM known_chat") == [(72,)]


def test_deliveries_out_of_order_and_in_parallel_apply_each_update_once(
    bot: BotControl, launch: Launch
) -> None:
    """setWebhook asks for one connection; even so, N+1 before N applies both, and one
    update delivered on several connections at once applies once."""
    port = free_port()
    daemon = launch(polling=False, env=webhook_env(port), polling_started=False)
    daemon.wait_for_log("webhook mode: Telegram delivers to ")
    assert bot.summary()["webhook"]["max_connections"] == 1
    url = f"http://127.0.0.1:{port}/telegram"
    assert httpx.post(url, json=start_update(11, 81), headers=RIGHT).status_code == 200
    assert httpx.post(url, json=start_update(10, 80), headers=RIGHT).status_code == 200
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: httpx.post(url, json=start_update(12, 82), headers=RIGHT).status_code,
                range(8),
            )
        )
    assert answers == [200] * 8
    assert daemon.query("SELECT chat_id, starts FROM known_chat ORDER BY chat_id") == [
        (80, 1),
        (81, 1),
        (82, 1),
    ]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"POLLING_ENABLED": "1", "WEBHOOK_URL": "https://bot.example/hook"},
            "WEBHOOK_URL: set together with POLLING_ENABLED=1; a token is either polled or "
            "pushed to a webhook, never both (unset one of them)",
        ),
        (
            {"WEBHOOK_URL": "https://bot.example/hook"},
            "WEBHOOK_SECRET: required with WEBHOOK_URL (Telegram sends it in "
            "X-Telegram-Bot-Api-Secret-Token; requests without it are refused)",
        ),
        (
            {"WEBHOOK_URL": "http://bot.example/hook", "WEBHOOK_SECRET": SECRET},
            "WEBHOOK_URL: 'http://bot.example/hook' is not an https URL "
            "(Telegram only delivers to https)",
        ),
        (
            {"WEBHOOK_URL": "https://bot.example/hook", "WEBHOOK_SECRET": "has space"},
            "WEBHOOK_SECRET: must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
        ),
        (
            {
                "WEBHOOK_URL": "https://bot.example/hook",
                "WEBHOOK_SECRET": SECRET,
                "WEBHOOK_LISTEN": "8443",
            },
            "WEBHOOK_LISTEN: '8443' is not HOST:PORT",
        ),
    ],
)
def test_webhook_settings_are_checked(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {"TELEGRAM_BOT_TOKEN": "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", **environ}
        )
    assert str(caught.value) == message
