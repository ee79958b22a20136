"""The `tradebotd` command: parses arguments and runs one subcommand."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from daemon import __version__

EX_USAGE = 64
EX_UNAVAILABLE = 69


def emulator_command(args: argparse.Namespace) -> int:
    from daemon.emulator.flood import FloodSettings
    from daemon.emulator.registry import TokenError
    from daemon.emulator.server import EmulatorOptions, NotLoopbackError, serve_until_signalled

    options = EmulatorOptions(
        host=args.host,
        port=args.port,
        tokens=args.token,
        flood=FloodSettings(enabled=not args.no_flood),
        webhook_retry_seconds=args.webhook_retry,
        port_file=args.port_file,
    )
    try:
        asyncio.run(serve_until_signalled(options))
    except (NotLoopbackError, TokenError) as exc:
        print(f"tradebotd emulator: {exc}", file=sys.stderr)
        return EX_USAGE
    except OSError as exc:
        # asyncio's message repeats the address; the errno text alone is the news.
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        print(
            f"tradebotd emulator: cannot listen on {args.host}:{args.port}: {reason}",
            file=sys.stderr,
        )
        return EX_UNAVAILABLE
    return 0


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradebotd", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tradebotd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    emulator = commands.add_parser(
        "emulator", help="serve a local Telegram Bot API emulator (tests and the sandbox)"
    )
    emulator.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    emulator.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    emulator.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="register a bot with this token (repeatable); more can be "
        "created through the control API",
    )
    emulator.add_argument(
        "--no-flood",
        action="store_true",
        help="switch off 429 flood control (on by default, as on Telegram)",
    )
    emulator.add_argument(
        "--webhook-retry",
        type=positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="first delay before re-delivering to a failing webhook",
    )
    emulator.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    emulator.set_defaults(handler=emulator_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
