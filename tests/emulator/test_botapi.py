"""The /bot{token}/{method} endpoint: body formats, error shapes, faults, counters."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError, TimedOut

from daemon.emulator.client import BotControl, ControlApiError
from daemon.emulator.errors import CONFLICT_OTHER_POLL, CONFLICT_WEBHOOK_ACTIVE
from tests.emulator.ptb import ptb_bot, running, seconds
from tests.emulator.test_polling import wait_until_polling

USER = 505


def endpoint(bot: BotControl, method: str) -> str:
    return f"{bot.api_root}/bot{bot.token}/{method}"


def test_every_body_kind_telegram_accepts(bot: BotControl) -> None:
    """GET query, JSON, urlencoded and multipart bodies all reach the method alike."""
    bot.set_flood(enabled=False)
    bot.send_text(USER, "/start")
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    url = endpoint(bot, "sendMessage")
    with httpx.Client() as raw:
        replies = [
            raw.get(url, params={"chat_id": USER, "text": "q", "reply_markup": markup}),
            raw.post(url, json={"chat_id": USER, "text": "j", "reply_markup": json.loads(markup)}),
            raw.post(url, data={"chat_id": str(USER), "text": "u", "reply_markup": markup}),
            raw.post(
                url,
                data={"chat_id": str(USER), "text": "m", "reply_markup": markup},
                files={"unused": ("x.txt", b"x")},
            ),
        ]
    assert [r.json()["result"]["text"] for r in replies] == ["q", "j", "u", "m"]
    assert all(r.json()["result"]["reply_markup"] == json.loads(markup) for r in replies)


@pytest.mark.parametrize(
    ("path", "status", "description"),
    [
        ("/bot1:wrong/getMe", 401, "Unauthorized"),
        ("/bot{token}/noSuchMethod", 404, "Not Found"),
        ("/favicon.ico", 404, "Not Found"),
    ],
)
def test_errors_have_telegrams_shape(
    bot: BotControl, path: str, status: int, description: str
) -> None:
    response = httpx.get(bot.api_root + path.format(token=bot.token))
    assert response.status_code == status
    assert response.json() == {"ok": False, "error_code": status, "description": description}


def test_method_names_are_case_insensitive(bot: BotControl) -> None:
    assert httpx.get(endpoint(bot, "getme")).json()["result"]["id"] == bot.id


@pytest.mark.parametrize(
    ("body", "description"),
    [
        (
            {"chat_id": USER, "text": "x", "reply_markup": "{not json"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            {"chat_id": USER, "text": "x", "reply_markup": {"inline_keyboard": "row"}},
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array '
            "of Arrays",
        ),
        (
            {"chat_id": USER, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "A"}]]}},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            {"chat_id": USER, "text": "x", "reply_markup": {"colour": "red"}},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "@nobody", "text": "x"}, "Bad Request: chat not found"),
        (
            {"chat_id": USER, "text": "x", "parse_mode": "BBCode"},
            "Bad Request: unsupported parse_mode",
        ),
    ],
)
def test_malformed_requests_get_400_and_send_nothing(
    bot: BotControl, body: dict[str, object], description: str
) -> None:
    bot.send_text(USER, "/start")
    response = httpx.post(
        endpoint(bot, "sendMessage"),
        data={k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()},
    )
    assert (response.status_code, response.json()["description"]) == (400, description)
    assert bot.sent(USER) == []


def test_a_body_that_is_not_json_is_refused(bot: BotControl) -> None:
    response = httpx.post(
        endpoint(bot, "getMe"), content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["description"]) == (
        400,
        "Bad Request: can't parse JSON object",
    )


async def test_injected_faults_surface_as_ptbs_errors(bot: BotControl) -> None:
    """Each fault kind reaches the client as the error python-telegram-bot raises for the
    real thing; a fault used up lets the next call through."""
    async with running(ptb_bot(bot)) as client:
        bot.add_fault("status", "getUpdates", status=502)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await client.get_updates()
        bot.add_fault("status", "getUpdates", status=500)
        with pytest.raises(NetworkError, match=r"^Internal Server Error$"):
            await client.get_updates()
        bot.add_fault("reset", "getUpdates")
        with pytest.raises(NetworkError):
            await client.get_updates()
        bot.add_fault("bad_json", "getUpdates")
        with pytest.raises(TelegramError, match="Invalid server response"):
            await client.get_updates()
        bot.add_fault("conflict", "getUpdates")
        with pytest.raises(Conflict, match=CONFLICT_OTHER_POLL):
            await client.get_updates()
        bot.add_fault("conflict", "getUpdates", reason="webhook")
        with pytest.raises(Conflict, match=CONFLICT_WEBHOOK_ACTIVE):
            await client.get_updates()
        bot.add_fault("flood", "getUpdates", retry_after=7)
        with pytest.raises(RetryAfter) as flood:
            await client.get_updates()
        assert seconds(flood.value.retry_after) == 7
        bot.add_fault("delay", "getUpdates", seconds=3)
        with pytest.raises(TimedOut):
            await client.get_updates(timeout=0, read_timeout=0.5)
        assert await client.get_updates() == ()
    assert bot.summary()["pending_updates"] == 0
    status = bot.counters()["status"]
    assert (status["502"], status["500"], status["409"], status["429"]) == (1, 1, 2, 1)


async def test_faults_can_target_one_caller_and_last_until_cleared(bot: BotControl) -> None:
    bot.add_fault("status", "*", times=-1, user_agent="victim", status=503)
    async with running(ptb_bot(bot, "bystander")) as bystander:
        for _ in range(3):
            assert await bystander.get_updates() == ()
        victim = ptb_bot(bot, "victim")
        for _ in range(3):
            with pytest.raises(NetworkError):
                await victim.get_updates()
        bot.clear_faults()
        assert await victim.get_updates() == ()
        await victim.shutdown()


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (
            {"kind": "explode"},
            "fault kind 'explode' is not one of status, delay, reset, bad_json, conflict, flood",
        ),
        ({"kind": "status", "status": 404}, "fault status 404 is not a 5xx code"),
        (
            {"kind": "delay", "seconds": "long"},
            "fault field 'seconds' must be a number, got 'long'",
        ),
        ({"kind": "reset", "target": "x"}, "unknown fault field 'target'"),
        (
            {"kind": "conflict", "reason": "other"},
            "conflict reason 'other' is not one of getupdates, webhook, setwebhook",
        ),
    ],
)
def test_bad_fault_specs_are_refused_by_name(
    bot: BotControl, spec: dict[str, object], error: str
) -> None:
    with pytest.raises(ControlApiError) as refused:
        bot._call("POST", "/faults", spec)
    assert str(refused.value).endswith(error)
    assert bot._call("GET", "/faults") == []


async def test_counters_tell_callers_apart(bot: BotControl) -> None:
    """Requests, getUpdates calls and 409s are counted per User-Agent and per connection."""
    async with running(ptb_bot(bot, "first")) as first, running(ptb_bot(bot, "second")) as second:
        waiting = asyncio.create_task(first.get_updates(timeout=10))
        await wait_until_polling(bot, "first")
        await second.get_updates(timeout=0)
        bot.add_fault("conflict", "getUpdates", user_agent="second")
        with pytest.raises(Conflict):
            await second.get_updates()
        bot.send_text(USER, "hi")
        await waiting
    counters = bot.counters()
    assert counters["get_updates"] == 3
    assert counters["by_user_agent"]["first"]["requests"] == {"getMe": 1, "getUpdates": 1}
    assert counters["by_user_agent"]["second"]["get_updates"] == 2
    assert counters["by_user_agent"]["second"]["conflicts"] == 1
    agents = {entry["user_agent"] for entry in counters["by_connection"].values()}
    assert agents == {"first", "second"}
    bot.reset_counters()
    assert bot.counters()["get_updates"] == 0
