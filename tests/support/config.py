"""Settings loaded the way the daemon loads them, from a TOML text the test writes."""

from __future__ import annotations

from pathlib import Path

import daemon.features  # noqa: F401  # registers every feature's section
from daemon.config import Settings, load_settings


def settings_from(tmp_path: Path, toml: str) -> Settings:
    """Settings from `toml` (written to tmp_path/config.toml), the state directory in
    tmp_path; no token needed. ConfigError as the daemon would raise it."""
    path = tmp_path / "config.toml"
    path.write_text(toml)
    environ = {"TRADEBOTD_CONFIG": str(path), "STATE_DIRECTORY": str(tmp_path)}
    return load_settings(environ, require_token=False)
