"""The web chat: a Telegram-like page served by the emulator, for trying the bot in a
browser as its users (the sandbox's front door, and what the browser tests drive).

The page is static (daemon/emulator/webchat/: hand-written HTML, JS and CSS, no CDN);
it talks to the control API: it posts messages and button presses, follows the chats
through a server-sent event stream of the world's changes, and shows the world as the
emulator sees it (who polls, the webhook, 409/429 counters) with buttons that play the
classic failures.
"""

from __future__ import annotations

import asyncio
import json
from importlib import resources

from aiohttp import web

from daemon.emulator.control import (
    PREFIX,
    ControlError,
    Handler,
    add_guarded,
    body_of,
    bot_of,
    integer,
    ok,
)
from daemon.emulator.foreign_poller import ForeignPoller
from daemon.emulator.menus import menu_for
from daemon.emulator.world import Change

ASSETS = {
    "chat.js": "text/javascript",
    "chat.css": "text/css",
}
KEEP_ALIVE_SECONDS = 15.0
MAX_FOREIGN_SECONDS = 600
CLOSING = web.AppKey("webchat_closing", asyncio.Event)


def _asset(name: str) -> bytes:
    return resources.files("daemon.emulator").joinpath("webchat", name).read_bytes()


async def page(request: web.Request) -> web.Response:
    return web.Response(body=_asset("index.html"), content_type="text/html", charset="utf-8")


async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return web.Response(body=_asset(name), content_type=ASSETS[name], charset="utf-8")


def _event(change: Change) -> bytes:
    return f"id: {change.seq}\nevent: {change.kind}\ndata: {json.dumps(change.data)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: every retained change after `after` (or Last-Event-ID, when
    the browser reconnects), then each change as it happens."""
    world = bot_of(request).world
    start = request.headers.get("Last-Event-ID") or request.query.get("after") or "0"
    if not start.isdigit():
        raise ControlError(f"'after' must be a change number, got {start!r}")
    after = int(start)
    closing = request.app[CLOSING]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    wake = asyncio.Event()
    world.on_change.append(wake.set)
    try:
        while not closing.is_set():
            wake.clear()
            for change in world.changes_after(after):
                await response.write(_event(change))
                after = change.seq
            waiters = [asyncio.ensure_future(e.wait()) for e in (wake, closing)]
            done, pending = await asyncio.wait(
                waiters, timeout=KEEP_ALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
            if not done:
                await response.write(b": keep-alive\n\n")
    finally:
        world.on_change.remove(wake.set)
    return response


async def people(request: web.Request) -> web.Response:
    """Who can write (the users the world knows, bots aside) and the groups to write in."""
    world = bot_of(request).world
    return ok(
        {
            "bot": world.me.to_api(),
            "users": [u.to_api() for u in world.users.values() if not u.is_bot],
            "groups": [c.to_api() for c in world.chats.values() if c.is_group],
        }
    )


def _query_int(request: web.Request, key: str) -> int:
    value = request.query.get(key, "")
    try:
        return int(value)
    except ValueError:
        raise ControlError(f"{key!r} must be an integer, got {value!r}") from None


async def menu(request: web.Request) -> web.Response:
    """The command menu `user` sees in `chat`, as Telegram would pick it."""
    world = bot_of(request).world
    user_id, chat_id = _query_int(request, "user"), _query_int(request, "chat")
    user = world.users.get(user_id)
    chat = world.chats.get(chat_id)
    is_group = chat.is_group if chat is not None else chat_id < 0
    language = user.language_code if user is not None else None
    return ok(menu_for(world.commands, user_id, chat_id, is_group, language))


async def start_foreign_poller(request: web.Request) -> web.Response:
    bot, body = bot_of(request), await body_of(request)
    seconds = integer(body, "seconds") if "seconds" in body else 60
    if not 1 <= seconds <= MAX_FOREIGN_SECONDS:
        raise ControlError(f"'seconds' is 1 to {MAX_FOREIGN_SECONDS}, got {seconds}")
    if bot.foreign_poller is None:
        # The address this server is bound to, never the request's Host header: the
        # poller must talk to this emulator and nothing else.
        host, port = request.transport.get_extra_info("sockname")[:2]  # type: ignore[union-attr]
        address = f"[{host}]" if ":" in host else host
        bot.foreign_poller = ForeignPoller(f"http://{address}:{port}", bot.world.token)
    bot.foreign_poller.start(seconds)
    return ok({"polling": True, "seconds": seconds})


async def stop_foreign_poller(request: web.Request) -> web.Response:
    bot = bot_of(request)
    if bot.foreign_poller is not None:
        await bot.foreign_poller.stop()
    return ok({"polling": False})


def add_webchat_routes(app: web.Application) -> None:
    app[CLOSING] = asyncio.Event()

    async def end_streams(app: web.Application) -> None:
        app[CLOSING].set()  # open event streams end, so shutdown does not wait for them

    app.on_shutdown.append(end_streams)
    app.router.add_get("/", page)
    app.router.add_get("/webchat/{name}", asset)
    bot = PREFIX + "/bots/{bot_id}"
    routes: list[tuple[str, str, Handler]] = [
        ("GET", bot + "/events", events),
        ("GET", bot + "/people", people),
        ("GET", bot + "/menu", menu),
        ("POST", bot + "/foreign_poller", start_foreign_poller),
        ("DELETE", bot + "/foreign_poller", stop_foreign_poller),
    ]
    add_guarded(app, routes)
