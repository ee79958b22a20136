"""Settings: defaults, every variable's validation, TOML strictness; exact error texts."""

from __future__ import annotations

from pathlib import Path

import pytest

import daemon.features  # noqa: F401  # the build's feature sections are known sections too
from daemon.config import ConfigError, PollingSettings, load_settings

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BASE = {"TELEGRAM_BOT_TOKEN": TOKEN}


def error_for(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    return str(caught.value)


def test_defaults_are_the_documented_ones() -> None:
    """With only a token: Telegram's API, no admins, polling off, ./var, SQLite there."""
    settings = load_settings(BASE)
    assert settings.api_url == "https://api.telegram.org"
    assert settings.admin_ids == frozenset()
    assert settings.polling_enabled is False
    assert settings.state_directory == Path("var")
    assert settings.database_url == "sqlite:///var/tradebotd.db"
    assert settings.heartbeat_interval == 60.0
    assert settings.log_level == "INFO"
    assert settings.polling == PollingSettings()
    assert settings.sources["ADMIN_IDS"] == "default"


def test_values_from_the_environment() -> None:
    """Each variable is read and normalised; POLLING_ENABLED is on only for exactly 1."""
    settings = load_settings(
        {
            **BASE,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "ADMIN_IDS": " 42, 7 ,",
            "POLLING_ENABLED": "1",
            "STATE_DIRECTORY": "/var/lib/tradebotd:/var/lib/other",
            "HEARTBEAT_INTERVAL": "15",
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.api_url == "http://127.0.0.1:8081"
    assert settings.admin_ids == frozenset({42, 7})
    assert settings.polling_enabled is True
    assert settings.state_directory == Path("/var/lib/tradebotd")
    assert settings.database_url == "sqlite:////var/lib/tradebotd/tradebotd.db"
    assert settings.heartbeat_interval == 15.0
    assert settings.log_level == "DEBUG"
    assert settings.sources["ADMIN_IDS"] == "environment"
    assert load_settings({**BASE, "POLLING_ENABLED": "yes"}).polling_enabled is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {},
            "TELEGRAM_BOT_TOKEN: not set (put the token from @BotFather in the env file; "
            "`make run` without a token starts the sandbox instead)",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:short"},
            "TELEGRAM_BOT_TOKEN: does not look like a bot token "
            "(expected <digits>:<secret> from @BotFather)",
        ),
        (
            {**BASE, "ADMIN_IDS": "42,bob"},
            "ADMIN_IDS: 'bob' is not a Telegram user id (expected comma-separated integers)",
        ),
        (
            {**BASE, "TELEGRAM_API_URL": "api.telegram.org"},
            "TELEGRAM_API_URL: 'api.telegram.org' is not an http(s) URL",
        ),
        (
            {**BASE, "HEARTBEAT_INTERVAL": "0"},
            "HEARTBEAT_INTERVAL: '0' is not a number of seconds between 1 and 86400",
        ),
        (
            {**BASE, "LOG_LEVEL": "loud"},
            "LOG_LEVEL: 'loud' is not one of TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL",
        ),
        (
            {**BASE, "DATABASE_URL": "mysql://db/x"},
            "DATABASE_URL: 'mysql://db/x' is not a sqlite:/// or postgresql:// URL",
        ),
        (
            # A password (with an '@' in it) is never quoted back.
            {**BASE, "DATABASE_URL": "mysql://bot:pa@ss@db/x"},
            "DATABASE_URL: 'mysql://bot:<redacted>@db/x' is not a sqlite:/// or postgresql:// URL",
        ),
        # Unicode digits pass str.isdigit() but are not numbers here.
        (
            {**BASE, "ADMIN_IDS": "4²"},
            "ADMIN_IDS: '4²' is not a Telegram user id (expected comma-separated integers)",
        ),
        (
            {**BASE, "ADMIN_IDS": "12345678901234567"},
            "ADMIN_IDS: '12345678901234567' is not a "
            "Telegram user id (expected comma-separated integers)",
        ),
        (
            {**BASE, "HEARTBEAT_INTERVAL": "nan"},
            "HEARTBEAT_INTERVAL: 'nan' is not a number of seconds between 1 and 86400",
        ),
        (
            {**BASE, "HEARTBEAT_INTERVAL": "inf"},
            "HEARTBEAT_INTERVAL: 'inf' is not a number of seconds between 1 and 86400",
        ),
        (
            {
                **BASE,
                "WEBHOOK_URL": "https://bot.example/hook",
                "WEBHOOK_SECRET": "abc",
                "WEBHOOK_LISTEN": "127.0.0.1:8²",
            },
            "WEBHOOK_LISTEN: '127.0.0.1:8²' is not HOST:PORT",
        ),
    ],
)
def test_bad_values_name_the_variable_and_quote_the_value(
    environ: dict[str, str], message: str
) -> None:
    assert error_for(environ) == message


def test_durations_take_seconds_or_a_unit(tmp_path: Path) -> None:
    """Existing numeric values keep working; strings carry a unit."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[polling]\nwatchdog_grace = "2m"\n[retention]\ndead_letters = "2d"\nevents = 864000\n'
    )
    settings = load_settings({**BASE, "TRADEBOTD_CONFIG": str(path)})
    assert settings.polling.watchdog_grace == 120.0
    assert settings.retention.dead_letters == 2 * 86400.0
    assert settings.retention.events == 864000.0
    assert settings.retention.processed_updates == 3 * 86400.0  # the default


def test_sixteen_digit_admin_ids_are_accepted() -> None:
    """Telegram user ids have up to 52 significant bits: 16 digits."""
    settings = load_settings({**BASE, "ADMIN_IDS": "4503599627370495"})
    assert settings.admin_ids == frozenset({4503599627370495})


def test_a_malformed_token_is_never_quoted_back() -> None:
    """The error names the variable but not the value: it is still mostly secret."""
    assert "short-but-secret" not in error_for({"TELEGRAM_BOT_TOKEN": "1:short-but-secret"})


def test_toml_sections_override_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[polling]\ntimeout = 5\nwatchdog_grace = 2.5\n[notify]\nmax_age = "2h"\n')
    settings = load_settings({**BASE, "TRADEBOTD_CONFIG": str(path)})
    assert settings.polling.timeout == 5
    assert settings.polling.watchdog_grace == 2.5
    assert settings.polling.conflict_threshold == 3
    assert settings.notify.max_age == 7200
    assert settings.warnings == ()


def test_a_retired_setting_still_loads_with_a_warning_naming_its_replacement(
    tmp_path: Path,
) -> None:
    """A config kept from an older release: `[telegram] rate_limiter` (PTB's limiter,
    replaced by the notification queue's pacing) is accepted, ignored and named."""
    path = tmp_path / "config.toml"
    path.write_text("[telegram]\nrate_limiter = true\npublic_command_limit = 5\n")
    settings = load_settings({**BASE, "TRADEBOTD_CONFIG": str(path)})
    assert settings.telegram.public_command_limit == 5
    assert settings.warnings == (
        f"{path}: telegram.rate_limiter is retired: the notification queue paces every "
        "send now (notify.global_per_second, chat_per_second, chat_burst, "
        "group_per_minute); remove the line",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[pollng]\ntimeout = 5\n",
            "{path}: unknown section [pollng] "
            "(known: alerts, autosell, digest, ha, notify, paper, polling, prices, retention, "
            "telegram)",
        ),
        (
            "[polling]\ntimout = 5\n",
            "{path}: polling: unknown key 'timout' (known: timeout, watchdog_grace, "
            "conflict_threshold, conflict_window, conflict_delay, conflict_delay_max, "
            "error_delay, error_delay_max)",
        ),
        ('[polling]\ntimeout = "5"\n', "{path}: polling.timeout: must be a number, got '5'"),
        ("[polling]\ntimeout = 2.5\n", "{path}: polling.timeout: must be a whole number, got 2.5"),
        ("[polling]\ntimeout = 0\n", "{path}: polling.timeout: must be between 1 and 50, got 0"),
        ("[polling]\ntimeout = 60\n", "{path}: polling.timeout: must be between 1 and 50, got 60"),
        # nan would make a tight getUpdates loop, inf would turn the watchdog off.
        (
            "[polling]\nerror_delay_max = nan\n",
            "{path}: polling.error_delay_max: must be between 0.1 and 3600, got nan",
        ),
        (
            "[polling]\nwatchdog_grace = inf\n",
            "{path}: polling.watchdog_grace: must be between 1 and 3600, got inf",
        ),
        (
            "[polling]\nconflict_threshold = 100000\n",
            "{path}: polling.conflict_threshold: must be between 1 and 100, got 100000",
        ),
        (
            '[polling]\nwatchdog_grace = "15 min"\n',
            "{path}: polling.watchdog_grace: '15 min' is not "
            "a duration (seconds, or a number with s, m, h or d)",
        ),
        (
            '[retention]\nprocessed_updates = "7d"\n',
            "{path}: retention.processed_updates: must be between 86400 and 518400, got 604800.0",
        ),
        (
            '[retention]\nprocessed_updates = "12h"\n',
            "{path}: retention.processed_updates: must be between 86400 and 518400, got 43200.0",
        ),
        (
            "[telegram]\npublic_command_limit = 0\n",
            "{path}: telegram.public_command_limit: must be between 1 and 1000, got 0",
        ),
        (
            '[notify]\nmax_age = "30s"\n',
            "{path}: notify.max_age: must be between 60 and 604800, got 30.0",
        ),
        (
            '[digest]\ntimezone = "Mars/Olympus"\n',
            "{path}: digest.timezone: 'Mars/Olympus' is not a known time zone",
        ),
        ("[digest]\ntimezone = 1\n", "{path}: digest.timezone: must be a string, got 1"),
        (
            "[polling]\nconflict_delay = 90\n",
            "{path}: polling.conflict_delay: must not exceed conflict_delay_max (60.0), got 90.0",
        ),
    ],
)
def test_toml_errors_name_the_key_and_quote_the_value(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert error_for({**BASE, "TRADEBOTD_CONFIG": str(path)}) == message.format(path=path)


def test_unreadable_or_invalid_toml_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    assert error_for({**BASE, "TRADEBOTD_CONFIG": str(missing)}) == (
        f"TRADEBOTD_CONFIG: cannot read {str(missing)!r}: No such file or directory"
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("[polling\n")
    assert error_for({**BASE, "TRADEBOTD_CONFIG": str(broken)}).startswith(
        f"TRADEBOTD_CONFIG: {str(broken)!r} is not valid TOML: "
    )
