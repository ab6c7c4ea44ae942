"""Ngantor di Kecamatan wired together: the visit, commitment, briefing and feedback services of one bot.

``install`` (in ``FEATURE_INSTALLERS``) builds them when the bot opens its services; ``of(services)`` gives them
back, typed. ``services.extra["visits"]`` is the visit service (the aspiration conversation tags aspirations to a
visit through it) and ``services.extra["commitments"]`` the commitment service, whose ``digest_section(now)`` the
weekly leadership digest includes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.storage.database import Database
from bot.visits.briefing import BriefingService
from bot.visits.commitments import CommitmentService
from bot.visits.feedback import FeedbackService
from bot.visits.service import VisitService

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True)
class Ngantor:
    visits: VisitService
    commitments: CommitmentService
    briefings: BriefingService
    feedback: FeedbackService


def build(db: Database, clock: Clock, tz: ZoneInfo) -> Ngantor:
    visits = VisitService(db, clock, tz)
    commitments = CommitmentService(db, clock, tz)
    return Ngantor(visits, commitments, BriefingService(db, visits, commitments), FeedbackService(db, clock, visits))


async def install(services: Services) -> None:
    ngantor = build(services.db, services.clock, services.config.tz)
    services.extra["ngantor"] = ngantor
    services.extra["visits"] = ngantor.visits
    services.extra["commitments"] = ngantor.commitments


def of(services: Services) -> Ngantor:
    ngantor = services.extra.get("ngantor")
    if ngantor is None:
        raise RuntimeError("Ngantor di Kecamatan is not installed (bot.features.FEATURE_INSTALLERS)")
    return ngantor  # type: ignore[no-any-return]
