"""The media archive on the scheduler's tick: the download worker looks at its queue again (retries whose time
came while it slept, e.g. after the clock moved)."""

from __future__ import annotations

from datetime import datetime

from bot.services import Services


async def downloads_due(services: Services, now: datetime) -> None:
    services.media.worker.wake()
