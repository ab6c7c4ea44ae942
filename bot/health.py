"""Is the bot alive? The database answers, and the scheduler's ticker wrote its heartbeat recently.

``health_report`` serves ``/healthz`` in webhook mode; ``check_file`` serves ``sambang health`` (the Docker
HEALTHCHECK), which runs in another process and only reads the database file.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .clock import from_iso, to_iso
from .storage import Database

HEARTBEAT_KEY = "heartbeat_at"
#: When Telegram last answered getUpdates with 409 Conflict: another bot polls with the same token.
CONFLICT_KEY = "conflict_at"
#: How long after the last Conflict the bot still counts as unhealthy when no heartbeat limit is given.
CONFLICT_WINDOW = 90.0


def wall_now() -> datetime:
    """Liveness is about the real world's time, not the domain clock tests move."""
    return datetime.now(UTC)


def heartbeat_limit(tick_seconds: float) -> float:
    """How old a heartbeat may be before the bot counts as stuck: three missed ticks, at least 90 s."""
    return max(3 * tick_seconds, 90.0)


async def beat(db: Database) -> None:
    await db.execute(
        "INSERT INTO app_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (HEARTBEAT_KEY, to_iso(wall_now())),
    )


async def mark_conflict(db: Database) -> None:
    await db.execute(
        "INSERT INTO app_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (CONFLICT_KEY, to_iso(wall_now())),
    )


def _conflict_problem(value: str | None, now: datetime, window: float) -> str | None:
    age = _age(value, now)
    if age is None or age > window:
        return None
    return f"bot lain memakai token yang sama (Conflict dari getUpdates {age:.0f} detik lalu); hentikan bot lain itu"


def _age(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    try:
        return round((now - from_iso(value)).total_seconds(), 1)
    except ValueError:
        return None


async def health_report(db: Database, *, mode: str, max_heartbeat_age: float | None = None) -> dict[str, Any]:
    """A JSON-ready report: ``status`` is "ok" when the database answers and the heartbeat is fresh."""
    now = wall_now()
    report: dict[str, Any] = {"status": "ok", "mode": mode, "checked_at": to_iso(now)}
    try:
        rows = await db.fetchall(
            "SELECT key, value FROM app_state WHERE key IN ('last_update_at', ?)", (HEARTBEAT_KEY,)
        )
        state = {r["key"]: r["value"] for r in rows}
        report["database"] = "ok"
        report["schema_version"] = await db.schema_version()
        report["last_update_at"] = state.get("last_update_at")
        report["heartbeat_at"] = state.get(HEARTBEAT_KEY)
        report["heartbeat_age_seconds"] = _age(state.get(HEARTBEAT_KEY), now)
        outbox = await db.fetchall("SELECT status, COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending',"
                                   " 'failed') GROUP BY status")
        report["outbox"] = {"pending": 0, "sending": 0, "failed": 0} | {r["status"]: r["n"] for r in outbox}
        report["unhandled_updates"] = await db.fetchval("SELECT COUNT(*) FROM inbound_updates")
    except Exception as exc:  # the report is the answer; never a traceback
        report["status"] = "error"
        report["database"] = f"error: {type(exc).__name__}"
        return report
    age = report["heartbeat_age_seconds"]
    if max_heartbeat_age is not None and (age is None or age > max_heartbeat_age):
        report["status"] = "error"
        report["problem"] = "scheduler heartbeat missing or stale"
    conflict_at = await db.fetchval("SELECT value FROM app_state WHERE key = ?", (CONFLICT_KEY,))
    if _conflict_problem(conflict_at, now, max_heartbeat_age or CONFLICT_WINDOW) is not None:
        report["status"] = "error"
        report["problem"] = "another bot is polling with the same token (409 Conflict)"
        report["conflict_at"] = conflict_at
    return report


def check_file(path: Path, *, max_heartbeat_age: float) -> tuple[bool, str]:
    """(healthy, one line) for the database file at ``path``, read-only, from another process."""
    if not path.is_file():
        return False, f"database {path} tidak ada"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return False, f"database tidak dapat dibuka: {exc}"
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        version = conn.execute("SELECT COALESCE(MAX(number), 0) FROM schema_migrations").fetchone()[0]
        row = conn.execute("SELECT value FROM app_state WHERE key = ?", (HEARTBEAT_KEY,)).fetchone()
        last = conn.execute("SELECT value FROM app_state WHERE key = 'last_update_at'").fetchone()
        conflict = conn.execute("SELECT value FROM app_state WHERE key = ?", (CONFLICT_KEY,)).fetchone()
    except sqlite3.Error as exc:
        return False, f"database tidak dapat dibaca: {exc}"
    finally:
        conn.close()
    now = wall_now()
    problem = _conflict_problem(conflict[0] if conflict else None, now, max_heartbeat_age)
    if problem is not None:
        return False, problem
    age = _age(row[0] if row else None, now)
    if age is None:
        return False, "belum ada detak dari penjadwal bot (bot belum berjalan?)"
    if age > max_heartbeat_age:
        return False, f"detak terakhir penjadwal {age:.0f} detik lalu (batas {max_heartbeat_age:.0f} detik)"
    updated = last[0] if last else "belum ada"
    return True, f"sehat: skema {version}, detak {age:.0f} detik lalu, update terakhir {updated}"
