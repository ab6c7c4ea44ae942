"""Operations on the scheduler's tick: the heartbeat ``sambang health`` reads, the daily backup with retention, and
pruning of old duplicate-detection rows."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.core.clock import to_iso
from bot.media import archive
from bot.operations.health import beat
from bot.operations.logs import remember_name
from bot.operations.settings import OpsSettings
from bot.services import BackupState, Services
from bot.storage import backup
from bot.storage.jobs import claim_period, period_done

log = logging.getLogger(__name__)

#: Telegram redelivers an update for at most a day; a week of update ids is plenty to drop repeats.
KEEP_PROCESSED_UPDATES = timedelta(days=7)
#: A daily backup that failed (disk full, a locked file) is tried again after this long, the same day.
BACKUP_RETRY = timedelta(minutes=15)


async def heartbeat(services: Services, now: datetime) -> None:
    await beat(services.db, services.liveness.state())
    # names added since the last tick (e.g. a roster imported from the command line) are masked in logs too
    since = services.names_seen_at
    rows = await services.db.fetchall("SELECT name, updated_at FROM people WHERE updated_at > ? AND name <> ''",
                                      (since,))
    if rows:
        remember_name(*[r["name"] for r in rows])
        services.names_seen_at = max(r["updated_at"] for r in rows)


async def dead_letter_replays(services: Services, now: datetime) -> None:
    """Replays an admin asked for on the command line (``sambang deadletters replay``)."""
    await services.failed_updates.replay_requested()


async def daily_backup(services: Services, now: datetime) -> None:
    """Once a local day, at or after SAMBANG_BACKUP_TIME (a day missed while down runs on the next tick).

    The day counts as done only once its copy is written and has passed the integrity check: a backup that failed,
    or was killed half-way, is tried again the same day (after ``BACKUP_RETRY``; at once after a restart), and the
    half-written copies left behind are removed at start and before each attempt.
    """
    ops = services.ops
    if ops.backup_time is None or str(services.db.path) == ":memory:":
        return
    state = services.backup_state
    # One run at a time: two ticks at once (the ticker and a tick run by hand) would both find the day not done,
    # and write, clean up and rename the same partial copy under each other.
    async with state.lock:
        await _daily_backup(services, ops, state, now)


async def _daily_backup(services: Services, ops: OpsSettings, state: BackupState, now: datetime) -> None:
    if not state.cleaned:  # the first tick after a start
        state.cleaned = True
        await asyncio.to_thread(backup.remove_partials, ops.backup_dir)
    local = now.astimezone(services.config.tz)
    if ops.backup_time is None or local.time() < ops.backup_time:  # None: the caller already returned
        return
    day = local.date().isoformat()
    if await period_done(services.db, "daily_backup", day):
        return
    if state.retry_day == day and state.retry_at is not None and now < state.retry_at:
        return
    target = ops.backup_dir / backup.backup_name(now, services.config.tz)
    try:
        await asyncio.to_thread(backup.remove_partials, ops.backup_dir)
        info = await asyncio.to_thread(backup.backup_database, services.db.path, target)  # checks the copy
        # the media archive beside it, incrementally: files already backed up are not copied again
        media = await asyncio.to_thread(archive.backup_archive, services.media.root, target)
    except Exception:
        state.retry_day, state.retry_at = day, now + BACKUP_RETRY
        log.exception("daily backup to %s failed; trying again after %s", target, to_iso(state.retry_at))
        return
    state.retry_day = None
    await claim_period(services.db, "daily_backup", day, now)
    try:
        removed = await asyncio.to_thread(backup.prune, ops.backup_dir, ops.backup_keep)
    except Exception:
        log.exception("could not remove old backups in %s", ops.backup_dir)
        removed = []
    log.info("daily backup written: %s (%s bytes); %s old backups removed; media archive: %s files copied, %s already"
             " there", info.path, info.size, len(removed), media.copied, media.present)


async def prune_processed_updates(services: Services, now: datetime) -> None:
    local = now.astimezone(services.config.tz)
    if not await claim_period(services.db, "prune_processed_updates", local.date().isoformat(), now):
        return
    async with services.db.transaction() as tx:
        await tx.execute("DELETE FROM processed_updates WHERE at < ?", (to_iso(now - KEEP_PROCESSED_UPDATES),))
