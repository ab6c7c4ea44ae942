"""Backups with SQLite's online backup API, retention of daily copies, and a checked restore.

Everything here is synchronous ``sqlite3`` on connections of its own, so it works from the ``sambang`` command line
while the bot runs in another process (WAL: the copy is one consistent snapshot and the bot keeps writing), and from
the bot's scheduler through ``asyncio.to_thread``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.domain import DomainError
from bot.storage import audit
from bot.storage.database import PRIVATE_FILE, migration_files, private_dir, private_file

log = logging.getLogger(__name__)
BACKUP_PREFIX = "sambang-"
_BACKUP_NAME = re.compile(r"^sambang-\d{8}-\d{6}(-\d+)?\.db$")
PARTIAL_SUFFIX = ".partial"
#: Tables without which a file is not a Sambang database.
CORE_TABLES = ("schema_migrations", "people", "aspirations", "attachments", "outbox", "kecamatan", "desa")


class BackupError(DomainError):
    """A backup or restore that cannot be done; ``message`` is one line in Bahasa Indonesia."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    schema_version: int
    aspirations: int
    people: int


def backup_name(moment: datetime, tz: ZoneInfo) -> str:
    return f"{BACKUP_PREFIX}{moment.astimezone(tz):%Y%m%d-%H%M%S}.db"


def _connect_ro(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def inspect(path: Path) -> BackupInfo:
    """Check that ``path`` is a whole, readable Sambang database this version can run. Raises BackupError."""
    if not path.is_file():
        raise BackupError("storage/berkas_tidak_ditemukan", path=path)
    try:
        conn = _connect_ro(path)
    except sqlite3.Error as exc:
        raise BackupError("storage/berkas_tidak_dibuka_sebagai", path=path, exc=exc) from None
    try:
        try:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            raise BackupError("storage/berkas_bukan_database_sqlite", path=path, exc=exc) from None
        if result != ["ok"]:
            raise BackupError("storage/pemeriksaan_integritas_gagal", path=path, result='; '.join(result[:3]))
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in CORE_TABLES if t not in tables]
        if missing:
            raise BackupError("storage/berkas_bukan_database_sambang", path=path, missing=', '.join(missing))
        version = conn.execute("SELECT COALESCE(MAX(number), 0) FROM schema_migrations").fetchone()[0]
        known = max(n for n, _, _ in migration_files())
        if version > known:
            raise BackupError(
                "storage/cadangan_berasal_versi_sambang", path=path, version=version, known=known
            )
        aspirations = conn.execute("SELECT COUNT(*) FROM aspirations").fetchone()[0]
        people = conn.execute("SELECT COUNT(*) FROM people").fetchone()[0]
    finally:
        conn.close()
    return BackupInfo(path, path.stat().st_size, version, aspirations, people)


def backup_database(source: Path, target: Path) -> BackupInfo:
    """Copy the live database at ``source`` to ``target`` with the online backup API, then verify the copy.

    The copy is written beside the target and renamed into place only once it is complete and checked, so a
    half-written backup never carries the final name.
    """
    if not source.is_file():
        raise BackupError("storage/database_tidak_ditemukan", source=source)
    target = target.resolve()
    if target == source.resolve():
        raise BackupError("storage/tujuan_cadangan_tidak_boleh")
    private_dir(target.parent)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    # Locked while the copy is written: ``remove_partials`` never takes a copy still in progress (another process's
    # ``sambang backup``), and the kernel lets go of it when a killed process leaves the file behind.
    guard = _lock_partial(partial)
    try:
        src = _connect_ro(source)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # all pages in one step: one consistent snapshot, writers in WAL keep going
                dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            finally:
                dst.close()
        finally:
            src.close()
        _fsync(partial)
        info = inspect(partial)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError("storage/pencadangan_gagal", exc=exc) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        os.close(guard)
    return BackupInfo(target, info.size, info.schema_version, info.aspirations, info.people)


def _lock_partial(partial: Path) -> int:
    """Create (or take over a killed backup's) ``partial``, locked, empty and 0600; its open descriptor.

    Never removes or truncates a copy another backup is still writing to the same name: that one keeps the file
    and this backup fails.
    """
    while True:
        fd = os.open(partial, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BackupError("storage/cadangan_sedang_ditulis", name=partial.name) from None
            try:
                current = os.stat(partial).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fd).st_ino:  # else ``remove_partials`` took it between the open and the lock
                os.fchmod(fd, PRIVATE_FILE)  # 0600 before a byte is written; the rename keeps the mode
                os.ftruncate(fd, 0)
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def remove_partials(folder: Path) -> list[Path]:
    """Delete the half-written copies a killed backup left in ``folder`` (never one still being written)."""
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(folder.glob(f"{BACKUP_PREFIX}*{PARTIAL_SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a backup in progress
            path.unlink(missing_ok=True)
            removed.append(path)
        finally:
            os.close(fd)
    if removed:
        log.warning("removed %s unfinished backup copies: %s", len(removed), ", ".join(p.name for p in removed))
    return removed


def daily_backups(folder: Path) -> list[Path]:
    """The backups this bot made in ``folder``, oldest first (other files are never touched)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and _BACKUP_NAME.match(p.name))


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest daily backups beyond the newest ``keep``. Returns the deleted paths."""
    found = daily_backups(folder)
    doomed = found[:-keep] if keep > 0 else found
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


@dataclass(frozen=True)
class RestoreReport:
    restored: BackupInfo
    previous_copy: Path | None


def restore_database(backup: Path, db_path: Path, keep_dir: Path, now: datetime, tz: ZoneInfo) -> RestoreReport:
    """Replace the database at ``db_path`` with ``backup``. The caller makes sure no bot runs (``bot.storage.runlock``).

    The backup is checked first (integrity, Sambang tables, a schema this version knows); the current database is
    copied to ``keep_dir`` before anything changes; the content is then written with the backup API into the
    database file itself, so its WAL and shared-memory files stay consistent.
    """
    info = inspect(backup)
    if db_path.exists() and backup.resolve() == db_path.resolve():
        raise BackupError("storage/cadangan_database_adalah_berkas")
    previous = None
    if db_path.exists():
        previous = keep_dir / f"sebelum-restore-{now.astimezone(tz):%Y%m%d-%H%M%S}.db"
        backup_database(db_path, previous)
    private_dir(db_path.parent)
    private_file(db_path)
    src = _connect_ro(backup)
    try:
        dst = sqlite3.connect(db_path, timeout=30)
        try:
            src.backup(dst)
            audit.record_sync(dst, None, "restore",
                              f"dari {backup.name}; sebelumnya disimpan di {previous.name if previous else '-'}",
                              now=now)
            dst.commit()
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            result = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if result != "ok":
        raise BackupError("storage/database_setelah_pemulihan_tidak", result=result, previous=previous)
    return RestoreReport(info, previous)
