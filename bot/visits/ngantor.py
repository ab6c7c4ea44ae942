"""Ngantor di Kecamatan wired together: the visit, commitment, briefing and feedback services of one bot.

``install`` (in ``FEATURE_INSTALLERS``) builds them when the bot opens its services; ``of(services)`` gives them
back, typed. ``services.extra["visits"]`` is the visit service (the aspiration conversation tags aspirations to a
visit through it) and ``services.extra["commitments"]`` the commitment service, whose ``digest_section(now)`` the
weekly leadership digest includes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.visits.briefing import BriefingService
from bot.visits.commitments import CommitmentService
from bot.visits.feedback import FeedbackService
from bot.visits.service import VisitService

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ngantor:
    visits: VisitService
    commitments: CommitmentService
    briefings: BriefingService
    feedback: FeedbackService


def build(db, clock, tz) -> Ngantor:  # type: ignore[no-untyped-def]
    visits = VisitService(db, clock, tz)
    commitments = CommitmentService(db, clock, tz)
    return Ngantor(visits, commitments, BriefingService(db, visits, commitments), FeedbackService(db, clock, visits))


async def install(services: Services) -> None:
    ngantor = build(services.db, services.clock, services.config.tz)
    services.extra["ngantor"] = ngantor
    services.extra["visits"] = ngantor.visits
    services.extra["commitments"] = ngantor.commitments
    register_commitments_section()  # the commitments section of the weekly leadership digest, when it exists


def of(services: Services) -> Ngantor:
    ngantor = services.extra.get("ngantor")
    if ngantor is None:
        raise RuntimeError("Ngantor di Kecamatan is not installed (bot.features.FEATURE_INSTALLERS)")
    return ngantor  # type: ignore[no-any-return]


def register_commitments_section() -> bool:
    """Hook the commitments section into the weekly leadership digest; True when it was hooked.

    The weekly digest (``bot.officials.digests``) is built from registered section providers; this registers one
    when that module is present, so the digest carries open, overdue (the oldest ``SAMBANG_DIGEST_MAX_ITEMS``
    listed, the rest counted), soon-due and finished commitments. Without it,
    ``CommitmentService.digest_section(now)`` gives the same text to whatever builds a digest.
    """
    try:
        from bot.officials import digests  # type: ignore[attr-defined]
    except ImportError:
        return False
    weekly_section = getattr(digests, "weekly_section", None)
    section_type = getattr(digests, "DigestSection", None)
    if weekly_section is None or section_type is None:
        log.warning("the weekly digest has no section registry; commitments are not in it")
        return False

    @weekly_section("commitments", order=45)
    async def _commitments(services: Any, ctx: Any) -> Any:
        text = await of(services).commitments.digest_section(ctx.now, since=ctx.start, until=ctx.end,
                                                             max_items=services.config.digest_max_items)
        return section_type([text]) if text else None

    return True
