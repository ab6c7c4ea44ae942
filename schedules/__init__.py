"""JobQueue jobs. Due times live in SQLite; one ticker job asks each scheduled task what is due at "now".

A task records each period it ran in ``job_runs``, so it runs once per period across restarts, and a period that
fell due while the bot was down runs once when it comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.services import Services
from bot.telegram.inbound import is_transient

log = logging.getLogger(__name__)

#: A scheduled task: given the services and "now", do whatever is due. The composition root (``bot.app``) lists
#: them, in the order they run on each tick, as (name, task) pairs; the name is kept across releases.
Task = Callable[[Services, datetime], Awaitable[None]]
Tasks = Sequence[tuple[str, Task]]


async def run_due(services: Services, tasks: Tasks) -> None:
    """Run every scheduled task once, in order, for the current moment of the services' clock."""
    now = services.clock.now()
    for name, func in tasks:
        try:
            await func(services, now)
        except Exception as exc:
            if is_transient(exc):  # a locked or full database: one line, the next tick tries again
                log.error("scheduled task %s failed: %s: %s", name, type(exc).__name__, exc)
            else:
                log.exception("scheduled task %s failed", name)


def install(app: Application[Any, Any, Any, Any, Any, Any], services: Services, tasks: Tasks) -> None:
    """(Re)create the ticker job that runs ``tasks``; named so a restart replaces rather than duplicates it."""
    chosen = list(tasks)

    async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        await run_due(services, chosen)

    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name("sambang:tick"):
        job.schedule_removal()
    app.job_queue.run_repeating(tick, interval=services.config.tick_seconds, first=0.05, name="sambang:tick")
