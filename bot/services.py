"""The services one running bot shares: built once, in order, by ``bot.app.open_services`` and reached from
handlers via the context. Every field is built before the first update; none is added later."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.aspirations.service import AspirationService
from bot.config import Config
from bot.core.clock import Clock
from bot.media.service import MediaArchive
from bot.messaging.menu import Menu
from bot.messaging.outbox import OutboxSender
from bot.storage.database import Database

if TYPE_CHECKING:  # annotations only: the Telegram adapters import this module
    from bot.officials.departments import DepartmentService
    from bot.officials.digests import WeeklySection
    from bot.officials.service import OfficialsService
    from bot.officials.thread import ThreadService
    from bot.operations.health import Liveness
    from bot.operations.settings import OpsSettings
    from bot.telegram.guards import DroppedUpdates
    from bot.telegram.inbound import DurableUpdateQueue, FailedUpdates
    from bot.telegram.ratelimit import FloodGuard
    from bot.village_map.service import VillageMap
    from bot.visits.ngantor import Ngantor


@dataclass
class BackupState:
    """The daily backup's memory while the bot runs: partial copies cleaned once, a failed day's retry time."""

    cleaned: bool = False
    retry_day: str | None = None
    retry_at: datetime | None = None
    #: one daily backup at a time (the ticker and a tick run by hand may overlap)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    #: Operations settings (backups, flood limits), checked at start: a bad value stops the bot with one line.
    ops: OpsSettings
    aspirations: AspirationService
    #: Departments, routing and service levels.
    departments: DepartmentService
    #: Officials' actions, forwarding and escalation.
    officials: OfficialsService
    #: The thread of each aspiration: the kepala desa's replies and messages, and who reads them.
    thread: ThreadService
    #: Ngantor di Kecamatan: visits, commitments, briefings, feedback.
    ngantor: Ngantor
    #: Village potential, profiles, recap charts and exports.
    village_map: VillageMap
    #: Sends queued messages; built here, connected to Telegram and started once the bot is initialised.
    outbox: OutboxSender
    #: The media archive (SAMBANG_MEDIA_DIR) and its download worker, started with the outbox.
    media: MediaArchive
    #: What ``sambang health`` and /healthz read about the bot's link to Telegram.
    liveness: Liveness
    #: Updates are stored here before they are handled, so a crash never loses one.
    inbound: DurableUpdateQueue
    #: Updates whose handling kept failing: retried, then listed for an admin.
    failed_updates: FailedUpdates
    #: The per-user flood limit and the updates it dropped unread.
    flood_guard: FloodGuard
    flood_dropped: DroppedUpdates
    #: The weekly leadership digest's sections, in order (listed by the composition root).
    weekly_sections: list[WeeklySection]
    #: The commands each role sees in /bantuan and Telegram's command menu (listed by the composition root).
    menu: Menu
    #: (chat, user, aspiration) already told that a plain reply in a group stays internal, while the bot runs.
    internal_hints: OrderedDict[tuple[int, int, int], None] = field(default_factory=OrderedDict)
    #: The ``updated_at`` of the newest person whose name is masked in logs.
    names_seen_at: str = ""
    backup_state: BackupState = field(default_factory=BackupState)
