"""Is the bot alive? The database answers, the scheduler's ticker wrote its heartbeat recently, updates are taken
(``getUpdates`` succeeded within a minute, when polling; storing them is not failing) and handled (none waits
stored for more than a minute). A quiet bot is healthy: nobody writing is not a fault. Dead letters are counted.

``health_report`` serves ``/healthz`` in webhook mode; ``check_file`` serves ``sambang health`` (the Docker
HEALTHCHECK), which runs in another process and only reads the database file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.clock import from_iso, to_iso
from bot.core.wording import plain
from bot.storage.database import Database

HEARTBEAT_KEY = "heartbeat_at"
#: When Telegram last answered getUpdates with 409 Conflict: another bot polls with the same token.
CONFLICT_KEY = "conflict_at"
#: How long after the last Conflict the bot still counts as unhealthy when no heartbeat limit is given.
CONFLICT_WINDOW = 90.0
#: Seconds without a successful getUpdates, an update waiting unhandled, or storing failing, before it is a fault.
STUCK_AFTER = 60.0


def wall_now() -> datetime:
    """Liveness is about the real world's time, not the domain clock tests move."""
    return datetime.now(UTC)


class Liveness:
    """What the health check needs to know from inside the process: is polling working, is storing failing."""

    def __init__(self) -> None:
        self.mode = "polling"
        #: the real time the last successful getUpdates returned (the start counts as one: a grace period)
        self.last_poll_ok: datetime | None = wall_now()
        self._poll_started: datetime | None = None
        self._poll_failed = False
        #: since when storing updates has been failing (None while it works)
        self.store_failing_since: datetime | None = None

    def poll_started(self) -> None:
        self._poll_started = wall_now()

    def poll_finished(self, ok: bool) -> None:
        self._poll_started = None
        self._poll_failed = not ok
        if ok:
            self.last_poll_ok = wall_now()

    def polled_at(self) -> datetime | None:
        """When polling was last known to work: the last success, or the start of a long poll following one."""
        if self._poll_started is not None and not self._poll_failed:
            return self._poll_started
        return self.last_poll_ok

    def state(self) -> dict[str, str]:
        """The app_state rows the heartbeat writes for ``sambang health`` (another process)."""
        state = {"receive_mode": self.mode}
        polled = self.polled_at()
        if self.mode == "polling" and polled is not None:
            state["polled_at"] = to_iso(polled)
        state["store_failing_since"] = to_iso(self.store_failing_since) if self.store_failing_since else ""
        return state



def heartbeat_limit(tick_seconds: float) -> float:
    """How old a heartbeat may be before the bot counts as stuck: three missed ticks, at least 90 s."""
    return max(3 * tick_seconds, 90.0)


def poll_limit(tick_seconds: float) -> float:
    """How old the last successful poll seen from another process may be: a minute, plus the heartbeat's period
    (the process writes what it knows on each tick)."""
    return STUCK_AFTER + tick_seconds


async def beat(db: Database, state: Mapping[str, str] | None = None) -> None:
    """The heartbeat, with the process's own view of its liveness (``Liveness.state``) for ``sambang health``."""
    rows = [(HEARTBEAT_KEY, to_iso(wall_now())), *(state or {}).items()]
    await db.write_batch([
        ("INSERT INTO app_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", row)
        for row in rows
    ])


async def mark_conflict(db: Database) -> None:
    await db.execute(
        "INSERT INTO app_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (CONFLICT_KEY, to_iso(wall_now())),
    )


def _conflict_problem(value: str | None, now: datetime, window: float) -> str | None:
    age = _age(value, now)
    if age is None or age > window:
        return None
    return plain("operations/health_conflict", age=age)


def _age(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    try:
        return round((now - from_iso(value)).total_seconds(), 1)
    except ValueError:
        return None


def _problems(*, polling: bool, polled_age: float | None, store_failing_age: float | None,
              oldest_waiting_age: float | None, max_poll_age: float) -> list[str]:
    problems = []
    if polling and (polled_age is None or polled_age > max_poll_age):
        problems.append("no successful getUpdates for more than a minute")
    if store_failing_age is not None and store_failing_age > STUCK_AFTER:
        problems.append("storing incoming updates has been failing for more than a minute")
    if oldest_waiting_age is not None and oldest_waiting_age > STUCK_AFTER:
        problems.append("updates waiting unhandled for more than a minute")
    return problems


_OLDEST_WAITING = "SELECT MIN(stored_at) FROM inbound_updates WHERE stored_at IS NOT NULL"
_DEAD_LETTERS = "SELECT COUNT(*) FROM dead_letters WHERE status IN ('open', 'replay')"
_MEDIA_DOWNLOADS = ("SELECT COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'failed'), 0)"
                    " FROM media_downloads")
_HAS_MEDIA = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'media_downloads'"


def _media_note(pending: int, failed: int) -> str:
    """The media archive's part of the line: files waiting for their download, and those given up."""
    return plain("media/health_note", pending=pending, failed=failed)


async def health_report(db: Database, *, mode: str, max_heartbeat_age: float | None = None,
                        liveness: Liveness | None = None) -> dict[str, Any]:
    """A JSON-ready report: ``status`` is "ok" when the database answers, the heartbeat is fresh and updates are
    taken and handled (``liveness``: the running process's own view)."""
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
        report["oldest_unhandled_age_seconds"] = _age(await db.fetchval(_OLDEST_WAITING), now)
        report["dead_letters"] = await db.fetchval(_DEAD_LETTERS)
        media = await db.fetchone(_MEDIA_DOWNLOADS) if await db.fetchval(_HAS_MEDIA) else None
        report["media_downloads"] = {"pending": media[0] if media else 0, "failed": media[1] if media else 0}
    except Exception as exc:  # the report is the answer; never a traceback
        report["status"] = "error"
        report["database"] = f"error: {type(exc).__name__}"
        return report
    problems = []
    age = report["heartbeat_age_seconds"]
    if max_heartbeat_age is not None and (age is None or age > max_heartbeat_age):
        problems.append("scheduler heartbeat missing or stale")
    polled = liveness.polled_at() if liveness is not None else None
    failing = liveness.store_failing_since if liveness is not None else None
    if liveness is not None and liveness.mode == "polling":
        report["polled_at"] = to_iso(polled) if polled else None
    report["storing_failing_since"] = to_iso(failing) if failing else None
    problems += _problems(polling=liveness is not None and liveness.mode == "polling",
                          polled_age=(now - polled).total_seconds() if polled else None,
                          store_failing_age=(now - failing).total_seconds() if failing else None,
                          oldest_waiting_age=report["oldest_unhandled_age_seconds"], max_poll_age=STUCK_AFTER)
    if problems:
        report["status"] = "error"
        report["problem"] = "; ".join(problems)
    conflict_at = await db.fetchval("SELECT value FROM app_state WHERE key = ?", (CONFLICT_KEY,))
    if _conflict_problem(conflict_at, now, max_heartbeat_age or CONFLICT_WINDOW) is not None:
        report["status"] = "error"
        report["problem"] = "another bot is polling with the same token (409 Conflict)"
        report["conflict_at"] = conflict_at
    return report


def check_file(path: Path, *, max_heartbeat_age: float, max_poll_age: float | None = None) -> tuple[bool, str]:
    """(healthy, one line) for the database file at ``path``, read-only, from another process."""
    if not path.is_file():
        return False, plain("operations/health_db_missing", path=path)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return False, plain("operations/health_db_unopenable", error=exc)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        version = conn.execute("SELECT COALESCE(MAX(number), 0) FROM schema_migrations").fetchone()[0]
        state = dict(conn.execute("SELECT key, value FROM app_state WHERE key IN (?, ?, 'last_update_at',"
                                  " 'receive_mode', 'polled_at', 'store_failing_since')",
                                  (HEARTBEAT_KEY, CONFLICT_KEY)).fetchall())
        oldest = conn.execute(_OLDEST_WAITING).fetchone()[0]
        dead = conn.execute(_DEAD_LETTERS).fetchone()[0]
        media = conn.execute(_MEDIA_DOWNLOADS).fetchone() if conn.execute(_HAS_MEDIA).fetchone() else None
    except sqlite3.Error as exc:
        return False, plain("operations/health_db_unreadable", error=exc)
    finally:
        conn.close()
    now = wall_now()
    problem = _conflict_problem(state.get(CONFLICT_KEY), now, max_heartbeat_age)
    if problem is not None:
        return False, problem
    age = _age(state.get(HEARTBEAT_KEY), now)
    dead_note = plain("operations/health_dead_note", dead=dead) if dead else ""
    if age is None:
        return False, plain("operations/health_no_heartbeat")
    if age > max_heartbeat_age:
        return False, plain("operations/health_heartbeat_old", age=age, limit=max_heartbeat_age, dead_note=dead_note)
    polled = _age(state.get("polled_at"), now)
    failing = _age(state.get("store_failing_since"), now)
    waiting = _age(oldest, now)
    limit = max_poll_age if max_poll_age is not None else max_heartbeat_age
    # (no polled_at at all: written by a version of the bot before this check; nothing to judge)
    if state.get("receive_mode", "polling") == "polling" and polled is not None and polled > limit:
        return False, plain("operations/health_not_polling", polled=polled, limit=limit, dead_note=dead_note)
    if failing is not None and failing > STUCK_AFTER:
        return False, plain("operations/health_store_failing", failing=failing, dead_note=dead_note)
    if waiting is not None and waiting > STUCK_AFTER:
        return False, plain("operations/health_waiting", waiting=waiting, dead_note=dead_note)
    media_note = f"; {_media_note(int(media[0]), int(media[1]))}" if media is not None else ""
    return True, plain("operations/health_ok", version=version, age=age, updated=state.get("last_update_at"),
                       dead_note=dead_note) + media_note
