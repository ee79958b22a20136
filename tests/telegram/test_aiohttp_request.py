"""PTB's Bot on the daemon's aiohttp backend, against the real emulator: forms and
uploads arrive as PTB's httpx backend sent them, connections are reused, failures become
the `telegram.error` classes the daemon's callers handle, and an HTTP proxy from the
environment is used."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from daemon.emulator.client import BotControl
from daemon.telegram.aiohttp_request import AiohttpRequest, proxy_from_environment

AGENT = "aiohttp-request-test"
USER = 4242


@contextlib.asynccontextmanager
async def ptb_bot(bot: BotControl, **options: Any) -> AsyncIterator[Bot]:
    requests = [AiohttpRequest(user_agent=AGENT, **options) for _ in range(2)]
    async with Bot(
        bot.token,
        base_url=f"{bot.api_root}/bot",
        request=requests[0],
        get_updates_request=requests[1],
    ) as ptb:
        yield ptb


@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_messages_uploads_and_polls_arrive_intact_over_reused_connections(
    bot: BotControl, no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """Form fields (text, JSON markup), a multipart upload with its filename and bytes,
    and getUpdates parameters reach the Bot API as sent; eight concurrent sends on a pool
    of two use two connections, kept alive; every call carries our User-Agent."""
    bot.send_text(from_user=USER, text="/start")  # a bot writes only to known chats
    bot.set_flood(enabled=False)  # ten messages to one chat within a second
    content = b"when,what\n2026-11-29,\xe2\x82\xac 1\n"

    async def scenario() -> tuple[int, str]:
        async with ptb_bot(bot, connection_pool_size=2) as ptb:
            updates = await ptb.get_updates(timeout=0, allowed_updates=["message"])
            await ptb.send_message(USER, "über <b>1</b> & 2", parse_mode="HTML")
            sent = await ptb.send_document(USER, document=content, filename="journal.csv")
            await asyncio.gather(*(ptb.send_message(USER, f"n{n}") for n in range(8)))
            assert sent.document is not None
            return len(updates), sent.document.file_id

    update_count, file_id = asyncio.run(scenario())
    assert update_count == 1
    text, document, *rest = bot.sent(USER)
    assert sorted(m["text"] for m in rest) == [f"n{n}" for n in range(8)]
    assert text["text"] == "über 1 & 2"
    assert text["entities"][0]["type"] == "bold"
    assert document["document"]["file_name"] == "journal.csv"
    assert bot.file(file_id) == content
    counters = bot.counters()
    ours = counters["by_user_agent"][AGENT]["requests"]
    assert ours == {"getMe": 1, "getUpdates": 1, "sendMessage": 9, "sendDocument": 1}
    send_connections = [
        c for c in counters["by_connection"].values() if "sendMessage" in c["requests"]
    ]
    assert len(send_connections) == 2, counters["by_connection"]


def test_failures_become_the_telegram_errors_callers_handle(
    bot: BotControl, no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """A stalled answer beyond the read timeout is TimedOut, a reset connection and a 502
    are NetworkError, a Bot API refusal stays BadRequest; the session works afterwards."""

    async def scenario() -> list[type[Exception]]:
        raised: list[type[Exception]] = []
        async with ptb_bot(bot, read_timeout=0.3) as ptb:
            for kind, details in (("delay", {"seconds": 2.0}), ("reset", {}), ("status", {})):
                bot.add_fault(kind, method="sendMessage", **details)
                with pytest.raises(NetworkError) as caught:
                    await ptb.send_message(USER, "x")
                raised.append(type(caught.value))
            with pytest.raises(BadRequest):
                await ptb.send_message(USER, "")  # Telegram: message text is empty
            await ptb.send_message(USER, "after the faults")
        return raised

    bot.send_text(from_user=USER, text="/start")
    assert asyncio.run(scenario()) == [TimedOut, NetworkError, NetworkError]
    assert [m["text"] for m in bot.sent(USER)] == ["after the faults"]


def test_proxy_is_read_from_the_environment_and_bypassed_for_no_proxy_hosts(
    no_proxy_environment: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY serves https URLs, HTTP_PROXY http ones; NO_PROXY hosts go direct."""
    monkeypatch = no_proxy_environment
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3129")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    assert proxy_from_environment("https://api.telegram.org/bot1/getMe") == (
        "http://127.0.0.1:3128"
    )
    assert proxy_from_environment("http://api.telegram.org/bot1/getMe") == ("http://127.0.0.1:3129")
    assert proxy_from_environment("https://internal.example/bot1/getMe") is None


def test_requests_go_through_the_proxy_the_environment_names(
    bot: BotControl, no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY set, the Bot API calls travel through that proxy (a byte relay on
    loopback that counts its connections), as they did under httpx."""

    async def scenario() -> int:
        relayed = 0
        target = bot.api_root.split("//", 1)[1].split("/", 1)[0]
        host, port = target.rsplit(":", 1)

        async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            nonlocal relayed
            relayed += 1
            server_r, server_w = await asyncio.open_connection(host, int(port))

            async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
                writer.close()

            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

        server = await asyncio.start_server(relay, "127.0.0.1", 0)
        proxy_port = server.sockets[0].getsockname()[1]
        no_proxy_environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_port}")
        async with server, ptb_bot(bot) as ptb:
            await ptb.send_message(USER, "via the proxy")
        return relayed

    bot.send_text(from_user=USER, text="/start")
    assert asyncio.run(scenario()) >= 1
    assert [m["text"] for m in bot.sent(USER)] == ["via the proxy"]
