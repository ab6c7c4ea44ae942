"""The commitments section of the weekly leadership digest: open, overdue (the oldest ``SAMBANG_DIGEST_MAX_ITEMS``
listed, the rest counted), soon-due and finished commitments. The composition root lists it among the weekly
digest's sections; ``CommitmentService.digest_section(now)`` gives the same text to whatever else builds a digest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.officials.digests import DigestSection, WeeklyContext

if TYPE_CHECKING:
    from bot.services import Services


async def weekly_commitments(services: Services, ctx: WeeklyContext) -> DigestSection | None:
    text = await services.ngantor.commitments.digest_section(ctx.now, since=ctx.start, until=ctx.end,
                                                             max_items=services.config.digest_max_items)
    return DigestSection([text]) if text else None
