"""The commitments section of the weekly leadership digest.

The weekly digest (``bot.officials.digests``) is built from registered section providers; this module registers
one, so the digest carries open, overdue (the oldest ``SAMBANG_DIGEST_MAX_ITEMS`` listed, the rest counted),
soon-due and finished commitments. ``CommitmentService.digest_section(now)`` gives the same text on its own.
"""

from __future__ import annotations

from typing import Any

from bot.officials.digests import DigestSection, weekly_section


def register() -> bool:
    """Hook the section into the weekly digest; True once it is hooked."""

    @weekly_section("commitments", order=45)
    async def _commitments(services: Any, ctx: Any) -> Any:
        from bot.visits.ngantor import of

        text = await of(services).commitments.digest_section(ctx.now, since=ctx.start, until=ctx.end,
                                                             max_items=services.config.digest_max_items)
        return DigestSection([text]) if text else None

    return True
