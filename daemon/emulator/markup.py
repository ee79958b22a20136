"""reply_markup validation, with Telegram's error texts."""

from __future__ import annotations

from typing import Any

from daemon.emulator.errors import ApiError, bad_request

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "web_app",
    "login_url",
    "pay",
    "copy_text",
    "callback_game",
    "switch_inline_query_chosen_chat",
)
_CANT_PARSE = "can't parse reply keyboard markup JSON object"


def validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    """The markup to store, or ApiError(400) naming what is wrong."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request(_CANT_PARSE)
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not _is_rows(rows) or not all(
            isinstance(b, str) or (isinstance(b, dict) and isinstance(b.get("text"), str))
            for row in rows
            for b in row
        ):
            raise bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
            )
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request(_CANT_PARSE)


def _is_rows(rows: Any) -> bool:
    return isinstance(rows, list) and all(isinstance(row, list) for row in rows)


def _check_inline_keyboard(rows: Any) -> None:
    if not _is_rows(rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [a for a in _INLINE_ACTIONS if a in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
