"""A small synchronous client for the emulator's control API (tests and the sandbox).

emulator = EmulatorClient("http://127.0.0.1:8081")
bot = emulator.create_bot()
bot.send_text(from_user=42, text="/start")
replies = bot.wait_for_sent(chat_id=42, count=1)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx

PREFIX = "/_emulator"


class ControlApiError(RuntimeError):
    """The control API refused a request; str() is its explanation."""


class EmulatorClient:
    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url + PREFIX, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EmulatorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, verb: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(verb, path, json=body)
        data = response.json()
        if not data.get("ok"):
            raise ControlApiError(f"{verb} {path}: {data.get('error')}")
        return data["result"]

    def create_bot(
        self,
        token: str | None = None,
        username: str | None = None,
        flood: dict[str, Any] | None = None,
    ) -> BotControl:
        body: dict[str, Any] = {}
        if token is not None:
            body["token"] = token
        if username is not None:
            body["username"] = username
        if flood is not None:
            body["flood"] = flood
        summary = self.request("POST", "/bots", body)
        return BotControl(self, summary["id"], summary["token"])

    def bot(self, bot_id: int) -> BotControl:
        summary = self.request("GET", f"/bots/{bot_id}")
        return BotControl(self, summary["id"], summary["token"])


@dataclass
class BotControl:
    """Control of one emulated bot: play its users, read what it did, break its world."""

    emulator: EmulatorClient
    id: int
    token: str

    @property
    def api_root(self) -> str:
        """The Bot API root to give a client: requests go to {root}/bot{token}/{method}."""
        return self.emulator.base_url

    @property
    def base_url(self) -> str:
        """python-telegram-bot's `base_url` (it appends the token)."""
        return f"{self.emulator.base_url}/bot"

    def _call(self, verb: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.emulator.request(verb, f"/bots/{self.id}{path}", body)

    def _object(self, verb: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return cast(dict[str, Any], self._call(verb, path, body))

    def _list(
        self, verb: str, path: str, body: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._call(verb, path, body))

    def summary(self) -> dict[str, Any]:
        return self._object("GET", "")

    # people and chats
    def create_user(
        self, user_id: int | None = None, first_name: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        body = {
            k: v
            for k, v in (("id", user_id), ("first_name", first_name), ("username", username))
            if v is not None
        }
        return self._object("POST", "/users", body)

    def block(self, user_id: int, blocked: bool = True, notify: bool = True) -> dict[str, Any]:
        """The user blocks (or unblocks) the bot, as Telegram's client does."""
        return self._object(
            "POST", f"/users/{user_id}/block", {"blocked": blocked, "notify": notify}
        )

    def create_group(self, title: str = "Group", supergroup: bool = False) -> dict[str, Any]:
        return self._object(
            "POST", "/chats", {"title": title, "type": "supergroup" if supergroup else "group"}
        )

    # what users do
    def send_text(self, from_user: int, text: str, chat_id: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"from": from_user, "text": text}
        if chat_id is not None:
            body["chat_id"] = chat_id
        return self._object("POST", "/messages", body)

    def press(
        self,
        from_user: int,
        message_id: int,
        data: str,
        chat_id: int | None = None,
        forge: bool = False,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "from": from_user,
            "message_id": message_id,
            "data": data,
            "forge": forge,
        }
        if chat_id is not None:
            body["chat_id"] = chat_id
        return self._object("POST", "/callbacks", body)

    def callback_answer(self, query_id: str) -> dict[str, Any]:
        return self._object("GET", f"/callbacks/{query_id}")

    # what the bot did
    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return self._list("GET", "/sent" + (f"?chat_id={chat_id}" if chat_id is not None else ""))

    def wait_for_sent(
        self,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[dict[str, Any]], bool] = lambda m: True,
    ) -> list[dict[str, Any]]:
        """The sent messages matching `where`, once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [m for m in self.sent(chat_id) if where(m)]
            if len(matching) >= count or time.monotonic() > deadline:
                if len(matching) < count:
                    raise TimeoutError(
                        f"{len(matching)} of {count} messages after {timeout}s: {matching!r}"
                    )
                return matching
            time.sleep(0.05)

    def file(self, file_id: str) -> bytes:
        response = self.emulator._http.get(f"/bots/{self.id}/files/{file_id}")
        response.raise_for_status()
        return response.content

    def pending_updates(self) -> list[dict[str, Any]]:
        return self._list("GET", "/updates")

    def commands(self) -> list[dict[str, Any]]:
        return self._list("GET", "/commands")

    def inject_update(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update of `kind` with this payload, as given; its update_id."""
        answer = self._object("POST", "/updates", {"kind": kind, "payload": payload})
        return answer["update_id"]  # type: ignore[no-any-return]

    def restart_update_ids(self, next_id: int) -> None:
        """Telegram after a week without updates: ids start afresh at `next_id`."""
        self._call("POST", "/update_ids", {"next": next_id})

    def revoke_token(self) -> None:
        """The owner revoked the token: the Bot API answers 401 to it from now on."""
        self._call("POST", "/revoke", {})

    # the world around the bot
    def set_webhook_elsewhere(self, url: str, secret_token: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"url": url}
        if secret_token:
            body["secret_token"] = secret_token
        return self._object("POST", "/webhook", body)

    def delete_webhook_elsewhere(self) -> dict[str, Any]:
        return self._object("DELETE", "/webhook")

    def add_fault(
        self, kind: str, method: str = "*", times: int = 1, **details: Any
    ) -> list[dict[str, Any]]:
        return self._list(
            "POST", "/faults", {"kind": kind, "method": method, "times": times, **details}
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def counters(self) -> dict[str, Any]:
        return self._object("GET", "/counters")

    def polls(self) -> list[dict[str, Any]]:
        """Every getUpdates call (caller, started, ended, ended_by), oldest first."""
        return self._list("GET", "/polls")

    def reset_counters(self) -> None:
        self._call("DELETE", "/counters")

    def set_flood(self, **settings: Any) -> dict[str, Any]:
        return self._object("PUT", "/flood", settings)
