"""The services one running bot shares: built once in ``bot.app`` and reached from handlers via the context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.aspirations.service import AspirationService
from bot.config import Config
from bot.core.clock import Clock
from bot.messaging.outbox import OutboxSender
from bot.storage.database import Database

if TYPE_CHECKING:  # feature services
    from bot.officials.departments import DepartmentService
    from bot.officials.service import OfficialsService
    from bot.village_map.service import VillageMap


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    aspirations: AspirationService
    outbox: OutboxSender | None = None
    #: Village potential, profiles, recap charts and exports (bot/village_map/service.py).
    village_map: VillageMap | None = None
    #: Extra services added by feature modules (departments, visits, ...), by name.
    extra: dict[str, Any] = field(default_factory=dict)
    #: Departments, routing and service levels (issue 3), set by ``bot.officials.service.install``.
    departments: DepartmentService | None = None
    #: Officials' actions, forwarding and escalation (issue 3).
    officials: OfficialsService | None = None
