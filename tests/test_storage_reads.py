"""Reads on the shared reader connection always see what was committed before they started."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.storage import Database


class SlowFirstStep:
    """The reader connection, but a query marked /*slow*/ pauses after its first step (its snapshot is taken)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Any = ()) -> Any:
        cursor = await self._conn.execute(sql, params)
        if "/*slow*/" in sql:
            await asyncio.sleep(0.1)
        return cursor


async def test_a_read_never_sees_an_older_snapshot_than_its_start(db: Database) -> None:
    await db.execute("CREATE TABLE big (x INTEGER)")
    async with db.transaction() as tx:
        await tx.executemany("INSERT INTO big VALUES (?)", [(i,) for i in range(1000)])
    reads = db._reads  # noqa: SLF001 (the shared reader connection under test)
    reads._conn = SlowFirstStep(reads._conn)  # type: ignore[assignment]

    async def write_then_count() -> int:
        await asyncio.sleep(0.02)  # while the slow read holds its statement open
        await db.execute("INSERT INTO big VALUES (-1)")
        return int(await db.fetchval("SELECT COUNT(*) FROM big WHERE x < 0"))

    _, seen = await asyncio.gather(db.fetchall("SELECT x FROM big /*slow*/"), write_then_count())
    assert seen == 1
