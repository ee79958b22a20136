"""The doctor's facts from the Bot API: getMe and getWebhookInfo, never getUpdates (a
poll would fight the running poller for the token)."""

from __future__ import annotations

from typing import Any

import httpx

from daemon.ops.doctor.checks import RESTART, Check, fail, ok

TIMEOUT = 10.0
TOKEN_FIX = (
    "put the token from @BotFather in TELEGRAM_BOT_TOKEN (/etc/tradebotd/env), then " + RESTART
)


class BotApiProblem(Exception):
    """str() says what went wrong, without the request's URL (it holds the token);
    `status` is the HTTP status, when an answer came."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def call(api_url: str, token: str, method: str) -> Any:
    try:
        response = httpx.post(f"{api_url}/bot{token}/{method}", timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise BotApiProblem(f"cannot reach {api_url}: {type(exc).__name__}") from None
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        raise BotApiProblem(f"{method} answered HTTP {status}, not JSON", status) from None
    if not isinstance(body, dict) or not body.get("ok"):
        described = body.get("description") if isinstance(body, dict) else None
        raise BotApiProblem(f"{method}: {status} {described or 'error'}", status)
    return body.get("result")


def token_check(api_url: str, token: str) -> tuple[Check, bool]:
    """The check, and whether the token works (the webhook check needs it)."""
    try:
        me = call(api_url, token, "getMe")
    except BotApiProblem as exc:
        fix = (
            TOKEN_FIX
            if exc.status == 401  # Telegram's answer to a revoked or wrong token
            else f"check the host's network and TELEGRAM_API_URL ({api_url})"
        )
        return fail("token", str(exc), fix), False
    return ok("token", f"@{me.get('username')} (id {me.get('id')})"), True


def webhook_info(api_url: str, token: str) -> dict[str, Any]:
    info = call(api_url, token, "getWebhookInfo")
    if not isinstance(info, dict):
        raise BotApiProblem("getWebhookInfo answered something that is not an object")
    return info
