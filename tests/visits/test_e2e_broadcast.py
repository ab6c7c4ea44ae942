"""The broadcast engine end to end: /siaran to all 330 village heads of Probolinggo with injected 429s and 5xx and a
restart in the middle (everyone gets it exactly once, counted on the fake server), blocked users, the report, and
Telegram's pacing limits measured by the fake server."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from bot.config import Config
from bot.core.clock import FakeClock, to_iso
from bot.visits import broadcast
from tests.harness import ADMIN_ID, BotHarness

BASE = 500_000


async def add_village_heads(harness: BotHarness, count: int | None = None) -> list[int]:
    """One registered kepala desa per desa (330 in Probolinggo), straight into the roster."""
    db = harness.svc.db
    desa = await db.fetchall("SELECT code FROM desa ORDER BY code")
    desa = desa[:count] if count else desa
    now = to_iso(harness.clock.now())
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO people(telegram_id, name, role, desa_code, created_at, updated_at)"
            " VALUES (?, ?, 'kepala_desa', ?, ?, ?)",
            [(BASE + i, f"Kades {i}", row["code"], now, now) for i, row in enumerate(desa)])
    return [BASE + i for i in range(len(desa))]


def deliveries(harness: BotHarness, needle: str) -> Counter[int]:
    """How many times each chat (but the admin's, who sees a preview) successfully received a message containing
    ``needle``."""
    return Counter(c.chat_id for c in harness.server.sent(method="sendMessage")
                   if needle in (c.text or "") and c.chat_id != ADMIN_ID)


async def start_siaran(harness: BotHarness, text: str, *, reachable: int) -> int:
    admin = harness.admin
    await harness.say(admin, "/siaran", "Kepada siapa")
    await harness.press(admin, "🎭 Satu peran", "Peran mana")
    await harness.press(admin, "Kepala Desa", "Tulis pesan siarannya")
    preview = await harness.say(admin, text, "Pratinjau siaran")
    assert f"Penerima: {reachable}" in (preview.text or "")
    started = await harness.press(admin, f"✅ Kirim ke {reachable} penerima", "sedang dikirim")
    return int((started.text or "").split("Siaran #")[1].split()[0])


async def test_broadcast_to_330_village_heads_with_429s_and_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    # paced at 150/s so that the broadcast is still running when the bot restarts
    harness = BotHarness(tmp_path, clock, outbox_rate=150.0)
    await harness.start()
    try:
        chats = await add_village_heads(harness)
        assert len(chats) == 330
        server = harness.server
        server.fail_next("sendMessage", status=429, retry_after=1, chat_id=chats[5])
        server.fail_next("sendMessage", status=429, retry_after=1, chat_id=chats[200])
        server.fail_next("sendMessage", status=502, chat_id=chats[17])
        server.drop_connection_next("sendMessage", chat_id=chats[250])
        text = "Rapat koordinasi kepala desa se-Kabupaten Probolinggo hari Senin pukul 09.00 di Pendopo & aula."
        broadcast_id = await start_siaran(harness, text, reachable=330)
        queued = await harness.svc.db.fetchval("SELECT COUNT(*) FROM outbox WHERE broadcast_id = ?",
                                               (broadcast_id,))
        assert queued == 330  # every recipient queued in the one transaction that created the broadcast

        # restart in the middle of delivery
        await server.wait_until(lambda: 60 <= sum(deliveries(harness, "Rapat koordinasi").values()), timeout=10)
        delivered_before = sum(deliveries(harness, "Rapat koordinasi").values())
        await harness.restart()
        assert delivered_before < 330
        await server.wait_until(lambda: len(deliveries(harness, "Rapat koordinasi")) == 330, timeout=30,
                                what="all 330 delivered")
        await harness.settle(timeout=10)

        got = deliveries(harness, "Rapat koordinasi")
        assert set(got) == set(chats)
        assert all(n == 1 for n in got.values()), [c for c, n in got.items() if n != 1]
        failed = [c for c in server.calls_for(chats[5], "sendMessage") if not c.ok]
        assert [c.status for c in failed] == [429]
        assert [c.status for c in server.calls_for(chats[17], "sendMessage") if not c.ok] == [502]
        # the text arrived as written, escaped
        sample = server.sent(chats[0], "sendMessage")[0]
        assert text in (sample.text or "") and "&amp; aula" in sample.params["text"]

        report = await broadcast.report(harness.svc.db, broadcast_id)
        assert report is not None
        assert (report.recipients, report.sent, report.failed, report.pending, report.blocked_total) == (
            330, 330, 0, 0, 0)
        # the admin refreshes the report with the button, and asks for it by command
        await harness.press(harness.admin, "🔄 Perbarui laporan", "Terkirim: 330")
        listing = await harness.say(harness.admin, "/siaran laporan", "Siaran terakhir")
        assert f"#{broadcast_id} · siaran" in (listing.text or "")
        await harness.say(harness.admin, f"/siaran laporan {broadcast_id}", "Selesai.")
    finally:
        await harness.close()


async def test_blocked_users_are_skipped_marked_and_counted(harness: BotHarness) -> None:
    chats = await add_village_heads(harness, 12)
    db = harness.svc.db
    await db.execute("UPDATE people SET blocked_bot_at = ? WHERE telegram_id = ?", (to_iso(harness.clock.now()),
                                                                                    chats[0]))
    harness.server.block(chats[1])
    broadcast_id = await start_siaran(harness, "Pengumuman uji siaran.", reachable=11)
    await harness.settle()
    got = deliveries(harness, "Pengumuman uji siaran")
    assert set(got) == set(chats[2:]) and all(n == 1 for n in got.values())
    assert not harness.server.calls_for(chats[0])  # skipped: never even tried
    assert await db.fetchval("SELECT blocked_bot_at IS NOT NULL FROM people WHERE telegram_id = ?", (chats[1],))
    report = await broadcast.report(db, broadcast_id)
    assert report is not None
    assert (report.recipients, report.sent, report.failed, report.pending, report.blocked,
            report.skipped_blocked) == (11, 10, 0, 0, 1, 1)
    await harness.press(harness.admin, "🔄 Perbarui laporan", "Memblokir bot: 2")


async def test_siaran_to_one_kecamatan_reaches_its_village_heads_and_camat_only(harness: BotHarness) -> None:
    sumber = await harness.kepala_desa(11, desa="35.13.02.2001")
    tiris = await harness.kepala_desa(12, desa="35.13.07.2001")
    camat = harness.user(21, "Camat Sumber")
    await harness.register(camat, "camat", kecamatan="Sumber")
    bupati = harness.user(31, "Bupati")
    await harness.register(bupati, "pimpinan", title="Bupati")
    admin = harness.admin
    await harness.say(admin, "/siaran", "Kepada siapa")
    await harness.press(admin, "🏛 Satu kecamatan", "Kecamatan mana")
    await harness.say(admin, "Kecamatan Zzz", "tidak ditemukan")
    await harness.say(admin, "sumber", "Kecamatan Sumber")
    await harness.say(admin, "x" * 3600, "terlalu panjang")
    await harness.say(admin, "Besok pendataan <b>RTLH</b> di balai desa.", "Penerima: 2")
    await harness.press(admin, "✅ Kirim ke 2 penerima", "sedang dikirim")
    await harness.settle()
    assert deliveries(harness, "pendataan <b>RTLH</b>") == Counter({11: 1, 21: 1})
    assert not deliveries(harness, "pendataan")[tiris.id] and not deliveries(harness, "pendataan")[bupati.id]
    assert sumber.id == 11
    # pressing Kirim again (the same draft) sends nothing twice
    admin.press(harness.server.bot_messages(admin.id, newest_first=True).__iter__().__next__(), "bc:send")
    await harness.settle()
    assert deliveries(harness, "pendataan <b>RTLH</b>") == Counter({11: 1, 21: 1})
    # only admins
    await harness.say(bupati, "/siaran", "hanya untuk Admin")
    # /batal ends the flow
    await harness.say(admin, "/siaran", "Kepada siapa")
    await harness.say(admin, "/batal", "tidak ada yang dikirim")


async def test_pacing_within_telegram_limits_measured_by_the_fake_server(tmp_path: Path, clock: FakeClock) -> None:
    """Real limits (30/s overall, 1/s per private chat): the fake server records no violation."""
    harness = BotHarness(tmp_path, clock, outbox_rate=Config.outbox_rate, outbox_chat_interval=1.0,
                         outbox_group_interval=3.0)
    await harness.start()
    try:
        chats = await add_village_heads(harness, 45)
        db = harness.svc.db
        from bot.messaging import outbox

        async with db.transaction() as tx:
            for i in range(3):  # three messages to one chat right after each other
                await outbox.enqueue_text(tx, chats[0], f"Pesan berurutan {i}", now=harness.clock.now())
            for chat in chats[1:]:
                await outbox.enqueue_text(tx, chat, "Pesan massal", now=harness.clock.now())
        loop = asyncio.get_running_loop()
        started = loop.time()
        await harness.svc.outbox.drain(timeout=15)
        elapsed = loop.time() - started
        assert harness.server.violations == []
        assert len(deliveries(harness, "Pesan massal")) == 44
        ordered = [c.text for c in harness.server.sent(chats[0], "sendMessage")]
        assert ordered == [f"Pesan berurutan {i}" for i in range(3)]
        assert elapsed >= 1.9  # 47 messages at 30/s, and three a second apart to one chat
    finally:
        await harness.close()
