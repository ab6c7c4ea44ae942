"""Duplicate and out-of-order updates: the same update delivered twice is handled once (polling; the webhook case is
in test_webhook.py), and buttons pressed after the state moved on get a clear answer and change nothing."""

from __future__ import annotations

import json

from telegram import Update

from bot.aspirations.service import Draft
from bot.people import roster
from tests.harness import ADMIN_ID, BotHarness


async def _submit(harness: BotHarness, kades) -> str:
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, "Jalan poros desa rusak parah berlubang sepanjang dua kilometer.", "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    receipt = await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    return (receipt.text or "").split("Nomor tiket: ")[1].split()[0]


async def test_the_same_update_queued_twice_is_handled_once(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, "Jembatan dusun Krajan putus diterjang banjir, anak sekolah memutar jauh.",
                      "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    summary = kades.last_message()
    assert summary is not None
    raw = harness.server.push_callback_query(kades, summary, "asp:sum:send")
    harness.server._updates.remove(raw)  # delivered below, twice, as a redelivery after a crash would
    mark = harness.server.mark()
    update = Update.de_json(json.loads(json.dumps(raw)), harness.app.bot)
    again = Update.de_json(json.loads(json.dumps(raw)), harness.app.bot)
    await harness.app.update_queue.put(update)
    await harness.app.update_queue.put(again)
    await harness.server.wait_for_text(10, "Aspirasi terkirim", since=mark)
    await harness.settle()
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 1
    assert len([t for t in harness.server.texts(10) if "Aspirasi terkirim" in t]) == 1
    assert len([c for c in harness.server.calls[mark:] if c.method == "answerCallbackQuery"]) == 1
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0


async def test_old_kirim_after_sending_names_the_ticket(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    ticket = await _submit(harness, kades)
    summary = next(m for m in harness.server.bot_messages(10, newest_first=True)
                   if "Ringkasan aspirasi" in (m.get("text") or ""))
    mark = harness.server.mark()
    kades.press(summary, "asp:sum:send")
    call = await harness.server.wait_for_call("answerCallbackQuery", 10, since=mark)
    assert f"sudah terkirim dengan nomor tiket {ticket}" in str(call.params.get("text"))
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 1


async def test_old_category_button_of_a_cancelled_draft(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    menu = kades.last_message()
    await harness.say(kades, "/batal", "Aspirasi dibatalkan")
    mark = harness.server.mark()
    kades.press(menu, "asp:cat:pendidikan")
    call = await harness.server.wait_for_call("answerCallbackQuery", 10, since=mark)
    assert "tidak berlaku" in str(call.params.get("text"))
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM drafts") == 0


async def test_official_buttons_after_the_aspiration_moved_on(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    kades_person = await roster.get_person(harness.svc.db, 10)
    admin = await roster.get_person(harness.svc.db, ADMIN_ID)
    assert kades_person is not None and admin is not None
    aspiration, _ = await harness.svc.aspirations.submit(
        kades_person, Draft(category="infrastruktur", description="Saluran irigasi tersier jebol di dusun Krajan."),
        "stale-1")
    await harness.settle()
    card = next(m for m in harness.server.bot_messages(ADMIN_ID, newest_first=True)
                if aspiration.ticket in (m.get("text") or "") and m.get("reply_markup"))
    officials = harness.svc.officials
    assert officials is not None
    await officials.act(admin, aspiration.id, "tolak", note="Bukan kewenangan kabupaten, sudah ditangani desa.")
    before = await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspiration_history WHERE aspiration_id = ?",
                                           (aspiration.id,))
    for action in ("terima", "selesai", "balas"):
        mark = harness.server.mark()
        harness.admin.press(card, f"asp:act:{aspiration.id}:{action}")
        call = await harness.server.wait_for_call("answerCallbackQuery", ADMIN_ID, since=mark)
        assert "sudah ditutup" in str(call.params.get("text")), call.params
    assert await harness.svc.db.fetchval("SELECT status FROM aspirations WHERE id = ?", (aspiration.id,)) == "ditolak"
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspiration_history WHERE aspiration_id = ?",
                                         (aspiration.id,)) == before
    await harness.say(kades, "/status", aspiration.ticket)  # the bot answers the next normal message
