"""Scheduled work of the map of problems and potential: the one gentle prompt asking each kepala desa for the
village office's location (claimed per person in SQLite, so it goes out once, across restarts)."""

from __future__ import annotations

from datetime import datetime

from bot.services import Services


async def location_prompts(services: Services, now: datetime) -> None:
    await services.village_map.locations.prompt_due(now)
