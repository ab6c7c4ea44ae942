"""Operations on the scheduler's tick: the heartbeat ``sambang health`` reads, the daily backup with retention, and
pruning of old duplicate-detection rows."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.core.clock import to_iso
from bot.operations.health import beat
from bot.operations.logs import remember_name
from bot.operations.settings import OpsSettings, ops_settings
from bot.services import Services
from bot.storage import backup
from schedules import claim_period, task

log = logging.getLogger(__name__)

#: Telegram redelivers an update for at most a day; a week of update ids is plenty to drop repeats.
KEEP_PROCESSED_UPDATES = timedelta(days=7)


def _ops(services: Services) -> OpsSettings:
    ops = services.extra.get("ops")
    if ops is None:
        ops = services.extra["ops"] = ops_settings(services.config)
    return ops  # type: ignore[no-any-return]


@task("heartbeat")
async def heartbeat(services: Services, now: datetime) -> None:
    liveness = services.extra.get("liveness")
    await beat(services.db, liveness.state() if liveness is not None else None)
    # names added since the last tick (e.g. a roster imported from the command line) are masked in logs too
    since = services.extra.get("_names_seen_at", "")
    rows = await services.db.fetchall("SELECT name, updated_at FROM people WHERE updated_at > ? AND name <> ''",
                                      (since,))
    if rows:
        remember_name(*[r["name"] for r in rows])
        services.extra["_names_seen_at"] = max(r["updated_at"] for r in rows)


@task("dead_letter_replays")
async def dead_letter_replays(services: Services, now: datetime) -> None:
    """Replays an admin asked for on the command line (``sambang deadletters replay``)."""
    failures = services.extra.get("failed_updates")
    if failures is not None:
        await failures.replay_requested()


@task("daily_backup")
async def daily_backup(services: Services, now: datetime) -> None:
    """Once a local day, at or after SAMBANG_BACKUP_TIME (a day missed while down runs on the next tick)."""
    ops = _ops(services)
    if ops.backup_time is None or str(services.db.path) == ":memory:":
        return
    local = now.astimezone(services.config.tz)
    if local.time() < ops.backup_time:
        return
    if not await claim_period(services.db, "daily_backup", local.date().isoformat(), now):
        return
    target = ops.backup_dir / backup.backup_name(now, services.config.tz)
    try:
        info = await asyncio.to_thread(backup.backup_database, services.db.path, target)
        removed = await asyncio.to_thread(backup.prune, ops.backup_dir, ops.backup_keep)
    except Exception:
        log.exception("daily backup to %s failed", target)
        return
    log.info("daily backup written: %s (%s bytes); %s old backups removed", info.path, info.size, len(removed))


@task("prune_processed_updates")
async def prune_processed_updates(services: Services, now: datetime) -> None:
    local = now.astimezone(services.config.tz)
    if not await claim_period(services.db, "prune_processed_updates", local.date().isoformat(), now):
        return
    async with services.db.transaction() as tx:
        await tx.execute("DELETE FROM processed_updates WHERE at < ?", (to_iso(now - KEEP_PROCESSED_UPDATES),))
