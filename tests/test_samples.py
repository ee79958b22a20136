"""The shipped samples in etc/ load as they are (once a token is filled in)."""

from __future__ import annotations

from pathlib import Path

from daemon.config import (
    HaSettings,
    NotifySettings,
    PollingSettings,
    TelegramSettings,
    load_settings,
)
from daemon.prices.settings import PricesSettings
from daemon.trading.settings import PaperSettings
from tests.support.processes import REPO

ETC = REPO / "etc"
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_the_config_sample_states_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "TRADEBOTD_CONFIG": str(ETC / "config.toml.sample")}
    )
    assert settings.polling == PollingSettings()
    assert settings.telegram == TelegramSettings()
    assert settings.notify == NotifySettings()
    assert settings.digest.timezone == "UTC"
    assert settings.section("paper") == PaperSettings()
    assert settings.section("prices") == PricesSettings()
    assert settings.ha == HaSettings()


def test_the_env_sample_needs_only_a_token_and_admins() -> None:
    values = env_file(ETC / "tradebotd.env.sample")
    assert set(values) == {
        "TELEGRAM_BOT_TOKEN",
        "ADMIN_IDS",
        "POLLING_ENABLED",
        "TRADEBOTD_CONFIG",
        # what systemd sets for the service, written out for the tools run by hand
        "STATE_DIRECTORY",
    }
    values.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        ADMIN_IDS="42",
        TRADEBOTD_CONFIG=str(ETC / "config.toml.sample"),
    )
    settings = load_settings(values)
    assert settings.polling_enabled is True
    assert settings.admin_ids == frozenset({42})
    assert settings.state_directory == Path("/var/lib/tradebotd")
