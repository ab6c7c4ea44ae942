"""The one job claim: ``job_runs`` records each (job, period) a scheduled piece of work ran for.

A claim is true exactly once per (job, period), across restarts and across processes sharing the database, so a
digest, an announcement or a backup is done once per period. Claim inside the transaction that queues the period's
messages (``claim``, or ``claiming``, which first skips a period already done without waiting for the writer) so the
claim and the messages commit together, or on its own (``claim_period``) when the work happens outside the
database. Job names and period formats outlive a release: they are pinned by tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from bot.core.clock import to_iso
from bot.storage.database import Database, Transaction


async def claim(tx: Transaction, job: str, period: str, now: datetime) -> bool:
    """True exactly once per (job, period), inside the caller's transaction: the caller then does the work."""
    return await tx.execute_rowcount(
        "INSERT INTO job_runs(job, period, ran_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (job, period, to_iso(now)),
    ) == 1


async def claim_period(db: Database, job: str, period: str, now: datetime) -> bool:
    """``claim`` in a transaction of its own."""
    async with db.transaction() as tx:
        return await claim(tx, job, period, now)


async def period_done(db: Database, job: str, period: str) -> bool:
    """True if (job, period) was already claimed."""
    return bool(await db.fetchval("SELECT 1 FROM job_runs WHERE job = ? AND period = ?", (job, period)))


@asynccontextmanager
async def claiming(db: Database, job: str, period: str, now: datetime) -> AsyncIterator[Transaction | None]:
    """A write transaction holding the claim of (job, period), or None when the period was done already (then
    the caller does nothing). A period already done is seen without taking the writer."""
    if await period_done(db, job, period):
        yield None
        return
    async with db.transaction() as tx:
        yield tx if await claim(tx, job, period, now) else None
