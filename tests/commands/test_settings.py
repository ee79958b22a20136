"""Admin /config: effective settings with sources, secrets masked."""

from __future__ import annotations

from daemon.commands.settings import effective
from daemon.config import load_settings, mask_url_password
from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, ask
from tests.support.processes import DaemonProcess


def test_config_lists_every_setting_with_its_source_and_masks_the_token(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    text = ask(bot, ADMIN, "/config")
    assert text.startswith("Effective configuration\n")
    assert f"TELEGRAM_BOT_TOKEN — {bot.id}:&lt;redacted&gt; (environment)" not in text
    assert f"TELEGRAM_BOT_TOKEN — {bot.id}:<redacted> (environment)" in text
    assert bot.token.split(":", 1)[1] not in text
    assert f"ADMIN_IDS — {ADMIN} (environment)" in text
    assert "LOG_LEVEL — INFO (default)" in text
    assert f"[polling] timeout — 2 ({daemon.config_path})" in text
    assert f"[telegram] public_command_limit — 1000 ({daemon.config_path})" in text
    assert "[notify] max_age — 3600 (default)" in text


def test_database_passwords_are_masked() -> None:
    assert (
        mask_url_password("postgresql://bot:s3cret@db:5432/tradebotd")
        == "postgresql://bot:<redacted>@db:5432/tradebotd"
    )
    assert mask_url_password("sqlite:///var/tradebotd.db") == "sqlite:///var/tradebotd.db"


def test_a_password_holding_an_at_sign_is_masked_whole() -> None:
    """The last '@' ends the userinfo: 'p@ss' must not leave 'ss' showing."""
    assert (
        mask_url_password("postgresql://bot:p@ss@db:5432/tradebotd")
        == "postgresql://bot:<redacted>@db:5432/tradebotd"
    )


def test_config_shows_no_secret_of_any_kind() -> None:
    """The token, a database password with '@', a proxy password in TELEGRAM_API_URL and
    the webhook secret: /config's rows hold none of them, and Settings.secrets (the list
    the redactor is fed) holds each."""
    token = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": token,
            "DATABASE_URL": "postgresql://bot:db@pass-word@db:5432/tradebotd",
            "TELEGRAM_API_URL": "https://proxyuser:proxy-pass-9@proxy.example",
            "WEBHOOK_URL": "https://bot.example/hook",
            "WEBHOOK_SECRET": "hook-secret-42",
        }
    )
    secrets = (
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "db@pass-word",
        "proxy-pass-9",
        "hook-secret-42",
    )
    assert set(secrets) <= {s.split(":", 1)[-1] for s in settings.secrets} | set(settings.secrets)
    rows = "\n".join(f"{name} {value}" for name, value in effective(settings))
    for secret in secrets:
        assert secret not in rows
    assert "TELEGRAM_API_URL https://proxyuser:<redacted>@proxy.example (environment)" in rows
    assert "WEBHOOK_SECRET <redacted>" in rows
