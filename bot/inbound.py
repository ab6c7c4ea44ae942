"""Updates are written to SQLite before Telegram is told they arrived, so a crash loses none of them.

PTB's polling confirms a batch of updates (the next ``getUpdates`` offset) as soon as they are in the in-memory
``update_queue``; a webhook answers 200 as soon as the update is queued. A process killed at that moment would lose
every update still waiting in memory. ``DurableUpdateQueue`` writes each update to ``inbound_updates`` before it
enters the queue; ``drop_duplicate_updates`` removes it in the same transaction that marks it handled; and
``replay_pending`` puts the leftovers of a crash back into the queue on the next start.

What is still not covered: the one update being handled at the moment of a crash (with ``concurrent_updates`` off
there is one at a time). It was marked handled when its handling began, so it is not handled twice; whatever it had
committed stays committed, and its reply may be missing. Handlers keep their writes before their replies, and the
aspiration summary answers a stale "Kirim" press with the ticket that was already stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from telegram import Bot, Update

from .clock import Clock, to_iso
from .storage import Database

log = logging.getLogger(__name__)


class DurableUpdateQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The Application's ``update_queue``: every ``Update`` put here is stored before it is queued."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__()
        self.db = db
        self.clock = clock

    async def put(self, item: Any) -> None:
        if isinstance(item, Update):
            await self.db.execute(
                "INSERT INTO inbound_updates(update_id, data, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT(update_id) DO NOTHING",
                (item.update_id, json.dumps(item.to_dict(), ensure_ascii=False), to_iso(self.clock.now())),
            )
        await super().put(item)

    async def put_replayed(self, item: Update) -> None:
        """Queue an update that is already stored."""
        await super().put(item)


async def mark_handled(db: Database, update_id: int, private_user_id: int | None, now: str) -> bool:
    """Mark an update handled (False if it already was: a duplicate delivery) in one transaction and one trip to
    the writer: it leaves ``inbound_updates``, the last update time moves on, and a person who writes to the bot
    privately has evidently not blocked it."""
    statements: list[tuple[str, tuple[Any, ...]]] = [
        ("INSERT INTO processed_updates(update_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING", (update_id, now)),
        # Stored on arrival (DurableUpdateQueue); handled from here on, so a restart must not replay it.
        ("DELETE FROM inbound_updates WHERE update_id = ?", (update_id,)),
        ("INSERT INTO app_state(key, value) VALUES ('last_update_at', ?) ON CONFLICT(key) DO UPDATE SET"
         " value = excluded.value", (now,)),
    ]
    if private_user_id is not None:
        statements.append(("UPDATE people SET blocked_bot_at = NULL WHERE telegram_id = ? AND blocked_bot_at IS NOT"
                           " NULL", (private_user_id,)))
    results = await db.write_batch(statements)
    return results[0].rowcount > 0


async def mark_dropped(db: Database, update_ids: list[int], now: str) -> None:
    """Mark updates handled that were dropped unread (a flood), in one write however many they are."""
    if not update_ids:
        return
    ids = json.dumps(update_ids)
    await db.write_batch([
        ("INSERT INTO processed_updates(update_id, at) SELECT value, ? FROM json_each(?) WHERE true"
         " ON CONFLICT DO NOTHING", (now, ids)),
        ("DELETE FROM inbound_updates WHERE update_id IN (SELECT value FROM json_each(?))", (ids,)),
        ("INSERT INTO app_state(key, value) VALUES ('last_update_at', ?) ON CONFLICT(key) DO UPDATE SET"
         " value = excluded.value", (now,)),
    ])


async def pending_updates(db: Database, bot: Bot) -> list[Update]:
    """Stored updates that were never handled, oldest first (ones already handled are cleaned up)."""
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM inbound_updates WHERE update_id IN (SELECT update_id FROM processed_updates)"
        )
    rows = await db.fetchall("SELECT update_id, data FROM inbound_updates ORDER BY update_id")
    updates: list[Update] = []
    for row in rows:
        try:
            update = Update.de_json(json.loads(row["data"]), bot)
        except Exception:  # a row that cannot be read back must not stop the bot
            log.exception("inbound update %s cannot be decoded; dropping it", row["update_id"])
            await db.execute("DELETE FROM inbound_updates WHERE update_id = ?", (row["update_id"],))
            continue
        if update is not None:
            updates.append(update)
    return updates


async def replay_pending(queue: asyncio.Queue, db: Database, bot: Bot) -> int:  # type: ignore[type-arg]
    """Put the updates a crash left unhandled back into the queue. Returns how many."""
    updates = await pending_updates(db, bot)
    for update in updates:
        if isinstance(queue, DurableUpdateQueue):
            await queue.put_replayed(update)
        else:
            await queue.put(update)
    if updates:
        log.warning("handling %s updates received before the last stop but never handled", len(updates))
    return len(updates)
