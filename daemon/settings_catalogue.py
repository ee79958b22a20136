"""Every environment setting, declared once: its name, what it is, its default, whether it
is secret and whether a reload applies it. /config, the reload's restart warnings, the
secrets list and the table in docs/configuration.md all derive from here (a test fails
when the doc table drifts). Pure.

Parsing and validation stay in config.py (the settings depend on each other: the
database defaults into the state directory, webhook mode excludes polling). TOML keys are
declared by their sections' dataclass fields (settings_schema.py); their docs table is
generated here too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import daemon.features  # noqa: F401  # registers the features' settings sections
from daemon.config import Settings, mask_url_password, toml_sections
from daemon.settings_schema import MASK, describe_fields


@dataclass(frozen=True)
class EnvSetting:
    name: str
    meaning: str
    default: str  # as the doc table says it
    attribute: str  # the Settings field it fills
    show: Callable[[Settings], str]  # how /config shows the effective value
    secret: bool = False
    # A reload (SIGHUP) keeps the running value of these and warns: they are bound at start.
    needs_restart: bool = False
    webhook: bool = False  # shown only in webhook mode


def _token(settings: Settings) -> str:
    return f"{settings.token.split(':', 1)[0]}:{MASK}" if settings.token else "(not set)"


def _webhook_part(part: str) -> Callable[[Settings], str]:
    def show(settings: Settings) -> str:
        hook = settings.webhook
        if hook is None:
            return "(not set)"
        return {"url": hook.url, "secret": MASK, "listen": f"{hook.host}:{hook.port}"}[part]

    return show


ENV_SETTINGS: tuple[EnvSetting, ...] = (
    EnvSetting(
        "TELEGRAM_BOT_TOKEN",
        "the bot token from @BotFather",
        "required for `run`",
        "token",
        _token,
        secret=True,
        needs_restart=True,
    ),
    EnvSetting(
        "TELEGRAM_API_URL",
        "Bot API root; requests go to `{root}/bot{token}/{method}` (a password in it is a secret)",
        "`https://api.telegram.org`",
        "api_url",
        lambda s: mask_url_password(s.api_url),
        needs_restart=True,
    ),
    EnvSetting(
        "ADMIN_IDS",
        "comma-separated Telegram user ids (up to 16 digits each)",
        "empty: admin commands are refused to everyone, and start warns",
        "admin_ids",
        lambda s: ",".join(str(a) for a in sorted(s.admin_ids)) or "(none)",
    ),
    EnvSetting(
        "POLLING_ENABLED",
        "exactly `1` starts the poller; anything else runs without getUpdates",
        "`0`",
        "polling_enabled",
        lambda s: "1" if s.polling_enabled else "0",
        needs_restart=True,
    ),
    EnvSetting(
        "STATE_DIRECTORY",
        "state directory (systemd sets it from `StateDirectory=`; the first of a colon list "
        "is used)",
        "`./var`",
        "state_directory",
        lambda s: str(s.state_directory),
        needs_restart=True,
    ),
    EnvSetting(
        "DATABASE_URL",
        "`sqlite:///relative/path`, `sqlite:////absolute/path` or `postgresql://…` (its "
        "password, percent-encoded, is a secret)",
        "`sqlite:///$STATE_DIRECTORY/tradebotd.db`",
        "database_url",
        lambda s: mask_url_password(s.database_url),
        needs_restart=True,
    ),
    EnvSetting(
        "HEARTBEAT_INTERVAL",
        "seconds between `[hb] alive` lines (1–86400)",
        "`60`",
        "heartbeat_interval",
        lambda s: f"{s.heartbeat_interval:g}",
    ),
    EnvSetting(
        "LOG_LEVEL",
        "TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR or CRITICAL",
        "`INFO`",
        "log_level",
        lambda s: s.log_level,
    ),
    EnvSetting(
        "TRADEBOTD_CONFIG",
        "path of the optional TOML file",
        "unset",
        "config_file",
        lambda s: str(s.config_file or "(not set)"),
    ),
    EnvSetting(
        "WEBHOOK_URL",
        "webhook mode: the https URL Telegram posts to (never with `POLLING_ENABLED=1`)",
        "unset: no webhook",
        "webhook",
        _webhook_part("url"),
        needs_restart=True,
        webhook=True,
    ),
    EnvSetting(
        "WEBHOOK_SECRET",
        "required with `WEBHOOK_URL`: 1–256 of `A-Za-z0-9_-`, sent back by Telegram in "
        "`X-Telegram-Bot-Api-Secret-Token`",
        "unset",
        "webhook",
        _webhook_part("secret"),
        secret=True,
        needs_restart=True,
        webhook=True,
    ),
    EnvSetting(
        "WEBHOOK_LISTEN",
        "`HOST:PORT` the webhook receiver listens on (behind a reverse proxy)",
        "`127.0.0.1:8443`",
        "webhook",
        _webhook_part("listen"),
        needs_restart=True,
        webhook=True,
    ),
)


def restart_attributes() -> tuple[str, ...]:
    """Settings fields a reload must keep (bound at start)."""
    return tuple(dict.fromkeys(s.attribute for s in ENV_SETTINGS if s.needs_restart))


def shown(settings: Settings) -> list[tuple[str, str]]:
    """(name, effective value) for /config, secrets masked; webhook rows in webhook mode."""
    return [
        (s.name, s.show(settings))
        for s in ENV_SETTINGS
        if not s.webhook or settings.webhook is not None
    ]


def doc_table() -> str:
    """The markdown table docs/configuration.md carries (kept equal by a test)."""
    lines = ["| variable | meaning | default | secret | on reload |", "|---|---|---|---|---|"]
    for s in ENV_SETTINGS:
        reload = "needs a restart" if s.needs_restart else "applies at once"
        secret = "yes" if s.secret else ""
        lines.append(f"| `{s.name}` | {s.meaning} | {s.default} | {secret} | {reload} |")
    return "\n".join(lines)


def toml_doc_table() -> str:
    """The markdown table of the TOML keys docs/configuration.md carries, the core
    sections' and those of this build's features (kept equal by a test)."""
    lines = ["| key | meaning | default | allowed |", "|---|---|---|---|"]
    for section, kind in toml_sections().items():
        for key, doc, default, allowed in describe_fields(kind, section):
            lines.append(f"| `{key}` | {doc} | {default} | {allowed} |")
    return "\n".join(lines)
