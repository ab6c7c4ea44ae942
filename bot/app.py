"""The composition root: the one place that builds the running bot and says, in order, what it is made of.

``open_services`` builds every service once (``Services``, typed), wires the submission subscribers; and the lists
below say which handlers (and their groups), /batal hooks, scheduled tasks and weekly-digest sections exist, in
the order they run, and which commands the menu offers to whom. Nothing registers itself at import time. The
command-line sub-commands are listed in ``bot.cli``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Conflict, TelegramError
from telegram.ext import ContextTypes, Defaults, TypeHandler

import schedules
from bot.aspirations import evidence, notifications
from bot.aspirations.service import AspirationService
from bot.config import Config
from bot.core.clock import Clock, SystemClock
from bot.core.domain import Role
from bot.media.service import MediaArchive
from bot.media.settings import media_dir
from bot.messaging import outbox
from bot.messaging.menu import ALL, STAFF, Listing, Menu
from bot.messaging.templates import render, set_timezone
from bot.officials import digests
from bot.officials.departments import DepartmentService, load_routing
from bot.officials.service import OfficialsService
from bot.officials.thread import ThreadService
from bot.operations.health import CONFLICT_WINDOW, Liveness, beat, heartbeat_limit, mark_conflict
from bot.operations.logs import hide_secret, remember_name
from bot.operations.settings import ops_settings
from bot.people import roster
from bot.people.regions import count_regions, ensure_wilayah, load_regions
from bot.services import Services
from bot.storage.database import Database
from bot.telegram import guards
from bot.telegram.context import (
    CancelHook,
    SambangApp,
    SambangApplication,
    SambangContext,
    drop_duplicate_updates,
    on_error,
    persist_now,
)
from bot.telegram.guards import DroppedUpdates
from bot.telegram.http import AiohttpRequest
from bot.telegram.inbound import (
    DurableUpdateQueue,
    FailedUpdates,
    PollRecordingRequest,
    busy_timeout,
    db_synchronous,
    replay_pending,
)
from bot.telegram.media import TelegramFetch
from bot.telegram.pacing import SlidingWindowRateLimiter
from bot.telegram.persistence import SqlitePersistence
from bot.telegram.ratelimit import FloodGuard
from bot.telegram.transport import SambangApplicationBuilder, TelegramTransport
from bot.telegram.webhook import WebhookServer, webhook_path
from bot.village_map.service import VillageMap, weekly_map
from bot.visits import ngantor
from bot.visits.commitments_digest import weekly_commitments
from bot.visits.service import VisitTimes
from bot.web.server import Web, WebServer, archive_lookup, routes
from handlers import fallback
from handlers.aspirations import intake, status
from handlers.officials import actions
from handlers.officials import thread as officials_thread
from handlers.operations import audit, deadletters
from handlers.people import admin, invite, start
from handlers.village_map import dasbor, desa, lokasi, potensi, rekap
from handlers.visits import briefing, broadcast, commitments, feedback, schedule
from schedules import media as media_jobs
from schedules import officials as officials_jobs
from schedules import operations as operations_jobs
from schedules import village_map as map_jobs
from schedules import visits as visits_jobs

log = logging.getLogger(__name__)

#: The Telegram handlers, module by module, in the order they are added (each module's ``register`` chooses its
#: groups): the first handler that matches an update in a group wins, so the fallback goes last.
HANDLERS: tuple[Callable[[SambangApp], None], ...] = (
    guards.register,  # the flood limit and the checks every update passes first (groups below 0)
    start.register,
    invite.register,
    intake.register,
    status.register,
    officials_thread.register,  # a kepala desa's replies about an aspiration, before the officials' typed answers
    actions.register,
    # Ngantor di Kecamatan
    schedule.register,
    briefing.register,
    feedback.register,
    commitments.register,
    broadcast.register,
    # the map of problems and potential
    potensi.register,
    desa.register,
    rekap.register,
    lokasi.register,  # before the fallback, which answers locations outside every flow
    dasbor.register,
    # operations and people
    audit.register,
    deadletters.register,
    admin.register,
    fallback.register,  # /batal outside every flow, unknown commands and texts
)

#: The command menu, in the order people see it (/bantuan closes it), and who sees each command (None: everyone,
#: registered or not). /bantuan and the Telegram command menus read it; what each command does, as people read it,
#: is in messages/common/commands.toml.
MENU: tuple[Listing, ...] = (
    ("start", None),
    ("aspirasi", frozenset({Role.KEPALA_DESA})),
    ("status", ALL),
    ("batal", ALL),
    ("undang", frozenset({Role.ADMIN})),
    # officials
    ("tangani", frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    ("inbox", frozenset({Role.PEJABAT, Role.ADMIN})),
    ("opd", STAFF),
    # Ngantor di Kecamatan
    ("jadwal", ALL),
    ("kunjungan", frozenset({Role.ADMIN})),
    ("briefing", frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    ("janji", STAFF),
    ("umpanbalik", frozenset({Role.PIMPINAN})),
    ("siaran", frozenset({Role.ADMIN})),
    # operations
    ("audit", frozenset({Role.ADMIN})),
    ("gagal", frozenset({Role.ADMIN})),
    # the map of problems and potential; people
    ("desa", frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    ("orang", frozenset({Role.ADMIN})),
    ("nonaktifkan", frozenset({Role.ADMIN})),
    ("aktifkan", frozenset({Role.ADMIN})),
    ("pindah", frozenset({Role.ADMIN})),
    ("potensi", frozenset({Role.KEPALA_DESA})),
    ("lokasi", frozenset({Role.KEPALA_DESA})),
    ("rekap", STAFF),
    ("ekspor", frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    ("dasbor", frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    ("bantuan", None),
)

#: What the global /batal asks, in order, when no aspiration is being written: flows whose conversation comes
#: after the aspiration's (their own /batal fallback is never reached).
CANCEL_HOOKS: tuple[CancelHook, ...] = (potensi.cancel_hook,)

#: The scheduled tasks, (name, task), in the order each tick runs them. Names are kept across releases.
SCHEDULED_TASKS: schedules.Tasks = (
    ("officials:service-levels", officials_jobs.service_levels),
    ("officials:info-reminders", officials_jobs.info_reminders),
    (digests.DAILY_JOB, officials_jobs.daily_digest),
    (digests.WEEKLY_JOB, officials_jobs.weekly_digest),
    ("heartbeat", operations_jobs.heartbeat),
    ("dead_letter_replays", operations_jobs.dead_letter_replays),
    ("daily_backup", operations_jobs.daily_backup),
    ("prune_processed_updates", operations_jobs.prune_processed_updates),
    ("visits", visits_jobs.visits_due),
    ("commitments", visits_jobs.commitments_due),
    ("media:downloads", media_jobs.downloads_due),
    ("village_map:location-prompts", map_jobs.location_prompts),
)

#: The weekly leadership digest, section by section, top to bottom.
WEEKLY_SECTIONS: tuple[digests.WeeklySection, ...] = (
    ("intake", digests.weekly_intake),
    ("outcomes", digests.weekly_outcomes),
    ("departments", digests.weekly_departments),
    ("overdue", digests.weekly_overdue),
    ("commitments", weekly_commitments),
    ("peta_masalah", weekly_map),
)


async def open_services(config: Config, clock: Clock | None = None) -> Services:
    """Open the database (migrating it), load the region roster on first start, and build the services."""
    db = await Database.open(config.db_path, busy_timeout=busy_timeout(config), synchronous=db_synchronous(config))
    try:
        await ensure_wilayah(db, config.wilayah)  # a database made for another area is refused, never mixed
        kecamatan, _ = await count_regions(db)
        if kecamatan == 0:
            k, d = await load_regions(db, config.wilayah)
            log.info("loaded %s kecamatan and %s desa for wilayah %s", k, d, config.wilayah)
        clock = clock or SystemClock()
        services = await build_services(config, db, clock)
        await roster.ensure_admins(db, clock, config.admins)
        remember_name(*[r["name"] for r in await db.fetchall("SELECT name FROM people WHERE name <> ''")])
    except BaseException:
        await db.close()
        raise
    set_timezone(config.tz)
    return services


async def build_services(config: Config, db: Database, clock: Clock) -> Services:
    """Every service, once, in dependency order; then the hooks between them and their default data."""
    ops = ops_settings(config)  # a bad operations setting stops the start with one line
    aspirations = AspirationService(db, clock, config.tz)
    departments = DepartmentService(db, clock, load_routing(config))
    officials = OfficialsService(db, clock, config.tz, aspirations, departments, day_starts=config.daily_digest_time)
    visits = ngantor.build(db, clock, config.tz, VisitTimes(config.announce_times, config.briefing_time,
                                                            config.feedback_time))
    village_map = VillageMap(db, clock, config.tz, aspirations, visits=visits.visits)
    liveness = Liveness()
    inbound = DurableUpdateQueue(db, clock, liveness)
    services = Services(
        config=config, db=db, clock=clock, ops=ops, aspirations=aspirations, departments=departments,
        officials=officials, thread=ThreadService(db, clock, officials), ngantor=visits, village_map=village_map,
        # connected to Telegram and started once the bot is initialised (``_after_initialize``)
        outbox=outbox.OutboxSender(db, outbox.NotConnected(), chat_interval=config.outbox_chat_interval,
                                   group_interval=config.outbox_group_interval, rate=config.outbox_rate),
        media=MediaArchive(db, clock, media_dir(config)),
        liveness=liveness, inbound=inbound, failed_updates=FailedUpdates(db, clock, inbound),
        flood_guard=FloodGuard(ops.rate_burst, ops.rate_per_minute), flood_dropped=DroppedUpdates(),
        weekly_sections=list(WEEKLY_SECTIONS), menu=Menu(MENU),
    )
    # what happens when a kepala desa sends an aspiration, in order, in the submission's transaction
    aspirations.submit_hooks.extend([
        notifications.copy_to_camat,  # the camat gets a copy
        officials.on_submit,  # routed and forwarded to the department's officials and inbox groups
        evidence.queue_downloads,  # its files are queued for the media archive
    ])
    await departments.load_defaults()
    await officials.adopt_unrouted()
    # digests are due from the first start with them on (not for periods before they existed)
    for job in (digests.DAILY_JOB, digests.WEEKLY_JOB):
        await digests.first_run(db, job, clock.now())
    return services


def register_handlers(app: SambangApplication) -> None:
    for register in HANDLERS:
        register(app)
    app.cancel_hooks = CANCEL_HOOKS


def build_application(services: Services) -> SambangApplication:
    """The PTB Application for these services. Start it with ``run_polling`` or the test harness."""
    config = services.config
    hide_secret(config.token)  # PTB puts it in request URLs and in some error messages
    persistence = SqlitePersistence(services.db, update_interval=config.persistence_interval)
    app = (
        SambangApplicationBuilder()  # every call the bot makes fits Telegram's length limits
        .application_class(SambangApplication)
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=config.tz))
        .context_types(ContextTypes(context=SambangContext))
        .persistence(persistence)
        .request(AiohttpRequest())
        .rate_limiter(SlidingWindowRateLimiter(config.outbox_rate, max_retries=0))
        .concurrent_updates(False)
        .update_queue(services.inbound)
        .get_updates_request(PollRecordingRequest(services.liveness, services.inbound.store_received,
                                                  services.inbound.settled))
        .build()
    )
    assert isinstance(app, SambangApplication)  # the builder was given SambangApplication
    app.bot_data_services = services
    app.add_handler(TypeHandler(Update, drop_duplicate_updates), group=-3)
    register_handlers(app)
    app.add_handler(TypeHandler(Update, persist_now), group=100)
    app.add_error_handler(on_error)
    return app


async def start_bot(app: SambangApplication, *, webhook: WebhookSettings | None = None, **polling: Any) -> None:
    """Start the bot: initialise, start the outbox and jobs, hand back updates a crash left unhandled, then take
    new ones by long polling, or by webhook when ``webhook`` is given."""
    services = app.bot_data_services
    services.liveness.mode = "polling" if webhook is None else "webhook"
    # an id no longer in SAMBANG_ADMINS loses the admin role it had from there before any update is handled
    await roster.revoke_removed_admins(services.db, services.clock, services.config.admins)
    await app.initialize()
    await _after_initialize(app)
    await app.start()
    services.failed_updates.bot = app.bot
    await replay_pending(app.update_queue, services.db, app.bot, services.failed_updates)
    if webhook is not None:
        await _start_webhook(app, webhook)
        return
    if services.config.web_listen is not None:  # the dashboard beside long polling
        host, port = services.config.web_listen
        app.web_server = WebServer(dashboard(services), host, port)
        await app.web_server.start()
    elif services.config.web_url:
        log.warning("SAMBANG_WEB_URL is set but no dashboard is served in polling mode: set SAMBANG_WEB_LISTEN")
    assert app.updater is not None
    polling.setdefault("allowed_updates", Update.ALL_TYPES)
    polling.setdefault("error_callback", _polling_error_callback(services))
    await app.updater.start_polling(**polling)


def _polling_error_callback(services: Services) -> Callable[[TelegramError], None]:
    """PTB calls this for every Telegram error of getUpdates (it retries by itself). A 409 Conflict means another
    bot polls with the same token, each getting part of the updates: say so once in one line, and record it so that
    ``sambang health`` and /healthz report the bot unhealthy. Other errors are logged as PTB would."""
    last_logged = -CONFLICT_WINDOW
    writes: set[asyncio.Task[None]] = set()

    def written(task: asyncio.Task[None]) -> None:
        writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("could not record the polling conflict: %s", type(task.exception()).__name__)

    def on_error(exc: TelegramError) -> None:
        nonlocal last_logged
        if not isinstance(exc, Conflict):
            logging.getLogger("telegram.ext.Updater").error("Exception happened while polling for updates.",
                                                            exc_info=exc)
            return
        now = time.monotonic()
        if now - last_logged >= CONFLICT_WINDOW:
            log.error("another bot is polling Telegram with the same token (getUpdates: 409 Conflict); updates are"
                      " split between the two bots: stop the other one (bot lain memakai token yang sama)")
        last_logged = now
        task = asyncio.get_running_loop().create_task(mark_conflict(services.db))
        writes.add(task)
        task.add_done_callback(written)

    return on_error


async def stop_bot(app: SambangApplication) -> None:
    """Graceful stop: take no new updates, finish handlers in flight, let the outbox finish its sends, and write
    the conversation state one last time.

    Each step runs even when one before it failed (a locked database, a full disk): the failure is logged as one
    line and the stop goes on, so a fault never turns a stop into a traceback. What could not be written stays in
    ``inbound_updates`` (or with Telegram, unconfirmed) for the next start.
    """
    services: Services | None = getattr(app, "bot_data_services", None)
    failures: FailedUpdates | None = services.failed_updates if services is not None else None
    server: WebhookServer | None = getattr(app, "webhook_server", None)
    web_server: WebServer | None = getattr(app, "web_server", None)

    async def step(what: str, work: Any) -> None:
        try:
            await work
        except Exception as exc:
            log.error("stopping: %s failed (%s: %s); going on with the stop", what, type(exc).__name__, exc)

    if server is not None:
        await step("closing the webhook server", server.stop())
        app.webhook_server = None
    if web_server is not None:
        await step("closing the dashboard", web_server.stop())
        app.web_server = None
    if services is not None:  # figures the dashboard was making in the background
        await step("finishing the dashboard's figures", services.village_map.dashboard.settled())
    if failures is not None:
        await step("cancelling retries", failures.stop())
    if app.updater is not None and app.updater.running:
        if services is not None:
            services.inbound.stop_receiving()  # PTB's last poll only confirms what it queued
        await step("stopping polling", app.updater.stop())
    if app.running:
        # handles every update already queued, waits for running jobs, updates persistence
        await step("finishing queued updates", app.stop())
    await step("stopping the outbox", _before_shutdown(app))
    await step("final save of conversations", app.shutdown())  # flushes persistence, closes HTTP connections


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret_token: str
    listen: str = "0.0.0.0"
    port: int = 8443
    url_path: str | None = None


async def _start_webhook(app: SambangApplication, settings: WebhookSettings) -> WebhookServer:
    """Listen first, then tell Telegram where to deliver, with the secret it must send back on every request."""
    services = app.bot_data_services
    path = webhook_path(settings.url, settings.url_path)
    web = dashboard(services) if path != "/" else None  # a webhook on "/" leaves no room for the dashboard
    if web is None:
        log.warning("webhook on the path /: the dashboard is not served; give the webhook URL a path")
    server = WebhookServer(
        bot=app.bot, update_queue=app.update_queue, db=services.db, path=path,
        secret_token=settings.secret_token, listen=settings.listen, port=settings.port,
        max_heartbeat_age=heartbeat_limit(services.config.tick_seconds), liveness=services.liveness,
        extra_routes=routes(web) if web else None, settings=web.settings() if web else None,
    )
    await server.start()
    app.webhook_server = server
    await app.bot.set_webhook(url=settings.url, secret_token=settings.secret_token,
                              allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return server


def dashboard(services: Services) -> Web:
    """The dashboard on these services (bot/web), with photos and documents from the media archive."""
    return Web(services, media=archive_lookup(services.media))


async def _after_initialize(app: SambangApplication) -> None:
    services = app.bot_data_services
    limiter = app.bot.rate_limiter
    sender = services.outbox
    # one window for the answers to people and the outbox, answers first
    sender.connect(TelegramTransport(app.bot),
                   window=limiter.window if isinstance(limiter, SlidingWindowRateLimiter) else None)
    recovered = await sender.recover()
    if recovered:
        log.warning("outbox: %s messages were mid-send at the last stop; sending them again", recovered)
    sender.start()
    services.media.worker.connect(TelegramFetch(app.bot))  # files still queued from before a stop are taken now
    services.media.worker.start()
    await services.menu.sync(services.db, services.clock.now())
    if services.config.web_url.startswith("https://"):  # the dashboard as the Mini App of the chat's menu button
        await services.menu.sync_web_app_button(services.db, services.clock.now(), dasbor.ROLES,
                                                render("village_map/dasbor_button"), services.config.web_url + "/")
    try:
        await app.bot.set_my_commands([(c["command"], c["description"]) for c in services.menu.telegram(None)])
    except Exception:  # the menu is a convenience; never stop the bot for it
        log.warning("could not set the default command menu", exc_info=True)
    await services.db.execute(
        "INSERT INTO app_state(key, value) VALUES ('bot_username', ?) ON CONFLICT(key) DO UPDATE SET value ="
        " excluded.value",
        (app.bot.username,),
    )
    await beat(services.db, services.liveness.state())
    schedules.install(app, services, SCHEDULED_TASKS)
    log.info("Sambang started as @%s at %s", app.bot.username, datetime.now().isoformat(timespec="seconds"))


async def _before_shutdown(app: SambangApplication) -> None:
    services = app.bot_data_services
    await services.media.worker.stop()
    await services.outbox.stop()
    services.village_map.chart_process.close()
