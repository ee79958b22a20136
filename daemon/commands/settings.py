"""Admin /config: the effective settings, secrets masked, each with where it came from."""

from __future__ import annotations

from daemon.commands.registry import Command, CommandCall, Registry, Role, Services
from daemon.config import Settings, toml_sections
from daemon.reply import Reply
from daemon.settings_catalogue import shown
from daemon.settings_schema import flatten


def effective(settings: Settings) -> list[tuple[str, str]]:
    """(name, "value (source)") rows, from the settings catalogue and the declared TOML
    sections (feature sections included). Pure."""
    source = settings.sources
    rows = shown(settings)
    named = [(name, f"{value} ({source.get(name, 'default')})") for name, value in rows]
    for section_name in toml_sections():
        for key, value in flatten(settings.section(section_name)):
            if isinstance(value, bool):
                text = str(value).lower()
            elif isinstance(value, int | float):
                text = f"{value:.10g}"
            else:
                text = str(value)
            top = key.split(".", 1)[0]  # a nested value comes from where its table did
            origin = source.get(f"[{section_name}] {top}", "default")
            named.append((f"[{section_name}] {key}", f"{text} ({origin})"))
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
