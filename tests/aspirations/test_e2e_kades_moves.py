"""A hurried kepala desa's moves, end to end: short ticket numbers in /status, /jadwal for one's own kecamatan, the
visit button after the visit, a potensi entry deleted while it was being changed, and the word that an overdue
aspiration went to leadership. Scheduled work is driven by moving the FakeClock, never by waiting."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.people.roster import get_person
from bot.village_map.potential import PotentialDraft
from tests.fake_telegram import FakeUser
from tests.harness import BotHarness
from tests.officials_support import leader, official, press_card, submit

WIB = ZoneInfo("Asia/Jakarta")


async def at(h: BotHarness, month: int, day: int, hour: int, minute: int = 0) -> None:
    """Set the clock to a local (WIB) moment in 2026 and run what is due, as the JobQueue ticker would."""
    h.clock.set(datetime(2026, month, day, hour, minute, tzinfo=WIB))
    await h.tick()
    await h.settle()


# -- /status with a short ticket number ----------------------------------------------------------------------------


async def test_status_finds_the_own_ticket_by_its_short_number(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10, desa="35.13.02.2001")
    other = await harness.kepala_desa(11, desa="35.13.02.2002", name="Joko")
    own = await submit(harness, kades, "infrastruktur", "Jalan poros dusun Krajan rusak parah sepanjang 2 km.")
    foreign = await submit(harness, other, "pendidikan", "Atap SDN Pandansari 2 bocor di tiga ruang kelas.")
    assert (own.ticket, foreign.ticket) == ("ASP-2026-00001", "ASP-2026-00002")
    await harness.settle()

    for typed in ("1", "ASP-2026-1", "asp-2026-00001", "Asp-2026-001", "#1"):
        detail = await harness.say(kades, f"/status {typed}", "Riwayat")
        text = detail.text or ""
        assert "ASP-2026-00001" in text and "Jalan poros dusun Krajan" in text, typed

    # another village's ticket gets the same answer as a ticket that does not exist
    forbidden = (await harness.say(kades, "/status 2", "tidak ditemukan")).text or ""
    missing = (await harness.say(kades, "/status 99", "tidak ditemukan")).text or ""
    assert forbidden.replace("00002", "N") == missing.replace("00099", "N")
    assert "Atap SDN" not in forbidden

    # something that is no ticket number at all is refused with examples of both forms
    refusal = (await harness.say(kades, "/status ASP-1", "Format nomor tiket tidak dikenal")).text or ""
    assert "/status ASP-2026-00042" in refusal and "/status 42" in refusal


# -- an overdue aspiration: the kepala desa hears that leadership has it ----------------------------------------------


async def test_kepala_desa_hears_once_that_an_overdue_aspiration_went_to_leadership(harness: BotHarness) -> None:
    await leader(harness, 70)
    andi = await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "infrastruktur", "Jembatan bambu dusun Krajan putus diterjang banjir.")
    await harness.settle()

    def told() -> list[str]:
        return [t for t in harness.server.texts(kades.id) if "melewati batas waktu" in t]

    # to be accepted by Thursday 5 March (3 working days): escalated on Friday's working morning, not before
    await at(harness, 3, 6, 6, 30)
    assert not told()
    await at(harness, 3, 6, 7, 0)
    [message] = told()
    assert f"Aspirasi {asp.ticket} melewati batas waktu penanganan dan telah diteruskan ke pimpinan" in message
    assert "Jembatan bambu" in message
    # a second escalation (accepted late, no response by Monday 9 March) and a restart do not repeat it
    await press_card(harness, andi, 20, asp.ticket, "terima")
    await at(harness, 3, 11, 7)
    history = [h.action for h in await harness.svc.aspirations.history(asp.id)]
    assert history.count("eskalasi ke pimpinan") == 2
    await harness.restart()
    await at(harness, 3, 12, 9)
    assert len(told()) == 1


# -- /jadwal: one's own kecamatan, the rest on request ------------------------------------------------------------


async def _calendar(harness: BotHarness, user: FakeUser, command_or_button: str) -> tuple[str, str]:
    """Send /jadwal (or press a button) and return the schedule text and the .ics file that follows it."""
    mark = harness.server.mark()
    if command_or_button.startswith("/"):
        user.send(command_or_button)
    else:
        user.press_button(command_or_button)
    call = await harness.server.wait_for_text(user.id, "Jadwal Ngantor di Kecamatan", since=mark)
    doc = await harness.server.wait_for_call("sendDocument", user.id, since=mark)
    return call.text or "", next(iter(doc.files.values())).content.decode("utf-8")


async def test_jadwal_gives_a_kepala_desa_their_own_kecamatan_and_the_rest_on_request(harness: BotHarness) -> None:
    visits = harness.svc.ngantor.visits
    others = ("Tiris", "Krucil", "Kuripan", "Gading", "Paiton", "Leces")
    for i, name in enumerate(others):
        await visits.create(name, dt.date(2026, 3, 9) + dt.timedelta(days=i), dt.time(8, 0))
    await visits.create("Sumber", dt.date(2026, 3, 19), dt.time(9, 0), agenda="Dialog kepala desa")
    await visits.create("Sumber", dt.date(2026, 5, 7), dt.time(8, 0))
    kades = await harness.kepala_desa(10, desa="35.13.02.2001")  # Ledokombo, Kecamatan Sumber
    bupati = await leader(harness, 70)
    pupr = await official(harness, 20, "PUPR")

    text, ics = await _calendar(harness, kades, "/jadwal")
    assert "Kecamatan Anda (Sumber)" in text and "Agenda: Dialog kepala desa" in text
    assert not any(name in text for name in others)
    assert "Ada 6 kunjungan lain ke kecamatan lain" in text and "/jadwal semua" in text
    assert ics.count("BEGIN:VEVENT") == 2 and ics.count("BEGIN:VALARM") == 2
    assert "SUMMARY:Ngantor di Kecamatan Tiris" not in ics
    assert kades.buttons() == ["📋 Lihat semua jadwal"]

    # the button shows every visit, own kecamatan first; the phone still reminds of the own ones only
    text, ics = await _calendar(harness, kades, "📋 Lihat semua jadwal")
    own, rest = text.split("Kecamatan lain")
    assert "Kec. Sumber" in own and all(name in rest for name in others) and "Kec. Sumber" not in rest
    assert "Ada 6 kunjungan lain" not in text
    assert ics.count("BEGIN:VEVENT") == 8 and ics.count("BEGIN:VALARM") == 2
    assert "DESCRIPTION:Besok: Ngantor di Kecamatan Sumber" in ics
    assert "DESCRIPTION:Besok: Ngantor di Kecamatan Tiris" not in ics
    # "/jadwal semua" does the same
    text, ics = await _calendar(harness, kades, "/jadwal semua")
    assert all(name in text for name in others) and ics.count("BEGIN:VEVENT") == 8

    # the camat, also tied to one kecamatan, gets the same short list; a kepala desa of a kecamatan without
    # visits hears so, with the way to the others
    camat = harness.user(21, "Camat Sumber")
    await harness.register(camat, "camat", kecamatan="Sumber")
    text, ics = await _calendar(harness, camat, "/jadwal")
    assert "Ada 6 kunjungan lain" in text and ics.count("BEGIN:VEVENT") == 2
    far = await harness.kepala_desa(12, desa="35.13.01.2001", name="Kades Sukapura")
    mark = harness.server.mark()
    call = await harness.say(far, "/jadwal", "Belum ada kunjungan terjadwal ke kecamatan Anda")
    assert "Ada 8 kunjungan lain" in (call.text or "") and far.buttons() == ["📋 Lihat semua jadwal"]
    await harness.settle()
    assert not [c for c in harness.server.calls_for(far.id, "sendDocument") if c.index >= mark]

    # leadership and officials have no kecamatan of their own: everything, with every reminder, no button
    for user in (bupati, pupr):
        text, ics = await _calendar(harness, user, "/jadwal")
        assert all(name in text for name in (*others, "Sumber")) and "kunjungan lain" not in text
        assert ics.count("BEGIN:VEVENT") == 8 and ics.count("BEGIN:VALARM") == 8
        assert "reply_markup" not in (harness.server.sent(user.id, "sendMessage")[-1].params or {})

    # a forged press by someone unregistered gets the usual answer and no schedule
    stranger = harness.user(99, "Asing")
    await harness.say(stranger, "/jadwal", "belum terdaftar")
    mark = harness.server.mark()
    stranger.press(harness.server.last_bot_message(stranger.id), "jd:semua")
    answer = await harness.server.wait_for_call("answerCallbackQuery", since=mark)
    assert "belum terdaftar" in answer.params.get("text", "")
    await harness.settle()
    assert not any("Jadwal Ngantor" in (c.text or "") or c.method == "sendDocument"
                   for c in harness.server.calls[mark:])


# -- the announcement's aspiration button once the visit is over --------------------------------------------------

VISIT_BUTTON = "📝 Sampaikan aspirasi untuk kunjungan ini"


async def _tagged_summary(harness: BotHarness, kades: FakeUser, description: str) -> None:
    """Press the announcement's button and write an aspiration up to its summary."""
    await harness.press(kades, VISIT_BUTTON, "untuk kunjungan Bupati ke Kecamatan Sumber")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, description, "Langkah 3")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan")
    assert "Kunjungan: Sumber" in (summary.text or "")


async def test_the_visit_button_refuses_a_visit_that_is_over_or_cancelled(harness: BotHarness) -> None:
    visits = harness.svc.ngantor.visits
    visit, _ = await visits.create("Sumber", dt.date(2026, 3, 12), dt.time(8, 0))  # Thursday, 08:00-12:00 WIB
    kades = await harness.kepala_desa(10, desa="35.13.02.2001")
    await at(harness, 3, 5, 9)  # the announcement a week before, with the button
    assert VISIT_BUTTON in kades.buttons()

    # written during the visit, sent after it ended: refused, untagged, and sent normally on the next Kirim
    await at(harness, 3, 12, 10)
    await _tagged_summary(harness, kades, "Saluran irigasi dusun Krajan jebol sepanjang 50 meter.")
    await at(harness, 3, 12, 12, 30)
    mark = harness.server.mark()
    refusal = await harness.press(kades, "✅ Kirim", "sudah selesai")
    assert "Kecamatan Sumber (Kamis, 12 Maret 2026)" in (refusal.text or "")
    assert "belum terkirim" in (refusal.text or "")
    summary = await harness.server.wait_for_text(kades.id, "Ringkasan aspirasi", since=mark)
    assert "Kunjungan:" not in (summary.text or "")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 0
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    assert await harness.svc.db.fetchval("SELECT visit_id FROM aspirations") is None

    # the old announcement's button after the visit: a clear refusal and no draft
    call = await harness.press(kades, VISIT_BUTTON, "sudah selesai")
    assert "/aspirasi" in (call.text or "")
    assert await harness.svc.aspirations.load_draft(kades.id) is None

    # a visit cancelled while the aspiration was being written
    later, _ = await visits.create("Sumber", dt.date(2026, 4, 9), dt.time(8, 0))
    await at(harness, 4, 2, 9)
    await _tagged_summary(harness, kades, "Jembatan gantung dusun Krajan goyah dan talinya berkarat.")
    await visits.cancel(later.id, "Bupati berhalangan")
    mark = harness.server.mark()
    await harness.press(kades, "✅ Kirim", "sudah dibatalkan")
    await harness.server.wait_for_text(kades.id, "Ringkasan aspirasi", since=mark)
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    rows = await harness.svc.db.fetchall("SELECT visit_id FROM aspirations ORDER BY id")
    assert [r["visit_id"] for r in rows] == [None, None]
    assert visit.id != later.id


# -- a potensi entry deleted while a change of it was being written ------------------------------------------------


async def _entry(harness: BotHarness, kades: FakeUser, description: str) -> int:
    person = await get_person(harness.svc.db, kades.id)
    assert person is not None and harness.svc.village_map is not None
    entry, _ = await harness.svc.village_map.potential.save(person, PotentialDraft(kind="wisata",
                                                                                   description=description))
    return entry.id


async def _change(harness: BotHarness, kades: FakeUser, new_description: str) -> None:
    """/potensi, open the first entry, Ubah, a new description: the summary of the change."""
    await harness.say(kades, "/potensi", "Potensi Desa Ledokombo")
    await harness.press(kades, kades.buttons()[0], "Wisata")
    await harness.press(kades, "✏️ Ubah", "mengubah data lama")
    await harness.press(kades, "✏️ Ubah uraian", "Langkah 2 dari 4")
    await harness.say(kades, new_description, "Ringkasan potensi desa")


async def test_deleting_the_entry_being_changed_drops_the_change(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await _entry(harness, kades, "Air terjun Coban Baung di dusun Krajan, dikelola pokdarwis")
    await _change(harness, kades, "Air terjun Coban Baung, tiket masuk Rp5.000, ramai saat libur")
    # the entry's own message still has its delete button: the kepala desa deletes it after all
    await harness.press(kades, "🗑 Hapus", "Hapus potensi")
    await harness.press(kades, "Ya, hapus", "dihapus dari profil Desa Ledokombo")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM potential_drafts") == 0
    # the old summary's Simpan says it no longer applies and stores nothing
    await harness.press(kades, "✅ Simpan", "sudah tidak berlaku")
    await harness.settle()
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM village_potential") == 0
    # and /potensi starts afresh instead of offering the dead change again
    await harness.say(kades, "/potensi", "langkah 1 dari 4")


async def test_a_change_of_an_entry_deleted_meanwhile_can_be_kept_as_new_or_started_afresh(
        harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    entry_id = await _entry(harness, kades, "Air terjun Coban Baung di dusun Krajan, dikelola pokdarwis")
    await _change(harness, kades, "Air terjun Coban Baung, tiket masuk Rp5.000, ramai saat libur")
    # meanwhile the village's other kepala desa deletes the entry
    person = await get_person(harness.svc.db, kades.id)
    assert person is not None and harness.svc.village_map is not None
    await harness.svc.village_map.potential.delete(replace(person, id=person.id + 1000, telegram_id=11), entry_id)

    gone = await harness.press(kades, "✅ Simpan", "sudah dihapus dari profil desa")
    assert kades.buttons() == ["💾 Simpan sebagai data baru", "🆕 Mulai dari awal", "❌ Batal"]
    assert "tidak dapat disimpan" in (gone.text or "")
    # not a dead end later either: /potensi offers the change, and Simpan says the same with the same way out
    resume = await harness.say(kades, "/potensi", "belum disimpan")
    assert "data yang sudah dihapus" in (resume.text or "")
    await harness.press(kades, "▶️ Lanjutkan", "data lama sudah dihapus")
    await harness.press(kades, "✅ Simpan", "sudah dihapus dari profil desa")
    await harness.press(kades, "💾 Simpan sebagai data baru", "Potensi desa tersimpan")
    rows = await harness.svc.db.fetchall("SELECT description FROM village_potential")
    assert [r["description"] for r in rows] == ["Air terjun Coban Baung, tiket masuk Rp5.000, ramai saat libur"]
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM potential_drafts") == 0

    # a change left behind by an entry that vanished without a trace: Mulai dari awal starts a new one
    await _change(harness, kades, "Air terjun Coban Baung dan kolam renang alami di bawahnya")
    await harness.svc.db.execute("DELETE FROM village_potential")
    await harness.press(kades, "✅ Simpan", "sudah dihapus dari profil desa")
    await harness.press(kades, "🆕 Mulai dari awal", "langkah 1 dari 4")
    draft = await harness.svc.village_map.potential.load_draft(kades.id)
    assert draft is not None and draft.entry_id is None and draft.description is None
