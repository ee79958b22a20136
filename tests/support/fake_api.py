"""A loopback HTTP server standing in for a third-party API (price sources, alert
receivers): each test sets what it answers and reads what it was asked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeApi:
    """A loopback server; each test sets what it answers and reads what it was asked."""

    def __init__(self) -> None:
        self.handler: Handler | None = None
        self.requests: list[web.Request] = []
        self.url = ""

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        assert self.handler is not None
        return await self.handler(request)

    def answer(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        text = body if isinstance(body, str) else json.dumps(body)

        async def respond(request: web.Request) -> web.StreamResponse:
            return web.Response(text=text, status=status, headers=headers,
                                content_type="application/json")  # fmt: skip

        self.handler = respond


@pytest.fixture
async def api() -> AsyncIterator[FakeApi]:
    """A FakeApi serving on 127.0.0.1 for this test."""
    fake = FakeApi()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", fake.dispatch)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()
