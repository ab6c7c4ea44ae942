"""A regency already running Sambang upgrades: the new code starts on a database the previous release wrote and
carries on where people left off (see ``tests/upgrade_fixture.py`` for what that database holds)."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from pathlib import Path

from bot.core.clock import FakeClock
from tests.harness import BotHarness
from tests.upgrade_fixture import (
    DRAFT_DESCRIPTION,
    DRAFTING_ID,
    FIXTURE,
    FIXTURE_NOW,
    OFFICIAL_ID,
    PENDING_TEXT,
    SUBMITTER_ID,
)


async def _started_on_fixture(tmp_path: Path) -> BotHarness:
    shutil.copyfile(FIXTURE, tmp_path / "sambang.db")
    harness = BotHarness(tmp_path, FakeClock(FIXTURE_NOW))
    # Telegram's update ids keep growing across a deploy: go on after the last one the old release handled
    with sqlite3.connect(tmp_path / "sambang.db") as conn:
        last = conn.execute("SELECT MAX(update_id) FROM processed_updates").fetchone()[0]
    harness.server._update_ids = itertools.count(int(last) + 1)
    # ... and files sent after the deploy are other files than those sent before it
    harness.server._file_counter = itertools.count(10_001)
    await harness.start()
    return harness


async def test_new_code_carries_on_with_what_the_previous_release_left(tmp_path: Path) -> None:
    h = await _started_on_fixture(tmp_path)
    try:
        budi = h.user(DRAFTING_ID, "Budi")
        siti = h.user(SUBMITTER_ID, "Siti")
        andi = h.user(OFFICIAL_ID, "Andi")

        # the message that waited in the outbox goes out once
        await h.server.wait_for_text(SUBMITTER_ID, PENDING_TEXT)

        # the half-written aspiration goes on at the attachment step, with the photo sent before the upgrade
        mark = h.server.mark()
        budi.send_photo()
        await h.server.wait_for_text(DRAFTING_ID, "Foto 2 diterima", since=mark)
        await h.press(budi, "➡️ Lanjut ke ringkasan", DRAFT_DESCRIPTION)
        await h.press(budi, "✅ Kirim", "ASP-2026-00002")
        stored = await h.svc.aspirations.by_ticket("ASP-2026-00002")
        assert stored is not None and len(stored.photos) == 2 and stored.description == DRAFT_DESCRIPTION

        # the official pressed "Balas" before the upgrade: the answer typed now reaches the kepala desa
        await h.say(andi, "Perbaikan dijadwalkan minggu depan oleh tim UPT.", "Balasan untuk")
        reply = await h.server.wait_for_text(SUBMITTER_ID, "Balasan dari")
        assert "Perbaikan dijadwalkan minggu depan" in (reply.text or "")

        # this morning's digest was sent by the previous release: the same morning does not send it again
        await h.tick()
        await h.settle()
        assert await h.svc.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE ref = 'digest:daily:2026-03-03'") == 1
        assert await h.svc.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE dedup_key = 'upgrade:pending'") == 1
        assert sum(PENDING_TEXT in (m.get("text") or "") for m in h.server.bot_messages(siti.id)) == 1

        # the next morning's digest goes out once, under the same key format as before
        await h.advance(hours=23)
        await h.settle()
        keys = [r["dedup_key"] for r in await h.svc.db.fetchall(
            "SELECT dedup_key FROM outbox WHERE ref = 'digest:daily:2026-03-04'")]
        assert keys == [f"digest:daily:2026-03-04:{OFFICIAL_ID}:0"]
        await h.tick()
        assert await h.svc.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE ref = 'digest:daily:2026-03-04'") == 1
    finally:
        await h.close()
