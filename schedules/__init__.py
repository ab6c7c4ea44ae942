"""JobQueue jobs. Due times live in SQLite; one ticker job asks each scheduled task what is due at "now".

A task records each period it ran in ``job_runs``, so it runs once per period across restarts, and a period that
fell due while the bot was down runs once when it comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.services import Services
from bot.telegram.inbound import is_transient

log = logging.getLogger(__name__)

#: A scheduled task: given the services and "now", do whatever is due. Feature modules append to this list.
Task = Callable[[Services, datetime], Awaitable[None]]
TASKS: list[tuple[str, Task]] = []


def task(name: str) -> Callable[[Task], Task]:
    def decorator(func: Task) -> Task:
        if all(existing != name for existing, _ in TASKS):
            TASKS.append((name, func))
        return func

    return decorator


async def run_due(services: Services) -> None:
    """Run every scheduled task once for the current moment of the services' clock."""
    now = services.clock.now()
    for name, func in list(TASKS):
        try:
            await func(services, now)
        except Exception as exc:
            if is_transient(exc):  # a locked or full database: one line, the next tick tries again
                log.error("scheduled task %s failed: %s: %s", name, type(exc).__name__, exc)
            else:
                log.exception("scheduled task %s failed", name)


async def _tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data_services  # type: ignore[attr-defined]
    await run_due(services)


def install(app: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    """(Re)create the ticker job; named so a restart replaces rather than duplicates it."""
    from schedules import jobs  # noqa: F401  (importing registers the scheduled tasks)

    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name("sambang:tick"):
        job.schedule_removal()
    app.job_queue.run_repeating(_tick, interval=services.config.tick_seconds, first=0.05, name="sambang:tick")
