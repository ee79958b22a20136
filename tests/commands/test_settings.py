"""Admin /config: effective settings with sources, secrets masked."""

from __future__ import annotations

from daemon.commands.settings import mask_url_password
from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, ask
from tests.processes import DaemonProcess


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
    assert f"[telegram] rate_limiter — false ({daemon.config_path})" in text


def test_database_passwords_are_masked() -> None:
    assert (
        mask_url_password("postgresql://bot:s3cret@db:5432/tradebotd")
        == "postgresql://bot:<redacted>@db:5432/tradebotd"
    )
    assert mask_url_password("sqlite:///var/tradebotd.db") == "sqlite:///var/tradebotd.db"
