"""Settings declared by dataclass fields: nested tables and arrays of tables read with
errors that name the full path and quote the value (secrets never), retired keys warn,
and a feature package adds its own section without config.py knowing it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from daemon import config
from daemon import settings_schema as declare
from daemon.commands.settings import effective
from daemon.config import ConfigError, load_settings
from daemon.settings_schema import SchemaError, read_table

BASE = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35}


def _regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error:
        raise ValueError("is not a valid regular expression") from None


def _matcher(text: str) -> None:
    """label=value, label!=value, or a regular expression after =~ or !~."""
    parts = re.split(r"(=~|!~|!=|=)", text, maxsplit=1)
    if len(parts) != 3:
        raise ValueError("is not label=value, label!=value, label=~regex or label!~regex")
    if parts[1] in ("=~", "!~"):
        _regex(parts[2])


@dataclass(frozen=True)
class Route:
    receiver: str = ""
    matchers: tuple[str, ...] = field(default=(), metadata=declare.text(_matcher))
    group_wait: float = field(default=30.0, metadata=declare.seconds(0, 3600))
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class Receiver:
    name: str
    url: str = field(default="", metadata=declare.text(secret=True))


@dataclass(frozen=True)
class Alerts:
    RETIRED: ClassVar[dict[str, str]] = {"targets": "alerts.receivers (arrays of tables)"}

    receivers: tuple[Receiver, ...] = ()
    route: Route = field(default_factory=Route)


def read(document: dict[str, object]) -> tuple[Alerts, list[str]]:
    warnings: list[str] = []
    return read_table(Alerts, document, "alerts", warnings), warnings


def error(document: dict[str, object]) -> str:
    with pytest.raises(SchemaError) as raised:
        read(document)
    return str(raised.value)


def test_nested_tables_and_arrays_of_tables_are_read() -> None:
    alerts, warnings = read(
        {
            "receivers": [{"name": "ops", "url": "https://hooks.example/abc"}],
            "route": {
                "receiver": "ops",
                "group_wait": "0s",
                "routes": [{"receiver": "pager", "matchers": ["severity=critical"]}],
            },
        }
    )
    assert alerts.receivers == (Receiver("ops", "https://hooks.example/abc"),)
    assert alerts.route.group_wait == 0.0
    assert alerts.route.routes == (Route("pager", ("severity=critical",)),)
    assert warnings == []


def test_an_error_deep_inside_names_the_full_path_and_quotes_the_value() -> None:
    routes = [{}, {}, {"matchers": ["team=ops", "sev=~("]}]
    assert error({"route": {"routes": routes}}) == (
        "alerts.route.routes[2].matchers[1]: 'sev=~(' is not a valid regular expression"
    )
    assert error({"route": {"routes": [{"group_wait": "soon"}]}}) == (
        "alerts.route.routes[0].group_wait: 'soon' is not a duration "
        "(seconds, or a number with s, m, h or d)"
    )
    assert error({"route": {"routes": [{"recever": "x"}]}}) == (
        "alerts.route.routes[0]: unknown key 'recever' (known: receiver, matchers, "
        "group_wait, routes)"
    )
    assert error({"receivers": [{"url": "https://x"}]}) == "alerts.receivers[0]: missing key 'name'"
    assert error({"receivers": {"name": "ops"}}) == (
        "alerts.receivers: must be an array, got {'name': 'ops'}"
    )


def test_a_secret_value_is_never_quoted_in_an_error() -> None:
    message = error({"receivers": [{"name": "ops", "url": 12345}]})
    assert message == "alerts.receivers[0].url: must be a string, got <redacted>"


def test_a_retired_key_loads_with_a_warning_naming_its_replacement() -> None:
    alerts, warnings = read({"targets": ["x"]})
    assert alerts == Alerts()
    assert warnings == ["alerts.targets is retired: alerts.receivers (arrays of tables)"]


@pytest.fixture
def alerts_section(monkeypatch: pytest.MonkeyPatch) -> None:
    """The section registered as a feature package would at import (undone after)."""
    monkeypatch.setattr(config, "_FEATURE_SECTIONS", {})
    config.register_section("alerts", Alerts)


@pytest.mark.usefixtures("alerts_section")
def test_a_feature_section_is_loaded_shown_and_validated_by_path(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[alerts.receivers]]\nname = "ops"\nurl = "https://hooks.example/s3cret"\n'
        '[alerts.route]\nreceiver = "ops"\n[[alerts.route.routes]]\nreceiver = "pager"\n'
    )
    settings = load_settings({**BASE, "TRADEBOTD_CONFIG": str(path)})
    assert settings.section("alerts").route.routes[0].receiver == "pager"
    rows = dict(effective(settings))
    assert rows["[alerts] receivers"] == f"1 entry ({path})"
    assert rows["[alerts] route.group_wait"] == f"30 ({path})"
    assert "s3cret" not in str(rows)
    path.write_text('[alerts.route]\nmatchers = ["sev=~("]\n')
    with pytest.raises(ConfigError) as raised:
        load_settings({**BASE, "TRADEBOTD_CONFIG": str(path)})
    assert str(raised.value) == (
        f"{path}: alerts.route.matchers[0]: 'sev=~(' is not a valid regular expression"
    )


@pytest.mark.usefixtures("alerts_section")
def test_without_the_file_a_feature_section_has_its_defaults() -> None:
    assert load_settings(BASE).section("alerts") == Alerts()


@pytest.mark.usefixtures("alerts_section")
def test_a_section_name_cannot_be_declared_twice() -> None:
    with pytest.raises(ValueError, match=r"settings section \[polling\] is declared twice"):
        config.register_section("polling", Alerts)
    with pytest.raises(ValueError, match=r"settings section \[alerts\] is declared twice"):
        config.register_section("alerts", Route)
