"""Files that hold people's data are the bot user's alone (folder 0700, files 0600), and the daily backup counts a
day as done only once its checked copy exists: a failed or killed backup is tried again the same day."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.storage import backup
from tests.harness import BotHarness
from tests.operations.test_operations_cli import _sambang


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> object:
    """An operator whose umask lets everyone read new files (022 is the common default, 000 the worst case)."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


async def test_database_backups_restore_copies_and_audit_exports_are_private(tmp_path: Path,
                                                                            open_umask: object) -> None:
    data = tmp_path / "data"
    env = {"SAMBANG_DB": str(data / "sambang.db"), "SAMBANG_BACKUP_DIR": str(tmp_path / "cadangan")}
    code, _, err = await _sambang(tmp_path, "migrate", **env)
    assert code == 0, err
    assert _mode(data) == 0o700
    assert _mode(data / "sambang.db") == 0o600
    for extra in ("sambang.db-wal", "sambang.db-shm"):
        if (data / extra).exists():
            assert _mode(data / extra) == 0o600, extra

    code, out, err = await _sambang(tmp_path, "backup", **env)
    assert code == 0, err
    made = Path(out.split("Cadangan dibuat: ")[1].split()[0])
    assert _mode(made) == 0o600 and _mode(made.parent) == 0o700

    code, _, err = await _sambang(tmp_path, "restore", str(made), "--yes", **env)
    assert code == 0, err
    [previous] = (tmp_path / "cadangan").glob("sebelum-restore-*.db")
    assert _mode(previous) == 0o600
    assert _mode(data / "sambang.db") == 0o600

    code, _, err = await _sambang(tmp_path, "audit", "export", "--output", str(tmp_path / "audit.csv"), **env)
    assert code == 0, err
    assert _mode(tmp_path / "audit.csv") == 0o600


async def test_a_database_readable_by_others_is_tightened_at_start(tmp_path: Path, open_umask: object) -> None:
    db = tmp_path / "lama.db"
    sqlite3.connect(db).close()
    os.chmod(db, 0o644)
    code, _, err = await _sambang(tmp_path, "migrate", SAMBANG_DB=str(db))
    assert code == 0, err
    assert _mode(db) == 0o600


def _backup_harness(tmp_path: Path, clock: FakeClock) -> BotHarness:
    return BotHarness(tmp_path, clock, extra={"SAMBANG_BACKUP_DIR": str(tmp_path / "cadangan"),
                                              "SAMBANG_BACKUP_TIME": "02:00"})


def _backups(folder: Path) -> list[str]:
    return [p.name for p in backup.daily_backups(folder)]


async def test_a_failed_daily_backup_is_tried_again_the_same_day(tmp_path: Path, clock: FakeClock,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cadangan"
    real_inspect = backup.inspect
    failures = {"left": 1}

    def check_fails_once(path: Path) -> backup.BackupInfo:  # the copy is written, then its check fails
        if failures["left"]:
            failures["left"] -= 1
            raise backup.BackupError("storage/pemeriksaan_integritas_gagal", path=path, result="disk error")
        return real_inspect(path)

    monkeypatch.setattr(backup, "inspect", check_fails_once)
    h = _backup_harness(tmp_path, clock)
    await h.start()
    try:
        await h.tick()  # 09:00 WIB: today's backup runs, and its check fails
        assert _backups(folder) == [] and not list(folder.glob("*.partial"))
        await h.advance(minutes=5)  # not hammered on every tick
        assert _backups(folder) == []
        await h.advance(minutes=15)  # the same day: tried again, and this time it is checked and kept
        assert _backups(folder) == ["sambang-20260302-092000.db"]
        await h.advance(hours=1)  # done for today
        assert _backups(folder) == ["sambang-20260302-092000.db"]
    finally:
        await h.close()


async def test_a_backup_killed_half_way_leaves_the_day_open_and_its_partial_copy_is_removed(
        tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cadangan"

    class Killed(BaseException):
        """Stands for SIGKILL: nothing after the copy runs, no clean-up, no handler."""

    def killed_during_copy(path: Path) -> None:
        raise Killed

    h = _backup_harness(tmp_path, clock)
    await h.start()
    try:
        monkeypatch.setattr(backup, "_fsync", killed_during_copy)
        monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: None)  # a killed process cleans nothing
        with pytest.raises(Killed):
            await h.tick()
        monkeypatch.undo()
        # what the kill left: a half-written copy (restored here, since the test's "kill" ran Python's finally)
        leftover = folder / "sambang-20260302-090000.db.partial"
        assert leftover.exists()
        await h.restart()  # the process comes back the same day
        await h.tick()
        assert _backups(folder) == ["sambang-20260302-090000.db"]
        assert not list(folder.glob("*.partial"))
        with sqlite3.connect(folder / "sambang-20260302-090000.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        await h.close()


def test_clean_up_never_takes_a_copy_still_being_written(tmp_path: Path) -> None:
    import fcntl

    stale = tmp_path / "sambang-20260301-020000.db.partial"
    busy = tmp_path / "sambang-20260302-020000.db.partial"
    other = tmp_path / "catatan.partial"
    for path in (stale, busy, other):
        path.write_bytes(b"x")
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as backup_database holds it while copying
        assert backup.remove_partials(tmp_path) == [stale]
    finally:
        os.close(fd)
    assert busy.exists() and other.exists() and not stale.exists()
