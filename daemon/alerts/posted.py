"""What `POST /alerts` may carry, read strictly into labels and a text. Pure.

Three bodies: our own JSON (`{"labels": {…}, "text": "…", "idempotency_key": "…"}`), a
TradingView alert (`ticker`, `action`, `price`, `message`, `passphrase`, `severity`, …:
the ticker becomes the `symbol` label) and plain text (an info alert). Anything else is
refused with the reason, and nothing is stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from daemon.alerts.model import SEVERITIES

MAX_LABELS = 30
MAX_VALUE = 200
MAX_TEXT = 4000
MAX_KEY = 128
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
OWN_KEYS = {"labels", "text", "idempotency_key", "passphrase"}
TRADINGVIEW_KEYS = {"ticker", "action", "price", "message", "passphrase", "severity",
                    "exchange", "interval", "time", "idempotency_key"}  # fmt: skip


class BadBody(ValueError):
    """str() is the reason the 400 answer gives."""


@dataclass(frozen=True)
class Posted:
    labels: dict[str, str]
    text: str
    idempotency_key: str | None = None
    passphrase: str | None = None


def _text(value: object, what: str, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadBody(f"{what} must be a string, got {type(value).__name__}")
    text = str(value)
    if len(text) > limit:
        raise BadBody(f"{what} is longer than {limit} characters")
    return text


def _severity(value: object) -> str:
    severity = _text(value, "severity", MAX_VALUE).lower()
    if severity not in SEVERITIES:
        raise BadBody(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    return severity


def _optional(body: dict[str, object], name: str, limit: int) -> str | None:
    return None if body.get(name) is None else _text(body[name], name, limit)


def _own(body: dict[str, object]) -> Posted:
    raw = body.get("labels")
    if not isinstance(raw, dict):
        raise BadBody("labels must be a JSON object of strings")
    if len(raw) > MAX_LABELS:
        raise BadBody(f"at most {MAX_LABELS} labels")
    labels = {}
    for name, value in raw.items():
        if not _LABEL.fullmatch(name):
            raise BadBody(f"{name[:40]!r} is not a label name")
        if not isinstance(value, str):
            raise BadBody(f"label {name} must be a string, got {type(value).__name__}")
        labels[name] = _text(value, f"label {name}", MAX_VALUE)
    labels["severity"] = _severity(labels.get("severity", "info"))
    labels.setdefault("kind", "ingest")
    text = _text(body.get("text", ""), "text", MAX_TEXT) or " ".join(
        f"{k}={v}" for k, v in sorted(labels.items())
    )
    return Posted(labels, text, _optional(body, "idempotency_key", MAX_KEY),
                  _optional(body, "passphrase", MAX_VALUE))  # fmt: skip


def _tradingview(body: dict[str, object]) -> Posted:
    labels = {"kind": "tradingview", "severity": _severity(body.get("severity", "info"))}
    for name, label in (("ticker", "symbol"), ("action", "action"), ("exchange", "exchange"),
                        ("interval", "interval")):  # fmt: skip
        value = _optional(body, name, MAX_VALUE)
        if value:
            labels[label] = value
    message = _optional(body, "message", MAX_TEXT)
    price = _optional(body, "price", MAX_VALUE)
    if not message and not ("symbol" in labels and "action" in labels):
        raise BadBody("a TradingView alert needs a message, or a ticker and an action")
    text = message or " ".join(
        part for part in (labels["action"], labels["symbol"], price and f"at {price}") if part
    )
    return Posted(labels, text, _optional(body, "idempotency_key", MAX_KEY),
                  _optional(body, "passphrase", MAX_VALUE))  # fmt: skip


def read_body(raw: bytes, content_type: str) -> Posted:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("the body is not UTF-8") from None
    if not decoded.strip():
        raise BadBody("the body is empty")
    if content_type != "application/json" and not decoded.lstrip().startswith("{"):
        text = decoded.strip()
        if len(text) > MAX_TEXT:
            raise BadBody(f"the text is longer than {MAX_TEXT} characters")
        return Posted({"kind": "ingest", "severity": "info"}, text)
    try:
        body = json.loads(decoded)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise BadBody(f"the body is not valid JSON ({exc.msg} at {where})") from None
    if not isinstance(body, dict):
        raise BadBody(f"the body must be a JSON object, got a JSON {type(body).__name__}")
    keys = set(body)
    if "labels" in body:
        unknown = sorted(keys - OWN_KEYS)
        read = _own
    else:
        unknown = sorted(keys - TRADINGVIEW_KEYS)
        read = _tradingview
    if unknown:
        known = ", ".join(sorted(OWN_KEYS if "labels" in body else TRADINGVIEW_KEYS))
        raise BadBody(f"unknown key {unknown[0][:40]!r} (known: {known})")
    return read(body)
