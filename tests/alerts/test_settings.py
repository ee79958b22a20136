"""`[alerts]`: the issue's example loads into the tree it describes (inheritance
included), secrets reach the redactor and never /config, and every error names the file,
the path in it and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.alerts.settings import AlertsSettings
from daemon.commands.settings import effective
from daemon.config import ConfigError
from tests.support.config import settings_from

EXAMPLE = """
[alerts.ingest]
listen = "127.0.0.1:8787"
secret = "ingest-secret-0123"

[[alerts.receivers]]
name = "admins"
telegram = [111111111, -1001234567890, "@trading_desk"]

[[alerts.receivers]]
name = "ops"
apprise = ["discord://webhook-id/webhook-token", "json://127.0.0.1:9000/alerts"]

[alerts.route]
receiver = "admins"
group_by = ["kind", "symbol"]
group_wait = 0
group_interval = "1m"
repeat_interval = "4h"

[[alerts.route.routes]]
matchers = ['severity="critical"']
receiver = "ops"
continue = true

[[alerts.route.routes]]
matchers = ["kind=~autosell|fill"]
group_wait = "10s"
"""


def test_the_example_loads_into_its_tree_and_hides_its_secrets(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, EXAMPLE)
    alerts: AlertsSettings = settings.section("alerts")
    tree = alerts.tree()
    assert tree is not None
    critical, trades = tree.routes
    assert (critical.receiver, critical.carry_on, critical.timing.repeat_interval) == (
        "ops", True, 4 * 3600.0,
    )  # fmt: skip
    # Unset keys come from the parent: receiver, group_by, the other timings.
    assert (trades.receiver, trades.group_by, trades.timing.group_wait) == (
        "admins", ("kind", "symbol"), 10.0,
    )  # fmt: skip
    assert alerts.receivers[0].telegram == (111111111, -1001234567890, "@trading_desk")
    for secret in ("ingest-secret-0123", "discord://webhook-id/webhook-token"):
        assert secret in settings.secrets
    shown = "\n".join(f"{key} {value}" for key, value in effective(settings))
    assert "webhook-token" not in shown
    assert "ingest-secret-0123" not in shown


RECEIVERS = '[[alerts.receivers]]\nname = "admins"\ntelegram = [1]\n'


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        (RECEIVERS + '[alerts.route]\nreceiver = "opz"\n',
         "alerts.route.receiver: 'opz' is not a receiver (receivers: admins)"),
        (RECEIVERS + '[alerts.route]\nreceiver = "admins"\n[[alerts.route.routes]]\n'
         'receiver = "ops"\n',
         "alerts.route.routes[0].receiver: 'ops' is not a receiver (receivers: admins)"),
        (RECEIVERS + "[alerts.route]\ngroup_wait = 0\n",
         "alerts.route.receiver: the root route needs a receiver"),
        (RECEIVERS + '[alerts.route]\nreceiver = "admins"\nmatchers = ["a=b"]\n',
         "alerts.route.matchers: the root route matches every alert; it takes none"),
        (RECEIVERS + '[alerts.route]\nreceiver = "admins"\n[[alerts.route.routes]]\n'
         "[[alerts.route.routes.routes]]\n[[alerts.route.routes.routes.routes]]\n"
         'matchers = ["sev=~("]\n',
         "alerts.route.routes[0].routes[0].routes[0].matchers[0]: 'sev=~(' is not a valid "
         "regular expression (missing ), unterminated subpattern at position 0)"),
        (RECEIVERS + '[alerts.route]\nreceiver = "admins"\nrepeat_interval = "10s"\n',
         "alerts.route.repeat_interval: must be between 60 and 2.592e+06, got 10.0"),
        (RECEIVERS + '[alerts.route]\nreceiver = "admins"\nrepeat = "4h"\n',
         "alerts.route: unknown key 'repeat' (known: receiver, matchers, group_by, "
         "group_wait, group_interval, repeat_interval, continue, routes)"),
        (RECEIVERS + RECEIVERS,
         "alerts.receivers: 'admins' is named twice"),
        ('[[alerts.receivers]]\nname = "ops"\napprise = ["discord-webhook"]\n',
         "alerts.receivers[0].apprise[0]: <redacted> is not an Apprise URL (scheme://…, "
         "e.g. discord://…)"),
        ('[[alerts.receivers]]\nname = "ops"\ntelegram = ["trading_desk"]\n',
         "alerts.receivers[0].telegram[0]: 'trading_desk' is not a chat id or a @channel "
         "username"),
        ('[[alerts.receivers]]\nname = "ops"\ntelegram = [1.5]\n',
         "alerts.receivers[0].telegram[0]: must be int or str, got 1.5"),
        ('[[alerts.receivers]]\nname = "ops"\n',
         "alerts.receivers[0].telegram: a receiver needs telegram chats or apprise URLs"),
        ('[alerts.ingest]\nlisten = "8787"\n',
         "alerts.ingest.listen: '8787' is not HOST:PORT"),
    ],
)  # fmt: skip
def test_errors_name_the_file_the_path_and_the_problem(
    tmp_path: Path, toml: str, error: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_from(tmp_path, toml)
    assert str(refused.value) == f"{tmp_path / 'config.toml'}: {error}"
