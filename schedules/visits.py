"""Ngantor di Kecamatan on the clock: announcements, briefings, feedback requests and summaries, and the
reminders and outcome questions of commitments. Each piece is claimed in ``job_runs`` when it is queued, so it goes
out once even across restarts (and late, once, if the bot was down when it fell due)."""

from __future__ import annotations

from datetime import datetime

from bot.services import Services


async def visits_due(services: Services, now: datetime) -> None:
    n = services.ngantor
    await n.visits.run_due(now, briefing=n.briefings, feedback=n.feedback)


async def commitments_due(services: Services, now: datetime) -> None:
    await services.ngantor.commitments.run_due(now)
