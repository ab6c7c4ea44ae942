"""The map of problems and potential end to end: /potensi, /desa, /rekap and /ekspor against the fake Bot API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import struct
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl

from bot.aspirations.service import Draft
from bot.people.roster import get_person
from bot.village_map import charts
from tests.fake_telegram import Call, FakeUser
from tests.harness import BotHarness
from tests.map_seed import seed

LEDOKOMBO = "35.13.02.2001"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def _alert(harness: BotHarness, substring: str, since: int) -> Call:
    return await harness.server.wait_for(
        lambda c: c.method == "answerCallbackQuery" and substring in str(c.params.get("text", "")),
        since=since, what=f"callback answer {substring!r}")


async def _staff(harness: BotHarness) -> tuple[FakeUser, FakeUser, FakeUser]:
    bupati = harness.user(60, "Bupati")
    await harness.register(bupati, "pimpinan", title="Bupati")
    pupr = harness.user(61, "Kadis PUPR")
    await harness.register(pupr, "pejabat", department="PUPR")
    return bupati, pupr, harness.admin


async def _village_with_aspirations(harness: BotHarness) -> FakeUser:
    """Budi of Ledokombo with three aspirations: roads (PUPR), health (DINKES) and a confidential one."""
    kades = await harness.kepala_desa(10)
    person = await get_person(harness.svc.db, 10)
    assert person is not None
    for cat, dept, text in (("infrastruktur", "PUPR", "Jembatan dusun Krajan putus diterjang banjir"),
                            ("kesehatan", "DINKES", "Posyandu kekurangan timbangan bayi dan PMT"),
                            ("kinerja_kecamatan", None, "Pegawai kecamatan meminta uang untuk surat")):
        aspiration, _ = await harness.svc.aspirations.submit(person, Draft(category=cat, description=text), cat)
        routed = await harness.svc.db.fetchval("SELECT group_concat(department) FROM aspiration_departments"
                                               " WHERE aspiration_id = ? AND active = 1", (aspiration.id,))
        assert routed == dept  # routing (departments.toml) decided it
    return kades


# -- /potensi -------------------------------------------------------------------------------------------------------


async def test_potensi_is_recorded_listed_changed_and_deleted(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/potensi", "langkah 1 dari 4")
    assert kades.buttons() == ["🌾 Pertanian", "🐄 Peternakan", "🐟 Perikanan", "🏞 Wisata", "🧺 UMKM/Kerajinan",
                               "⛰ Sumber Daya Alam", "✨ Lainnya"]
    await harness.press(kades, "🏞 Wisata", "Langkah 2 dari 4")
    await harness.say(kades, "Air terjun", "terlalu pendek (10 karakter)")
    await harness.say(kades, "x" * 1600, "terlalu panjang: 1600 karakter, batasnya 1500")
    await harness.say(kades, "Air terjun Coban Baung di dusun Krajan, <ramai> & dikelola pokdarwis", "Langkah 3 dari 4")
    for i in (1, 2):
        mark = harness.server.mark()
        kades.send_photo()
        await harness.server.wait_for_text(10, f"Foto {i} diterima", since=mark)
    mark = harness.server.mark()
    kades.send_location(-7.8712, 113.3021)
    await harness.server.wait_for_text(10, "Lokasi diterima", since=mark)
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan potensi desa")
    assert "<ramai> & dikelola" in (summary.text or "") and "Foto: 2" in (summary.text or "")
    await harness.press(kades, "✅ Simpan", "Potensi desa tersimpan")
    rows = await harness.svc.db.fetchall("SELECT * FROM village_potential")
    assert len(rows) == 1 and rows[0]["kind"] == "wisata" and rows[0]["desa_code"] == LEDOKOMBO
    assert round(rows[0]["latitude"], 4) == -7.8712
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM village_potential_photos") == 2
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM potential_drafts") == 0

    # later: the list, one entry, a change of description and kind
    listing = await harness.say(kades, "/potensi", "Potensi Desa Ledokombo")
    assert "(1 data)" in (listing.text or "")
    entry_button, add_button = kades.buttons()
    assert entry_button.startswith("1. Wisata: Air terjun") and add_button == "➕ Tambah potensi"
    await harness.press(kades, entry_button, "lokasi di peta")
    await harness.press(kades, "✏️ Ubah", "mengubah data lama")
    await harness.press(kades, "✏️ Ubah uraian", "Langkah 2 dari 4")
    await harness.say(kades, "Kerajinan anyaman bambu 40 perajin, pasar sampai Bali", "Ringkasan potensi desa")
    await harness.press(kades, "🏷 Ubah jenis", "langkah 1 dari 4")
    await harness.press(kades, "🧺 UMKM/Kerajinan", "Ringkasan potensi desa")
    await harness.press(kades, "✅ Simpan", "Potensi desa diperbarui")
    row = await harness.svc.db.fetchone("SELECT * FROM village_potential")
    assert row is not None and row["kind"] == "umkm" and row["description"].startswith("Kerajinan anyaman")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM village_potential_photos") == 2

    # and deleting it, with a confirmation
    await harness.say(kades, "/potensi", "Potensi Desa Ledokombo")
    await harness.press(kades, kades.buttons()[0], "UMKM/Kerajinan")
    await harness.press(kades, "🗑 Hapus", "Hapus potensi")
    await harness.press(kades, "Ya, hapus", "dihapus dari profil Desa Ledokombo")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM village_potential") == 0
    await harness.say(kades, "/potensi", "langkah 1 dari 4")  # nothing left: straight to a new one


async def test_potensi_survives_a_restart_and_batal_cancels_it(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/potensi", "langkah 1 dari 4")
    await harness.press(kades, "🌾 Pertanian", "Langkah 2 dari 4")
    await harness.say(kades, "Padi organik 25 hektare di dusun Krajan, panen dua kali", "Langkah 3 dari 4")
    await harness.restart()
    mark = harness.server.mark()
    kades.send_photo()
    await harness.server.wait_for_text(10, "Foto 1 diterima", since=mark)
    await harness.say(kades, "/batal", "Pengisian potensi desa dibatalkan")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM potential_drafts") == 0
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM village_potential") == 0
    await harness.say(kades, "Halo", "belum dapat dipahami")
    await harness.say(kades, "/batal", "Tidak ada yang sedang berlangsung")


async def test_potensi_and_aspirasi_do_not_mix(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    # an aspiration in progress: /potensi waits for it
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.say(kades, "/potensi", "sedang menulis aspirasi")
    await harness.say(kades, "/batal", "Aspirasi dibatalkan")
    # /aspirasi in the middle of /potensi pauses it; the aspiration gets every message
    await harness.say(kades, "/potensi", "langkah 1 dari 4")
    await harness.press(kades, "🐟 Perikanan", "Langkah 2 dari 4")
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, "Jalan poros desa rusak parah sepanjang dua kilometer", "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    aspiration = await harness.svc.db.fetchone("SELECT description FROM aspirations")
    assert aspiration is not None and aspiration["description"].startswith("Jalan poros")
    # afterwards a stray message does not become a potential; the draft waits
    await harness.say(kades, "Terima kasih", "masih tersimpan sebagai draf")
    await harness.say(kades, "/potensi", "belum disimpan")
    await harness.press(kades, "▶️ Lanjutkan", "Langkah 2 dari 4")
    await harness.say(kades, "Tambak bandeng 12 hektare milik kelompok nelayan", "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan potensi desa")
    await harness.press(kades, "✅ Simpan", "Potensi desa tersimpan")
    assert await harness.svc.db.fetchval("SELECT kind FROM village_potential") == "perikanan"


async def test_potensi_is_for_kepala_desa_and_their_own_village(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/potensi", "langkah 1 dari 4")
    await harness.press(kades, "⛰ Sumber Daya Alam", "Langkah 2 dari 4")
    await harness.say(kades, "Mata air Umbulan debit 50 liter per detik", "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan potensi desa")
    await harness.press(kades, "✅ Simpan", "tersimpan")
    entry_id = await harness.svc.db.fetchval("SELECT id FROM village_potential")

    camat = harness.user(40, "Camat")
    await harness.register(camat, "camat", kecamatan="Sumber")
    await harness.say(camat, "/potensi", "hanya untuk Kepala Desa")
    other = await harness.kepala_desa(11, desa="35.13.07.2003", name="Joko")
    await harness.say(other, "/potensi", "langkah 1 dari 4")
    for forged in (f"pot:delok:{entry_id}", f"pot:edit:{entry_id}", f"pot:open:{entry_id}"):
        mark = harness.server.mark()
        other.press(other.last_message(), forged)
        await harness.server.wait_for_text(other.id, "bukan milik desa Anda", since=mark)
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM village_potential") == 1


# -- /desa ----------------------------------------------------------------------------------------------------------


async def test_desa_profile_for_leadership_and_officials(harness: BotHarness) -> None:
    await _village_with_aspirations(harness)
    person = await get_person(harness.svc.db, 10)
    assert person is not None and harness.svc.village_map is not None
    from bot.village_map.potential import PotentialDraft

    await harness.svc.village_map.potential.save(person, PotentialDraft(
        kind="wisata", description="Air terjun Coban Baung, 300 pengunjung sepekan"))
    bupati, pupr, admin = await _staff(harness)

    profile = await harness.say(bupati, "/desa ledok ombo", "Desa Ledokombo")
    mark = profile.index
    await harness.server.wait_for_text(60, "Potensi desa", since=mark)
    text = "\n".join(harness.server.texts(60)[-2:])
    for expected in ("Kecamatan Sumber, Kabupaten Probolinggo", "Kepala desa: Budi", "Aspirasi: 3",
                     "Kinerja Kecamatan", "Kesehatan & Stunting", "Wisata — Air terjun Coban Baung"):
        assert expected in text, expected

    await harness.say(admin, "/desa 35.13.02.2001", "Aspirasi: 3")

    official = await harness.say(pupr, "/desa Ledokombo", "yang ditangani PUPR: 1")
    assert "Jembatan dusun Krajan" in (official.text or "")
    assert "Kesehatan" not in (official.text or "") and "Kinerja" not in (official.text or "")
    assert "Posyandu" not in (official.text or "") and "Pegawai kecamatan" not in (official.text or "")


async def test_desa_asks_when_several_villages_match(harness: BotHarness) -> None:
    bupati, _pupr, _admin = await _staff(harness)
    await harness.say(bupati, "/desa wonorejo", "Ada 2 desa")
    assert bupati.buttons() == ["Wonorejo (Maron)", "Wonorejo (Wonomerto)"]
    await harness.press(bupati, "Wonorejo (Wonomerto)", "Kecamatan Wonomerto")
    await harness.say(bupati, "/desa soemberanjar", "Desa Sumberanyar")
    await harness.say(bupati, "/desa xyzzy", "tidak ditemukan")
    await harness.say(bupati, "/desa", "Tuliskan nama atau kode desa")


async def test_desa_is_refused_to_kepala_desa_and_camat(harness: BotHarness) -> None:
    kades = await _village_with_aspirations(harness)
    camat = harness.user(40, "Camat")
    await harness.register(camat, "camat", kecamatan="Sumber")
    await harness.say(kades, "/desa Ledokombo", "hanya untuk")
    await harness.say(camat, "/desa Ledokombo", "hanya untuk")
    mark = harness.server.mark()
    camat.press(camat.last_message(), f"desa:show:{LEDOKOMBO}")  # a forged button
    await _alert(harness, "hanya untuk", mark)
    await harness.settle()
    assert not any("Aspirasi:" in t for t in harness.server.texts(40))


# -- /rekap ---------------------------------------------------------------------------------------------------------


async def test_rekap_sends_text_and_two_charts(harness: BotHarness) -> None:
    await seed(harness.svc.db, 80, start=harness.clock.now())
    bupati, pupr, admin = await _staff(harness)
    mark = harness.server.mark()
    call = await harness.say(bupati, "/rekap", "Rekap aspirasi")
    text = call.text or ""
    assert "Kabupaten Probolinggo" in text and "Jumlah: 80" in text and "Cakupan:" in text
    assert "Median sampai tuntas:" in text
    await harness.server.wait_for_text(60, "Per kecamatan", since=mark)
    photos = []
    for _ in range(2):
        # Drawing starts a matplotlib worker: about a second alone, several on a machine busy with other tests.
        photo = await harness.server.wait_for(lambda c: c.method == "sendPhoto" and c not in photos, 20, chat_id=60,
                                              since=mark, what="a chart")
        photos.append(photo)
    heat, bars = photos
    assert "Peta masalah" in (heat.text or "") and "Aspirasi terbuka" in (bars.text or "")
    assert _png_size(heat.files["photo"].content) == charts.HEATMAP_SIZE
    assert _png_size(bars.files["photo"].content) == charts.BAR_SIZE

    await harness.say(admin, "/rekap 2026-01-01", "sejak 1 Jan 2026")
    await harness.say(bupati, "/rekap kemarin", "Format: /rekap")
    await harness.say(pupr, "/rekap", "hanya untuk")
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/rekap", "hanya untuk")
    await harness.settle()
    assert not harness.server.calls_for(61, "sendPhoto") and not harness.server.calls_for(10, "sendPhoto")


# -- /ekspor --------------------------------------------------------------------------------------------------------


def _tickets(content: bytes) -> set[str]:
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert wb.sheetnames[0] == "Ringkasan" and "Potensi Desa" in wb.sheetnames
    return {row[0] for ws in wb.worksheets if ws["A1"].value == "Tiket"
            for row in ws.iter_rows(min_row=2, values_only=True)}


async def _document(harness: BotHarness, user: FakeUser, command: str) -> Call:
    mark = harness.server.mark()
    user.send(command)
    return await harness.server.wait_for_call("sendDocument", user.id, timeout=10, since=mark)


async def test_ekspor_sends_each_role_its_share(harness: BotHarness) -> None:
    await seed(harness.svc.db, 90, start=harness.clock.now())
    bupati, pupr, admin = await _staff(harness)
    db = harness.svc.db
    everything = {r["ticket"] for r in await db.fetchall("SELECT ticket FROM aspirations")}
    public = {r["ticket"] for r in await db.fetchall("SELECT ticket FROM aspirations WHERE confidential = 0")}
    roads = {r["ticket"] for r in await db.fetchall(
        "SELECT ticket FROM aspirations WHERE department = 'PUPR' AND confidential = 0")}
    assert everything != public and roads

    leadership = await _document(harness, bupati, "/ekspor")
    upload = leadership.files["document"]
    assert upload.filename.startswith("sambang-aspirasi-pimpinan-") and upload.filename.endswith(".xlsx")
    assert _tickets(upload.content) == everything
    assert "90 aspirasi, untuk Pimpinan" in (leadership.text or "")

    admins = await _document(harness, admin, "/ekspor")
    assert _tickets(admins.files["document"].content) == public
    assert "khusus pimpinan" in (admins.text or "")

    official = await _document(harness, pupr, "/ekspor csv")
    lines = list(csv.reader(io.StringIO(official.files["document"].content.decode("utf-8-sig"))))
    assert lines[0][0] == "Tiket" and {line[0] for line in lines[1:]} == roads
    assert "Hanya aspirasi yang ditangani PUPR" in (official.text or "")

    tiris = await _document(harness, bupati, "/ekspor 2026-01-01 tiris")
    in_tiris = {r["ticket"] for r in await db.fetchall(
        "SELECT a.ticket FROM aspirations a JOIN kecamatan k ON k.code = a.kecamatan_code WHERE k.name = 'Tiris'"
        " AND a.created_at >= '2025-12-31T17:00:00'")}
    assert _tickets(tiris.files["document"].content) == in_tiris
    assert "Kec. Tiris" in (tiris.text or "")

    await harness.say(bupati, "/ekspor Atlantis", "tidak ditemukan")
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/ekspor", "hanya untuk")
    await harness.settle()
    assert not harness.server.calls_for(10, "sendDocument")
    assert await db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'ekspor'") == 4


async def test_help_lists_the_map_commands_per_role(harness: BotHarness) -> None:
    bupati, pupr, _admin = await _staff(harness)
    kades = await harness.kepala_desa(10)
    text = (await harness.say(kades, "/bantuan", "Bantuan Sambang")).text or ""
    assert "/potensi" in text and "/rekap" not in text and "/desa" not in text
    text = (await harness.say(bupati, "/bantuan", "Bantuan Sambang")).text or ""
    assert all(c in text for c in ("/desa", "/rekap", "/ekspor")) and "/potensi" not in text
    text = (await harness.say(pupr, "/bantuan", "Bantuan Sambang")).text or ""
    assert "/desa" in text and "/ekspor" in text and "/rekap" not in text


# -- the weekly leadership digest -------------------------------------------------------------------------------------


async def test_weekly_digest_carries_the_charts_as_photos(harness: BotHarness) -> None:
    bupati, pupr, admin = await _staff(harness)
    await harness.say(admin, "/start", "Selamat datang")
    await seed(harness.svc.db, 40, start=harness.clock.now())
    await _village_with_aspirations(harness)  # something new this week, so the digest is due
    await harness.settle()
    harness.clock.set(datetime(2026, 3, 9, 7, 30, tzinfo=ZoneInfo("Asia/Jakarta")))  # Monday 07:30 WIB
    await harness.tick()
    await harness.settle()
    for chat in (60, admin.id):
        [text] = [t for t in harness.server.texts(chat) if "Peta masalah" in t and "Ringkasan mingguan" in t]
        assert "43 aspirasi" in text and "Cakupan:" in text and "/rekap" in text
        photos = [c for c in harness.server.calls_for(chat, "sendPhoto") if c.ok]
        assert [p.params.get("caption", "").split(" —")[0] for p in photos] == ["Peta masalah",
                                                                              "Aspirasi terbuka per kecamatan"]
        assert _png_size(photos[0].files["photo"].content) == charts.HEATMAP_SIZE
        assert _png_size(photos[1].files["photo"].content) == charts.BAR_SIZE
    assert not harness.server.calls_for(61, "sendPhoto")  # officials get no weekly digest
    # once per week, across ticks
    await harness.tick()
    await harness.settle()
    assert len([c for c in harness.server.calls_for(60, "sendPhoto") if c.ok]) == 2


# -- visits and feedback (Ngantor di Kecamatan) in profiles and exports --------------------------------------------


async def test_profile_shows_visits_and_feedback_to_whom_it_may(harness: BotHarness) -> None:
    kades = await _village_with_aspirations(harness)
    person = await get_person(harness.svc.db, kades.id)
    assert person is not None
    ngantor = harness.svc.ngantor
    past, _ = await ngantor.visits.create("Sumber", dt.date(2026, 3, 2), dt.time(8, 0), place="Pendopo Kecamatan")
    await ngantor.visits.create("Sumber", dt.date(2026, 4, 6), dt.time(8, 0), place="Balai Desa Ledokombo")
    await ngantor.feedback.rate(past.id, person, "v", 4)
    await ngantor.feedback.rate(past.id, person, "k", 2)
    await ngantor.feedback.comment(past.id, person, "Antrean surat di kecamatan masih lama")
    harness.clock.advance(days=1)
    bupati, pupr, admin = await _staff(harness)

    await harness.say(bupati, "/desa Ledokombo", "Desa Ledokombo")
    text = await harness.server.wait_for_text(60, "Ngantor di Kecamatan Sumber")
    profile = text.text or ""
    assert "Terakhir: Senin, 2 Maret 2026, pukul 08.00 — Pendopo Kecamatan" in profile
    assert "Berikutnya: Senin, 6 April 2026, pukul 08.00 — Balai Desa Ledokombo" in profile
    assert "Umpan balik desa: 1 penilaian" in profile and "kunjungan 4/5, layanan kecamatan 2/5" in profile
    assert "Antrean surat di kecamatan masih lama" in profile
    admin_view = await harness.say(admin, "/desa Ledokombo", "Umpan balik desa")
    assert "Antrean surat" in (admin_view.text or "")
    official = await harness.say(pupr, "/desa Ledokombo", "Ngantor di Kecamatan Sumber")
    assert "Umpan balik" not in (official.text or "") and "Antrean surat" not in (official.text or "")

    leadership = await _document(harness, bupati, "/ekspor")
    wb = openpyxl.load_workbook(io.BytesIO(leadership.files["document"].content))
    sheet = wb["Umpan Balik Desa"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:I2"
    assert [c.value for c in sheet[2]][1:8] == ["Sumber", "Ledokombo", LEDOKOMBO, "Budi", 4, 2,
                                                "Antrean surat di kecamatan masih lama"]
    for user in (admin, pupr):
        other = await _document(harness, user, "/ekspor")
        assert "Umpan Balik Desa" not in openpyxl.load_workbook(io.BytesIO(other.files["document"].content)).sheetnames
