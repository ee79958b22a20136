"""Admin /config: the effective settings, secrets masked, each with where it came from."""

from __future__ import annotations

from dataclasses import fields

from daemon.commands.registry import Command, CommandCall, Registry, Role, Services
from daemon.config import Settings
from daemon.reply import Reply
from daemon.settings_catalogue import shown


def effective(settings: Settings) -> list[tuple[str, str]]:
    """(name, "value (source)") rows, from the settings catalogue. Pure."""
    source = settings.sources
    file = str(settings.config_file) if settings.config_file else "default"
    rows = shown(settings)
    named = [(name, f"{value} ({source.get(name, 'default')})") for name, value in rows]
    for section_name in ("polling", "telegram", "digest", "retention"):
        section = getattr(settings, section_name)
        for field in fields(section):
            value = getattr(section, field.name)
            if isinstance(value, bool):
                text = str(value).lower()
            elif isinstance(value, int | float):
                text = f"{value:.10g}"
            else:
                text = str(value)
            named.append((f"[{section_name}] {field.name}", f"{text} ({file})"))
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
