"""An in-process command harness: a real temporary SQLite database, the registry as
shipped, a stand-in for the running daemon's services; run a command's handler and get
its Reply (or its CommandError) without starting a daemon or an emulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from daemon.autosell.engine import AutoSell
from daemon.commands.catalogue import build_registry
from daemon.commands.registry import (
    ButtonCall,
    ButtonResult,
    CommandCall,
    CommandError,
    Registry,
    Services,
)
from daemon.config import PollingSettings, Settings, load_settings
from daemon.logs import RingBuffer
from daemon.reply import Reply
from daemon.store import schema
from daemon.store.database import Store, open_database
from daemon.store.database import transaction as store_transaction
from daemon.trading.desk import PaperDesk
from daemon.vitals import Vitals

NOW = datetime(2026, 11, 29, 12, 0, 0)
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@dataclass
class CommandHarness:
    services: Services
    store: Store
    menus_changes: list[int] = field(default_factory=list)
    deliveries: int = 0  # numbers each run's origin, as update ids would

    @property
    def registry(self) -> Registry:
        return self.services.registry

    async def run(
        self,
        text: str,
        user_id: int,
        chat_id: int | None = None,
        chat_kind: str = "private",
        origin: str | None = None,
    ) -> Reply:
        """The Reply `text` gets, or a Reply holding the CommandError's text, as the
        Telegram layer shows it. Runs in one transaction, as an update does; `origin`
        repeats an earlier delivery (a replayed update), else each run is a new one."""
        self.deliveries += 1
        name, *args = text.lstrip("/").split()
        command = self.registry.get(name)
        assert command is not None, f"no command /{name}"
        call = CommandCall(
            name=name,
            args=tuple(args),
            user_id=user_id,
            user_name=f"User {user_id}",
            chat_id=chat_id if chat_id is not None else user_id,
            chat_kind=chat_kind,
            is_admin=self.services.is_admin(user_id),
            now=NOW,
            origin=origin or f"update:{self.deliveries}",
        )
        async with self.store.transaction():
            try:
                return await command.handler(call, self.services)
            except CommandError as exc:
                return Reply(lines=(str(exc),))

    async def press(self, action: str, arg: str, user_id: int) -> ButtonResult:
        """What pressing a (validly signed) button gives: its result, or the refusal
        the Telegram layer shows as the toast. One transaction, as an update."""
        handler = self.registry.button(action)
        assert handler is not None, f"no button action {action}"
        call = ButtonCall(action, arg, user_id, user_id, self.services.is_admin(user_id), NOW)
        async with self.store.transaction():
            try:
                return await handler.handler(call, self.services)
            except CommandError as exc:
                return ButtonResult(str(exc))

    def text(self, reply: Reply) -> str:
        """A plain rendering for assertions: title, lines, then 'key — value' rows."""
        parts = [reply.title] if reply.title else []
        parts += list(reply.lines)
        parts += [f"{key} — {value}" for key, value in reply.rows]
        return "\n".join(parts)

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with store_transaction():
            return list(self.store.db.execute_sql(sql).fetchall())


def make_harness(
    tmp_path: Path,
    admin_ids: str = "",
    paper: Callable[[Store], PaperDesk] | None = None,
    autosell: Callable[[Store, PaperDesk], AutoSell] | None = None,
    **environ: str,
) -> CommandHarness:
    settings: Settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "ADMIN_IDS": admin_ids,
            "STATE_DIRECTORY": str(tmp_path / "state"),
            **environ,
        }
    )
    db = open_database(settings.database_url)
    schema.upgrade(db)
    harness = CommandHarness(services=None, store=Store(db))  # type: ignore[arg-type]
    harness.services = Services(
        vitals=Vitals.starting("test", True, 0.0, PollingSettings()),
        settings=lambda: settings,
        registry=build_registry(),
        monotonic=lambda: 10.0,
        ring=RingBuffer(),
        menus_changed=lambda: harness.menus_changes.append(1),
        paper=paper(harness.store) if paper else None,
    )
    desk = harness.services.paper
    if autosell is not None and desk is not None:
        harness.services.autosell = autosell(harness.store, desk)
    return harness
