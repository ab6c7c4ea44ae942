"""The audit trail: who did what privileged thing, and when; admins export it as CSV.

Write an entry inside the transaction of the change it records (``await audit.record(tx, ...)``), so the change
and its entry commit together. Refused attempts are recorded too (action ``ditolak``), without the user's text.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.clock import from_iso, to_iso
from bot.storage.database import Database, Transaction

#: Longest detail kept; details name objects (tickets, codes of places, ids), never what people wrote.
MAX_DETAIL = 300


_INSERT = "INSERT INTO audit_log(at, actor_telegram_id, action, detail) VALUES (?, ?, ?, ?)"


def _row(actor_telegram_id: int | None, action: str, detail: str | None, now: datetime) -> tuple[object, ...]:
    return (to_iso(now), actor_telegram_id, action[:64], (detail or "")[:MAX_DETAIL] or None)


async def record(
    tx: Transaction, actor_telegram_id: int | None, action: str, detail: str | None = None, *, now: datetime
) -> None:
    await tx.execute(_INSERT, _row(actor_telegram_id, action, detail, now))


def record_sync(
    conn: sqlite3.Connection, actor_telegram_id: int | None, action: str, detail: str | None = None, *,
    now: datetime,
) -> None:
    """``record`` on a plain sqlite3 connection (the restore, which works on the database file while the bot is
    stopped); the caller commits."""
    conn.execute(_INSERT, _row(actor_telegram_id, action, detail, now))


async def record_now(
    db: Database, actor_telegram_id: int | None, action: str, detail: str | None = None, *, now: datetime
) -> None:
    """An entry in a transaction of its own (for refusals and reads, which change nothing else)."""
    async with db.transaction() as tx:
        await record(tx, actor_telegram_id, action, detail, now=now)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor_telegram_id: int | None
    actor_name: str | None
    actor_role: str | None
    action: str
    detail: str | None


async def entries(db: Database, *, since: datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
    sql = (
        "SELECT a.id, a.at, a.actor_telegram_id, p.name AS actor_name, p.role AS actor_role, a.action, a.detail"
        " FROM audit_log a LEFT JOIN people p ON p.telegram_id = a.actor_telegram_id"
    )
    params: list[object] = []
    if since is not None:
        sql += " WHERE a.at >= ?"
        params.append(to_iso(since))
    sql += " ORDER BY a.at, a.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = await db.fetchall(sql, params)
    return [AuditEntry(r["id"], r["at"], r["actor_telegram_id"], r["actor_name"], r["actor_role"], r["action"],
                       r["detail"]) for r in rows]


def _safe_cell(value: object) -> str:
    """Spreadsheet-safe text: a cell starting with = + - @ would run as a formula in Excel or LibreOffice."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(items: list[AuditEntry], tz: ZoneInfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["no", "waktu", "telegram_id", "nama", "peran", "tindakan", "rincian"])
    for e in items:
        local = from_iso(e.at).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([e.id, local, e.actor_telegram_id or "", _safe_cell(e.actor_name), e.actor_role or "",
                         _safe_cell(e.action), _safe_cell(e.detail)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8
