"""Admin /config: the effective settings, secrets masked, each with where it came from."""

from __future__ import annotations

from dataclasses import fields

from daemon.commands.registry import Command, CommandCall, Registry, Role, Services
from daemon.config import Settings, mask_url_password
from daemon.reply import Reply

MASK = "<redacted>"


def mask_token(token: str | None) -> str:
    return f"{token.split(':', 1)[0]}:{MASK}" if token else "(not set)"


def effective(settings: Settings) -> list[tuple[str, str]]:
    """(name, "value (source)") rows. Pure."""
    source = settings.sources
    file = str(settings.config_file) if settings.config_file else "default"
    admins = ",".join(str(a) for a in sorted(settings.admin_ids)) or "(none)"
    rows = [
        ("TELEGRAM_BOT_TOKEN", mask_token(settings.token)),
        ("TELEGRAM_API_URL", mask_url_password(settings.api_url)),
        ("ADMIN_IDS", admins),
        ("POLLING_ENABLED", "1" if settings.polling_enabled else "0"),
        ("STATE_DIRECTORY", str(settings.state_directory)),
        ("DATABASE_URL", mask_url_password(settings.database_url)),
        ("HEARTBEAT_INTERVAL", f"{settings.heartbeat_interval:g}"),
        ("LOG_LEVEL", settings.log_level),
        ("TRADEBOTD_CONFIG", str(settings.config_file or "(not set)")),
    ]
    if settings.webhook is not None:
        hook = settings.webhook
        rows += [
            ("WEBHOOK_URL", hook.url),
            ("WEBHOOK_SECRET", MASK),
            ("WEBHOOK_LISTEN", f"{hook.host}:{hook.port}"),
        ]
    named = [(name, f"{value} ({source.get(name, 'default')})") for name, value in rows]
    for section_name in ("polling", "telegram", "digest", "retention"):
        section = getattr(settings, section_name)
        for field in fields(section):
            value = getattr(section, field.name)
            if isinstance(value, bool):
                shown = str(value).lower()
            elif isinstance(value, int | float):
                shown = f"{value:.10g}"
            else:
                shown = str(value)
            named.append((f"[{section_name}] {field.name}", f"{shown} ({file})"))
    return named


async def config(call: CommandCall, services: Services) -> Reply:
    return Reply(title="Effective configuration", rows=tuple(effective(services.settings())))


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "config",
            Role.ADMIN,
            "",
            "effective settings and their sources",
            config,
            "ops",
            self_check=lambda settings: effective(settings),
        )
    )
