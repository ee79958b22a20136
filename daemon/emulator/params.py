"""Bot API parameters: read from any of the body kinds Telegram accepts, coerced per method.

Telegram takes parameters from the query string, a JSON body, a urlencoded form or a
multipart form; in the non-JSON kinds every value is a string, and objects (reply_markup,
commands, scope, allowed_updates) are JSON text. Integer arguments that do not parse read
as 0 and are then clamped, as the Bot API server's `get_integer_arg` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from daemon.emulator.errors import ApiError, bad_request


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Params:
    values: dict[str, Any]
    uploads: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def integer(
        self, name: str, default: int, low: int | None = None, high: int | None = None
    ) -> int:
        value = self.values.get(name)
        if value in (None, ""):
            number = default
        elif isinstance(value, bool):
            number = int(value)
        elif isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                number = 0
        if low is not None:
            number = max(low, number)
        if high is not None:
            number = min(high, number)
        return number

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"1", "true", "yes"} if value is not None else False

    def chat_id(self) -> int:
        """The target chat; Telegram calls both a missing and an unknown one 'chat not found'."""
        value = self.values.get("chat_id")
        if value in (None, ""):
            raise bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value).strip())
        except ValueError as exc:
            raise bad_request("chat not found") from exc

    def json_object(self, name: str, what: str) -> Any:
        """A JSON-typed parameter; malformed JSON is a 400 naming `what`."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise bad_request(f"can't parse {what} JSON object") from exc
        return value


def params_from_json_body(raw: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "Bad Request: can't parse JSON object") from exc
    if not isinstance(decoded, dict):
        raise ApiError(400, "Bad Request: JSON object expected")
    return decoded
