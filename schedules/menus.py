"""Keep each registered person's Telegram command menu in step with the COMMANDS table.

A person's menu is set when they register. When a new version of the bot adds commands (such as /jadwal), the
people registered before it would not see them; this task notices that the table changed (by its hash) and queues
the new menu for everyone, once per version of the table.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from bot.domain import Role
from bot.services import Services
from bot.visits import claim_in
from handlers.commands import commands_for, queue_menu_for

from . import task

JOB = "command-menus"


def menu_version() -> str:
    menus = {role.value: [(c.command, c.description) for c in commands_for(role)] for role in Role}
    return hashlib.sha256(json.dumps(menus, sort_keys=True).encode()).hexdigest()[:16]


@task(JOB)
async def refresh_menus(services: Services, now: datetime) -> None:
    version = menu_version()
    db = services.db
    if await db.fetchval("SELECT 1 FROM job_runs WHERE job = ? AND period = ?", (JOB, version)):
        return
    async with db.transaction() as tx:
        if not await claim_in(tx, JOB, version, now):
            return
        rows = await tx.fetchall("SELECT telegram_id, role FROM people WHERE active = 1 AND telegram_id IS NOT NULL"
                                 " AND blocked_bot_at IS NULL")
        for row in rows:
            await queue_menu_for(tx, row["telegram_id"], Role(row["role"]), now)
