"""The archive folder as a whole: incremental backup beside the database backups, restore, and verification.

Synchronous on purpose (files and a read-only ``sqlite3`` connection of its own): the command line runs it beside a
running bot, the scheduler through ``asyncio.to_thread``. Files are named by their hash, so "already backed up"
is a name that is already there, whole.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.media.store import PARTIAL_SUFFIX, file_sha256
from bot.storage.database import PRIVATE_FILE, private_dir

#: ``ab/<64 hex>.<ext>``: only such files belong to the archive.
_NAME = re.compile(r"^([0-9a-f]{2})/(\1[0-9a-f]{62})\.[a-z0-9]{1,8}$")
#: The archive's folder inside a backup folder.
BACKUP_FOLDER = "media"


def backup_folder(backup_file: Path) -> Path:
    """Where the archive goes for a database backup written to ``backup_file``: ``media/`` beside it."""
    return backup_file.parent / BACKUP_FOLDER


def archive_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative path, path) of every archived file under ``root``."""
    if not root.is_dir():
        return
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(sub.iterdir()):
            relative = f"{sub.name}/{path.name}"
            if path.is_file() and _NAME.match(relative):
                yield relative, path


def expected_hash(relative: str) -> str:
    match = _NAME.match(relative)
    assert match is not None
    return match.group(2)


@dataclass
class CopyReport:
    copied: int = 0
    #: already in the target, whole (a backup does not copy them again)
    present: int = 0
    bytes_copied: int = 0
    #: source files whose content does not match their name: not copied
    damaged: list[str] = field(default_factory=list)


def _copy_checked(source: Path, target: Path, sha: str) -> int | None:
    """Copy ``source`` to ``target`` (through a partial file), hashing on the way; None (nothing left behind)
    when the content does not hash to ``sha``."""
    private_dir(target.parent.parent)
    private_dir(target.parent)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    digest = hashlib.sha256()
    size = 0
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with source.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
                view = memoryview(block)
                while view:
                    view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if digest.hexdigest() != sha:
        partial.unlink(missing_ok=True)
        return None
    os.replace(partial, target)
    return size


def copy_archive(source_root: Path, target_root: Path) -> CopyReport:
    """Copy every archived file of ``source_root`` that ``target_root`` does not hold whole yet."""
    report = CopyReport()
    for relative, source in archive_files(source_root):
        target = target_root / relative
        if target.is_file() and target.stat().st_size == source.stat().st_size:
            report.present += 1
            continue
        size = _copy_checked(source, target, expected_hash(relative))
        if size is None:
            report.damaged.append(relative)
            continue
        report.copied += 1
        report.bytes_copied += size
    return report


def backup_archive(media_root: Path, backup_file: Path) -> CopyReport:
    """The archive, incrementally, into ``media/`` beside the database backup ``backup_file``."""
    return copy_archive(media_root, backup_folder(backup_file))


def restore_archive(backup_file: Path, media_root: Path) -> CopyReport | None:
    """The archive saved beside ``backup_file`` back into ``media_root`` (files already there are kept); None
    when the backup has no archive beside it."""
    source = backup_folder(backup_file)
    if not source.is_dir():
        return None
    return copy_archive(source, media_root)


@dataclass
class VerifyReport:
    checked: int = 0
    #: relative paths whose content no longer hashes to the recorded SHA-256
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatched and not self.missing


def recorded_files(db_path: Path) -> list[tuple[str, str, int]]:
    """(sha256, path, size) of every archived file the database at ``db_path`` records (read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'media_files'")
        if has_table.fetchone() is None:
            return []
        rows = conn.execute("SELECT sha256, path, size FROM media_files ORDER BY path").fetchall()
        return [(r[0], r[1], int(r[2])) for r in rows]
    finally:
        conn.close()


def verify_archive(db_path: Path, media_root: Path) -> VerifyReport:
    """Re-hash every file the database records; list the missing ones and those whose content changed."""
    report = VerifyReport()
    for sha, relative, _size in recorded_files(db_path):
        report.checked += 1
        path = media_root / relative
        if not path.is_file():
            report.missing.append(relative)
        elif file_sha256(path) != sha:
            report.mismatched.append(relative)
    return report
