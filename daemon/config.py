"""Settings from the environment (systemd EnvironmentFile style) and an optional TOML file.

Every value is validated once, here. A bad value raises `ConfigError` whose text names the
variable (or TOML key) and quotes the value; the CLI prints it as one line and exits 78
(EX_CONFIG). The token is never quoted back.
"""

from __future__ import annotations

import re
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon import settings_schema as declare
from daemon.numbers import ascii_int, finite_in_range
from daemon.policy.pacing import PacingLimits
from daemon.policy.retry import RetryPolicy
from daemon.settings_schema import MASK, SchemaError, read_table, secret_values

EX_CONFIG = 78

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """One invalid setting; str() is the line to print."""


HOUR, DAY = 3600.0, 86400.0


def _time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not a known time zone") from None


@dataclass(frozen=True)
class PollingSettings:
    """The poll loop's timing: `[polling]` in the TOML file."""

    timeout: int = field(
        default=30, metadata=declare.number(1, 50, "long-poll seconds (Telegram allows 50)")
    )
    watchdog_grace: float = field(
        default=15.0,
        metadata=declare.seconds(1, HOUR, "beyond `timeout` before a poll counts as hung"),
    )
    conflict_threshold: int = field(
        default=3,
        metadata=declare.number(1, 100, "409s within `conflict_window` that mean a foreign poller"),
    )
    conflict_window: float = field(
        default=120.0, metadata=declare.seconds(1, DAY, "the window `conflict_threshold` counts in")
    )
    conflict_delay: float = field(
        default=15.0,
        metadata=declare.seconds(0.1, HOUR, "first pause between polls in conflict (±25 %)"),
    )
    conflict_delay_max: float = field(
        default=60.0, metadata=declare.seconds(0.1, HOUR, "the pause doubles up to this")
    )
    error_delay: float = field(
        default=1.0, metadata=declare.seconds(0.1, HOUR, "first pause after a network error or 5xx")
    )
    error_delay_max: float = field(
        default=30.0, metadata=declare.seconds(0.1, HOUR, "that pause doubles up to this")
    )


@dataclass(frozen=True)
class RetentionSettings:
    """`[retention]` in the TOML file: how long rows that only grow are kept (seconds, or
    a string with a unit: "72h", "7d")."""

    # Telegram resends an unconfirmed update for up to 24 h, and restarts update ids at
    # random after a week idle: a processed id must outlive the first, not the second.
    processed_updates: float = field(
        default=3 * DAY,
        metadata=declare.seconds(DAY, 6 * DAY, "processed update ids (for exactly-once)"),
    )
    dead_letters: float = field(
        default=7 * DAY,
        metadata=declare.seconds(HOUR, 365 * DAY, "notifications that failed for good"),
    )
    events: float = field(
        default=90 * DAY,
        metadata=declare.seconds(
            8 * DAY, 3650 * DAY, "events (the newest stays), routed alerts, fired /alert"
        ),
    )
    digest_history: float = field(
        default=40 * DAY,
        metadata=declare.seconds(
            8 * DAY, 3650 * DAY, "hourly counters, uptime minutes (the weekly digest reads 7 days)"
        ),
    )

    def kept(self, name: str) -> timedelta:
        return timedelta(seconds=getattr(self, name))


@dataclass(frozen=True)
class TelegramSettings:
    """`[telegram]` in the TOML file."""

    RETIRED: ClassVar[dict[str, str]] = {
        "rate_limiter": "the notification queue paces every send now (notify."
        "global_per_second, chat_per_second, chat_burst, group_per_minute); remove the line",
    }

    public_command_limit: int = field(
        default=10,
        metadata=declare.number(
            1, 1000, "commands a public user may run per window; then one notice and silence"
        ),
    )
    public_command_window: float = field(
        default=60.0, metadata=declare.seconds(1, DAY, "that window (admins are never throttled)")
    )


@dataclass(frozen=True)
class NotifySettings:
    """`[notify]` in the TOML file: the notification queue's pace and patience."""

    # Telegram's documented limits; lower them if Telegram still answers 429
    global_per_second: float = field(
        default=30.0, metadata=declare.number(0.1, 1000, "Telegram messages per second, overall")
    )
    chat_per_second: float = field(
        default=1.0, metadata=declare.number(0.01, 100, "per chat, after the burst")
    )
    chat_burst: int = field(
        default=3, metadata=declare.number(1, 100, "messages a chat may get at once")
    )
    group_per_minute: float = field(
        default=20.0, metadata=declare.number(1, 6000, "per group chat, per minute")
    )
    retry_initial: float = field(
        default=1.0,
        metadata=declare.seconds(0.1, HOUR, "first wait after a temporary failure; doubles"),
    )
    retry_max: float = field(
        default=300.0, metadata=declare.seconds(1, DAY, "the longest wait between tries")
    )
    max_age: float = field(
        default=HOUR,
        metadata=declare.seconds(60, 7 * DAY, "a notification this old is not tried again"),
    )

    def pacing(self) -> PacingLimits:
        return PacingLimits(
            self.global_per_second, self.chat_per_second, self.chat_burst, self.group_per_minute
        )

    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.retry_initial, self.retry_max, self.max_age)


@dataclass(frozen=True)
class DigestSettings:
    """`[digest]` in the TOML file. The send time itself is the timer's OnCalendar=."""

    timezone: str = field(
        default="UTC",
        metadata=declare.text(_time_zone, doc="the zone whose day (or ISO week) a digest covers"),
    )


NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def _node_name(value: str) -> None:
    if value and not NODE_NAME.fullmatch(value):
        raise ValueError("is not a node name (letters, digits, '.', '_', '-'; 40 at most)")


@dataclass(frozen=True)
class HaSettings:
    """`[ha]` in the TOML file: active/standby nodes sharing one PostgreSQL database
    (docs/ha.md). Off by default: a single node needs no lease."""

    # The lease and the node's name are bound at start: a reload keeps them.
    APPLIES_AT_START: ClassVar[bool] = True

    enabled: bool = field(default=False, metadata={"doc": "run as one node of a cluster"})
    node: str = field(
        default="",
        metadata=declare.text(
            _node_name, doc="this node's name, unique in the cluster (default: the host name)"
        ),
    )
    lease: float = field(
        default=10.0,
        metadata=declare.seconds(
            3, 300, "leadership lease: a standby takes over this long after the leader stops"
        ),
    )


def default_node_name() -> str:
    """The host name, as far as it makes a node name (its first label)."""
    label = socket.gethostname().split(".", 1)[0]
    return label if NODE_NAME.fullmatch(label) else "node"


def _check_ha(
    ha: HaSettings, database_url: str, webhook: WebhookSettings | None, polling: bool
) -> HaSettings:
    if not ha.enabled:
        return ha
    if not database_url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "[ha] enabled: needs DATABASE_URL=postgresql://… shared by every node "
            "(the lease lives there); SQLite serves one node only"
        )
    if webhook is not None:
        raise ConfigError(
            "[ha] enabled: not supported with WEBHOOK_URL yet (a cluster polls); unset "
            "WEBHOOK_URL or [ha] enabled"
        )
    if not polling:
        raise ConfigError(
            "[ha] enabled: needs POLLING_ENABLED=1 (the leader polls; the others stand by)"
        )
    return ha if ha.node else replace(ha, node=default_node_name())


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
    notify: NotifySettings = field(default_factory=NotifySettings)
    ha: HaSettings = field(default_factory=HaSettings)
    # Sections that feature packages declared (register_section), by name.
    features: Mapping[str, Any] = field(default_factory=dict)
    webhook: WebhookSettings | None = None
    # Retired settings found in the file, each naming its replacement: logged at start
    # and reload, printed by `tradebotd config check`.
    warnings: tuple[str, ...] = ()
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
        # The features' secrets (alert receiver URLs, the ingest secret, …).
        for section in self.features.values():
            found += secret_values(section)
        # A password appears in the URL percent-encoded, and decoded in a driver's text.
        found += [unquote(secret) for secret in found if secret]
        return tuple(dict.fromkeys(secret for secret in found if secret))

    def section(self, name: str) -> Any:
        """A section by its TOML name: a core one or one a feature registered."""
        return getattr(self, name) if name in CORE_SECTIONS else self.features[name]

    @property
    def bot_id(self) -> int | None:
        return int(self.token.split(":", 1)[0]) if self.token else None

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


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


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets) → (host without brackets, port)."""
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
    host, port = _env(environ, "WEBHOOK_LISTEN", parse_listen, ("127.0.0.1", 8443), sources)
    return WebhookSettings(url, secret, host, port)


# --- TOML -------------------------------------------------------------------------------------

# The sections config.py itself declares; each is an attribute of Settings.
CORE_SECTIONS: dict[str, type] = {
    "polling": PollingSettings,
    "telegram": TelegramSettings,
    "notify": NotifySettings,
    "digest": DigestSettings,
    "retention": RetentionSettings,
    "ha": HaSettings,
}
# Sections feature packages add by calling register_section at import (config never
# imports a feature); they land in Settings.features.
_FEATURE_SECTIONS: dict[str, type] = {}


def register_section(name: str, kind: type) -> None:
    """Declare the TOML section `[name]`, read into the dataclass `kind` (its defaults
    apply when the file lacks the section)."""
    if name in CORE_SECTIONS or _FEATURE_SECTIONS.get(name, kind) is not kind:
        raise ValueError(f"settings section [{name}] is declared twice")
    _FEATURE_SECTIONS[name] = kind


def toml_sections() -> dict[str, type]:
    return {**CORE_SECTIONS, **_FEATURE_SECTIONS}


def _validate_polling(polling: PollingSettings) -> None:
    if polling.conflict_delay > polling.conflict_delay_max:
        raise SchemaError(
            f"polling.conflict_delay: must not exceed conflict_delay_max "
            f"({polling.conflict_delay_max!r}), got {polling.conflict_delay!r}"
        )
    if polling.error_delay > polling.error_delay_max:
        raise SchemaError(
            f"polling.error_delay: must not exceed error_delay_max "
            f"({polling.error_delay_max!r}), got {polling.error_delay!r}"
        )


def load_toml(
    path: Path, warnings: list[str] | None = None, sources: dict[str, str] | None = None
) -> dict[str, Any]:
    """Every declared section as a settings object (defaults where the file is silent).
    Unknown sections and keys are errors naming the file and the key's full path; retired
    keys append a warning to `warnings`; each key the file sets is noted in `sources`
    ("[section] key" → the file)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"TRADEBOTD_CONFIG: cannot read {str(path)!r}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"TRADEBOTD_CONFIG: {str(path)!r} is not valid TOML: {exc}") from None
    declared = toml_sections()
    found: list[str] = []
    sections: dict[str, Any] = {}
    try:
        for name in document:
            if name not in declared:
                known = ", ".join(sorted(declared))
                raise SchemaError(f"unknown section [{name}] (known: {known})")
        for name, kind in declared.items():
            sections[name] = read_table(kind, document.get(name, {}), name, found)
            if isinstance(document.get(name), dict) and sources is not None:
                for key in document[name]:
                    sources[f"[{name}] {key}"] = str(path)
        _validate_polling(sections["polling"])
    except SchemaError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if warnings is not None:
        warnings += [f"{path}: {warning}" for warning in found]
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
    warnings: list[str] = []
    sections = load_toml(config_file, warnings, sources) if config_file is not None else {}
    database_url = _env(
        environ,
        "DATABASE_URL",
        _parse_database_url,
        f"sqlite:///{state_directory / 'tradebotd.db'}",
        sources,
    )
    ha = _check_ha(sections.get("ha", HaSettings()), database_url, webhook, polling)
    return Settings(
        token=token,
        api_url=_env(environ, "TELEGRAM_API_URL", _parse_api_url, DEFAULT_API_URL, sources),
        admin_ids=_env(environ, "ADMIN_IDS", _parse_admin_ids, frozenset(), sources),
        # The contract: exactly "1" polls; anything else runs without polling.
        polling_enabled=polling,
        state_directory=state_directory,
        database_url=database_url,
        heartbeat_interval=_env(environ, "HEARTBEAT_INTERVAL", _parse_interval, 60.0, sources),
        log_level=_env(environ, "LOG_LEVEL", _parse_log_level, "INFO", sources),
        config_file=config_file,
        polling=sections.get("polling", PollingSettings()),
        telegram=sections.get("telegram", TelegramSettings()),
        digest=sections.get("digest", DigestSettings()),
        retention=sections.get("retention", RetentionSettings()),
        notify=sections.get("notify", NotifySettings()),
        ha=ha,
        features={name: sections.get(name, kind()) for name, kind in _FEATURE_SECTIONS.items()},
        webhook=webhook,
        warnings=tuple(warnings),
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
