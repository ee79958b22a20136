"""How many Bot API calls per second the emulator serves, against a baseline measured in
the same run: a bare aiohttp server answering a fixed sendMessage-shaped body. The ratio
says what the emulator's own work (parsing, validation, bookkeeping) costs; the daemon's
end-to-end benchmark (core issue) needs the emulator to be far faster than the bot.

Both servers run as separate processes on loopback; one client drives each with the same
request count and concurrency.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from daemon.emulator.client import EmulatorClient
from daemon.emulator.launcher import start_emulator, stop_process

REQUESTS = 3000
CONCURRENCY = 16
USER = 42

BASELINE_SERVER = """
import json, sys
from aiohttp import web
BODY = json.dumps({"ok": True, "result": {"message_id": 1, "date": 0, "text": "x",
                   "chat": {"id": 42, "type": "private"}}})
async def send(request):
    await request.read()
    return web.Response(text=BODY, content_type="application/json")
app = web.Application()
app.router.add_route("*", "/bot{token}/{method}", send)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


async def drive(url: str, body: dict[str, Any]) -> float:
    """Requests per second for REQUESTS POSTs at CONCURRENCY, after a short warm-up."""
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        for _ in range(50):
            (await client.post(url, json=body)).raise_for_status()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(REQUESTS):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                response = await client.post(url, json=body)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return REQUESTS / (time.perf_counter() - started)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_baseline(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("baseline server did not start")


def run() -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-emulator-"))
    emulator, emulator_url = start_emulator(workdir, "--no-flood")
    port = free_port()
    baseline = subprocess.Popen([sys.executable, "-c", BASELINE_SERVER, str(port)])
    try:
        with EmulatorClient(emulator_url) as control:
            bot = control.create_bot()
            bot.send_text(USER, "/start")
        body = {"chat_id": USER, "text": "<b>BTC</b> 97,000", "parse_mode": "HTML"}
        baseline_url = f"http://127.0.0.1:{port}/bot1:x/sendMessage"
        wait_for_baseline(baseline_url)
        emulator_rps = asyncio.run(drive(f"{emulator_url}/bot{bot.token}/sendMessage", body))
        baseline_rps = asyncio.run(drive(baseline_url, body))
    finally:
        stop_process(emulator)
        stop_process(baseline)
    return {
        "requests": REQUESTS,
        "concurrency": CONCURRENCY,
        "emulator_send_message_per_s": round(emulator_rps, 1),
        "baseline_aiohttp_per_s": round(baseline_rps, 1),
        "ratio_to_baseline": round(emulator_rps / baseline_rps, 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
