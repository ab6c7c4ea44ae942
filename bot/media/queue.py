"""The download queue and the archive's records in SQLite (tables ``media_downloads`` and ``media_files``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import to_iso
from bot.storage.database import Database, Transaction

#: Kinds of attachment that are files (a location is not).
FILE_KINDS = frozenset({"photo", "document", "voice", "video", "video_note"})


@dataclass(frozen=True)
class MediaRef:
    """One file sent to Sambang, as Telegram describes it."""

    kind: str
    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None


async def enqueue(tx: Transaction, files: Iterable[MediaRef], *, owner: str, now: datetime) -> int:
    """Queue the download of ``files`` in the caller's transaction; a file already queued or archived (the same
    ``file_unique_id``) is not queued again, one that failed is tried again with the new ``file_id``. Returns how
    many rows were added or renewed."""
    stamp = to_iso(now)
    changed = 0
    for ref in files:
        if ref.kind not in FILE_KINDS or not ref.file_id or not ref.file_unique_id:
            continue
        changed += await tx.execute_rowcount(
            "INSERT INTO media_downloads(file_unique_id, file_id, kind, file_name, mime_type, owner, next_try_at,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(file_unique_id) DO UPDATE SET file_id = excluded.file_id, status = 'pending',"
            " attempts = 0, gone_answers = 0, next_try_at = excluded.next_try_at, last_error = NULL,"
            " updated_at = excluded.updated_at WHERE media_downloads.status = 'failed'",
            (ref.file_unique_id, ref.file_id, ref.kind, ref.file_name, ref.mime_type, owner, stamp, stamp, stamp),
        )
    return changed


@dataclass(frozen=True)
class Counts:
    pending: int = 0
    failed: int = 0
    done: int = 0


async def counts(db: Database) -> Counts:
    rows = await db.fetchall("SELECT status, COUNT(*) AS n FROM media_downloads GROUP BY status")
    found = {r["status"]: int(r["n"]) for r in rows}
    return Counts(found.get("pending", 0), found.get("failed", 0), found.get("done", 0))


async def archive_paths(db: Database, file_unique_ids: Iterable[str]) -> dict[str, str]:
    """file_unique_id -> the archived file's path (relative to the archive folder), for those archived."""
    ids = sorted({u for u in file_unique_ids if u})
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in await db.fetchall(
            f"SELECT d.file_unique_id, f.path FROM media_downloads d JOIN media_files f ON f.sha256 = d.sha256"
            f" WHERE d.status = 'done' AND d.file_unique_id IN ({marks})", chunk,
        ):
            found[row["file_unique_id"]] = row["path"]
    return found


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    size: int
    path: str


async def archived_files(db: Database) -> list[ArchivedFile]:
    rows = await db.fetchall("SELECT sha256, size, path FROM media_files ORDER BY path")
    return [ArchivedFile(r["sha256"], r["size"], r["path"]) for r in rows]
