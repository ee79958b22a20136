"""The web chat's side of the emulator over HTTP: the page and its assets (all local),
the event stream of the chats, the menu a user sees, file downloads, and the foreign
poller the side panel starts. The page itself is driven in a real browser in
test_webchat_browser.py."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import httpx
import pytest

from daemon.emulator.client import BotControl
from daemon.emulator.foreign_poller import FOREIGN_AGENT
from tests.emulator.ptb import ptb_bot, running
from tests.support.processes import wait_until

USER = 611


def control_url(bot: BotControl, path: str) -> str:
    return f"{bot.api_root}/_emulator/bots/{bot.id}{path}"


def read_events(
    url: str,
    count: int,
    headers: dict[str, str] | None = None,
    into: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The first `count` server-sent events at `url`: id, event and data of each (added
    to `into` as they arrive, for a reader in another thread)."""
    events: list[dict[str, Any]] = [] if into is None else into
    current: dict[str, Any] = {}
    with httpx.stream("GET", url, headers=headers, timeout=10) as response:
        assert response.headers["content-type"] == "text/event-stream"
        for line in response.iter_lines():
            if not line:
                if current:
                    events.append(current)
                    current = {}
                if len(events) == count:
                    return events
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
    return events


def test_the_page_and_its_assets_come_from_the_emulator_only(bot: BotControl) -> None:
    root = bot.api_root
    page = httpx.get(root + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(assets) == ["/webchat/chat.css", "/webchat/chat.js"]
    for asset in assets:
        body = httpx.get(root + asset)
        assert body.status_code == 200
        # Nothing from the network beyond the emulator: no CDN, no font, no script.
        assert re.findall(r"https?://(?!127\.0\.0\.1:9/)", body.text) == []
    assert httpx.get(root + "/webchat/../control.py").status_code == 404
    assert httpx.get(root + "/webchat/secrets.txt").status_code == 404


def test_the_event_stream_replays_then_follows_and_resumes(bot: BotControl) -> None:
    bot.send_text(from_user=USER, text="/one")
    bot.send_text(from_user=USER, text="/two")
    url = control_url(bot, "/events")
    first = read_events(url, 2)
    assert [(e["event"], e["data"]["text"]) for e in first] == [
        ("message", "/one"),
        ("message", "/two"),
    ]
    # Live: a stream opened now sees a message sent after it opened.
    later: list[dict[str, Any]] = []
    reader = threading.Thread(target=read_events, args=(url, 3), kwargs={"into": later})
    reader.start()
    wait_until(lambda: len(later) == 2, 10, "the stream replaying what came before")
    bot.send_text(from_user=USER, text="/three")
    reader.join(15)
    assert [e["data"]["text"] for e in later] == ["/one", "/two", "/three"]
    # A browser reconnecting with Last-Event-ID gets only what came after it.
    resumed = read_events(url, 1, headers={"Last-Event-ID": first[1]["id"]})
    assert resumed[0]["data"]["text"] == "/three"
    refused = httpx.get(url + "?after=soon")
    assert (refused.status_code, refused.json()["error"]) == (
        400,
        "'after' must be a change number, got 'soon'",
    )


async def test_edits_deletions_and_answers_are_in_the_stream(bot: BotControl) -> None:
    bot.send_text(from_user=USER, text="hi")
    async with running(ptb_bot(bot)) as ptb:
        sent = await ptb.send_message(USER, "draft", reply_markup=None)
        await ptb.edit_message_text("final", chat_id=USER, message_id=sent.message_id)
        await ptb.delete_message(USER, sent.message_id)
        await ptb.set_my_commands([("start", "hello")])
    events = read_events(control_url(bot, "/events"), 5)
    assert [e["event"] for e in events] == ["message", "message", "edit", "delete", "commands"]
    assert events[2]["data"]["text"] == "final"
    assert "edit_date" in events[2]["data"]
    assert events[3]["data"] == {"chat_id": USER, "message_id": sent.message_id}


def test_the_menu_a_user_sees(bot: BotControl) -> None:
    bot.send_text(from_user=USER, text="hi")
    api = f"{bot.api_root}/bot{bot.token}"
    admin = [{"command": "status", "description": "how it runs"}]
    public = [{"command": "start", "description": "hello"}]
    httpx.post(f"{api}/setMyCommands", json={"commands": public}).raise_for_status()
    own_chat = {"type": "chat", "chat_id": USER}
    httpx.post(
        f"{api}/setMyCommands", json={"commands": admin, "scope": own_chat}
    ).raise_for_status()
    menu = control_url(bot, "/menu")
    assert httpx.get(menu, params={"user": USER, "chat": USER}).json()["result"] == admin
    assert httpx.get(menu, params={"user": 612, "chat": 612}).json()["result"] == public
    refused = httpx.get(menu, params={"user": "me", "chat": USER})
    assert refused.json()["error"] == "'user' must be an integer, got 'me'"


async def test_a_document_downloads_under_its_name(bot: BotControl) -> None:
    bot.send_text(from_user=USER, text="hi")
    async with running(ptb_bot(bot)) as ptb:
        sent = await ptb.send_document(USER, b"a,b\n1,2\n", filename="journal.csv")
    url = control_url(bot, f"/files/{sent.document.file_id}")
    async with httpx.AsyncClient() as client:
        download = await client.get(url, params={"download": "1"})
        inline = await client.get(url)
    assert download.content == b"a,b\n1,2\n"
    assert download.headers["content-disposition"] == 'attachment; filename="journal.csv"'
    assert inline.headers["content-disposition"] == 'inline; filename="journal.csv"'


def test_the_foreign_poller_displaces_a_waiting_poller_with_409(bot: BotControl) -> None:
    api = f"{bot.api_root}/bot{bot.token}/getUpdates"
    control = control_url(bot, "/foreign_poller")
    answers: list[dict[str, Any]] = []
    ours = threading.Thread(
        target=lambda: answers.append(httpx.post(api, json={"timeout": 8}, timeout=15).json())
    )
    ours.start()
    wait_until(lambda: bot.summary()["waiting_poller"], 5, "our long poll waiting")
    assert httpx.post(control, json={"seconds": 5}).json()["result"] == {
        "polling": True,
        "seconds": 5,
    }
    ours.join(15)
    assert answers == [
        {
            "ok": False,
            "error_code": 409,
            "description": "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        }
    ]
    assert bot.summary()["foreign_poller"] is True
    assert bot.summary()["waiting_poller"].startswith(FOREIGN_AGENT)
    assert httpx.delete(control).json()["result"] == {"polling": False}
    assert bot.summary()["foreign_poller"] is False


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"seconds": "60"}, "'seconds' must be an integer, got '60'"),
        ({"seconds": 0}, "'seconds' is 1 to 600, got 0"),
        ({"seconds": 601}, "'seconds' is 1 to 600, got 601"),
    ],
)
def test_a_bad_foreign_poller_request_starts_nothing(
    bot: BotControl, body: dict[str, object], error: str
) -> None:
    answer = httpx.post(control_url(bot, "/foreign_poller"), json=body)
    assert (answer.status_code, answer.json()["error"]) == (400, error)
    assert bot.summary()["foreign_poller"] is False
