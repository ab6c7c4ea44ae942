"""A table of drafts, one per Telegram user: what someone has typed so far in a guided flow, kept as JSON.

A feature that saves a draft at every step (an aspiration, a village potential entry) keeps one ``DraftTable`` over
its own table (``telegram_id`` primary key, ``data`` JSON, ``updated_at``) and a draft type that turns itself into
JSON and back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from bot.core.clock import Clock, to_iso
from bot.storage.database import Database


class JsonDraft(Protocol):
    def to_json(self) -> str: ...


D = TypeVar("D", bound=JsonDraft)


class DraftTable(Generic[D]):
    def __init__(self, db: Database, clock: Clock, table: str, decode: Callable[[str], D]) -> None:
        self.db = db
        self.clock = clock
        self.table = table  # a name from the code, never from input
        self.decode = decode

    async def load(self, telegram_id: int) -> D | None:
        row = await self.db.lookup_one(f"SELECT data FROM {self.table} WHERE telegram_id = ?", (telegram_id,))
        return self.decode(row["data"]) if row else None

    async def save(self, telegram_id: int, draft: D) -> None:
        await self.db.execute(
            f"INSERT INTO {self.table}(telegram_id, data, updated_at) VALUES (?, ?, ?) ON CONFLICT(telegram_id)"
            " DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (telegram_id, draft.to_json(), to_iso(self.clock.now())),
        )

    async def discard(self, telegram_id: int) -> bool:
        """True if there was a draft."""
        async with self.db.transaction() as tx:
            return await tx.execute_rowcount(f"DELETE FROM {self.table} WHERE telegram_id = ?", (telegram_id,)) > 0
