"""The services one running bot shares: built once in ``bot.app`` and reached from handlers via the context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .aspirations import AspirationService
from .clock import Clock
from .config import Config
from .outbox import OutboxSender
from .storage import Database

if TYPE_CHECKING:  # feature services
    from .departments import DepartmentService
    from .officials import OfficialsService
    from .village_map import VillageMap


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    aspirations: AspirationService
    outbox: OutboxSender | None = None
    #: Village potential, profiles, recap charts and exports (bot/village_map.py).
    village_map: VillageMap | None = None
    #: Extra services added by feature modules (departments, visits, ...), by name.
    extra: dict[str, Any] = field(default_factory=dict)
    #: Departments, routing and service levels (issue 3), set by ``bot.officials.install``.
    departments: DepartmentService | None = None
    #: Officials' actions, forwarding and escalation (issue 3).
    officials: OfficialsService | None = None
