"""/routes, /mute and /unmute on a real SQLite database: the tree and receivers as the
config says (never a receiver URL), silences set, listed and ended, bad text refused
with the reason and nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.store.database import execute
from tests.support.commands import CommandHarness, make_harness

ADMIN = 7
CONFIG = """
[[alerts.receivers]]
name = "admins"
telegram = [7]

[[alerts.receivers]]
name = "ops"
apprise = ["json://127.0.0.1:9/secret-path"]

[alerts.route]
receiver = "admins"

[[alerts.route.routes]]
matchers = ['severity="critical"']
receiver = "ops"
continue = true
"""


@pytest.fixture
def harness(tmp_path: Path) -> CommandHarness:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    return make_harness(tmp_path, admin_ids=str(ADMIN), TRADEBOTD_CONFIG=str(config))


async def say(h: CommandHarness, text: str) -> str:
    return h.text(await h.run(text, ADMIN))


async def test_routes_shows_the_tree_and_receivers_never_their_urls(
    harness: CommandHarness,
) -> None:
    shown = await say(harness, "/routes")
    assert shown.splitlines() == [
        "Alert routes",
        "root: everything → admins (group by kind, symbol; wait 0s, interval 1m, repeat 4h)",
        '  root.0: severity="critical" → ops, continue (group by kind, symbol; wait 0s, '
        "interval 1m, repeat 4h)",
        "receiver admins: 1 Telegram chats, 0 Apprise targets; waiting 0, dead letters 0",
        "receiver ops: 0 Telegram chats, 1 Apprise targets; waiting 0, dead letters 0",
    ]
    assert "secret-path" not in shown
    assert await say(harness, "/routes test nobody") == (
        "No receiver 'nobody' (receivers: admins, ops)."
    )


async def test_silences_are_set_listed_and_ended(harness: CommandHarness) -> None:
    assert await say(harness, "/mute") == (
        "No silence is active. /mute MATCHERS DURATION [comment] sets one."
    )
    set_text = await say(harness, "/mute severity=info symbol=~“BTC.*” 2h during the upgrade")
    assert set_text.startswith('Silence #1\nseverity="info" symbol=~"BTC.*" muted until ')
    assert set_text.endswith("UTC (during the upgrade). /unmute 1 ends it.")
    listed = await say(harness, "/mute")
    assert listed.startswith('Active silences\n#1 severity="info" symbol=~"BTC.*" until ')
    assert await say(harness, "/unmute 1") == "Silence #1 ended."
    assert await say(harness, "/unmute 1") == "No active silence #1."
    assert await say(harness, "/unmute one") == "Usage: /unmute ID (the number /mute gave)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("/mute 2h", "Not muted: give at least one matcher first, e.g. severity=info"),
        ("/mute sev=~( 2h", "Not muted: 'sev=~(' is not a valid regular expression (missing ), "
                            "unterminated subpattern at position 0)"),
        ("/mute severity=info forever", "Not muted: after the matchers comes a duration like "
                                        "30m, 2h or 1d, got 'forever'"),
    ],
)  # fmt: skip
async def test_bad_mutes_are_refused_and_store_nothing(
    harness: CommandHarness, text: str, reason: str
) -> None:
    assert await say(harness, text) == reason
    assert execute("SELECT COUNT(*) FROM alert_silence").fetchone()[0] == 0


async def test_without_routes_it_says_how_to_add_them(tmp_path: Path) -> None:
    bare = make_harness(tmp_path, admin_ids=str(ADMIN))
    assert await say(bare, "/routes") == (
        "No alert routing: add [alerts.route] and [[alerts.receivers]] (docs/alerts.md)."
    )
