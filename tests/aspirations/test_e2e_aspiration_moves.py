"""The kepala desa's hurried moves through /aspirasi, end to end: a photo with a caption first, an album, a typed
category name, going back from an edit, removing a wrong photo, adding one from the summary, a contact card, and
plain text typed outside any flow."""

from __future__ import annotations

import json
from typing import Any

from bot.aspirations.service import Draft
from tests.fake_telegram import Call, FakeUser
from tests.harness import BotHarness
from tests.officials_support import card, official

ROAD = "Jalan poros desa Ledokombo rusak parah sepanjang 2 km, dilewati anak sekolah setiap hari."
BRIDGE = "Jembatan bambu dusun Krajan ambruk, anak sekolah harus memutar 3 km lewat sawah."


async def _draft(h: BotHarness, kades: FakeUser) -> Draft | None:
    return await h.svc.aspirations.load_draft(kades.id)


async def _to_summary(h: BotHarness, kades: FakeUser, description: str = ROAD, category: str = "Infrastruktur",
                      *, photos: int = 0) -> Call:
    await h.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await h.press(kades, category, "Langkah 2 dari 4")
    await h.say(kades, description, "Langkah 3 dari 4")
    for i in range(photos):
        mark = h.server.mark()
        kades.send_photo(caption=f"sisi {i + 1}")
        await h.server.wait_for_text(kades.id, f"Foto {i + 1} diterima", since=mark)
    return await h.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")


def _markup(h: BotHarness, kades: FakeUser, call: Call) -> Any:
    assert call.message is not None
    shown = h.server.get_message(kades.id, call.message["message_id"])
    assert shown is not None
    return shown.get("reply_markup")


# -- a photo first -------------------------------------------------------------------------------------------------


async def test_a_photo_with_a_caption_right_after_aspirasi_keeps_both(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    mark = harness.server.mark()
    kades.send_photo(file_id="AgACjembatan", caption=BRIDGE)
    answer = await harness.server.wait_for_text(10, "1 foto disimpan", since=mark)
    assert "Keterangan fotonya dipakai sebagai uraian" in (answer.text or "")
    assert "Saran kategori" in (answer.text or "")
    draft = await _draft(harness, kades)
    assert draft is not None and draft.description == BRIDGE and len(draft.photos) == 1
    assert draft.photos[0].file_id == "AgACjembatan"
    # choosing the category goes on to the attachments (the description is there already)
    await harness.press(kades, "Infrastruktur", "Langkah 3 dari 4")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert BRIDGE in (summary.text or "") and "1 foto" in (summary.text or "")


async def test_a_short_caption_stays_the_photos_and_the_description_is_asked(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    mark = harness.server.mark()
    kades.send_photo(caption="jembatan")
    await harness.server.wait_for_text(10, "1 foto disimpan", since=mark)
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, BRIDGE, "Langkah 3 dari 4")
    draft = await _draft(harness, kades)
    assert draft is not None and draft.description == BRIDGE and draft.photos[0].caption == "jembatan"


async def test_a_captioned_photo_instead_of_the_description_gives_both(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    mark = harness.server.mark()
    kades.send_photo(caption=ROAD)
    answer = await harness.server.wait_for_text(10, "Foto 1 diterima", since=mark)
    assert "Keterangan fotonya dipakai sebagai uraian" in (answer.text or "")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert ROAD in (summary.text or "") and "1 foto" in (summary.text or "")


async def test_an_album_without_caption_before_the_description_is_kept_and_answered_once(
        harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    mark = harness.server.mark()
    kades.send_album(2)
    await harness.server.wait_for_text(10, "Foto disimpan sebagai lampiran (2/5 foto)", since=mark)
    await harness.settle()
    assert len([c for c in harness.server.sent(10, "sendMessage") if c.index >= mark]) == 1
    await harness.say(kades, ROAD, "Langkah 3 dari 4")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert "2 foto" in (summary.text or "")


# -- albums ----------------------------------------------------------------------------------------------------------


async def test_an_album_at_the_category_step_keeps_every_photo_and_is_answered_once(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    mark = harness.server.mark()
    kades.send_album(3, caption=BRIDGE)
    answer = await harness.server.wait_for_text(10, "3 foto disimpan", since=mark)
    assert "Saran kategori" in (answer.text or "")
    await harness.settle()
    replies = [c for c in harness.server.sent(10, "sendMessage") if c.index >= mark]
    assert len(replies) == 1, [c.text for c in replies]
    draft = await _draft(harness, kades)
    assert draft is not None and len(draft.photos) == 3 and draft.description == BRIDGE


async def test_an_album_at_the_attachment_step_is_answered_once_and_stops_at_five(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, ROAD, "Langkah 3 dari 4")
    mark = harness.server.mark()
    kades.send_photo()
    await harness.server.wait_for_text(10, "Foto 1 diterima", since=mark)
    mark = harness.server.mark()
    kades.send_album(6)
    answer = await harness.server.wait_for_text(10, "Album (4 foto) diterima (5/5 foto)", since=mark)
    assert "2 foto dari album tidak disimpan" in (answer.text or "")
    await harness.settle()
    replies = [c for c in harness.server.sent(10, "sendMessage") if c.index >= mark]
    assert len(replies) == 1, [c.text for c in replies]
    draft = await _draft(harness, kades)
    assert draft is not None and len(draft.photos) == 5


# -- typed category names --------------------------------------------------------------------------------------------


async def test_a_typed_category_name_is_the_choice_not_the_description(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    answer = await harness.say(kades, "🌳 lingkungan DAN  bencana", "Langkah 2 dari 4")
    assert "Lingkungan & Bencana" in (answer.text or "")
    draft = await _draft(harness, kades)
    assert draft is not None and draft.category == "lingkungan" and draft.description is None
    # a partial, unambiguous name works too (on a fresh start)
    await harness.say(kades, "/batal", "Aspirasi dibatalkan")
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.say(kades, "kesehatan", "Kesehatan & Stunting")
    draft = await _draft(harness, kades)
    assert draft is not None and draft.category == "kesehatan" and draft.description is None


# -- leaving the summary and coming back -----------------------------------------------------------------------------


async def test_edit_description_offers_a_way_back_and_takes_the_old_buttons_off(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    summary = await _to_summary(harness, kades)
    prompt = await harness.press(kades, "✏️ Ubah uraian", "Langkah 2 dari 4")
    assert "↩️ Kembali ke ringkasan" in prompt.buttons
    assert not _markup(harness, kades, summary)  # the old summary's Kirim is gone
    again = await harness.press(kades, "↩️ Kembali ke ringkasan", "Ringkasan aspirasi")
    assert ROAD in (again.text or "") and "✅ Kirim" in again.buttons
    assert not _markup(harness, kades, prompt)
    # and editing for real still works
    await harness.press(kades, "✏️ Ubah uraian", "Langkah 2 dari 4")
    edited = await harness.say(kades, "Jalan poros desa Ledokombo berlubang besar di depan SDN 1.", "Ringkasan")
    assert "berlubang besar" in (edited.text or "")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")


async def test_change_category_shows_only_the_categories_and_text_there_keeps_the_description(
        harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    summary = await _to_summary(harness, kades)
    screen = await harness.press(kades, "🏷 Ubah kategori", "Ubah kategori")
    assert "Aspirasi baru" not in (screen.text or "") and "Langkah 1" not in (screen.text or "")
    assert "Lingkungan & Bencana" in screen.buttons and "↩️ Kembali ke ringkasan" in screen.buttons
    assert not _markup(harness, kades, summary)
    # a sentence typed here does not replace the description
    await harness.say(kades, "sebenarnya ini soal banjir tiap musim hujan", "Uraian tidak berubah")
    draft = await _draft(harness, kades)
    assert draft is not None and draft.description == ROAD and draft.category == "infrastruktur"
    # the way back leaves everything as it was
    back = await harness.press(kades, "↩️ Kembali ke ringkasan", "Ringkasan aspirasi")
    assert "Kategori: Infrastruktur" in (back.text or "")
    # a category typed by name is the choice
    await harness.press(kades, "🏷 Ubah kategori", "Ubah kategori")
    changed = await harness.say(kades, "lingkungan & bencana", "Ringkasan aspirasi")
    assert "Kategori: Lingkungan & Bencana" in (changed.text or "") and ROAD in (changed.text or "")
    # and by button
    await harness.press(kades, "🏷 Ubah kategori", "Ubah kategori")
    pressed = await harness.press(kades, "Pendidikan", "Ringkasan aspirasi")
    assert "Kategori: Pendidikan" in (pressed.text or "")
    receipt = await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    assert "Pendidikan" in (receipt.text or "")


async def test_cancel_on_a_full_draft_asks_once(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await _to_summary(harness, kades)
    await harness.press(kades, "❌ Batal", "Yakin batalkan")
    assert await _draft(harness, kades) is not None
    await harness.press(kades, "Tidak, kembali ke ringkasan", "Ringkasan aspirasi")
    assert await _draft(harness, kades) is not None
    await harness.press(kades, "❌ Batal", "Yakin batalkan")
    await harness.press(kades, "Ya, batalkan", "Aspirasi dibatalkan")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM drafts") == 0
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 0


async def test_attachments_can_be_added_once_the_summary_shows(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    summary = await _to_summary(harness, kades)
    assert "0 foto" in (summary.text or "")
    await harness.press(kades, "📎 Lampiran", "Langkah 3 dari 4")
    assert not _markup(harness, kades, summary)
    mark = harness.server.mark()
    kades.send_photo()
    await harness.server.wait_for_text(10, "Foto 1 diterima", since=mark)
    second = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert "1 foto" in (second.text or "")
    # a photo sent straight at the summary is taken too
    mark = harness.server.mark()
    kades.send_photo()
    await harness.server.wait_for_text(10, "Foto 2 diterima", since=mark)
    assert not _markup(harness, kades, second)
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "2 foto")
    receipt = await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    ticket = (receipt.text or "").split("Nomor tiket: ")[1].split()[0]
    aspiration = await harness.svc.aspirations.by_ticket(ticket)
    assert aspiration is not None and len(aspiration.photos) == 2


async def test_a_wrong_photo_can_be_removed_at_the_attachment_step_and_from_the_summary(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, ROAD, "Langkah 3 dari 4")
    for i, file_id in enumerate(("AgACsatu", "AgACsalah", "AgACtiga"), start=1):
        mark = harness.server.mark()
        kades.send_photo(file_id=file_id)
        await harness.server.wait_for_text(10, f"Foto {i} diterima", since=mark)
    listing = await harness.press(kades, "🗑 Hapus foto", "foto mana yang salah")
    assert listing.buttons[:3] == ["🗑 Foto 1", "🗑 Foto 2", "🗑 Foto 3"]
    await harness.press(kades, "🗑 Foto 2", "Foto 2 dihapus")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert "2 foto" in (summary.text or "")
    await harness.press(kades, "🗑 Hapus foto", "foto mana yang salah")
    assert not _markup(harness, kades, summary)
    again = await harness.press(kades, "🗑 Foto 1", "Ringkasan aspirasi")
    assert "1 foto" in (again.text or "")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    aspiration = await harness.svc.aspirations.by_ticket("ASP-2026-00001")
    assert aspiration is not None and [p.file_id for p in aspiration.photos] == ["AgACtiga"]


async def test_the_summary_shows_the_location_as_a_map_link(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, ROAD, "Langkah 3 dari 4")
    mark = harness.server.mark()
    kades.send_location(-7.8712, 113.3021)
    await harness.server.wait_for_text(10, "Lokasi diterima", since=mark)
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert summary.message is not None
    text = summary.text or ""
    assert "-7.87120" not in text and "lihat di peta" in text
    links = [e["url"] for e in summary.message.get("entities", []) if e["type"] == "text_link"]
    assert links == ["https://www.google.com/maps?q=-7.871200,113.302100"]


# -- captions --------------------------------------------------------------------------------------------------------


async def test_photo_captions_are_kept_and_shown_to_officials(harness: BotHarness) -> None:
    await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    await _to_summary(harness, kades, photos=2)
    receipt = await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    ticket = (receipt.text or "").split("Nomor tiket: ")[1].split()[0]
    await harness.settle()
    assert [r["caption"] for r in await harness.svc.db.fetchall(
        "SELECT caption FROM attachments ORDER BY position")] == ["sisi 1", "sisi 2"]
    album = harness.server.calls_for(20, "sendMediaGroup")[-1]
    captions = [m.get("caption") for m in album.messages]
    assert captions[0] is not None and ticket in captions[0] and "sisi 1" in captions[0]
    assert captions[1] is not None and "sisi 2" in captions[1]
    text = card(harness, 20, ticket)["text"]
    assert "Foto 1: sisi 1" in text and "Foto 2: sisi 2" in text
    detail = await harness.say(kades, f"/status {ticket}", "Riwayat")
    assert "Foto 2: sisi 2" in (detail.text or "")
    official_detail = await harness.say(harness.user(20), f"/status {ticket}", "Riwayat")
    assert "Foto 1: sisi 1" in (official_detail.text or "")


# -- outside the flow ------------------------------------------------------------------------------------------------


async def test_plain_text_outside_a_flow_can_become_an_aspiration_even_after_a_restart(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    text = "pak tolong jalan desa kami rusak parah"
    offer = await harness.say(kades, text, "belum dapat dipahami")
    assert offer.buttons == ["📝 Jadikan aspirasi"]
    data = offer.message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert "jalan" not in data  # the text lives in the database, not in the button
    await harness.restart()
    await harness.press(kades, "📝 Jadikan aspirasi", "Saran kategori")
    await harness.press(kades, "✅ Infrastruktur (disarankan)", "Langkah 3 dari 4")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert text in (summary.text or "")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    # a second press of the old button does not start another one
    mark = harness.server.mark()
    kades.press(offer.message, data)
    answer = await harness.server.wait_for(lambda c: c.method == "answerCallbackQuery", 5, chat_id=None, since=mark)
    assert "tidak berlaku" in (answer.params.get("text") or "")
    await harness.settle()
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 1


async def test_short_text_and_other_roles_get_no_offer(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    short = await harness.say(kades, "Halo", "belum dapat dipahami")
    assert short.buttons == []
    andi = await official(harness, 20, "PUPR")
    other = await harness.say(andi, "pak tolong jalan desa kami rusak parah", "belum dapat dipahami")
    assert other.buttons == []


async def test_a_contact_card_during_the_flow_is_no_registration(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, ROAD, "Langkah 3 dari 4")
    for user_id in (None, 10):  # someone else's card, and the kepala desa's own
        mark = harness.server.mark()
        kades.send_contact("081233334444", user_id=user_id, first_name="Pak Kasun")
        answer = await harness.server.wait_for_text(10, "Kartu kontak tidak dapat dilampirkan", since=mark)
        assert "Pendaftaran" not in (answer.text or "") and "sudah terdaftar" not in (answer.text or "")
    assert await harness.svc.db.fetchval(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'register_contact'") == 0
    # the flow goes on where it was
    mark = harness.server.mark()
    kades.send_photo()
    await harness.server.wait_for_text(10, "Foto 1 diterima", since=mark)
    draft = await _draft(harness, kades)
    assert draft is not None and json.loads(draft.to_json())["description"] == ROAD


def test_a_draft_saved_before_captions_and_summary_ids_still_loads() -> None:
    old = ('{"category": "infrastruktur", "suggested": null, "description": "Jalan rusak parah sekali", "attachments":'
           ' [{"kind": "photo", "file_id": "AgAC", "file_unique_id": "u1", "file_name": null, "mime_type": null,'
           ' "file_size": 10, "latitude": null, "longitude": null}], "copy_to_camat": false, "visit_id": null,'
           ' "token": "abc"}')
    draft = Draft.from_json(old)
    assert draft.photos[0].caption is None and draft.summary_message is None
