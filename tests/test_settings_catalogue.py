"""The settings catalogue: declared once, and /config, reload, secrets and the docs follow."""

from __future__ import annotations

from pathlib import Path

from daemon.config import load_settings
from daemon.settings_catalogue import (
    ENV_SETTINGS,
    doc_table,
    restart_attributes,
    shown,
    toml_doc_table,
)

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
WEBHOOK = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "WEBHOOK_URL": "https://bot.example/hook",
    "WEBHOOK_SECRET": "hook-secret-42",
    "WEBHOOK_LISTEN": "127.0.0.1:9443",
}


def test_the_docs_tables_are_the_declarations() -> None:
    """docs/configuration.md carries exactly the generated tables (environment and TOML):
    a new or changed setting fails here until the doc says so."""
    doc = (REPO / "docs/configuration.md").read_text()
    assert doc_table() in doc
    assert toml_doc_table() in doc


def test_every_toml_key_has_a_line_of_doc() -> None:
    assert all("| |" not in line for line in toml_doc_table().splitlines()[2:])


def test_config_shows_every_declared_setting_and_no_secret() -> None:
    settings = load_settings(WEBHOOK)
    rows = dict(shown(settings))
    assert list(rows) == [s.name for s in ENV_SETTINGS]
    assert rows["WEBHOOK_LISTEN"] == "127.0.0.1:9443"
    for secret in settings.secrets:
        assert all(secret not in value for value in rows.values())
    # Without webhook mode its rows are not shown.
    assert "WEBHOOK_URL" not in dict(shown(load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})))


def test_every_secret_setting_feeds_the_redactor() -> None:
    settings = load_settings(WEBHOOK)
    assert TOKEN in settings.secrets
    assert "hook-secret-42" in settings.secrets
    declared = {s.name for s in ENV_SETTINGS if s.secret}
    assert declared == {"TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET"}


def test_settings_bound_at_start_are_kept_by_a_reload() -> None:
    """Derived from the declarations: the webhook (its receiver listens from start) is
    among them, which the reload's old hand-written list lacked."""
    assert set(restart_attributes()) == {
        "token",
        "api_url",
        "polling_enabled",
        "state_directory",
        "database_url",
        "webhook",
    }
