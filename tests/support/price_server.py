"""A scripted price path for the real daemon: a loopback server speaking Binance's
ticker API, answering whatever prices the test set last. The test walks the path step
by step and waits until the daemon has stored each step's quotes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.processes import DaemonProcess, wait_until


class PriceServer:
    def __init__(self) -> None:
        self.prices: dict[str, str] = {}  # Binance id ("BTCUSDT") → price text
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                asked = json.loads(parse_qs(urlparse(self.path).query)["symbols"][0])
                with server._lock:
                    body = [{"symbol": s, "price": server.prices[s]} for s in asked
                            if s in server.prices]  # fmt: skip
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def set(self, **prices: str) -> None:
        """Prices by symbol, "BTC_USDT" for BTC/USDT."""
        with self._lock:
            for name, price in prices.items():
                self.prices[name.replace("_", "")] = price

    def step(self, daemon: DaemonProcess, timeout: float = 15.0, **prices: str) -> None:
        """Set prices, then wait until the daemon stored a quote of each received after
        the change, and a moment for AutoSell (which runs right after the store)."""
        changed = time.time()
        self.set(**prices)

        def stored() -> bool:
            rows = dict(daemon.query("SELECT symbol, received_at FROM price_quote"))
            return all(
                str(rows.get(name.replace("_", "/"), "0")) > _utc_text(changed)
                and _price(daemon, name.replace("_", "/")) == Decimal(price)
                for name, price in prices.items()
            )

        wait_until(stored, timeout, f"quotes {prices} stored")
        time.sleep(0.3)

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def _utc_text(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment))


def _price(daemon: DaemonProcess, symbol: str) -> Decimal | None:
    rows = daemon.query("SELECT price FROM price_quote WHERE symbol = ?", symbol)
    return Decimal(str(rows[0][0])) if rows else None


@pytest.fixture
def prices() -> Iterator[PriceServer]:
    server = PriceServer()
    yield server
    server.close()
