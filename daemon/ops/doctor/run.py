"""`tradebotd doctor`: gather the checks, print one line each (or JSON), and exit 0 when
nothing FAILs (WARNs included), 1 when something does, 78 for a config error."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from daemon.cluster.facts import nodes_on_this_host
from daemon.config import EX_CONFIG, ConfigError, Settings, load_settings
from daemon.logs import Redactor
from daemon.ops.doctor import host, telegram
from daemon.ops.doctor.checks import Check, Level, fail, ok, webhook_verdict
from daemon.ops.doctor.store import store_checks

Out = Callable[[str], None]


def gather(settings: Settings, now: datetime) -> list[Check]:
    where = (
        f"{settings.config_file} and the environment" if settings.config_file else "the environment"
    )
    checks = [ok("config", f"{where} load")]
    token = settings.token
    if token is None:
        checks.append(fail("token", "TELEGRAM_BOT_TOKEN is not set", telegram.TOKEN_FIX))
    else:
        token_check, works = telegram.token_check(settings.api_url, token)
        checks.append(token_check)
        if works:
            checks.append(webhook_check(settings, token))
    holder = host.lock_holder(settings.state_directory)
    checks.append(host.lock_check(holder, settings.state_directory))
    checks += host.systemd_checks()
    checks += store_checks(settings, now, daemon_running=holder is not None)
    checks.append(host.disk_check(settings.state_directory))
    if token is not None:
        # The lock holder is this host's poller; in a cluster, this host's nodes too.
        spared = {holder.pid: "the lock holder"} if holder else {}
        if settings.ha.enabled:
            spared.update(nodes_on_this_host(settings) or {})
        checks.append(host.legacy_check(token, spared))
    return checks


def webhook_check(settings: Settings, token: str) -> Check:
    try:
        info = telegram.webhook_info(settings.api_url, token)
    except telegram.BotApiProblem as exc:
        return fail("webhook", str(exc), "check the host's network")
    own = settings.webhook.url if settings.webhook is not None else None
    polling = settings.polling_enabled and settings.webhook is None
    return webhook_verdict(info, polling, own)


def verdict(checks: list[Check]) -> Level:
    levels = {c.level for c in checks}
    return Level.FAIL if Level.FAIL in levels else Level.WARN if Level.WARN in levels else Level.OK


def render_lines(checks: list[Check]) -> list[str]:
    width = max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        lines.append(f"{check.level.value:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    failed = sum(c.level is Level.FAIL for c in checks)
    warned = sum(c.level is Level.WARN for c in checks)
    lines.append(f"doctor: {len(checks)} checks, {failed} FAIL, {warned} WARN")
    return lines


def run_doctor(environ: Mapping[str, str], as_json: bool, out: Out = print) -> int:
    try:
        settings = load_settings(environ, require_token=False)
    except ConfigError as exc:
        check = fail("config", str(exc), "fix the setting it names, then tradebotd config check")
        emit([check], as_json, Redactor([environ.get("TELEGRAM_BOT_TOKEN")]), out)
        return EX_CONFIG
    checks = gather(settings, datetime.now(UTC).replace(tzinfo=None))
    emit(checks, as_json, Redactor(settings.secrets), out)
    return 1 if verdict(checks) is Level.FAIL else 0


def emit(checks: list[Check], as_json: bool, redact: Redactor, out: Out) -> None:
    if as_json:
        document = {"verdict": verdict(checks).value, "checks": [c.to_json() for c in checks]}
        out(redact(json.dumps(document, indent=2)))
    else:
        for line in render_lines(checks):
            out(redact(line))
