"""The `/bot{token}/{method}` endpoint: authentication, faults, parameters, counting."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from typing import Any

from aiohttp import web

from daemon.emulator.errors import (
    CONFLICT_OTHER_POLL,
    CONFLICT_SET_WEBHOOK,
    CONFLICT_WEBHOOK_ACTIVE,
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    conflict,
    too_many_requests,
)
from daemon.emulator.faults import Fault
from daemon.emulator.methods import METHODS, Method
from daemon.emulator.params import Params, Upload, params_from_json_body
from daemon.emulator.registry import Emulator
from daemon.emulator.runtime import Caller, EmulatedBot

EMULATOR_KEY = web.AppKey("emulator", Emulator)
DESCRIPTION = "description"  # key of the error text in a response's own mapping
CLIENT_GONE = 499  # nginx's code for "client closed the request", used in counters only
_CONFLICT_TEXTS = {
    "getupdates": CONFLICT_OTHER_POLL,
    "webhook": CONFLICT_WEBHOOK_ACTIVE,
    "setwebhook": CONFLICT_SET_WEBHOOK,
}
_GATEWAY_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx/1.18.0"
    "</center>\r\n</body>\r\n</html>\r\n"
)


def error_response(error: ApiError) -> web.Response:
    headers = {}
    if error.parameters and "retry_after" in error.parameters:
        headers["Retry-After"] = str(error.parameters["retry_after"])
    response = web.json_response(error.body(), status=error.code, headers=headers)
    response[DESCRIPTION] = error.description  # for the counters, without re-parsing
    return response


def caller_of(request: web.Request) -> Caller:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    connection = f"{peer[0]}:{peer[1]}" if peer else "unknown"
    return Caller(request.headers.get("User-Agent", ""), connection)


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            values.update(params_from_json_body(await request.read()))
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[name] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[name] = value
    return Params(values, uploads)


async def inflict(fault: Fault, request: web.Request) -> web.StreamResponse | None:
    """The response a fault replaces the real one with; None lets the call proceed."""
    if fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.kind == "reset":
        sock = request.transport.get_extra_info("socket") if request.transport else None
        if sock is not None:
            # Linger 0 turns close() into a TCP RST, as a crashing proxy would send.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    if fault.kind == "bad_json":
        return web.Response(
            body=b'{"ok":true,"result":[{"update_id":', status=200, content_type="application/json"
        )
    if fault.kind == "conflict":
        return error_response(conflict(_CONFLICT_TEXTS[fault.reason]))
    if fault.kind == "flood":
        return error_response(too_many_requests(fault.retry_after))
    status = int(fault.status)
    if status in (502, 504):
        reason = "Bad Gateway" if status == 502 else "Gateway Time-out"
        return web.Response(
            text=_GATEWAY_PAGE.format(code=status, reason=reason),
            status=status,
            content_type="text/html",
        )
    return error_response(ApiError(status, "Internal Server Error"))


async def call(
    bot: EmulatedBot, name: str, method: Method, request: web.Request, caller: Caller
) -> web.StreamResponse:
    fault = bot.faults.take(name, caller.user_agent)
    if fault is not None:
        replaced = await inflict(fault, request)
        if replaced is not None:
            return replaced
    try:
        params = await read_params(request)
        result = await method(bot, params, caller)
    except ApiError as error:
        return error_response(error)
    return web.Response(
        text=json.dumps({"ok": True, "result": result}), content_type="application/json"
    )


async def handle_api(request: web.Request) -> web.StreamResponse:
    bot = request.app[EMULATOR_KEY].by_token.get(request.match_info["token"])
    if bot is None:
        return error_response(UNAUTHORIZED)
    caller = caller_of(request)
    entry = METHODS.get(request.match_info["method"].lower())
    name = entry[0] if entry else request.match_info["method"]
    status, description = CLIENT_GONE, None
    try:
        response = (
            error_response(NOT_FOUND)
            if entry is None
            else await call(bot, name, entry[1], request, caller)
        )
        status, description = response.status, response.get(DESCRIPTION)
        return response
    finally:
        bot.counters.record(name, caller.user_agent, caller.connection, status, description)


async def handle_unknown_path(request: web.Request) -> web.StreamResponse:
    return error_response(NOT_FOUND)
