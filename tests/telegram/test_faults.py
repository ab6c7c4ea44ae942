"""No single fault silences the bot: a lock held by another process past the busy timeout, a failing disk, a poison
update (a handler raising every time), and a stop in the middle of a fault.

The real bot runs against the fake Bot API (``BotHarness``); the faults are real where they can be (a second sqlite3
connection holding the write lock) and simulated at the database's write path where they cannot (a full disk,
through ``Database.write_fault``). What a user would notice is checked: answers arrive once the fault has passed,
no acknowledged update is lost, the sender of a poison update is told, an admin sees it and replays it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.core.clock import FakeClock, to_iso
from bot.operations import health
from bot.operations.health import check_file, health_report
from bot.telegram.inbound import FailedUpdates
from tests.harness import ADMIN_ID, BotHarness

ROOT = Path(__file__).resolve().parents[2]
#: The bot's busy timeout in these tests: a lock held longer than this fails the write (then it is retried).
BUSY = "0.3"


@pytest.fixture
async def bot(tmp_path: Path, clock: FakeClock) -> AsyncIterator[BotHarness]:
    h = BotHarness(tmp_path, clock, extra={"SAMBANG_DB_BUSY_TIMEOUT": BUSY})
    await h.start()
    try:
        yield h
    finally:
        await h.close()


class HeldLock:
    """Another process's write lock: a second sqlite3 connection inside BEGIN IMMEDIATE (an operator's session)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, timeout=5, isolation_level=None)

    def __enter__(self) -> HeldLock:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()


def unhandled(h: BotHarness) -> int:
    """Updates Telegram still holds for the bot (delivered or not, but not confirmed by the next offset)."""
    return len(h.server._updates)


async def test_lock_past_busy_timeout_does_not_stop_polling(bot: BotHarness,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    user = bot.user(510_001, "Sari")
    await bot.say(user, "/bantuan", "Bantuan Sambang")
    caplog.set_level(logging.WARNING)
    lock = HeldLock(bot.config.db_path)
    with lock:
        mark = bot.server.mark()
        user.send("/bantuan")  # arrives while another process holds the lock for longer than the busy timeout
        await asyncio.sleep(5)
        assert not [c for c in bot.server.sent(user.id) if c.index >= mark], "answered before it was stored"
    # the lock is gone: the message held back is answered, and polling goes on for new ones
    await bot.server.wait_for_text(user.id, "Bantuan Sambang", 10, since=mark)
    await bot.say(user, "/status", "")
    await bot.say(user, "/bantuan", "Bantuan Sambang")
    await bot.settle()
    retries = [r for r in caplog.records if "could not store update" in r.getMessage()]
    assert any(r.levelno == logging.WARNING for r in retries), "each failed try is a WARNING"
    assert any(r.levelno == logging.ERROR for r in retries), "a write that keeps failing is an ERROR"
    assert await bot.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0
    assert unhandled(bot) == 0


class FailingDisk:
    """``Database.write_fault`` failing every write (or those ``which`` picks) like a full disk, until cleared."""

    def __init__(self, which: Callable[[str | None], bool] = lambda sql: True) -> None:
        self.on = True
        self.which = which
        self.failed = 0

    def __call__(self, sql: str | None) -> None:
        if self.on and self.which(sql):
            self.failed += 1
            raise sqlite3.OperationalError("database or disk is full")


async def test_full_disk_for_a_few_seconds_loses_nothing(bot: BotHarness) -> None:
    kades = await bot.kepala_desa(510_010)
    other = bot.user(510_011, "Rina")
    disk = FailingDisk()
    bot.svc.db.write_fault = disk
    mark = bot.server.mark()
    kades.send("/status")
    other.send("/bantuan")
    await asyncio.sleep(2.0)
    assert disk.failed >= 3, "the bot kept trying"
    assert not [c for c in bot.server.sent() if c.index >= mark and c.chat_id in (kades.id, other.id)]
    disk.on = False
    await bot.server.wait_for_text(other.id, "Bantuan Sambang", 10, since=mark)
    await bot.server.wait_for_text(kades.id, "aspirasi", 10, since=mark)
    await bot.say(other, "/bantuan", "Bantuan Sambang")  # polling is still alive
    await bot.settle()
    assert await bot.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0
    assert unhandled(bot) == 0


async def test_disk_failing_while_an_update_is_handled_retries_it(bot: BotHarness,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """The update was stored, then every other write fails (its handling): it is tried again, not lost."""
    user = bot.user(510_020, "Dewi")
    await bot.say(user, "/bantuan", "Bantuan Sambang")
    caplog.set_level(logging.WARNING)
    disk = FailingDisk(lambda sql: not (sql or "").startswith("INSERT INTO inbound_updates"))
    bot.svc.db.write_fault = disk
    mark = bot.server.mark()
    user.send("/bantuan")
    await bot.server.wait_until(lambda: disk.failed >= 1, 5, what="a failed write while handling")
    assert await bot.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 1, "kept for a restart"
    await asyncio.sleep(0.5)
    disk.on = False
    await bot.server.wait_for_text(user.id, "Bantuan Sambang", 10, since=mark)
    await bot.settle()
    assert [t for t in bot.server.texts(user.id)[-3:] if "gangguan" in t] == []
    assert any("trying it again" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert await bot.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0
    assert await bot.svc.db.fetchval("SELECT COUNT(*) FROM dead_letters") == 0


class Defect:
    """A handler that raises on every message from one user while ``broken`` (a bug in a handler)."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.broken = True
        self.calls = 0

    async def __call__(self, update: Update, context: Any) -> None:
        if self.broken:
            self.calls += 1
            raise RuntimeError("defect in a handler")

    def install(self, h: BotHarness) -> None:
        """First of the handlers that run after the update was marked handled, for this user's messages."""
        h.app.add_handler(MessageHandler(filters.User(self.user_id), self), group=-1)
        group = h.app.handlers[-1]
        group.insert(0, group.pop())


async def test_poison_update_is_set_aside_told_listed_and_replayed(bot: BotHarness,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FailedUpdates, "DELAYS", (0.05,))
    kades = await bot.kepala_desa(510_030, name="Pak Joko")
    other = await bot.kepala_desa(510_031, desa="35.13.02.2002", name="Bu Ani")
    defect = Defect(kades.id)
    defect.install(bot)
    admin = bot.admin
    mark = bot.server.mark()
    kades.send("/bantuan")
    await bot.server.wait_for_text(kades.id, "belum dapat diproses", 10, since=mark)
    note = await bot.server.wait_for_text(ADMIN_ID, "gagal diproses", 10, since=mark)
    assert defect.calls == FailedUpdates.ATTEMPTS, "tried a few times, then set aside"
    assert "Pak Joko" in (note.text or "") and "/bantuan" in (note.text or "")
    assert "Bantuan Sambang" not in "".join(bot.server.texts(kades.id)[-2:])
    # it blocks nobody: others are answered, and a restart does not try it again
    await bot.say(other, "/bantuan", "Bantuan Sambang")
    await bot.restart()
    defect.install(bot)
    await bot.settle()
    assert defect.calls == FailedUpdates.ATTEMPTS
    assert await bot.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0
    update_id = await bot.svc.db.fetchval("SELECT update_id FROM dead_letters WHERE status = 'open'")
    assert update_id is not None

    # only an admin sees and replays it, the button's role checked on the server too
    await bot.say(other, "/gagal", "hanya untuk")
    listing = await bot.say(admin, "/gagal", "Pesan gagal diproses")
    assert f"#{update_id}" in (listing.text or "") and "Pak Joko" in (listing.text or "")
    forged = bot.server.mark()
    other.press(listing, f"dl:ulang:{update_id}")
    await bot.server.wait_for(lambda c: c.method == "answerCallbackQuery", 5, since=forged)
    await bot.settle()
    assert await bot.svc.db.fetchval("SELECT status FROM dead_letters") == "open"

    defect.broken = False  # the defect is fixed; the admin replays the message
    mark = bot.server.mark()
    admin.press_button(f"🔁 Ulang #{update_id}")
    await bot.server.wait_for_text(ADMIN_ID, "diproses ulang", 5, since=mark)
    await bot.server.wait_for_text(kades.id, "Bantuan Sambang", 10, since=mark)
    await bot.settle()
    assert await bot.svc.db.fetchval("SELECT status FROM dead_letters") == "replayed"
    await bot.say(admin, "/gagal", "Tidak ada pesan gagal")
    await bot.say(admin, f"/gagal ulang {update_id}", "Tidak ada pesan gagal")


async def test_dead_letters_on_the_command_line(bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FailedUpdates, "DELAYS", (0.05,))
    kades = await bot.kepala_desa(510_040, name="Pak Harto")
    defect = Defect(kades.id)
    defect.install(bot)
    mark = bot.server.mark()
    kades.send("/bantuan")
    await bot.server.wait_for_text(kades.id, "belum dapat diproses", 10, since=mark)
    update_id = await bot.svc.db.fetchval("SELECT update_id FROM dead_letters")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMBANG_", "TELEGRAM_"))}
    env.update({"PYTHONPATH": str(ROOT), "SAMBANG_DB": str(bot.config.db_path)})

    async def sambang(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out.decode(), err.decode()

    code, out, _ = await sambang("deadletters", "list")
    assert code == 0 and f"#{update_id}" in out and "Pak Harto" in out and "RuntimeError" in out
    code, _, err = await sambang("deadletters", "replay", "424242")
    assert code == 1 and "Tidak ada pesan gagal #424242" in err
    defect.broken = False
    code, out, _ = await sambang("deadletters", "replay", str(update_id))
    assert code == 0 and "diproses ulang" in out
    mark = bot.server.mark()
    await bot.tick()  # the running bot picks the request up on its next tick
    await bot.server.wait_for_text(kades.id, "Bantuan Sambang", 10, since=mark)
    code, out, _ = await sambang("deadletters", "list")
    assert "Tidak ada pesan gagal" in out


# -- health: unhealthy when updates are not taken or not handled for a minute; a quiet bot stays healthy ----------


async def test_health_says_unhealthy_while_polling_is_stuck_and_healthy_when_quiet(
        bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "STUCK_AFTER", 1.5)  # "a minute", shortened for the test
    liveness = bot.svc.liveness
    await asyncio.sleep(2.5)  # nobody writes: long polls keep succeeding
    report = await health_report(bot.svc.db, mode="polling", liveness=liveness)
    assert report["status"] == "ok", report
    user = bot.user(510_050, "Tono")
    with HeldLock(bot.config.db_path):
        mark = bot.server.mark()
        user.send("/bantuan")  # storing it waits for the lock: no getUpdates meanwhile
        await asyncio.sleep(3.5)
        report = await health_report(bot.svc.db, mode="polling", liveness=liveness)
    assert report["status"] == "error"
    assert "getUpdates" in report["problem"] and "storing" in report["problem"]
    await bot.server.wait_for_text(user.id, "Bantuan Sambang", 10, since=mark)
    await bot.settle()
    report = await health_report(bot.svc.db, mode="polling", liveness=liveness)
    assert report["status"] == "ok", report
    assert report["dead_letters"] == 0 and report["unhandled_updates"] == 0


def _state(path: Path, **rows: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for key, value in rows.items():
            conn.execute("INSERT INTO app_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value ="
                         " excluded.value", (key, value))
    conn.close()


async def test_sambang_health_reads_polling_waiting_updates_and_dead_letters(bot: BotHarness) -> None:
    """``sambang health`` (the Docker HEALTHCHECK) runs in another process and reads what the bot wrote."""
    path = bot.config.db_path
    await bot.tick()  # the heartbeat writes the bot's own view of polling
    ok, line = check_file(path, max_heartbeat_age=90, max_poll_age=90)
    assert ok and line.startswith("sehat"), line
    ago = to_iso(datetime.now(UTC) - timedelta(minutes=3))
    _state(path, polled_at=ago)
    ok, line = check_file(path, max_heartbeat_age=90, max_poll_age=90)
    assert not ok and "tidak mengambil pesan baru" in line
    _state(path, receive_mode="webhook")  # a webhook bot does not poll
    assert check_file(path, max_heartbeat_age=90, max_poll_age=90)[0]
    _state(path, receive_mode="polling", polled_at=to_iso(datetime.now(UTC)))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO inbound_updates(update_id, data, received_at, stored_at) VALUES (7, '{}', ?, ?)",
                     (ago, ago))
        conn.execute("INSERT INTO dead_letters(update_id, data, reason, attempts, failed_at) VALUES (8, '{}', 'x',"
                     " 3, ?)", (ago,))
    ok, line = check_file(path, max_heartbeat_age=90, max_poll_age=90)
    assert not ok and "belum diproses sejak" in line and "1 pesan gagal" in line
    with conn:
        conn.execute("DELETE FROM inbound_updates")
    conn.close()
    ok, line = check_file(path, max_heartbeat_age=90, max_poll_age=90)
    assert ok and "1 pesan gagal menunggu admin" in line


async def test_healthz_in_webhook_mode_reports_updates_left_unhandled(tmp_path: Path, clock: FakeClock) -> None:
    from tests.telegram.test_webhook import WebhookHarness

    hook = WebhookHarness(tmp_path, clock)
    await hook.start()
    try:
        assert hook.http is not None
        async with hook.http.get(hook.url("/healthz")) as response:
            assert response.status == 200
            report = await response.json()
        assert report["dead_letters"] == 0 and "polled_at" not in report
        ago = to_iso(datetime.now(UTC) - timedelta(minutes=2))
        await hook.svc.db.execute("INSERT INTO inbound_updates(update_id, data, received_at, stored_at) VALUES"
                                  " (7, '{}', ?, ?)", (ago, ago))
        async with hook.http.get(hook.url("/healthz")) as response:
            assert response.status == 503
            report = await response.json()
        assert "unhandled" in report["problem"]
    finally:
        await hook.close()


# -- a clean stop in the middle of a fault --------------------------------------------------------------------


async def test_sigterm_while_another_process_holds_the_lock_exits_cleanly(tmp_path: Path) -> None:
    from tests.fake_telegram import FakeTelegram

    token = "123456:FAULT-test"
    server = FakeTelegram(token=token)
    await server.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMBANG_", "TELEGRAM_"))}
    env.update({"PYTHONPATH": str(ROOT), "SAMBANG_DB": str(tmp_path / "bot.db"), "TELEGRAM_BOT_TOKEN": token,
                "TELEGRAM_API_BASE_URL": server.base_url, "SAMBANG_ADMINS": "777", "SAMBANG_BACKUP_TIME": "off",
                "SAMBANG_DB_BUSY_TIMEOUT": "0.5"})

    async def run() -> asyncio.subprocess.Process:
        mark = server.mark()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        await server.wait_for(lambda c: c.method == "deleteWebhook", 60, since=mark, what="the bot polling")
        return proc

    user = server.user(510_060, "Wati")
    try:
        proc = await run()
        mark = server.mark()
        user.send("/bantuan")
        await server.wait_for_text(user.id, "Bantuan Sambang", 30, since=mark)
        with HeldLock(tmp_path / "bot.db"):
            mark = server.mark()
            user.send("/start")  # cannot be stored while the lock is held
            await asyncio.sleep(2)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
            stop_took = time.monotonic() - started
        assert proc.returncode == 0, err.decode()[-3000:]
        assert "Traceback" not in err.decode(), err.decode()[-3000:]
        assert stop_took < 15
        assert not [c for c in server.sent(user.id) if c.index >= mark]
        # the message was never confirmed to Telegram: the next start takes and answers it
        proc = await run()
        await server.wait_for_text(user.id, "belum terdaftar", 30, since=mark)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()[-3000:]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.stop()


async def test_a_stored_update_that_cannot_be_read_back_is_set_aside_not_lost(bot: BotHarness) -> None:
    await bot.stop()
    conn = sqlite3.connect(bot.config.db_path)
    with conn:
        conn.execute("INSERT INTO inbound_updates(update_id, data, received_at) VALUES (99, '{\"update_id\": 99,"
                     " \"message\": {\"date\": \"kemarin\"}}', '2026-03-02T01:00:00Z')")
    conn.close()
    mark = bot.server.mark()
    await bot.start()  # the start does not stop at it
    note = await bot.server.wait_for_text(ADMIN_ID, "gagal diproses", 10, since=mark)
    assert "#99" in (note.text or "")
    assert await bot.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0
    assert await bot.svc.db.fetchval("SELECT status FROM dead_letters WHERE update_id = 99") == "open"
    await bot.say(bot.user(510_070, "Eko"), "/bantuan", "Bantuan Sambang")
