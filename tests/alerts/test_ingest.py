"""POST /alerts on a real SQLite store: each way of giving the secret works (header,
HMAC signature, passphrase, path), a wrong or missing one is 401 and stores nothing,
repeated failures are 429 with Retry-After (per client, through a trusted proxy's
X-Forwarded-For), oversize bodies are 413, bad bodies 400 with the reason, and a
replayed idempotency key answers the first alert's id."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon.alerts.ingest import AlertIngest
from daemon.alerts.settings import AlertsSettings
from daemon.store import schema
from daemon.store.database import Store, execute, open_database
from tests.support.config import settings_from

SECRET = "s3cret-ingest-value"
T0 = datetime(2026, 11, 30, 9, 0)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = settings_from(tmp_path, f"""
[alerts.ingest]
secret = "{SECRET}"
trusted_proxies = ["127.0.0.1"]
""")  # fmt: skip
    alerts: AlertsSettings = settings.section("alerts")
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    schema.upgrade(db)
    ingest = AlertIngest(lambda: alerts, Store(db), lambda: T0, lambda: None)
    async with TestClient(TestServer(ingest.app())) as test_client:
        yield test_client
    db.close()


def stored() -> list[tuple[str, dict[str, str], str]]:
    rows = execute("SELECT key, labels, text FROM alert ORDER BY id").fetchall()
    return [(str(k), json.loads(lb), str(t)) for k, lb, t in rows]


async def post(client: TestClient, body: str | bytes, path: str = "/alerts",
               **headers: str) -> tuple[int, dict[str, object]]:  # fmt: skip
    response = await client.post(path, data=body, headers=headers)
    text = await response.text()
    return response.status, json.loads(text) if text.startswith("{") else {"text": text}


async def test_each_way_of_giving_the_secret(client: TestClient) -> None:
    own = json.dumps({"labels": {"severity": "critical", "symbol": "BTC"}, "text": "a"})
    assert (await post(client, own, **{"X-Tradebotd-Secret": SECRET}))[0] == 202
    signature = hmac.new(SECRET.encode(), own.encode(), hashlib.sha256).hexdigest()
    assert (await post(client, own, **{"X-Tradebotd-Signature": f"sha256={signature}"}))[0] == 202
    tradingview = json.dumps({"ticker": "BTCUSDT", "action": "buy", "price": 64000.5,
                              "passphrase": SECRET})  # fmt: skip
    assert (await post(client, tradingview, **{"Content-Type": "application/json"}))[0] == 202
    assert (await post(client, "plain words", f"/alerts/{SECRET}"))[0] == 202
    kinds = [(labels["kind"], labels["severity"], labels.get("symbol"), text)
             for _, labels, text in stored()]  # fmt: skip
    assert kinds == [
        ("ingest", "critical", "BTC", "a"),
        ("ingest", "critical", "BTC", "a"),
        ("tradingview", "info", "BTCUSDT", "buy BTCUSDT at 64000.5"),
        ("ingest", "info", None, "plain words"),
    ]
    # Each post is an event: its own id label, so never held back as a repeat.
    assert len({labels["id"] for _, labels, _ in stored()}) == 4


async def test_wrong_or_missing_secrets_are_401_then_429(client: TestClient) -> None:
    own = json.dumps({"labels": {"kind": "x"}, "text": "t"})
    assert await post(client, own) == (401, {"error": "missing or wrong secret"})
    assert (await post(client, own, **{"X-Tradebotd-Secret": "nope"}))[0] == 401
    assert (await post(client, own, "/alerts/nope"))[0] == 401
    assert (await post(client, own, **{"X-Tradebotd-Signature": "sha256=00"}))[0] == 401
    assert (await post(client, json.dumps({"message": "m", "passphrase": "x"})))[0] == 401
    response = await client.post("/alerts", data=own, headers={"X-Tradebotd-Secret": SECRET})
    assert response.status == 429  # five failures within the minute: even the right one waits
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # Another client behind the trusted proxy is not held back by that one.
    other = {"X-Forwarded-For": "203.0.113.9", "X-Tradebotd-Secret": SECRET}
    assert (await post(client, own, **other))[0] == 202
    assert len(stored()) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "the body is not valid JSON (Expecting property name enclosed in "
                      "double quotes at line 1, column 2)"),
        ("[1, 2]", "the body must be a JSON object, got a JSON list"),
        ('{"labels": {"severity": "fatal"}}', "severity must be one of info, warning, "
                                              "critical, got 'fatal'"),
        ('{"labels": {"a b": "c"}}', "'a b' is not a label name"),
        ('{"labels": {}, "extra": 1}', "unknown key 'extra' (known: idempotency_key, labels, "
                                       "passphrase, text)"),
        ('{"ticker": "BTC"}', "a TradingView alert needs a message, or a ticker and an action"),
        ("   ", "the body is empty"),
    ],
)  # fmt: skip
async def test_bad_bodies_are_400_with_the_reason(
    client: TestClient, body: str, reason: str
) -> None:
    headers = {"X-Tradebotd-Secret": SECRET, "Content-Type": "application/json"}
    assert await post(client, body, **headers) == (400, {"error": reason})
    assert stored() == []


async def test_oversize_bodies_are_413(client: TestClient) -> None:
    status, answer = await post(client, "x" * (65 * 1024), **{"X-Tradebotd-Secret": SECRET})
    assert (status, answer) == (413, {"error": "the body is larger than 64 KiB"})
    assert stored() == []


async def test_a_replayed_idempotency_key_answers_the_first_id(client: TestClient) -> None:
    own = json.dumps({"labels": {"kind": "x"}, "text": "t", "idempotency_key": "k-1"})
    first = await post(client, own, **{"X-Tradebotd-Secret": SECRET})
    again = await post(client, own, **{"X-Tradebotd-Secret": SECRET})
    by_header = await post(client, "words", **{"X-Tradebotd-Secret": SECRET,
                                               "Idempotency-Key": "k-1"})  # fmt: skip
    assert first == (202, {"id": 1, "replayed": False})
    assert again == by_header == (202, {"id": 1, "replayed": True})
    assert len(stored()) == 1
