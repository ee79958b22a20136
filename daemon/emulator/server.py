"""Serving the emulator: the aiohttp application and its lifetime in one process."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from daemon.emulator.botapi import EMULATOR_KEY, handle_api, handle_unknown_path
from daemon.emulator.control import add_control_routes
from daemon.emulator.flood import FloodSettings
from daemon.emulator.registry import Emulator
from daemon.emulator.webchat import add_webchat_routes

MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for files sent by bots


class NotLoopbackError(ValueError):
    pass


def build_app(emulator: Emulator) -> web.Application:
    app = web.Application(client_max_size=MAX_UPLOAD)
    app[EMULATOR_KEY] = emulator
    app.router.add_route("*", "/bot{token}/{method}", handle_api)
    add_control_routes(app)
    add_webchat_routes(app)
    app.router.add_route("*", "/{tail:.*}", handle_unknown_path)

    async def close_bots(_: web.Application) -> None:
        await emulator.close()

    app.on_cleanup.append(close_bots)
    return app


def require_loopback(host: str) -> None:
    """The emulator serves tests and the sandbox only; it never listens beyond this host."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotLoopbackError(f"--host {host!r} is not a loopback address (127.0.0.0/8, ::1)")


@dataclass
class EmulatorOptions:
    host: str = "127.0.0.1"
    port: int = 8081
    tokens: list[str] = field(default_factory=list)
    flood: FloodSettings = field(default_factory=FloodSettings)
    webhook_retry_seconds: float = 1.0
    port_file: Path | None = None


async def start(options: EmulatorOptions) -> tuple[web.AppRunner, Emulator, int]:
    """Start serving; returns the runner (to clean up), the emulator and the bound port."""
    require_loopback(options.host)
    emulator = Emulator(options.flood, options.webhook_retry_seconds)
    for token in options.tokens:
        emulator.add_bot(token)
    # handler_cancellation: a long poll whose client went away must end at once, so
    # that its successor's poll is not answered with a 409 meant for a dead caller.
    runner = web.AppRunner(build_app(emulator), handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port)
    await site.start()
    return runner, emulator, int(runner.addresses[0][1])


async def serve_until_signalled(options: EmulatorOptions) -> None:
    runner, emulator, port = await start(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(
        f"emulator: Bot API on http://{options.host}:{port}/bot<token>/<method>, "
        f"control API on http://{options.host}:{port}/_emulator",
        flush=True,
    )
    for bot in emulator.by_id.values():
        print(f"emulator: bot {bot.world.me.id} (@{bot.world.me.username}) ready", flush=True)
    if options.port_file is not None:
        temporary = options.port_file.with_suffix(".tmp")
        temporary.write_text(f"{port}\n")
        temporary.replace(options.port_file)  # readers never see a half-written file
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        print(
            f"emulator: stopped after serving {len(emulator.by_id)} bot(s)",
            file=sys.stderr,
            flush=True,
        )
