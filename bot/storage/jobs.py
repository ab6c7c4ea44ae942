"""The ``job_runs`` ledger: each (job, period) a scheduled piece of work is recorded once, so it is done once."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import to_iso
from bot.storage.database import Database, Transaction


async def claim_in(tx: Transaction, job: str, period: str, now: datetime) -> bool:
    """Record (job, period) inside the caller's transaction: true exactly once per (job, period)."""
    return await tx.execute_rowcount(
        "INSERT INTO job_runs(job, period, ran_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (job, period, to_iso(now))
    ) == 1


async def period_done(db: Database, job: str, period: str) -> bool:
    """True if (job, period) is recorded already."""
    return bool(await db.fetchval("SELECT 1 FROM job_runs WHERE job = ? AND period = ?", (job, period)))
