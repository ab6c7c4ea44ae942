"""The daily backup with retention, online backups while the bot writes, restore, and replay of updates a crash
left unhandled."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import sqlite3
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.storage import backup
from bot.storage.runlock import AlreadyRunning, RunLock, is_locked
from tests.harness import BotHarness


def _names(folder: Path) -> list[str]:
    return [p.name for p in backup.daily_backups(folder)]


async def test_daily_backup_runs_once_a_day_after_its_time_and_keeps_the_newest(tmp_path: Path,
                                                                                 clock: FakeClock) -> None:
    folder = tmp_path / "cadangan"
    h = BotHarness(tmp_path, clock, extra={"SAMBANG_BACKUP_DIR": str(folder), "SAMBANG_BACKUP_KEEP": "3",
                                           "SAMBANG_BACKUP_TIME": "02:00"})
    await h.start()
    try:
        await h.tick()  # 09:00 WIB on the first day: today's backup is due (missed at 02:00) and runs once
        await h.tick()
        assert _names(folder) == ["sambang-20260302-090000.db"]
        kades = await h.kepala_desa(10)
        h.clock.advance(hours=16)  # 01:00 WIB the next day: not yet
        await h.tick()
        assert len(_names(folder)) == 1
        h.clock.advance(hours=1, minutes=5)  # 02:05
        await h.tick()
        assert _names(folder)[-1] == "sambang-20260303-020500.db"
        with sqlite3.connect(folder / "sambang-20260303-020500.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT COUNT(*) FROM people WHERE telegram_id = ?", (kades.id,)).fetchone()[0] == 1
        for _ in range(4):
            await h.advance(days=1)
        assert _names(folder) == ["sambang-20260305-020500.db", "sambang-20260306-020500.db",
                                  "sambang-20260307-020500.db"]
        assert not list(folder.glob("*.partial"))
    finally:
        await h.close()


async def test_two_ticks_at_once_write_the_day_s_backup_once(tmp_path: Path, clock: FakeClock,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "cadangan"
    h = BotHarness(tmp_path, clock, extra={"SAMBANG_BACKUP_DIR": str(folder), "SAMBANG_BACKUP_TIME": "02:00"})
    await h.start()
    try:
        caplog.set_level(logging.INFO, logger="schedules.operations")
        await asyncio.gather(h.tick(), h.tick())  # the ticker's tick while another runs: one backup, no clash
        assert _names(folder) == ["sambang-20260302-090000.db"]
        assert not list(folder.glob("*.partial"))
        records = [r for r in caplog.records if r.name == "schedules.operations"]
        assert not [r.getMessage() for r in records if r.levelno >= logging.WARNING]
        assert len([r for r in records if "daily backup written" in r.getMessage()]) == 1
    finally:
        await h.close()


def test_a_backup_never_takes_over_a_copy_another_one_is_still_writing(tmp_path: Path) -> None:
    source = tmp_path / "sambang.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (x)")
    target = tmp_path / "cadangan" / "sambang-20260302-020000.db"
    target.parent.mkdir()
    busy = target.with_name(target.name + backup.PARTIAL_SUFFIX)
    busy.write_bytes(b"half a copy")
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as backup_database holds it while copying (another process, same name)
        with pytest.raises(backup.BackupError, match="sedang ditulis"):
            backup.backup_database(source, target)
        assert busy.read_bytes() == b"half a copy" and os.fstat(fd).st_ino == busy.stat().st_ino
        assert not target.exists()
    finally:
        os.close(fd)


async def test_daily_backup_can_be_turned_off(tmp_path: Path, clock: FakeClock) -> None:
    h = BotHarness(tmp_path, clock, extra={"SAMBANG_BACKUP_DIR": str(tmp_path / "b"), "SAMBANG_BACKUP_TIME": "off"})
    await h.start()
    try:
        await h.advance(days=2)
        assert _names(tmp_path / "b") == []
    finally:
        await h.close()


async def test_online_backup_while_the_bot_writes_is_consistent(harness: BotHarness, tmp_path: Path) -> None:
    users = [await harness.kepala_desa(200 + i, desa=f"35.13.02.200{i + 1}") for i in range(3)]  # one head a desa
    stop = asyncio.Event()

    async def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            for user in users:
                user.send(f"/status ASP-2026-{i:05d}")
            i += 1
            await asyncio.sleep(0.01)

    writer = asyncio.create_task(keep_writing())
    try:
        copies = []
        for n in range(5):
            target = tmp_path / f"copy-{n}.db"
            info = await asyncio.to_thread(backup.backup_database, harness.svc.db.path, target)
            copies.append(info)
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await writer
    for info in copies:
        assert info.people == 4  # three kepala desa and the admin
        with sqlite3.connect(info.path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    counts = [sqlite3.connect(i.path).execute("SELECT COUNT(*) FROM processed_updates").fetchone()[0] for i in copies]
    assert counts == sorted(counts) and counts[-1] > counts[0]  # later copies saw more of the ongoing writes


async def test_restore_brings_back_the_backup_and_keeps_the_replaced_file(tmp_path: Path, clock: FakeClock) -> None:
    h = BotHarness(tmp_path, clock)
    await h.start()
    try:
        await h.kepala_desa(10)
        snapshot = await asyncio.to_thread(backup.backup_database, h.svc.db.path, tmp_path / "snap.db")
        await h.kepala_desa(11, desa="35.13.02.2002")
    finally:
        await h.stop()
    db_path = tmp_path / "sambang.db"
    with pytest.raises(backup.BackupError):  # the same file
        backup.restore_database(db_path, db_path, tmp_path / "keep", clock.now(), h.config.tz)
    report = backup.restore_database(snapshot.path, db_path, tmp_path / "keep", clock.now(), h.config.tz)
    assert report.previous_copy is not None and report.previous_copy.exists()
    with sqlite3.connect(report.previous_copy) as conn:
        assert conn.execute("SELECT COUNT(*) FROM people WHERE telegram_id = 11").fetchone()[0] == 1
    await h.start()  # the bot runs on the restored database
    try:
        assert await h.svc.db.fetchval("SELECT COUNT(*) FROM people WHERE telegram_id = 11") == 0
        budi = h.user(10, "Budi")
        await h.say(budi, "/start", "Selamat datang kembali")
    finally:
        await h.close()


def test_run_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert not is_locked(db)
    with RunLock(db):
        assert is_locked(db)
        with pytest.raises(AlreadyRunning):
            RunLock(db).acquire()
    assert not is_locked(db)


async def test_updates_stored_but_never_handled_are_handled_after_a_restart(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.stop()
    # What a crash leaves: two updates stored on arrival, one of them already handled, one not.
    stranger = harness.user(77, "Tamu")
    handled = {"update_id": 5_000_001, "message": {"message_id": 90, "date": 1772416800,
               "chat": kades.private_chat, "from": kades.as_dict, "text": "/bantuan",
               "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}}
    waiting = {"update_id": 5_000_002, "message": {"message_id": 1, "date": 1772416801,
               "chat": stranger.private_chat, "from": stranger.as_dict, "text": "/start",
               "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    with sqlite3.connect(harness.tmp_path / "sambang.db") as conn:
        for update in (handled, waiting):
            conn.execute("INSERT INTO inbound_updates(update_id, data, received_at) VALUES (?, ?, 'x')",
                         (update["update_id"], json.dumps(update)))
        conn.execute("INSERT INTO processed_updates(update_id, at) VALUES (5000001, 'x')")
    mark = harness.server.mark()
    await harness.start()
    await harness.server.wait_for_text(77, "belum terdaftar", since=mark)
    await harness.settle()
    assert not [c for c in harness.server.calls[mark:] if c.chat_id == 10 and c.method == "sendMessage"]
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0
