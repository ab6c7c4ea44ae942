"""Ngantor di Kecamatan end to end: the real Application against the fake Bot API, with the clock moved by hand.

The visit in these tests: Kecamatan Sumber, Thursday 12 March 2026 at 08:00 WIB, created on Monday 2 March.
Announcements: Thu 5 March 09:00 (h-7), Wed 11 March 19:00 (h-1), Thu 12 March 06:00 (h0); briefing Tue 10 March
16:00; feedback Fri 13 March 09:00; feedback summary to leadership Sun 15 March 09:00.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.aspirations.service import Draft
from bot.people.roster import get_person
from tests.fake_telegram import FakeUser
from tests.harness import ADMIN_ID, BotHarness

WIB = ZoneInfo("Asia/Jakarta")
VISIT_DAY = dt.date(2026, 3, 12)


def wib(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=WIB)


async def at(harness: BotHarness, moment: str) -> None:
    """Set the clock to a local (WIB) moment, run what is due, and wait until it was delivered."""
    harness.clock.set(wib(moment))
    await harness.tick()
    await harness.settle()


def texts_with(harness: BotHarness, chat_id: int, needle: str) -> list[str]:
    """Texts of the messages the bot sent (not edited) to a chat that contain ``needle``."""
    return [c.text for c in harness.server.sent(chat_id) if c.method.startswith("send") and c.text
            and needle in c.text]


class People:
    """Who lives where in these tests."""

    def __init__(self, harness: BotHarness) -> None:
        self.h = harness

    async def setup(self) -> People:
        h = self.h
        self.kades_a = await h.kepala_desa(11, desa="35.13.02.2001", name="Kades Ledokombo")  # Sumber
        self.kades_b = await h.kepala_desa(12, desa="35.13.02.2002", name="Kades Pandansari")  # Sumber
        self.kades_other = await h.kepala_desa(13, desa="35.13.07.2001", name="Kades Andungbiru")  # Tiris
        self.camat = h.user(21, "Camat Sumber")
        await h.register(self.camat, "camat", kecamatan="Sumber")
        self.camat_other = h.user(22, "Camat Tiris")
        await h.register(self.camat_other, "camat", kecamatan="Tiris")
        self.bupati = h.user(31, "Bupati")
        await h.register(self.bupati, "pimpinan", title="Bupati")
        self.pupr = h.user(41, "Kadis PUPR")
        await h.register(self.pupr, "pejabat", department="PUPR")
        self.dinkes = h.user(42, "Kadis Dinkes")
        await h.register(self.dinkes, "pejabat", department="DINKES")
        await h.settle()
        return self

    @property
    def everyone(self) -> list[FakeUser]:
        return [self.kades_a, self.kades_b, self.kades_other, self.camat, self.camat_other, self.bupati, self.pupr,
                self.dinkes, self.h.admin]

    @property
    def sumber(self) -> list[FakeUser]:
        return [self.kades_a, self.kades_b, self.camat]


async def add_visit_in_bot(harness: BotHarness, *, date: str = "12-03-2026", time: str = "08:00",
                           departments: str = "PUPR") -> int:
    """The admin's /kunjungan flow, step by step, as an admin would do it."""
    admin = harness.admin
    await harness.say(admin, "/kunjungan", "Kelola kunjungan")
    await harness.press(admin, "➕ Tambah kunjungan", "langkah 1 dari 6")
    await harness.press(admin, "Sumber", "langkah 2 dari 6")
    await harness.say(admin, date, "Jam mulai")
    await harness.say(admin, time, "Tempat kunjungan")
    await harness.press(admin, "Kantor Kecamatan Sumber", "Agenda kunjungan")
    await harness.say(admin, "Dialog dengan kepala desa; tinjau jalan poros Ledokombo", "OPD yang hadir")
    review = await harness.say(admin, departments, "Periksa kunjungan baru")
    assert "Kecamatan Sumber" in (review.text or "")
    saved = await harness.press(admin, "✅ Simpan", "tersimpan")
    text = saved.text or ""
    return int(text.split("Kunjungan #")[1].split()[0])


async def test_visit_created_in_the_bot_is_announced_three_times_to_exactly_its_kecamatan(
        harness: BotHarness) -> None:
    p = await People(harness).setup()
    visit_id = await add_visit_in_bot(harness)
    visit = await harness.svc.ngantor.visits.get(visit_id)
    assert (visit.date, visit.jam, visit.place) == (VISIT_DAY, "08.00", "Kantor Kecamatan Sumber")
    assert visit.departments == ("PUPR",)
    await at(harness, "2026-03-02 10:00")
    assert not any(texts_with(harness, u.id, "Ngantor di Kecamatan Sumber") for u in p.everyone if u is not
                   harness.admin)

    # seven days before, 09:00: not a minute earlier
    await at(harness, "2026-03-05 08:59")
    assert not any(texts_with(harness, u.id, "📣") for u in p.everyone)
    await at(harness, "2026-03-05 09:00")
    for u in p.sumber:
        got = texts_with(harness, u.id, "📣")
        assert len(got) == 1, (u, got)
        assert "minggu depan" in got[0] and "Kamis, 12 Maret 2026, pukul 08.00 WIB" in got[0]
        assert "Kantor Kecamatan Sumber" in got[0] and "jalan poros Ledokombo" in got[0]
    for u in (p.kades_other, p.camat_other, p.bupati, p.pupr, p.dinkes, harness.admin):
        assert not texts_with(harness, u.id, "📣"), u
    # the kepala desa get a button that starts an aspiration tagged to this visit; the camat does not
    # (the announcement itself: the one-time /lokasi prompt may arrive in the same minute)
    announcement = next(m for m in harness.server.bot_messages(p.kades_a.id, newest_first=True)
                        if "📣" in (m.get("text") or ""))
    assert announcement["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"asp:new:{visit_id}"
    assert "reply_markup" not in next(m for m in harness.server.bot_messages(p.camat.id, newest_first=True)
                                      if "📣" in (m.get("text") or ""))

    # a restart, and the scheduler looking again, send nothing twice
    await harness.restart()
    await at(harness, "2026-03-05 12:00")
    assert all(len(texts_with(harness, u.id, "📣")) == 1 for u in p.sumber)

    # the evening before, 19:00, and the morning of the visit, 06:00
    await at(harness, "2026-03-11 18:59")
    assert all(len(texts_with(harness, u.id, "📣")) == 1 for u in p.sumber)
    await at(harness, "2026-03-11 19:00")
    assert all(len(texts_with(harness, u.id, "Besok: Ngantor di Kecamatan Sumber")) == 1 for u in p.sumber)
    await at(harness, "2026-03-12 05:59")
    assert not any(texts_with(harness, u.id, "Hari ini: Ngantor") for u in p.sumber)
    await at(harness, "2026-03-12 06:00")
    assert all(len(texts_with(harness, u.id, "Hari ini: Ngantor di Kecamatan Sumber")) == 1 for u in p.sumber)
    await harness.restart()
    await at(harness, "2026-03-12 07:00")
    for u in p.sumber:
        assert len(texts_with(harness, u.id, "📣")) == 3, u
    for u in (p.kades_other, p.camat_other, p.bupati, p.pupr, p.dinkes, harness.admin):
        assert not texts_with(harness, u.id, "📣"), u

    # the button under the announcement starts an aspiration tagged to the visit
    await harness.press(p.kades_a, "📝 Sampaikan aspirasi untuk kunjungan ini", "untuk kunjungan Bupati ke"
                        " Kecamatan Sumber")
    await harness.press(p.kades_a, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(p.kades_a, "Jalan poros Ledokombo berlubang sepanjang 1 km, mohon ditinjau.", "Langkah 3")
    await harness.press(p.kades_a, "➡️ Lanjut ke ringkasan", "Ringkasan")
    await harness.press(p.kades_a, "✅ Kirim", "Aspirasi terkirim")
    tagged = await harness.svc.db.fetchval("SELECT visit_id FROM aspirations")
    assert tagged == visit_id


async def test_a_late_visit_is_announced_at_once_and_nothing_goes_out_after_it_started(harness: BotHarness) -> None:
    p = await People(harness).setup()
    visits = harness.svc.ngantor.visits
    # created two days before: the seven-day announcement is overdue and goes out on the next tick
    await at(harness, "2026-03-10 10:00")
    visit, _ = await visits.create("Sumber", VISIT_DAY, dt.time(8, 0))
    await at(harness, "2026-03-10 10:01")
    assert all(len(texts_with(harness, u.id, "Kecamatan Sumber lusa, Kamis, 12 Maret 2026")) == 1 for u in p.sumber)
    # the bot was down from the evening before until after the visit started: nothing stale is sent
    await at(harness, "2026-03-12 09:00")
    for u in p.sumber:
        assert not texts_with(harness, u.id, "Besok:") and not texts_with(harness, u.id, "Hari ini:")
    assert visit.id


async def test_moved_visit_sends_a_correction_and_follows_the_new_date(harness: BotHarness) -> None:
    p = await People(harness).setup()
    visit_id = await add_visit_in_bot(harness)
    await at(harness, "2026-03-05 09:00")  # the h-7 announcement went out
    admin = harness.admin
    await harness.say(admin, "/kunjungan", "Kelola kunjungan")
    await harness.press(admin, "📋 Daftar, pindah, batalkan", "Kunjungan mendatang")
    await harness.press(admin, "12-03-2026 · Sumber", f"Kunjungan #{visit_id}")
    await harness.press(admin, "📅 Pindah jadwal", "Tanggal baru")
    # a Saturday gets a warning first
    await harness.say(admin, "14-03-2026", "hari Sabtu")
    await harness.say(admin, "26-03-2026", "Jam mulai")
    await harness.say(admin, "09.30", "Tempat kunjungan")
    review = await harness.press(admin, "Tetap: Kantor Kecamatan Sumber", "Periksa pemindahan")
    assert "Menjadi: Kamis, 26 Maret 2026, pukul 09.30 WIB, Kantor Kecamatan Sumber" in (review.text or "")
    await harness.press(admin, "✅ Pindahkan", "dipindah")
    await harness.settle()
    for u in p.sumber:
        fix = texts_with(harness, u.id, "Perubahan jadwal")
        assert len(fix) == 1, u
        assert "Kamis, 12 Maret 2026" in fix[0] and "Kamis, 26 Maret 2026, pukul 09.30 WIB" in fix[0]
    for u in (p.kades_other, p.camat_other, p.bupati, p.pupr):
        assert not texts_with(harness, u.id, "Perubahan jadwal"), u
    # the kepala desa's correction still carries the aspiration button
    assert harness.server.last_bot_message(p.kades_a.id)["reply_markup"]["inline_keyboard"][0][0][
        "callback_data"] == f"asp:new:{visit_id}"
    # nothing for the old date
    await at(harness, "2026-03-11 19:00")
    await at(harness, "2026-03-12 06:00")
    assert not any(texts_with(harness, u.id, "Besok:") or texts_with(harness, u.id, "Hari ini:") for u in p.sumber)
    # the new date's announcements at their times (h-7 for 26 March is on 19 March, a holiday — still announced)
    await at(harness, "2026-03-19 09:00")
    assert all(len(texts_with(harness, u.id, "minggu depan")) == 2 for u in p.sumber)
    await at(harness, "2026-03-25 19:00")
    assert all(len(texts_with(harness, u.id, "Besok: Ngantor")) == 1 for u in p.sumber)
    assert "pukul 09.30" in texts_with(harness, p.camat.id, "Besok: Ngantor")[0]


async def test_cancelled_visit_sends_a_correction_and_stops_announcements(harness: BotHarness) -> None:
    p = await People(harness).setup()
    visit_id = await add_visit_in_bot(harness)
    await at(harness, "2026-03-10 16:00")  # h-7 announced, briefing sent
    admin = harness.admin
    await harness.say(admin, "/kunjungan", "Kelola kunjungan")
    await harness.press(admin, "📋 Daftar, pindah, batalkan", "Kunjungan mendatang")
    await harness.press(admin, "12-03-2026 · Sumber", f"Kunjungan #{visit_id}")
    await harness.press(admin, "❌ Batalkan", "Alasan pembatalan")
    await harness.say(admin, "Bupati dipanggil ke Surabaya <rapat & koordinasi>", "Yakin membatalkan")
    await harness.press(admin, "✅ Ya, batalkan kunjungan", "dibatalkan")
    await harness.settle()
    for u in (*p.sumber, p.bupati, p.pupr):
        got = texts_with(harness, u.id, "Kunjungan dibatalkan")
        assert len(got) == 1, u
        assert "Bupati dipanggil ke Surabaya <rapat & koordinasi>" in got[0]
    # those who heard nothing about it hear nothing now (Dinkes does not attend)
    for u in (p.kades_other, p.camat_other, p.dinkes):
        assert not texts_with(harness, u.id, "dibatalkan"), u
    assert "reply_markup" not in harness.server.last_bot_message(p.kades_a.id)
    await at(harness, "2026-03-11 19:00")
    await at(harness, "2026-03-13 09:00")
    for u in p.sumber:
        assert not texts_with(harness, u.id, "Besok:") and not texts_with(harness, u.id, "Bagaimana kunjungan")
    # the old announcement's button no longer starts an aspiration for that visit
    await harness.do(lambda: p.kades_a.press(harness.server.last_bot_message(p.kades_a.id), f"asp:new:{visit_id}"),
                     p.kades_a.id, "sudah dibatalkan")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM drafts") == 0


async def test_jadwal_shows_own_kecamatan_first_and_attaches_a_calendar(harness: BotHarness) -> None:
    p = await People(harness).setup()
    visits = harness.svc.ngantor.visits
    await visits.create("Tiris", dt.date(2026, 3, 10), dt.time(9, 0), agenda="Dialog; panen, kopi")
    await visits.create("Sumber", dt.date(2026, 4, 8), dt.time(8, 0), agenda="Rapat desa")
    await visits.create("Krucil", dt.date(2026, 3, 4), dt.time(8, 0))
    mark = harness.server.mark()
    call = await harness.say(p.kades_a, "/jadwal semua", "Jadwal Ngantor di Kecamatan")
    text = call.text or ""
    own, rest = text.split("Kecamatan lain")
    assert "Kecamatan Anda (Sumber)" in own and "Kec. Sumber" in own and "Tiris" not in own
    assert "Kantor Kecamatan Sumber\n  Agenda: Rapat desa" in own
    assert rest.index("Krucil") < rest.index("Tiris")
    doc = await harness.server.wait_for_call("sendDocument", p.kades_a.id, since=mark)
    upload = next(iter(doc.files.values()))
    assert upload.filename.endswith(".ics")
    ics = upload.content.decode("utf-8")
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert ics.count("BEGIN:VEVENT") == 3
    assert "SUMMARY:Ngantor di Kecamatan Sumber" in ics
    assert "DTSTART:20260408T010000Z" in ics  # 08:00 WIB
    assert "DESCRIPTION:Dialog\\; panen\\, kopi" in ics
    # leadership (no kecamatan of their own) see the list in date order
    text = (await harness.say(p.bupati, "/jadwal", "Jadwal Ngantor")).text or ""
    assert "Kecamatan Anda" not in text and text.index("Krucil") < text.index("Tiris") < text.index("Sumber")
    # unregistered people get the usual answer
    await harness.say(harness.user(99, "Asing"), "/jadwal", "belum terdaftar")


async def test_only_admins_manage_visits(harness: BotHarness) -> None:
    p = await People(harness).setup()
    for u in (p.kades_a, p.camat, p.bupati, p.pupr):
        await harness.say(u, "/kunjungan", "hanya untuk Admin")
    # a forged button from a non-admin does nothing
    visit, _ = await harness.svc.ngantor.visits.create("Sumber", VISIT_DAY)
    msg = harness.server.last_bot_message(p.camat.id)
    mark = harness.server.mark()
    p.camat.press(msg, f"kj:cx:{visit.id}")
    call = await harness.server.wait_for_call("answerCallbackQuery", p.camat.id, since=mark)
    assert "tidak berlaku" in call.params.get("text", "")
    await harness.settle()
    assert (await harness.svc.ngantor.visits.get(visit.id)).status == "terjadwal"
    # a kepala desa of another kecamatan cannot tag an aspiration to Sumber's visit with a forged button
    await harness.do(lambda: p.kades_other.press(harness.server.last_bot_message(p.kades_other.id),
                                                 f"asp:new:{visit.id}"),
                     p.kades_other.id, "tidak ditemukan atau sudah dibatalkan")


async def test_kunjungan_flow_handles_bad_input_and_batal(harness: BotHarness) -> None:
    admin = harness.admin
    await harness.say(admin, "/kunjungan", "Kelola kunjungan")
    await harness.press(admin, "➕ Tambah kunjungan", "langkah 1 dari 6")
    await harness.say(admin, "Sumbre", "langkah 2 dari 6")  # small misspelling is fine
    await harness.say(admin, "31-02-2026", "tidak dikenali")
    await harness.say(admin, "01-01-2026", "sudah lewat")
    await harness.say(admin, "19-03-2026", "libur nasional: Hari Suci Nyepi")  # a national holiday: warning
    await harness.press(admin, "Tetap pakai tanggal ini", "Jam mulai")  # the admin may keep it anyway
    await harness.say(admin, "jam delapan", "tidak dikenali")
    await harness.say(admin, "/batal", "tidak ada perubahan jadwal")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM visits") == 0
    # after /batal ordinary commands work again
    await harness.say(admin, "/bantuan", "/kunjungan")
    assert ADMIN_ID == admin.id


async def test_briefing_two_days_before_to_leadership_and_attending_departments(harness: BotHarness) -> None:
    p = await People(harness).setup()
    svc = harness.svc
    n = svc.ngantor
    # aspirations: two villages of Sumber, one confidential; one in Tiris; one closed
    a = await get_person(svc.db, p.kades_a.id)
    b = await get_person(svc.db, p.kades_b.id)
    other = await get_person(svc.db, p.kades_other.id)
    assert a and b and other

    async def submit(person, category: str, text: str, key: str) -> str:
        asp, _ = await svc.aspirations.submit(person, Draft(category=category, description=text), key)
        harness.clock.advance(days=1)
        return asp.ticket

    harness.clock.set(wib("2026-02-01 09:00"))
    t1 = await submit(a, "infrastruktur", "Jembatan dusun Krajan putus sejak Januari.", "1")
    t2 = await submit(b, "kesehatan", "Posyandu kekurangan timbangan bayi.", "2")
    t3 = await submit(a, "infrastruktur", "Saluran irigasi tersier jebol di sawah utara.", "3")
    t4 = await submit(a, "kinerja_kecamatan", "Pungutan liar untuk surat pengantar di kecamatan.", "4")
    t5 = await submit(other, "pendidikan", "Atap SD Andungbiru bocor.", "5")
    t6 = await submit(b, "lainnya", "Mohon seragam linmas untuk desa.", "6")
    await svc.db.execute("UPDATE aspirations SET status = 'ditutup' WHERE ticket = ?", (t6,))
    await at(harness, "2026-03-02 09:00")
    visit, _ = await n.visits.create("Sumber", VISIT_DAY, dt.time(8, 0), departments=["PUPR"])
    await at(harness, "2026-03-10 15:59")
    assert not texts_with(harness, p.bupati.id, "Briefing")
    await at(harness, "2026-03-10 16:00")
    briefings = texts_with(harness, p.bupati.id, "📋 Briefing")
    assert len(briefings) == 1
    lead = briefings[0]
    assert "Briefing Ngantor di Kecamatan Sumber" in lead
    assert "Kamis, 12 Maret 2026, pukul 08.00 WIB" in lead
    # grouped by desa and category, the oldest first, with counts
    assert "Desa Ledokombo: 3" in lead and "Desa Pandansari: 1" in lead
    assert lead.index("Desa Ledokombo — 3 aspirasi terbuka") < lead.index("Desa Pandansari — 1 aspirasi terbuka")
    assert lead.index(t1) < lead.index(t3) < lead.index(t2)
    assert t4 in lead and "Pungutan liar" in lead  # leadership see the confidential one
    assert t5 not in lead and t6 not in lead  # other kecamatan, closed
    # the villages that have sent nothing yet
    silent = lead.split("belum pernah mengirim aspirasi (7)")[1]
    assert "Desa Gemito" in silent and "Desa Ledokombo" not in silent
    # the attending department gets it without the confidential aspiration
    dept = "\n".join(texts_with(harness, p.pupr.id, "📋 Briefing"))
    assert "Briefing Ngantor di Kecamatan Sumber" in dept and t1 in dept
    assert t4 not in dept and "Pungutan" not in dept and "Desa Ledokombo: 2" in dept
    # nobody else: not the camat, not a department that does not attend, not the villages
    for u in (p.camat, p.camat_other, p.dinkes, p.kades_a, p.kades_b, harness.admin):
        assert not texts_with(harness, u.id, "Briefing"), u
    # on demand
    call = await harness.say(p.bupati, "/briefing sumber", "Briefing Ngantor di Kecamatan Sumber")
    assert t4 in (call.text or "")
    await harness.say(p.pupr, "/briefing Sumber", "Briefing Ngantor")
    await harness.say(p.dinkes, "/briefing Sumber", "hanya untuk pimpinan")
    await harness.say(p.camat, "/briefing Sumber", "hanya untuk Pimpinan Daerah, Admin, Pejabat OPD")
    await harness.say(p.kades_a, "/briefing Sumber", "hanya untuk")
    await harness.say(harness.admin, "/briefing Krucil", "Belum pernah mengirim aspirasi: 14")
    # exactly one briefing each, even after a restart
    await harness.restart()
    await at(harness, "2026-03-11 09:00")
    assert len(texts_with(harness, p.bupati.id, "📋 Briefing")) == 2  # the scheduled one and /briefing
    assert len(texts_with(harness, p.pupr.id, "📋 Briefing")) == 2
    assert visit.id


async def test_feedback_from_villages_reaches_leadership_only(harness: BotHarness) -> None:
    p = await People(harness).setup()
    visit, _ = await harness.svc.ngantor.visits.create("Sumber", VISIT_DAY, dt.time(8, 0))
    await at(harness, "2026-03-13 08:59")
    assert not texts_with(harness, p.kades_a.id, "Bagaimana kunjungan")
    await at(harness, "2026-03-13 09:00")
    for u in (p.kades_a, p.kades_b):
        assert len(texts_with(harness, u.id, "Bagaimana kunjungan Bupati kemarin")) == 1
    for u in (p.camat, p.kades_other, p.camat_other, p.bupati, p.pupr):
        assert not texts_with(harness, u.id, "Bagaimana kunjungan"), u
    assert p.kades_a.buttons() == ["1", "2", "3", "4", "5"]
    await harness.press(p.kades_a, "4", "pelayanan kecamatan")
    await harness.press(p.kades_a, "2", "Tulis komentar")
    await harness.say(p.kades_a, "Pelayanan surat di kecamatan lambat & berbelit <sering>.", "Terima kasih")
    await harness.press(p.kades_b, "5", "pelayanan kecamatan")
    await harness.press(p.kades_b, "3", "Tulis komentar")
    await harness.press(p.kades_b, "Lewati", "Terima kasih")
    # after the comment, ordinary text is not taken as another comment
    await harness.say(p.kades_b, "halo", "belum dapat dipahami")
    # a camat cannot rate (forged button) and never sees the results
    mark = harness.server.mark()
    p.camat.press(harness.server.last_bot_message(p.camat.id), f"fb:{visit.id}:k:1")
    call = await harness.server.wait_for_call("answerCallbackQuery", p.camat.id, since=mark)
    assert "hanya untuk Kepala Desa" in call.params.get("text", "")
    await harness.say(p.camat, "/umpanbalik", "hanya untuk Pimpinan Daerah")
    await harness.say(harness.admin, "/umpanbalik", "hanya untuk Pimpinan Daerah")
    row = await harness.svc.db.fetchall("SELECT visit_rating, service_rating, comment FROM visit_feedback"
                                        " ORDER BY id")
    assert [tuple(r) for r in row] == [(4, 2, "Pelayanan surat di kecamatan lambat & berbelit <sering>."),
                                       (5, 3, None)]
    # leadership: on demand, and pushed three days after the visit
    call = await harness.say(p.bupati, "/umpanbalik Sumber", "Umpan balik Ngantor di Kecamatan")
    text = call.text or ""
    assert "Tanggapan: 2 dari 2 kepala desa" in text and "Nilai kunjungan: 4.5 dari 5" in text
    assert "Nilai pelayanan kecamatan: 2.5 dari 5" in text and "Desa Ledokombo: Pelayanan surat" in text
    await at(harness, "2026-03-15 09:00")
    pushed = texts_with(harness, p.bupati.id, "📊 Umpan balik Ngantor")
    assert len(pushed) == 2
    for u in (p.camat, p.kades_a, p.kades_b, p.pupr, p.camat_other, harness.admin):
        assert not texts_with(harness, u.id, "📊 Umpan balik Ngantor"), u
    await harness.restart()
    await at(harness, "2026-03-16 09:00")
    assert len(texts_with(harness, p.bupati.id, "📊 Umpan balik Ngantor")) == 2
    assert len(texts_with(harness, p.kades_a.id, "Bagaimana kunjungan")) == 1


async def test_commitment_is_recorded_reminded_and_followed_up(harness: BotHarness) -> None:
    p = await People(harness).setup()
    svc = harness.svc
    n = svc.ngantor
    a = await get_person(svc.db, p.kades_a.id)
    assert a is not None
    asp, _ = await svc.aspirations.submit(a, Draft(category="infrastruktur",
                                                   description="Irigasi tersier jebol di sawah utara."), "k1")
    visit, _ = await n.visits.create("Sumber", dt.date(2026, 3, 4), dt.time(8, 0), departments=["PUPR"])
    await at(harness, "2026-03-04 11:00")
    # the Bupati records what was promised at the visit
    b = p.bupati
    await harness.say(b, "/janji", "Janji ini dibuat pada kunjungan yang mana")
    await harness.press(b, "04-03-2026 · Sumber", "apa yang dijanjikan")
    await harness.say(b, "Kaji ulang irigasi tersier di sawah utara", "OPD penanggung jawab")
    await harness.say(b, "pupr", "desa mana")
    await harness.say(b, "Ledokombo, Pandansari", "tenggatnya")
    await harness.say(b, "20-03-2026", "nomor tiket aspirasi")
    await harness.say(b, f"{asp.ticket}", "Periksa janji")
    saved = await harness.press(b, "✅ Simpan janji", "tersimpan")
    cid = int((saved.text or "").split("Janji #")[1].split()[0])
    await harness.settle()
    for u in (p.kades_a, p.kades_b):
        told = texts_with(harness, u.id, "Janji Bupati untuk desa Anda")
        assert len(told) == 1 and "Kaji ulang irigasi" in told[0] and "Jumat, 20 Maret 2026" in told[0]
    assert asp.ticket in texts_with(harness, p.kades_a.id, "Janji Bupati")[0]
    assert len(texts_with(harness, p.pupr.id, "Janji baru untuk PUPR")) == 1
    for u in (p.camat, p.kades_other, p.dinkes):
        assert not texts_with(harness, u.id, "anji"), u
    # reminders: seven days and one day before, at 08:00
    await at(harness, "2026-03-13 07:59")
    assert not texts_with(harness, p.pupr.id, "Pengingat janji")
    await at(harness, "2026-03-13 08:00")
    assert len(texts_with(harness, p.pupr.id, "tenggat 7 hari lagi")) == 1
    await at(harness, "2026-03-19 08:00")
    assert len(texts_with(harness, p.pupr.id, "tenggat besok")) == 1
    # the briefing of the next visit lists it as open; a week later, if overdue, as overdue
    briefing = await harness.say(b, "/briefing Sumber", "Janji terbuka (1)")
    assert "Kaji ulang irigasi" in (briefing.text or "")
    # on the due date the department is asked for the outcome
    await at(harness, "2026-03-20 08:00")
    ask = texts_with(harness, p.pupr.id, "Bagaimana hasil janji")
    assert len(ask) == 1 and "tenggat hari ini" in ask[0]
    assert p.pupr.buttons() == ["✅ Terlaksana", "⏳ Masih berjalan", "❌ Tidak dapat dilaksanakan"]
    # someone of another department cannot answer (forged)
    mark = harness.server.mark()
    p.dinkes.press(harness.server.last_bot_message(p.dinkes.id), f"jnj:{cid}:ok")
    call = await harness.server.wait_for_call("answerCallbackQuery", p.dinkes.id, since=mark)
    assert "bukan tanggung jawab" in call.params.get("text", "")
    await harness.press(p.pupr, "⏳ Masih berjalan", "Tulis catatan singkat")
    await harness.say(p.pupr, "Survei lapangan selesai, menunggu anggaran perubahan.", "tersimpan")
    await harness.settle()
    for u in (p.kades_a, p.kades_b, p.bupati):
        got = texts_with(harness, u.id, "Tindak lanjut janji")
        assert len(got) == 1 and "Masih berjalan" in got[0] and "menunggu anggaran" in got[0], u
    assert "Dijawab oleh" in texts_with(harness, p.bupati.id, "Tindak lanjut janji")[0]
    assert "Dijawab oleh" not in texts_with(harness, p.kades_a.id, "Tindak lanjut janji")[0]
    # still open, so overdue from the next day in the briefing and in the weekly digest; asked again a week later
    await at(harness, "2026-03-21 09:00")
    overdue = await harness.say(b, "/briefing Sumber", "Janji lewat tenggat (1)")
    assert "Kaji ulang irigasi" in (overdue.text or "").split("Janji lewat tenggat (1)")[1]
    digest = await n.commitments.digest_section()
    assert "lewat tenggat: <b>1</b>" in digest and "Kaji ulang irigasi" in digest
    await at(harness, "2026-03-26 08:00")
    assert len(texts_with(harness, p.pupr.id, "Bagaimana hasil janji")) == 1
    await at(harness, "2026-03-27 08:00")
    again = texts_with(harness, p.pupr.id, "Bagaimana hasil janji")
    assert len(again) == 2 and "tenggat lewat 7 hari" in again[1]
    await harness.press(p.pupr, "✅ Terlaksana", "Tulis catatan singkat")
    await harness.press(p.pupr, "Kirim tanpa catatan", "tersimpan")
    await harness.settle()
    assert len(texts_with(harness, p.kades_a.id, "Tindak lanjut janji")) == 2
    assert "Terlaksana" in texts_with(harness, p.kades_a.id, "Tindak lanjut janji")[1]
    # closed: nothing more is asked, and a second answer is refused
    await at(harness, "2026-04-03 08:00")
    assert len(texts_with(harness, p.pupr.id, "Bagaimana hasil janji")) == 2
    mark = harness.server.mark()
    p.pupr.press(harness.server.bot_messages(p.pupr.id, newest_first=True).__iter__().__next__(), f"jnj:{cid}:no")
    call = await harness.server.wait_for_call("answerCallbackQuery", p.pupr.id, since=mark)
    assert "sudah ditutup" in call.params.get("text", "")
    listing = await harness.say(b, "/janji daftar", "Janji yang masih terbuka (0)")
    assert listing
    # only admins and leadership record commitments
    await harness.say(p.pupr, "/janji", "hanya untuk Admin, Pimpinan Daerah")
    await harness.say(p.kades_a, "/janji", "hanya untuk")



async def test_kunjungan_flow_survives_a_restart(harness: BotHarness) -> None:
    admin = harness.admin
    await harness.say(admin, "/kunjungan", "Kelola kunjungan")
    await harness.press(admin, "➕ Tambah kunjungan", "langkah 1 dari 6")
    await harness.say(admin, "Tiris", "langkah 2 dari 6")
    await harness.say(admin, "25-03-2026", "Jam mulai")
    await harness.restart()
    await harness.say(admin, "13:30", "Tempat kunjungan")
    await harness.say(admin, "Balai Desa Andungbiru", "Agenda kunjungan")
    await harness.press(admin, "Lewati", "OPD yang hadir")
    await harness.press(admin, "Lewati", "Periksa kunjungan baru")
    await harness.press(admin, "✅ Simpan", "tersimpan")
    visits = await harness.svc.ngantor.visits.upcoming()
    assert [(v.kecamatan_name, v.date, v.jam, v.place, v.agenda, v.departments) for v in visits] == [
        ("Tiris", dt.date(2026, 3, 25), "13.30", "Balai Desa Andungbiru", "", ())]
