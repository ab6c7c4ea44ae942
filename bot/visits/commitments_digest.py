"""The commitments section of the weekly leadership digest.

The weekly digest (``bot.officials.digests``) is built from registered section providers; this module registers
one when that module is present, so the digest carries open, overdue (the oldest ``SAMBANG_DIGEST_MAX_ITEMS``
listed, the rest counted), soon-due and finished commitments. Without
it, ``CommitmentService.digest_section(now)`` gives the same text to whatever builds a digest.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def register() -> bool:
    """Hook the section into the weekly digest if the digest module exists; True when it was hooked."""
    try:
        from bot.officials import digests
    except ImportError:
        return False
    weekly_section = getattr(digests, "weekly_section", None)
    section_type = getattr(digests, "DigestSection", None)
    if weekly_section is None or section_type is None:
        log.warning("the weekly digest has no section registry; commitments are not in it")
        return False

    @weekly_section("commitments", order=45)
    async def _commitments(services: Any, ctx: Any) -> Any:
        from bot.visits.ngantor import of

        text = await of(services).commitments.digest_section(ctx.now, since=ctx.start, until=ctx.end,
                                                             max_items=services.config.digest_max_items)
        return section_type([text]) if text else None

    return True
