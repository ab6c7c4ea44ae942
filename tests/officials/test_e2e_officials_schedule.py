"""Scheduled work end to end, moving the FakeClock instead of waiting: daily and weekly digests (contents, no empty
digest, splitting), escalation of overdue aspirations (once), closing the loop (Belum, silence), and restarts
(no duplicate jobs, a digest missed while down is sent once, a waiting prompt survives)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import SCHEDULED_TASKS
from bot.core.clock import FakeClock
from bot.officials import digests
from tests.harness import ADMIN_ID, BotHarness
from tests.officials_support import (
    LABEL,
    at,
    buttons,
    card,
    digest_texts,
    finish,
    leader,
    official,
    press_card,
    press_on,
    status_of,
    submit,
)

WIB = ZoneInfo("Asia/Jakarta")
LEADER = 70


async def test_daily_digest_per_department_grouped_oldest_first_and_never_empty(harness: BotHarness) -> None:
    andi = await official(harness, 20, "PUPR")
    await official(harness, 30, "DINKES", name="Dokter")  # nothing for Dinkes: no digest at all
    ledokombo = await harness.kepala_desa(10)  # Kec. Sumber
    andungbiru = await harness.kepala_desa(11, desa="35.13.07.2001", name="Sutrisno")  # Kec. Tiris
    first = await submit(harness, andungbiru, "infrastruktur", "Jembatan gantung Andungbiru putus total.")
    await at(harness, 3, 2, 10)
    second = await submit(harness, ledokombo, "infrastruktur", "Jalan poros Ledokombo berlubang besar.")
    await at(harness, 3, 2, 11)
    third = await submit(harness, andungbiru, "infrastruktur", "Irigasi tersier Andungbiru jebol.")
    await at(harness, 3, 3, 6, 59)
    assert digest_texts(harness, 20, "Ringkasan harian") == []
    await at(harness, 3, 3, 7, 0)
    [text] = digest_texts(harness, 20, "Ringkasan harian")
    assert digest_texts(harness, 30, "Ringkasan harian") == []
    assert "Ringkasan harian Dinas Pekerjaan Umum dan Penataan Ruang" in text and "Selasa, 3 Maret 2026" in text
    assert "3 aspirasi perlu tindak lanjut, 3 baru" in text
    # grouped by kecamatan then desa, the group with the oldest item first, items oldest first
    assert text.index("Kec. Tiris") < text.index("Desa Andungbiru") < text.index(first.ticket) \
        < text.index(third.ticket) < text.index("Kec. Sumber") < text.index(second.ticket)
    assert text.count("Desa Andungbiru") == 1
    # the same day it is not sent again, however often the ticker runs
    await at(harness, 3, 3, 12)
    assert len(digest_texts(harness, 20, "Ringkasan harian")) == 1
    # what was finished leaves the digest, what is still open stays (no longer "new")
    await finish(harness, andi, 20, second.ticket)
    await harness.server.wait_for_text(10, "Sudah tertangani?")
    await at(harness, 3, 4, 7, 5)
    text = digest_texts(harness, 20, "Ringkasan harian")[-1]
    assert "Rabu, 4 Maret 2026" in text and "2 aspirasi perlu tindak lanjut." in text
    assert "2 aspirasi dengan batas layanan hari ini atau besok (5 Mar 2026)" in text
    assert second.ticket not in text and "🆕" not in text


async def test_daily_digest_longer_than_telegram_allows_is_split_between_items(harness: BotHarness) -> None:
    await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    for i in range(45):
        await submit(harness, kades, "infrastruktur",
                     f"Laporan nomor {i:02d}: ruas jalan <b>rusak</b> & berlubang di RT {i % 9 + 1}. "
                     + "Aspal mengelupas dan batu berserakan. " * 8)
    await harness.settle()
    await at(harness, 3, 3, 7)
    parts = digest_texts(harness, 20, "ASP-2026-000")
    parts = [p for p in parts if "Aspirasi ASP" not in p]  # not the forwarded cards
    assert len(parts) >= 3
    calls = [c for c in harness.server.calls_for(20, "sendMessage") if c.ok and "lanjutan" in (c.text or "")
             or "Ringkasan harian" in (c.text or "")]
    assert all(len(c.params["text"]) <= 4096 for c in calls)
    joined = "\n".join(parts)
    for i in range(45):
        assert joined.count(f"ASP-2026-{i + 1:05d}") == 1  # every item once, none cut in two
    assert all("(lanjutan)" in p for p in parts[1:])
    assert "<b>rusak</b> &" in joined  # user text shown literally (the fake server parsed the HTML strictly)


async def test_weekly_digest_for_leadership_and_admins(harness: BotHarness) -> None:
    await leader(harness, LEADER)
    await harness.say(harness.admin, "/start", "Selamat datang")
    andi = await official(harness, 20, "PUPR")
    await official(harness, 21, "DINSOS", name="Rina")
    ledokombo = await harness.kepala_desa(10)
    andungbiru = await harness.kepala_desa(11, desa="35.13.07.2001", name="Sutrisno")
    road = await submit(harness, ledokombo, "infrastruktur", "Jalan poros Ledokombo berlubang besar.")
    bridge = await submit(harness, andungbiru, "infrastruktur", "Jembatan gantung Andungbiru putus total.")
    social = await submit(harness, andungbiru, "sosial", "Lansia terlantar di dusun Krajan.")
    await submit(harness, ledokombo, "kinerja_kecamatan", "Pelayanan surat di kecamatan dipungut biaya.")
    await harness.settle()
    await finish(harness, andi, 20, road.ticket)
    await harness.server.wait_for_text(10, "Sudah tertangani?")
    await harness.press(ledokombo, "✅ Ya, sudah tertangani", "tuntas")
    await press_card(harness, andi, 20, bridge.ticket, "tdt")
    await harness.server.wait_for_text(20, "Tuliskan alasan")
    await harness.say(andi, "Jembatan gantung itu aset provinsi, sudah kami teruskan.", "ditutup sebagai tidak dapat")
    await at(harness, 3, 9, 7, 29)
    assert digest_texts(harness, LEADER, "Ringkasan mingguan") == []
    await at(harness, 3, 9, 7, 30)
    [text] = digest_texts(harness, LEADER, "Ringkasan mingguan")
    assert digest_texts(harness, ADMIN_ID, "Ringkasan mingguan") == [text]
    assert digest_texts(harness, 20, "Ringkasan mingguan") == []  # officials get their daily digest instead
    assert "2 Mar 2026 – 8 Mar 2026" in text
    assert "Aspirasi masuk: 4" in text and "Infrastruktur: 2" in text and "Kemiskinan & Sosial: 1" in text
    assert "Kinerja Kecamatan (rahasia): 1" in text
    assert "Sumber: 2" in text and "Tiris: 2" in text
    assert "Tuntas, dikonfirmasi desa: 1" in text and "Tidak dapat ditindaklanjuti: 1" in text
    assert "Tingkat penyelesaian: 50% dikonfirmasi desa" in text and "ikut dihitung" not in text
    assert "DINSOS: 1 terbuka, 1 lewat batas" in text
    assert "Lewat batas layanan: 2" in text and social.ticket in text  # Dinsos never accepted it
    # once per week
    await at(harness, 3, 9, 18)
    assert len(digest_texts(harness, LEADER, "Ringkasan mingguan")) == 1


async def test_no_weekly_digest_when_there_is_nothing_to_report(harness: BotHarness) -> None:
    await leader(harness, LEADER)
    await at(harness, 3, 9, 8)
    await at(harness, 3, 16, 8)
    assert digest_texts(harness, LEADER, "Ringkasan") == []
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM job_runs WHERE job = 'digest:weekly'") == 2


async def test_weekly_digest_sections_are_extensible(harness: BotHarness) -> None:
    await leader(harness, LEADER)

    async def commitments(services, ctx):
        return digests.DigestSection(["<b>Janji kunjungan</b>\n• 2 janji jatuh tempo"],
                                     [digests.DigestPhoto(b"\x89PNG fake", "grafik.png", "Grafik aspirasi")])

    sections = harness.svc.weekly_sections
    sections.insert([name for name, _ in sections].index("commitments"), ("test-commitments", commitments))
    await at(harness, 3, 9, 8)
    [text] = digest_texts(harness, LEADER, "Ringkasan mingguan")
    assert "Janji kunjungan" in text
    photo = harness.server.calls_for(LEADER, "sendPhoto")[-1]
    assert photo.ok and photo.params.get("caption") == "Grafik aspirasi"


async def test_overdue_aspirations_are_escalated_to_leadership_once(harness: BotHarness) -> None:
    bupati = await leader(harness, LEADER)
    andi = await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "infrastruktur", "Jalan makadam dusun Krajan licin dan berbahaya.")
    await harness.settle()
    # accept by Thursday 5 March (3 working days); Friday before the working morning nothing happens yet
    await at(harness, 3, 5, 23)
    await at(harness, 3, 6, 6, 30)
    assert not any(asp.ticket in t for t in harness.server.texts(LEADER))
    await at(harness, 3, 6, 7, 0)
    [alert] = [t for t in harness.server.texts(LEADER) if asp.ticket in t]
    assert "Eskalasi" in alert and "belum diterima/dialihkan dalam 3 hari kerja (batas 5 Mar 2026)" in alert
    notice = [t for t in harness.server.texts(20) if "melewati batas layanan" in t]
    assert len(notice) == 1 and "dilaporkan kepada pimpinan" in notice[0]
    assert "Lewat batas terima" in card(harness, 20, asp.ticket)["text"]
    for day, hour in ((6, 12), (7, 9), (9, 8)):  # not again, however often the ticker runs
        await at(harness, 3, day, hour)
    assert len([t for t in harness.server.texts(LEADER) if "Eskalasi" in t]) == 1
    # accepted late; the response is still due by Monday 9 March -> escalated once more on Tuesday
    await press_card(harness, andi, 20, asp.ticket, "terima")
    await at(harness, 3, 10, 7)
    await at(harness, 3, 11, 7)
    alerts = [t for t in harness.server.texts(LEADER) if "Eskalasi" in t]
    assert len(alerts) == 2 and "belum ditanggapi dalam 5 hari kerja (batas 9 Mar 2026)" in alerts[1]
    history = [h.action for h in await harness.svc.aspirations.history(asp.id)]
    assert history.count("eskalasi ke pimpinan") == 2
    # leadership can act from the card the escalation points to
    await harness.say(bupati, f"/tangani {asp.ticket}", f"Aspirasi {asp.ticket}")
    assert LABEL["proses"] in buttons(card(harness, LEADER, asp.ticket))
    await press_card(harness, bupati, LEADER, asp.ticket, "proses")
    await harness.server.wait_for_text(10, "sedang diproses oleh Bupati")


async def test_belum_reopens_for_the_same_department_with_the_comment(harness: BotHarness) -> None:
    andi = await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "infrastruktur", "Lampu jalan di jembatan desa mati.")
    await harness.settle()
    await finish(harness, andi, 20, asp.ticket)
    question = await harness.server.wait_for_text(10, "Sudah tertangani?")
    await harness.press(kades, "❌ Belum", "Apa yang belum tertangani")
    await harness.say(kades, "Baru satu lampu yang diganti, tiga lainnya masih mati.", "dibuka kembali")
    reopened = await harness.server.wait_for_text(20, "menyatakan masalahnya belum tertangani")
    assert "tiga lainnya masih mati" in (reopened.text or "")
    assert reopened.params["reply_parameters"]["message_id"] == card(harness, 20, asp.ticket)["message_id"]
    await harness.settle()
    assert await status_of(harness, asp.ticket) == "diproses"
    assert LABEL["selesai"] in buttons(card(harness, 20, asp.ticket))
    sla = await harness.svc.db.fetchone("SELECT * FROM aspiration_sla WHERE aspiration_id = ?", (asp.id,))
    assert sla["responded_at"] is None and sla["respond_due"] == "2026-03-09" and sla["confirm_due"] is None
    # the old question no longer applies
    answer = await press_on(harness, kades, harness.server.get_message(10, question.message["message_id"]),
                            f"asp:cfm:{asp.id}:ya")
    assert "tombol ini tidak berlaku lagi" in answer.params["text"]
    assert await status_of(harness, asp.ticket) == "diproses"


async def test_silence_closes_it_after_ten_working_days(harness: BotHarness) -> None:
    await leader(harness, LEADER)
    andi = await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "infrastruktur", "Gorong-gorong di depan balai desa ambles.")
    await harness.settle()
    await finish(harness, andi, 20, asp.ticket)
    await harness.server.wait_for_text(10, "16 Maret 2026")  # Monday 2 March + 10 working days
    await at(harness, 3, 16, 20)
    assert await status_of(harness, asp.ticket) == "selesai"
    await at(harness, 3, 17, 7)
    assert await status_of(harness, asp.ticket) == "ditutup"
    await harness.server.wait_for_text(10, "ditutup sebagai tuntas karena tidak ada jawaban")
    assert "ditutup otomatis" in card(harness, 20, asp.ticket)["text"]
    await at(harness, 3, 23, 8)  # Monday 23 March (a holiday, cuti bersama Idulfitri): the weekly digest counts it
    text = digest_texts(harness, LEADER, "Ringkasan mingguan")[-1]
    assert "Tuntas, dikonfirmasi desa: 0\n• Ditutup otomatis (desa tidak menjawab dalam batas waktu): 1" in text
    assert "Tingkat penyelesaian: 0% dikonfirmasi desa; 100% bila yang ditutup otomatis ikut dihitung" in text


async def test_restart_neither_duplicates_jobs_nor_loses_a_digest(harness: BotHarness) -> None:
    await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    await submit(harness, kades, "infrastruktur", "Jalan desa tergenang setiap hujan.")
    await harness.settle()
    names = [name for name, _ in SCHEDULED_TASKS]
    assert len(names) == len(set(names)) and {"digest:daily", "digest:weekly", "officials:service-levels"} <= set(
        names)
    # down from Monday evening until Tuesday 11:00: the 07:00 digest is sent once on return
    harness.clock.set(datetime(2026, 3, 2, 18, tzinfo=WIB))
    await harness.stop()
    harness.clock.set(datetime(2026, 3, 3, 11, tzinfo=WIB))
    await harness.start()
    await harness.server.wait_for_text(20, "Ringkasan harian")  # the first tick after start
    assert len(harness.app.job_queue.get_jobs_by_name("sambang:tick")) == 1
    await harness.tick()
    await harness.restart()
    await harness.tick()
    await harness.settle()
    assert len(digest_texts(harness, 20, "Ringkasan harian")) == 1
    assert len(harness.app.job_queue.get_jobs_by_name("sambang:tick")) == 1
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM job_runs WHERE job = 'digest:daily'") == 1


async def test_a_waiting_prompt_survives_a_restart(harness: BotHarness) -> None:
    andi = await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "infrastruktur", "Plengsengan sungai di dusun Krajan jebol.")
    await harness.settle()
    await press_card(harness, andi, 20, asp.ticket, "tolak")
    await harness.server.wait_for_text(20, "alasan penolakan")
    await harness.restart()
    await harness.say(andi, "Plengsengan ini dibangun oleh BBWS, bukan kabupaten.", "ditolak")
    await harness.server.wait_for_text(10, "dibangun oleh BBWS")


async def test_daily_digest_over_the_cap_lists_new_ones_and_counts_the_rest(tmp_path: Path, clock: FakeClock) -> None:
    """With SAMBANG_DIGEST_MAX_ITEMS = 2 the morning digest lists the new aspiration and the oldest other one, and
    counts the rest per kecamatan, pointing to /ekspor — which the official can use and which has them all."""
    harness = BotHarness(tmp_path, clock, digest_max_items=2)
    await harness.start()
    try:
        await official(harness, 20, "PUPR")
        andi = harness.user(20)
        ledokombo = await harness.kepala_desa(10)  # Kec. Sumber
        andungbiru = await harness.kepala_desa(11, desa="35.13.07.2001", name="Sutrisno")  # Kec. Tiris
        oldest = await submit(harness, ledokombo, "infrastruktur", "Jalan poros Ledokombo berlubang besar.")
        others = [await submit(harness, andungbiru, "infrastruktur", f"Irigasi tersier Andungbiru jebol {i}.")
                  for i in range(2)]
        others.append(await submit(harness, ledokombo, "infrastruktur", "Drainase Ledokombo buntu."))
        await at(harness, 3, 3, 7)  # all four are new (since Monday 07:00): the two oldest new ones are listed
        [text] = digest_texts(harness, 20, "Ringkasan harian")
        assert "4 aspirasi perlu tindak lanjut, 4 baru." in text and "Baru sejak ringkasan kemarin: 4" in text
        assert oldest.ticket in text and others[0].ticket in text
        assert others[1].ticket not in text and others[2].ticket not in text
        assert "2 aspirasi terbuka lainnya tidak dicantumkan (termasuk 2 yang baru)" in text
        assert "• Kec. Sumber: 1\n• Kec. Tiris: 1\n" in text
        fresh = await submit(harness, andungbiru, "infrastruktur", "Jembatan gantung Andungbiru putus total.")
        await at(harness, 3, 4, 7)  # Wednesday: one new, three older; the new one comes first
        text = digest_texts(harness, 20, "Ringkasan harian")[-1]
        assert "Rabu, 4 Maret 2026" in text
        assert "5 aspirasi perlu tindak lanjut, 1 baru. Ditampilkan 2: yang baru dulu, lalu yang terlama" in text
        assert text.index("Baru sejak ringkasan kemarin: 1") < text.index(fresh.ticket) \
            < text.index("Terlama yang masih terbuka · 1 dari 4") < text.index(oldest.ticket)
        assert all(t.ticket not in text for t in others)
        assert "3 aspirasi terbuka lainnya tidak dicantumkan; ringkasan ini memuat 2. Per kecamatan:\n" \
            "• Kec. Tiris: 2\n• Kec. Sumber: 1\n📥 Daftar lengkap: ketik /ekspor" in text
        assert text.rstrip().endswith("untuk satu kecamatan.")
        # the command the summary names works for the official and has every one of them
        mark = harness.server.mark()
        andi.send("/ekspor csv")
        export = await harness.server.wait_for_call("sendDocument", 20, timeout=10, since=mark)
        content = export.files["document"].content.decode("utf-8-sig")
        assert all(t.ticket in content for t in [oldest, fresh, *others])
    finally:
        await harness.close()
