"""Settings from the environment (systemd EnvironmentFile style) and an optional TOML file.

Every value is validated once, here. A bad value raises `ConfigError` whose text names the
variable (or TOML key) and quotes the value; the CLI prints it as one line and exits 78
(EX_CONFIG). The token is never quoted back.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.numbers import ascii_int, finite_in_range

EX_CONFIG = 78

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """One invalid setting; str() is the line to print."""


def _bounds(low: float, high: float) -> Any:
    """Field metadata: the inclusive range a TOML number must lie in."""
    return {"range": (low, high)}


HOUR, DAY = 3600.0, 86400.0


@dataclass(frozen=True)
class PollingSettings:
    """The poll loop's timing: `[polling]` in the TOML file."""

    # long-poll seconds (Telegram allows at most 50)
    timeout: int = field(default=30, metadata=_bounds(1, 50))
    # beyond `timeout` before a poll counts as hung
    watchdog_grace: float = field(default=15.0, metadata=_bounds(1, HOUR))
    # 409s within `conflict_window` that mean a foreign poller
    conflict_threshold: int = field(default=3, metadata=_bounds(1, 100))
    conflict_window: float = field(default=120.0, metadata=_bounds(1, DAY))
    # first pause between polls while in conflict
    conflict_delay: float = field(default=15.0, metadata=_bounds(0.1, HOUR))
    conflict_delay_max: float = field(default=60.0, metadata=_bounds(0.1, HOUR))
    # first pause after a network error or 5xx
    error_delay: float = field(default=1.0, metadata=_bounds(0.1, HOUR))
    error_delay_max: float = field(default=30.0, metadata=_bounds(0.1, HOUR))


@dataclass(frozen=True)
class RetentionSettings:
    """`[retention]` in the TOML file: how long rows that only grow are kept (seconds, or
    a string with a unit: "72h", "7d")."""

    # Telegram resends an unconfirmed update for up to 24 h, and restarts update ids at
    # random after a week idle: a processed id must outlive the first, not the second.
    processed_updates: float = field(default=3 * DAY, metadata=_bounds(DAY, 6 * DAY))
    dead_letters: float = field(default=7 * DAY, metadata=_bounds(HOUR, 365 * DAY))
    events: float = field(default=90 * DAY, metadata=_bounds(8 * DAY, 3650 * DAY))
    # hourly counters and uptime minutes: the weekly digest reads 7 days back
    digest_history: float = field(default=40 * DAY, metadata=_bounds(8 * DAY, 3650 * DAY))

    def kept(self, name: str) -> timedelta:
        return timedelta(seconds=getattr(self, name))


@dataclass(frozen=True)
class TelegramSettings:
    """`[telegram]` in the TOML file."""

    rate_limiter: bool = True  # PTB's AIORateLimiter on every send


@dataclass(frozen=True)
class DigestSettings:
    """`[digest]` in the TOML file. The send time itself is the timer's OnCalendar=."""

    timezone: str = "UTC"  # the zone whose calendar day (or ISO week) a digest belongs to


@dataclass(frozen=True)
class WebhookSettings:
    """Webhook mode: Telegram pushes updates to `url`; we listen on `listen`."""

    url: str
    secret: str
    host: str
    port: int

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True)
class Settings:
    token: str | None
    api_url: str
    admin_ids: frozenset[int]
    polling_enabled: bool
    state_directory: Path
    database_url: str
    heartbeat_interval: float
    log_level: str
    config_file: Path | None
    polling: PollingSettings = field(default_factory=PollingSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    webhook: WebhookSettings | None = None
    # Where each value came from, for /config and the startup line.
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value in these settings: the one list that feeds the log
        redactor, sd_notify STATUS and shortened error texts."""
        found = [
            self.token,
            self.webhook.secret if self.webhook else None,
            url_password(self.database_url),
            url_password(self.api_url),
        ]
        # A password appears in the URL percent-encoded, and decoded in a driver's text.
        found += [unquote(secret) for secret in found if secret]
        return tuple(dict.fromkeys(secret for secret in found if secret))

    @property
    def bot_id(self) -> int | None:
        return int(self.token.split(":", 1)[0]) if self.token else None

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


# What /config and error texts show in place of a secret.
MASK = "<redacted>"


def _credentials(url: str) -> tuple[str, str, str] | None:
    """(user, password, host) from a URL's netloc, or None without a password. The last
    '@' ends the userinfo: passwords may hold '@'."""
    userinfo, at, host = urlsplit(url).netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return None
    user, _, password = userinfo.partition(":")
    return user, password, host


def url_password(url: str) -> str | None:
    """The password in a URL's userinfo, or None."""
    credentials = _credentials(url)
    return (credentials[1] or None) if credentials else None


def mask_url_password(url: str) -> str:
    credentials = _credentials(url)
    if credentials is None:
        return url
    user, _, host = credentials
    return urlsplit(url)._replace(netloc=f"{user}:{MASK}@{host}").geturl()


# --- environment ---------------------------------------------------------------------------


def _parse_token(value: str) -> str:
    if not TOKEN_PATTERN.match(value):
        # Never echo the value: a token that is slightly off is still mostly secret.
        raise ValueError(
            "does not look like a bot token (expected <digits>:<secret> from @BotFather)"
        )
    return value


def _parse_api_url(value: str) -> str:
    parts = urlsplit(value)
    shown = mask_url_password(value)  # a proxy's password is a secret too
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{shown!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{shown!r} must not carry a query or fragment")
    return value.rstrip("/")


def _parse_admin_ids(value: str) -> frozenset[int]:
    ids: set[int] = set()
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        # Telegram user ids have at most 52 significant bits (16 digits).
        user_id = ascii_int(item, 1, 2**52 - 1)
        if user_id is None:
            raise ValueError(
                f"{item!r} is not a Telegram user id (expected comma-separated integers)"
            )
        ids.add(user_id)
    return frozenset(ids)


def _parse_interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not finite_in_range(seconds, 1, 86400):
        raise ValueError(f"{value!r} is not a number of seconds between 1 and 86400")
    return seconds


def _parse_log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise ValueError(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
    return value.upper()


def _parse_database_url(value: str) -> str:
    scheme = urlsplit(value).scheme
    if scheme not in ("sqlite", "postgres", "postgresql"):
        raise ValueError(f"{mask_url_password(value)!r} is not a sqlite:/// or postgresql:// URL")
    if scheme == "sqlite" and not value.startswith("sqlite:///"):
        raise ValueError(
            f"{value!r}: a SQLite URL is sqlite:///relative/path or sqlite:////abs/path"
        )
    return value


def _env(
    environ: Mapping[str, str],
    name: str,
    parse: Callable[[str], Any],
    default: Any,
    sources: dict[str, str],
) -> Any:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        sources[name] = "default"
        return default
    sources[name] = "environment"
    try:
        return parse(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _parse_webhook_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return value  # a local test or a reverse proxy on this host
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"{value!r} is not an https URL (Telegram only delivers to https)")
    return value


def _parse_secret(value: str) -> str:
    if not SECRET_PATTERN.match(value):
        # Not quoted: it is a secret.
        raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return value


def _parse_listen(value: str) -> tuple[str, int]:
    host, _, port_text = value.rpartition(":")
    port = ascii_int(port_text, 1, 65535)
    if not host or port is None:
        raise ValueError(f"{value!r} is not HOST:PORT")
    return host.strip("[]"), port


def _webhook(
    environ: Mapping[str, str], polling: bool, sources: dict[str, str]
) -> WebhookSettings | None:
    url = _env(environ, "WEBHOOK_URL", _parse_webhook_url, None, sources)
    if url is None:
        return None
    if polling:
        raise ConfigError(
            "WEBHOOK_URL: set together with POLLING_ENABLED=1; a token is either polled or "
            "pushed to a webhook, never both (unset one of them)"
        )
    secret = _env(environ, "WEBHOOK_SECRET", _parse_secret, None, sources)
    if secret is None:
        raise ConfigError(
            "WEBHOOK_SECRET: required with WEBHOOK_URL (Telegram sends it in "
            "X-Telegram-Bot-Api-Secret-Token; requests without it are refused)"
        )
    host, port = _env(environ, "WEBHOOK_LISTEN", _parse_listen, ("127.0.0.1", 8443), sources)
    return WebhookSettings(url, secret, host, port)


# --- TOML -------------------------------------------------------------------------------------

_TOML_SECTIONS: dict[str, type] = {
    "polling": PollingSettings,
    "telegram": TelegramSettings,
    "digest": DigestSettings,
    "retention": RetentionSettings,
}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")


def parse_duration(text: str) -> float | None:
    """Seconds in "30s", "5m", "4h", "2d" (ASCII digits, one unit); None otherwise."""
    match = _DURATION.fullmatch(text.strip())
    return float(match[1]) * DURATION_UNITS[match[2]] if match else None


def _check_number(where: str, value: Any, default: Any, bounds: tuple[float, float]) -> Any:
    if isinstance(default, float) and isinstance(value, str):
        seconds = parse_duration(value)
        if seconds is None:
            raise ConfigError(
                f"{where}: {value!r} is not a duration (seconds, or a number with s, m, h or d)"
            )
        value = seconds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: must be a number, got {value!r}")
    if isinstance(default, int) and not isinstance(value, int):
        raise ConfigError(f"{where}: must be a whole number, got {value!r}")
    low, high = bounds
    if not finite_in_range(value, low, high):
        raise ConfigError(f"{where}: must be between {low:g} and {high:g}, got {value!r}")
    return value


def _check_toml_value(section: str, key: str, value: Any, default: Any, meta: Any) -> Any:
    where = f"[{section}] {key}"
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: must be a string, got {value!r}")
        if key == "timezone":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"{where}: unknown time zone {value!r}") from None
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: must be true or false, got {value!r}")
        return value
    # Every number has its range declared: none may be nan, infinite or absurd.
    return _check_number(where, value, default, meta["range"])


def _validate_polling(polling: PollingSettings) -> None:
    if polling.conflict_delay > polling.conflict_delay_max:
        raise ConfigError(
            f"[polling] conflict_delay: must not exceed conflict_delay_max "
            f"({polling.conflict_delay_max!r}), got {polling.conflict_delay!r}"
        )
    if polling.error_delay > polling.error_delay_max:
        raise ConfigError(
            f"[polling] error_delay: must not exceed error_delay_max "
            f"({polling.error_delay_max!r}), got {polling.error_delay!r}"
        )


def load_toml(path: Path) -> dict[str, Any]:
    """The TOML file's sections as settings objects; unknown sections and keys are errors."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"TRADEBOTD_CONFIG: cannot read {str(path)!r}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"TRADEBOTD_CONFIG: {str(path)!r} is not valid TOML: {exc}") from None
    sections: dict[str, Any] = {}
    for name, body in document.items():
        kind = _TOML_SECTIONS.get(name)
        if kind is None:
            raise ConfigError(
                f"{path}: unknown section [{name}] (known: {', '.join(sorted(_TOML_SECTIONS))})"
            )
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: {name} must be a [{name}] table, got {body!r}")
        defaults = kind()
        declared = {f.name: f for f in fields(kind)}
        values: dict[str, Any] = {}
        for key, value in body.items():
            if key not in declared:
                known = ", ".join(declared)
                raise ConfigError(f"{path}: [{name}] unknown key {key!r} (known: {known})")
            values[key] = _check_toml_value(
                name, key, value, getattr(defaults, key), declared[key].metadata
            )
        sections[name] = kind(**values)
    if "polling" in sections:
        _validate_polling(sections["polling"])
    return sections


# --- the whole ---------------------------------------------------------------------------------


def load_settings(environ: Mapping[str, str], require_token: bool = True) -> Settings:
    sources: dict[str, str] = {}
    token = _env(environ, "TELEGRAM_BOT_TOKEN", _parse_token, None, sources)
    if token is None and require_token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN: not set (put the token from @BotFather in the env file; "
            "`make run` without a token starts the sandbox instead)"
        )
    state_directory = Path(_env(environ, "STATE_DIRECTORY", str, "./var", sources))
    # systemd passes a colon-separated list when several StateDirectory= are given.
    state_directory = Path(str(state_directory).split(":", 1)[0])
    config_file = _env(environ, "TRADEBOTD_CONFIG", Path, None, sources)
    sources["POLLING_ENABLED"] = "environment" if "POLLING_ENABLED" in environ else "default"
    polling = environ.get("POLLING_ENABLED", "0").strip() == "1"
    webhook = _webhook(environ, polling, sources)
    sections = load_toml(config_file) if config_file is not None else {}
    return Settings(
        token=token,
        api_url=_env(environ, "TELEGRAM_API_URL", _parse_api_url, DEFAULT_API_URL, sources),
        admin_ids=_env(environ, "ADMIN_IDS", _parse_admin_ids, frozenset(), sources),
        # The contract: exactly "1" polls; anything else runs without polling.
        polling_enabled=polling,
        state_directory=state_directory,
        database_url=_env(
            environ,
            "DATABASE_URL",
            _parse_database_url,
            f"sqlite:///{state_directory / 'tradebotd.db'}",
            sources,
        ),
        heartbeat_interval=_env(environ, "HEARTBEAT_INTERVAL", _parse_interval, 60.0, sources),
        log_level=_env(environ, "LOG_LEVEL", _parse_log_level, "INFO", sources),
        config_file=config_file,
        polling=sections.get("polling", PollingSettings()),
        telegram=sections.get("telegram", TelegramSettings()),
        digest=sections.get("digest", DigestSettings()),
        retention=sections.get("retention", RetentionSettings()),
        webhook=webhook,
        sources=sources,
    )


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines as systemd's EnvironmentFile= reads them (for supervisor and cron,
    which have no such setting): comments and blank lines skipped, one level of quotes
    removed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--env-file: cannot read {str(path)!r}: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"--env-file: {path}:{number}: not NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values
