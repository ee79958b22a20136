"""`[ha]`: what a cluster node needs, refused with the reason when missing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from daemon.config import ConfigError, load_settings

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
PG = "postgresql://tradebotd@127.0.0.1:5432/tradebotd"


def settings_for(tmp_path: Path, toml: str, **environ: str):  # type: ignore[no-untyped-def]
    config = tmp_path / "tradebotd.toml"
    config.write_text(toml)
    base = {"TELEGRAM_BOT_TOKEN": TOKEN, "TRADEBOTD_CONFIG": str(config),
            "POLLING_ENABLED": "1", "DATABASE_URL": PG}  # fmt: skip
    return load_settings({**base, **environ})


def test_a_node_gets_the_host_name_unless_named(tmp_path: Path) -> None:
    named = settings_for(tmp_path, '[ha]\nenabled = true\nnode = "a"\nlease = "15s"\n')
    assert (named.ha.enabled, named.ha.node, named.ha.lease) == (True, "a", 15.0)
    unnamed = settings_for(tmp_path, "[ha]\nenabled = true\n")
    assert unnamed.ha.node == socket.gethostname().split(".")[0]
    assert settings_for(tmp_path, "").ha.enabled is False


@pytest.mark.parametrize(
    ("toml", "environ", "message"),
    [
        (
            "[ha]\nenabled = true\n",
            {"DATABASE_URL": "sqlite:////tmp/x.db"},
            "[ha] enabled: needs DATABASE_URL=postgresql://… shared by every node (the lease "
            "lives there); SQLite serves one node only",
        ),
        (
            "[ha]\nenabled = true\n",
            {"POLLING_ENABLED": "0"},
            "[ha] enabled: needs POLLING_ENABLED=1 (the leader polls; the others stand by)",
        ),
        (
            "[ha]\nenabled = true\n",
            {
                "POLLING_ENABLED": "0",
                "WEBHOOK_URL": "https://bot.example/hook",
                "WEBHOOK_SECRET": "s3cret-s3cret",
            },
            "[ha] enabled: not supported with WEBHOOK_URL yet (a cluster polls); unset "
            "WEBHOOK_URL or [ha] enabled",
        ),
        (
            '[ha]\nenabled = true\nnode = "a b"\n',
            {},
            "{path}: ha.node: 'a b' is not a node name (letters, digits, '.', '_', '-'; 40 at"
            " most)",
        ),
        (
            "[ha]\nlease = 1\n",
            {},
            "{path}: ha.lease: must be between 3 and 300, got 1",
        ),
    ],
)
def test_what_a_cluster_node_needs_is_refused_with_the_reason(
    tmp_path: Path, toml: str, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_for(tmp_path, toml, **environ)
    assert str(raised.value) == message.format(path=tmp_path / "tradebotd.toml")
