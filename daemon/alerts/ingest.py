"""`POST /alerts`: alerts from outside (TradingView, scripts), a daemon component.

Off unless `[alerts.ingest] secret` is set. The secret may come as an
`X-Tradebotd-Secret` header, as `X-Tradebotd-Signature: sha256=<HMAC-SHA256 of the raw
body>`, as a `passphrase` field of the JSON body, or as the path (`POST /alerts/<secret>`,
because TradingView cannot set headers); it is compared in constant time and never
logged (the access log is off: a secret in the path would land there). A client that
keeps failing is answered 429 with Retry-After; behind a trusted proxy the client is the
first address of X-Forwarded-For.

An accepted alert is stored (once per idempotency key: the `Idempotency-Key` header or
the `idempotency_key` field; a replay answers 202 with the first alert's id) in one
transaction before the 202, and the router takes it from there.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from aiohttp import web
from loguru import logger

from daemon.alerts.model import fingerprint
from daemon.alerts.posted import BadBody, Posted, read_body
from daemon.alerts.settings import AlertsSettings
from daemon.config import parse_listen
from daemon.policy.failures import FailureLimit
from daemon.store import alerts as stored
from daemon.store.database import Store

MAX_BODY = 64 * 1024
SECRET_HEADER = "X-Tradebotd-Secret"
SIGNATURE_HEADER = "X-Tradebotd-Signature"
KEY_HEADER = "Idempotency-Key"


def _same(offered: str | None, secret: str) -> bool:
    return offered is not None and hmac.compare_digest(offered.encode(), secret.encode())


def signed(raw: bytes, signature: str | None, secret: str) -> bool:
    if signature is None or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature[len("sha256=") :].lower().encode(), expected.encode())


def answer(status: int, **body: object) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


class AlertIngest:
    name = "ingest"

    def __init__(
        self,
        settings: Callable[[], AlertsSettings],
        store: Store,
        clock: Callable[[], datetime],
        on_stored: Callable[[], None],
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._settings = settings
        self._store = store
        self._clock = clock
        self._on_stored = on_stored
        self._monotonic = monotonic
        self._failures = FailureLimit()
        self.accepted = 0
        self.refused = 0
        self.port = 0  # where it listens, once started (the tests ask for port 0)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/alerts", self.receive)
        app.router.add_post("/alerts/{secret}", self.receive)
        return app

    async def run(self, stop: asyncio.Event) -> None:
        host, port = parse_listen(self._settings().ingest.listen)
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        logger.info("alerts: ingest listening on {}:{}", host, self.port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    def _client(self, request: web.Request) -> str:
        peer = request.remote or "unknown"
        forwarded = request.headers.get("X-Forwarded-For")
        if forwarded and peer in self._settings().ingest.trusted_proxies:
            return forwarded.split(",")[0].strip()
        return peer

    async def receive(self, request: web.Request) -> web.Response:
        client = self._client(request)
        now = self._monotonic()
        wait = self._failures.retry_after(client, now)
        if wait is not None:
            return web.Response(status=429, text="too many failed attempts",
                                headers={"Retry-After": str(int(wait + 0.999))})  # fmt: skip
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return answer(413, error=f"the body is larger than {MAX_BODY // 1024} KiB")
        secret = self._settings().ingest.secret
        by_transport = (
            _same(request.match_info.get("secret"), secret)
            or _same(request.headers.get(SECRET_HEADER), secret)
            or signed(raw, request.headers.get(SIGNATURE_HEADER), secret)
        )
        try:
            posted = read_body(raw, request.content_type)
        except BadBody as exc:
            if not by_transport:
                return self._unauthorized(client, now)
            self.refused += 1
            return answer(400, error=str(exc))
        if not by_transport and not _same(posted.passphrase, secret):
            return self._unauthorized(client, now)
        key = request.headers.get(KEY_HEADER) or posted.idempotency_key
        if key is not None and not 0 < len(key) <= 128:
            return answer(400, error="an idempotency key is 1 to 128 characters")
        alert_id, replayed = await self._store_alert(posted, key)
        if not replayed:
            self.accepted += 1
            logger.info("alerts: ingested alert #{} ({}) from {}", alert_id,
                        posted.labels.get("kind"), client)  # fmt: skip
            self._on_stored()
        return answer(202, id=alert_id, replayed=replayed)

    def _unauthorized(self, client: str, now: float) -> web.Response:
        self._failures.failed(client, now)
        self.refused += 1
        logger.warning("alerts: ingest refused a request from {}: missing or wrong secret", client)
        return answer(401, error="missing or wrong secret")

    async def _store_alert(self, posted: Posted, key: str | None) -> tuple[int, bool]:
        alert_key = f"ingest:{key}" if key else f"ingest:{uuid.uuid4()}"
        labels = {**posted.labels, "source": "ingest", "id": alert_key}
        # Unfenced: a standby stores alerts too (their keys make a repeat a no-op).
        async with self._store.transaction(fenced=False):
            found = stored.find(alert_key)
            if found is not None:
                return found, True
            alert_id = stored.add(alert_key, fingerprint(labels), labels, posted.text,
                                  self._clock())  # fmt: skip
            if alert_id is None:
                # Another node stored the same key meanwhile (a proxy that targets both):
                # its row is committed and visible now.
                again = stored.find(alert_key)
                assert again is not None
                return again, True
            return alert_id, False

    def health(self) -> str | None:
        return f"ok: listening on port {self.port}, {self.accepted} accepted"

    def facts(self) -> Mapping[str, int | str]:
        return {"accepted": self.accepted, "refused": self.refused}
