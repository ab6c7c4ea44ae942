"""Scheduled work of the officials feature: daily and weekly digests, service levels (escalation, closing the loop).

Each task decides from the services' clock what is due; periods are claimed in SQLite, so the JobQueue ticker may
call them as often as it likes, across restarts, without duplicates.
"""

from __future__ import annotations

from datetime import datetime

from bot.officials import digests
from bot.services import Services


async def service_levels(services: Services, now: datetime) -> None:
    await services.officials.run_service_levels(now)


async def info_reminders(services: Services, now: datetime) -> None:
    """A "Minta info" unanswered for 2 working days: one reminder to the kepala desa."""
    await services.officials.remind_waiting_villages(now)


async def daily_digest(services: Services, now: datetime) -> None:
    await digests.run_daily(services, now)


async def weekly_digest(services: Services, now: datetime) -> None:
    await digests.run_weekly(services, now)
