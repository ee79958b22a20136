"""`tradebotd run`: start in the safe order, serve until a signal, stop cleanly.

Start: config (done by the caller) → lock + host-wide guard (before any network call) →
database (schema upgraded when safe) → getMe → getWebhookInfo, deleting a leftover
webhook without dropping its updates → READY=1 → poll, send, beat.
SIGTERM/SIGINT: STOPPING=1, finish the update in hand, flush the outbox briefly, exit 0.
SIGHUP: RELOADING=1, re-read the configuration (a bad one keeps the running one), READY=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from loguru import logger
from telegram.error import InvalidToken, NetworkError, TelegramError

from daemon import __version__, guard
from daemon.alerts.price_watcher import PriceAlerts
from daemon.alerts.router import AlertRouter
from daemon.alerts.settings import AlertsSettings
from daemon.autosell.assembly import attach
from daemon.autosell.engine import AutoSell
from daemon.clock import utcnow
from daemon.cluster.leadership import Leadership
from daemon.cluster.member import CALL_DEADLINE, ClusterMember
from daemon.commands.catalogue import build_registry
from daemon.commands.registry import Services
from daemon.components import DELIVERY, HOUSEKEEPING, INTAKE, Components, Failure, Listed
from daemon.config import EX_CONFIG, ConfigError, Settings, load_settings
from daemon.heartbeat import STAMP_NAME, Heartbeat
from daemon.logs import RingBuffer, setup_logging
from daemon.notify.apprise_transport import AppriseTransport
from daemon.notify.sender import NotificationSender
from daemon.notify.telegram import TelegramTransport
from daemon.policy.backoff import Backoff
from daemon.policy.lease import LeaseTiming
from daemon.settings_catalogue import restart_attributes
from daemon.store import events, keys, outbox, progress, schema
from daemon.store.checkpoint import DAEMON_AUTOCHECKPOINT, WalCheckpointer
from daemon.store.cluster import LeaseConnection, LeaseUnavailable, application_name
from daemon.store.database import (
    DAEMON_BUSY_TIMEOUT,
    Store,
    StoreUnavailable,
    open_database,
    sqlite_path,
)
from daemon.store.outbox import Priority, Receiver
from daemon.systemd import Notifier, watchdog_interval
from daemon.telegram import dispatch
from daemon.telegram.bot import PtbApplication, build_application
from daemon.telegram.menus import Menus
from daemon.telegram.outgoing import Outgoing
from daemon.telegram.poller import Poller
from daemon.telegram.processor import UpdateProcessor
from daemon.trading.assembly import PaperTrading, assemble
from daemon.vitals import Vitals, format_duration, status_line
from daemon.waiting import pause

EX_OK = 0
EX_SOFTWARE = 70
EX_UNAVAILABLE = 69
EX_TEMPFAIL = 75  # another copy holds the token

STOP_BUDGET = 8.0  # seconds for the poller to finish its update (TimeoutStopSec is larger)
FLUSH_BUDGET = 1.5  # seconds to flush replies before exit; the rest waits in the outbox
CRASH_WINDOW = timedelta(minutes=1)  # a failure this recent makes a restart back off
CRASH_BACKOFF = 10.0  # seconds
STARTUP_ATTEMPTS = 6  # getMe tries (about 30 s with back-off) before giving up with 69


class StartupError(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass
class Daemon:
    settings: Settings
    environ: Mapping[str, str]
    ring: RingBuffer
    notifier: Notifier = field(default_factory=Notifier)
    clock: Callable[[], float] = time.monotonic
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    vitals: Vitals = field(init=False)
    components: Components = field(init=False)
    _menus: Menus | None = None
    _router: AlertRouter | None = None
    _leadership: Leadership = field(init=False)

    def current_settings(self) -> Settings:
        return self.settings

    def _alerts(self) -> AlertsSettings:
        alerts: AlertsSettings = self.settings.section("alerts")
        return alerts

    def _routing(self) -> bool:
        """Whether an alert routing tree is configured (as of the running settings)."""
        return self._alerts().route is not None

    # --- start ---------------------------------------------------------------------------

    def _open_store(self) -> Store:
        ha = self.settings.ha
        db = open_database(
            self.settings.database_url,
            busy_timeout=DAEMON_BUSY_TIMEOUT,
            autocheckpoint=DAEMON_AUTOCHECKPOINT,
            application_name=application_name(ha.node) if ha.enabled else None,
        )
        try:
            for step in schema.upgrade(db, automatic_only=True):
                logger.info("database: {}", step)
        except schema.SchemaError as exc:
            db.close()
            raise StartupError(f"database: {exc}", EX_CONFIG) from None
        return Store(db)

    async def _connect(self, app: PtbApplication) -> None:
        """getMe (PTB's initialize), retried briefly: the network may come up late."""
        retry = Backoff(initial=1.0, maximum=10.0)
        for attempt in range(1, STARTUP_ATTEMPTS + 1):
            try:
                await app.initialize()
                return
            except InvalidToken:
                raise StartupError(
                    f"TELEGRAM_BOT_TOKEN: rejected by the Bot API at {self.settings.api_url}",
                    EX_CONFIG,
                ) from None
            except (NetworkError, TelegramError) as exc:
                if attempt == STARTUP_ATTEMPTS:
                    raise StartupError(
                        f"Bot API at {self.settings.api_url} unreachable: {exc}", EX_UNAVAILABLE
                    ) from None
                delay = retry.next_delay(0.5)
                self.notifier.status(f"waiting for the Bot API: {exc}")
                logger.warning("getMe failed ({}); retrying in {:.1f}s", exc, delay)
                await asyncio.sleep(delay)

    async def _clear_webhook(self, app: PtbApplication) -> None:
        info = await app.bot.get_webhook_info()
        if info.url:
            logger.warning(
                "a webhook is set ({}, {} pending updates): deleting it so polling can work; "
                "pending updates are kept",
                info.url,
                info.pending_update_count,
            )
            await app.bot.delete_webhook(drop_pending_updates=False)

    # --- signals and reload ---------------------------------------------------------------

    def reload(self) -> None:
        self.notifier.reloading()
        try:
            fresh = load_settings(self.environ)
        except ConfigError as exc:
            logger.error("reload failed, keeping the running configuration: {}", exc)
        else:
            for name in restart_attributes():
                if getattr(fresh, name) != getattr(self.settings, name):
                    logger.warning("reload: {} changed; it takes effect at the next restart", name)
                    fresh = fresh.with_changes(**{name: getattr(self.settings, name)})
            if fresh.ha != self.settings.ha:
                logger.warning("reload: [ha] changed; it takes effect at the next restart")
                fresh = fresh.with_changes(ha=self.settings.ha)
            for section, value in fresh.features.items():
                kept = self.settings.features.get(section)
                if getattr(value, "APPLIES_AT_START", False) and value != kept:
                    logger.warning(
                        "reload: [{}] changed; it takes effect at the next restart", section
                    )
                    fresh = fresh.with_changes(features={**fresh.features, section: kept})
            self.settings = fresh
            setup_logging(fresh.log_level, fresh.secrets, self.environ, ring=self.ring)
            for warning in fresh.warnings:
                logger.warning("config: {}", warning)
            logger.info("reloaded configuration")
            if self._menus is not None:
                self._menus.changed()
        self.notifier.ready(status_line(self.vitals.snapshot(self.clock())))

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(
                signum, self._request_stop, f"{signal.Signals(signum).name} received"
            )
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    def _stopping(self) -> None:
        self._request_stop("internal failure")  # nothing new when a signal asked first
        self.vitals.state = "stopping"

    def _request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            logger.info("{}: stopping", reason)
            self.notifier.stopping("stopping: finishing the update in hand")
            self.stop.set()

    # --- run ---------------------------------------------------------------------------------

    async def run(self) -> int:
        settings = self.settings
        assert settings.token is not None
        try:
            node = settings.ha.node if settings.ha.enabled else None
            held = guard.acquire(settings.state_directory, settings.token, node)
        except guard.AlreadyRunning as exc:
            logger.error("{}", exc)
            return EX_TEMPFAIL
        loop = asyncio.get_running_loop()
        held.answer_probes(loop)
        try:
            return await self._run_guarded(loop, held.lock_path)
        except StartupError as exc:
            logger.error("{}", exc)
            return exc.status
        finally:
            held.release(loop)

    async def _crash_backoff(self, since_previous: timedelta) -> None:
        """Under supervisor, which restarts a crashed program at once (systemd waits
        RestartSec=), pause before touching Telegram after a recent failure."""
        if self.environ.get("SUPERVISOR_ENABLED") and since_previous < CRASH_WINDOW:
            logger.warning(
                "restarted {:.0f}s after a failure: waiting {:.0f}s first "
                "(supervisor has no restart delay)",
                since_previous.total_seconds(),
                CRASH_BACKOFF,
            )
            self.notifier.status("waiting after a crash")
            await pause(self.stop, CRASH_BACKOFF)

    async def _run_guarded(self, loop: asyncio.AbstractEventLoop, lock_path: Path) -> int:
        settings = self.settings
        started = self.clock()
        store = self._open_store()
        member = self._cluster_member() if settings.ha.enabled else None
        try:
            if member is not None:
                await self._enter_cluster(member)
            async with store.transaction(fenced=False):
                previous = events.latest()
                if member is not None:  # the shared log's last event may be another node's
                    unclean = member.previous_run_unclean
                else:
                    unclean = previous is not None and previous.kind != "stop"
                detail = "after an unclean exit" if unclean else ""
                if member is not None:
                    detail = f"node {member.node}" + (f", {detail}" if detail else "")
                events.record("start", utcnow(), detail)
                offset = progress.stored_offset()
                button_key = keys.button_key()
            if unclean:
                logger.warning("the previous run did not stop cleanly (crash, kill or watchdog)")
                if previous is not None:
                    await self._crash_backoff(utcnow() - previous.at)
            if not settings.admin_ids:
                logger.warning("ADMIN_IDS is empty: every admin command will be refused")
            self.vitals = Vitals.starting(
                __version__, settings.polling_enabled, started, settings.polling, offset
            )
            self.vitals.webhook = settings.webhook is not None
            if member is None:
                status = await self._serve(loop, store, lock_path, button_key, self.stop)
            else:
                status = await self._serve_cluster(loop, store, lock_path, button_key, member)
            await self._record_end(store, status)
            return status
        finally:
            store.close()

    # --- a cluster node ([ha]) ----------------------------------------------------------------

    def _cluster_member(self) -> ClusterMember:
        ha = self.settings.ha
        connection = LeaseConnection(self.settings.database_url, ha.node, socket.gethostname(),
                                     os.getpid(), __version__)  # fmt: skip
        return ClusterMember(connection, LeaseTiming(ha.lease), self.notifier,
                             watchdog_interval(self.environ), self.clock,
                             beat_every=lambda: self.settings.heartbeat_interval)  # fmt: skip

    async def _enter_cluster(self, member: ClusterMember) -> None:
        try:
            await member.start()
        except (LeaseUnavailable, TimeoutError) as exc:
            raise StartupError(
                f"cluster: cannot enter node {member.node} in the node list: {exc}",
                EX_UNAVAILABLE,
            ) from None

    async def _serve_cluster(
        self,
        loop: asyncio.AbstractEventLoop,
        store: Store,
        lock_path: Path,
        button_key: bytes,
        member: ClusterMember,
    ) -> int:
        """Stand by, lead while holding the lease, stand by again when it is lost; the
        alert ingest runs throughout (docs/ha.md)."""
        store.fence = member.fence
        self._install_signals(loop)

        async def serve_term(term_stop: asyncio.Event) -> int:
            return await self._serve(loop, store, lock_path, button_key, term_stop, member)

        self._leadership = Leadership(member, serve_term)
        listed = self._ingest(store, self._wake_router)
        listed += [
            # A term stops in its own stages; the lease is released only after it.
            Listed(self._leadership, DELIVERY, STOP_BUDGET + FLUSH_BUDGET + 2.0),
            Listed(member, HOUSEKEEPING, 2 * CALL_DEADLINE + 1.0),
        ]
        self.components = Components(listed)
        self.vitals.state = "standby"
        self.notifier.ready(member.status_line())
        logger.info(
            "ready in {:.2f}s: node {} of a cluster (pid {}, lease {:g}s): standing by",
            self.clock() - self.vitals.started_at,
            member.node,
            os.getpid(),
            member.timing.lease,
        )
        failure = await self.components.run(self.stop, on_stopping=self._stopping)
        return status_of(failure)

    def _ingest(self, store: Store, wake: Callable[[], None]) -> list[Listed]:
        """The alert ingest, when configured: `wake` tells the router of a new alert."""
        if not self._alerts().ingest.secret:
            return []
        # Imported here: its aiohttp server is not loaded unless the ingest is on.
        from daemon.alerts.ingest import AlertIngest

        return [Listed(AlertIngest(self._alerts, store, utcnow, wake), INTAKE, STOP_BUDGET)]

    def _wake_router(self) -> None:
        if self._router is not None:
            self._router.wake()

    async def _record_end(self, store: Store, status: int) -> None:
        ending = "stop" if status == EX_OK else "failure"
        try:
            async with store.transaction(fenced=False):
                # Only a clean stop is a "stop": the next start reports anything else.
                events.record(ending, utcnow(), f"status {status}")
        except StoreUnavailable as exc:
            # One line, not a traceback: the next start reports an unclean stop instead.
            logger.error("the {} was not recorded: {}", ending, exc)
        vitals = self.vitals
        s = vitals.snapshot(self.clock())
        logger.info(
            "stopped after {}: offset={} updates={} replies={} conflicts={} outbox={} status={}",
            format_duration(s.uptime),
            s.offset,
            s.updates_handled,
            s.replies_sent,
            s.conflicts,
            vitals.outbox_backlog,
            status,
        )

    # --- serving (a single node, or one leader's term) ----------------------------------------

    async def _serve(
        self,
        loop: asyncio.AbstractEventLoop,
        store: Store,
        lock_path: Path,
        button_key: bytes,
        stop: asyncio.Event,
        member: ClusterMember | None = None,
    ) -> int:
        settings, vitals = self.settings, self.vitals
        if member is not None:
            # The previous leader may have moved on since this process started.
            async with store.transaction():
                vitals.offset = progress.stored_offset()
        app = build_application(settings)
        registry = build_registry()

        async def read_admins() -> list[int]:
            async with store.lock:
                return services.all_admins()

        menus = Menus(app.bot, registry, read_admins)
        paper = assemble(settings, store, utcnow)
        autosell = attach(paper, settings, store, utcnow) if paper else None
        services = Services(
            vitals,
            self.current_settings,
            registry,
            self.clock,
            self.ring,
            watchdog_interval=watchdog_interval(self.environ),
            lock_path=lock_path,
            watchdog_pings=lambda: self.notifier.watchdog_pings,
            menus_changed=menus.changed,
            published_admin_menu=menus.published_admin_menu,
            component_health=lambda: self.components.health(),
            component_facts=lambda: self.components.facts(),
            paper=paper.desk if paper else None,
            autosell=autosell,
        )
        self._menus = menus
        self._router = None
        dispatch.install(app, services, Outgoing(lambda: button_key, time.time), utcnow)
        sender = NotificationSender(
            store=store,
            transports=[
                TelegramTransport(app.bot, lambda: self.settings.notify.pacing()),
                AppriseTransport(lambda: self._alerts().apprise_urls()),
            ],
            retry=lambda: self.settings.notify.retry(),
            utcnow=utcnow,
            clock=self.clock,
            on_delivered=vitals.count_replies,
        )
        router = AlertRouter(self._alerts, store, utcnow, sender.wake)
        services.alert_router = router
        self._router = router
        if paper is not None:
            watcher = PriceAlerts(paper.book, store, utcnow)
            watcher.on_queued = sender.wake
            paper.feed.listeners.append(watcher.on_quotes)
            services.price_alerts = watcher
        if autosell is not None:
            # Its notices go to the admins, unless alert routing is configured: then the
            # routing tree says who hears of an execution (from the event log).
            autosell.admins = lambda: [] if self._routing() else services.all_admins()
            autosell.on_queued = lambda: wake_all(sender, router)
        processor = UpdateProcessor(
            app=app, store=store, vitals=vitals, utcnow=utcnow, on_committed=sender.wake
        )
        await self._connect(app)
        try:
            vitals.bot_username = app.bot.username
            if settings.polling_enabled:
                await self._clear_webhook(app)
            await menus.publish(await read_admins())
            self._install_signals(loop)
            return await self._serve_ready(
                app, store, sender, processor, menus, services, paper, autosell, stop, member
            )
        finally:
            with contextlib.suppress(Exception):
                await app.shutdown()

    async def _serve_ready(
        self,
        app: PtbApplication,
        store: Store,
        sender: NotificationSender,
        processor: UpdateProcessor,
        menus: Menus,
        services: Services,
        paper: PaperTrading | None,
        autosell: AutoSell | None,
        stop: asyncio.Event,
        member: ClusterMember | None,
    ) -> int:
        settings, vitals = self.settings, self.vitals
        router = services.alert_router
        assert router is not None  # made with the sender, in _serve
        vitals.state = vitals.mode
        # The first poll is due now: the watchdog deadline starts counting from here.
        vitals.liveness.starting(self.clock())
        self.notifier.ready(status_line(vitals.snapshot(self.clock())))
        logger.info(
            "ready in {:.2f}s: @{} (pid {}), offset {}, {}",
            self.clock() - vitals.started_at,
            vitals.bot_username,
            os.getpid(),
            vitals.offset,
            "polling"
            if settings.polling_enabled
            else "webhook mode: no getUpdates"
            if settings.webhook
            else "NOT polling (POLLING_ENABLED is not 1): sending only, no getUpdates",
        )

        async def tell_admins(description: str) -> None:
            async with store.transaction():
                events.record("conflict", utcnow(), description)
                # ADMIN_IDS and the admins added with /admins, as everywhere else; with
                # alert routing configured, the routing tree says who (from the event).
                for admin in [] if self._routing() else services.all_admins():
                    outbox.enqueue(
                        Receiver.chat(admin),
                        "⚠️ Another process is polling this bot's token (409 Conflict). "
                        "tradebotd keeps polling slowly and does not fight it. Stop the other "
                        "copy; polling recovers by itself.",
                        utcnow(),
                        priority=Priority.ALERT,
                        parse_mode=None,
                        # One notice waiting per admin is enough, however often it recurs.
                        dedup_key=f"conflict-notice:{admin}",
                    )
            wake_all(sender, router)

        heartbeat = Heartbeat(
            components=lambda: self.components,
            vitals=vitals,
            notifier=self.notifier,
            store=store,
            interval=lambda: self.settings.heartbeat_interval,
            watchdog_interval=services.watchdog_interval,
            utcnow=utcnow,
            ring=self.ring,
            clock=self.clock,
            retention=lambda: self.settings.retention,
            stamp=settings.state_directory / STAMP_NAME,
        )
        intake: list[Listed] = []
        if settings.polling_enabled:
            poller = Poller(
                bot=app.bot,
                processor=processor,
                vitals=vitals,
                settings=lambda: self.settings.polling,
                on_foreign_poller=tell_admins,
                clock=self.clock,
                poll_seconds=member.poll_seconds if member is not None else None,
                term=f" (node {member.node}, epoch {member.epoch})" if member is not None else "",
            )
            intake.append(Listed(poller, INTAKE, STOP_BUDGET))
        if settings.webhook is not None:
            # Imported here: its aiohttp server costs ~10 MB that polling never needs.
            from daemon.telegram.webhook import WebhookReceiver

            receiver = WebhookReceiver(settings.webhook, app.bot, processor, vitals)
            intake.append(Listed(receiver, INTAKE, STOP_BUDGET))
        housekeeping = [Listed(heartbeat, HOUSEKEEPING, 1.0), Listed(menus, HOUSEKEEPING, 1.0)]
        if paper is not None:
            # Prices stop with the rest of housekeeping: nothing trades once intake stopped.
            housekeeping += [Listed(c, HOUSEKEEPING, 1.0) for c in (paper.feed, paper.recorder)]
        if autosell is not None:
            # It trades and queues notices: it stops with intake, before the sender flushes.
            intake.append(Listed(autosell, INTAKE, STOP_BUDGET))
        if services.price_alerts is not None:
            intake.append(Listed(services.price_alerts, INTAKE, STOP_BUDGET))
        # It queues notifications too; it runs without routes (it then does nothing), so
        # that a reload that adds them takes effect.
        intake.append(Listed(router, INTAKE, STOP_BUDGET))
        if member is None:  # a cluster node runs it outside its terms
            intake += self._ingest(store, router.wake)
        database_file = sqlite_path(settings.database_url)
        if database_file is not None:
            housekeeping.append(Listed(WalCheckpointer(database_file), HOUSEKEEPING, 1.0))
        # The one list of what runs: /status, /health, [hb] and STATUS= gather from it
        # (a cluster node's list holds this term's inside its leadership row).
        term = Components([*intake, Listed(sender, DELIVERY, FLUSH_BUDGET), *housekeeping])
        if member is None:
            self.components = term
            return status_of(await term.run(stop, on_stopping=self._stopping))
        self._leadership.term = term
        member.term_pings_watchdog = True
        try:
            failure = await term.run(stop)
            if failure is not None and isinstance(failure.error, StoreUnavailable):
                raise failure.error  # the leadership stands the node by
            return status_of(failure)
        finally:
            member.term_pings_watchdog = False
            vitals.state = "standby"
            self._router = None


def status_of(failure: Failure | None) -> int:
    """The exit status for how the components ended: a rejected token is a config
    error; a failure that carries its own status (a cluster term's) keeps it."""
    if failure is None:
        return EX_OK
    if isinstance(failure.error, InvalidToken):
        return EX_CONFIG
    status = getattr(failure.error, "status", None)
    return status if isinstance(status, int) else EX_SOFTWARE


def wake_all(*sleepers: NotificationSender | AlertRouter) -> None:
    """After a commit that queued something: the sender delivers it, the router routes
    the events it recorded."""
    for sleeper in sleepers:
        sleeper.wake()
