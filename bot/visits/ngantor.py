"""Ngantor di Kecamatan wired together: the visit, commitment, briefing and feedback services of one bot.

``build`` makes them when the composition root opens the services (``Services.ngantor``). The aspiration
conversation tags aspirations to a visit through ``visits``; the weekly leadership digest includes the commitments'
``digest_section(now)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.storage.database import Database
from bot.visits.briefing import BriefingService
from bot.visits.commitments import CommitmentService
from bot.visits.feedback import FeedbackService
from bot.visits.service import VisitService, VisitTimes


@dataclass(frozen=True)
class Ngantor:
    visits: VisitService
    commitments: CommitmentService
    briefings: BriefingService
    feedback: FeedbackService


def build(db: Database, clock: Clock, tz: ZoneInfo, times: VisitTimes | None = None) -> Ngantor:
    visits = VisitService(db, clock, tz, times)
    commitments = CommitmentService(db, clock, tz)
    return Ngantor(visits, commitments, BriefingService(db, visits, commitments), FeedbackService(db, clock, visits))
