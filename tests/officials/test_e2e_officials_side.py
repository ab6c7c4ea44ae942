"""The officials' side end to end, as OPD staff and leadership use it: a decision typed after a colleague acted,
two departments on one aspiration, the result note of "Selesai", and the consolidated daily escalation."""

from __future__ import annotations

from tests.harness import BotHarness
from tests.officials_support import (
    LABEL,
    at,
    buttons,
    card,
    finish,
    leader,
    official,
    press_card,
    press_on,
    status_of,
    submit,
)


async def test_a_refusal_typed_after_a_colleague_accepted_is_not_carried_out_unseen(harness: BotHarness) -> None:
    h = harness
    andi = await official(h, 20, "PUPR")
    rudi = await official(h, 21, "PUPR", name="Rudi")
    kades = await h.kepala_desa(10)
    asp = await submit(h, kades, "infrastruktur", "Talud sungai di dusun Krajan longsor sepanjang 20 meter.")
    await h.settle()
    await press_card(h, andi, 20, asp.ticket, "tolak")
    await h.server.wait_for_text(20, "alasan penolakan")
    h.clock.advance(minutes=3)
    await press_card(h, rudi, 21, asp.ticket, "terima")  # the colleague accepts while Andi is typing
    await h.server.wait_for_text(10, "diterima")
    h.clock.advance(minutes=2)
    answer = await h.say(andi, "Talud itu kewenangan BBWS, bukan kabupaten.", "Sementara Anda menulis")
    told = answer.text or ""
    assert "sudah diterima oleh Rudi" in told and "Penolakan Anda belum dijalankan" in told
    assert "kewenangan BBWS" in told  # the reason is given back, not lost
    assert await status_of(h, asp.ticket) == "diterima"
    assert not any("kewenangan BBWS" in t for t in h.server.texts(10))  # the village heard nothing of it
    assert await h.svc.db.fetchval("SELECT COUNT(*) FROM pending_inputs") == 0
    # pressing Tolak again, with the status in view, goes through
    await h.settle()
    await press_card(h, andi, 20, asp.ticket, "tolak")
    await h.server.wait_for_text(20, "alasan penolakan")
    await h.say(andi, "Talud itu kewenangan BBWS, bukan kabupaten.", "ditolak")
    assert await status_of(h, asp.ticket) == "ditolak"
    await h.server.wait_for_text(10, "kewenangan BBWS")
    await h.settle()
    assert "Status: Ditolak" in card(h, 21, asp.ticket)["text"]


async def _two_departments(h: BotHarness):
    capil = await official(h, 20, "DISPENDUKCAPIL", name="Sari")
    org = await official(h, 30, "ORGANISASI", name="Oki")
    kades = await h.kepala_desa(10)
    asp = await submit(h, kades, "pelayanan_publik", "Pelayanan KTP-el di kecamatan sering tutup sebelum jam kerja.")
    await h.settle()
    return capil, org, kades, asp


async def test_a_co_department_steps_aside_and_the_other_carries_on(harness: BotHarness) -> None:
    h = harness
    capil, org, kades, asp = await _two_departments(h)
    assert LABEL["lepas"] in buttons(card(h, 20, asp.ticket)) and LABEL["lepas"] in buttons(card(h, 30, asp.ticket))
    await press_card(h, org, 30, asp.ticket, "lepas")
    await h.server.wait_for_text(30, "bukan kewenangan OPD Anda")
    done = await h.say(org, "Jam layanan KTP-el diatur Dispendukcapil.", "tidak lagi ditangani OPD Anda")
    assert "tetap ditangani oleh Dinas Kependudukan" in (done.text or "")
    told = await h.server.wait_for_text(10, "bukan kewenangannya")
    assert "Bagian Organisasi" in (told.text or "") and "tetap ditangani oleh" in (told.text or "")
    await h.settle()
    assert await status_of(h, asp.ticket) == "baru"  # the other department's work goes on
    assert buttons(card(h, 30, asp.ticket)) == []  # Organisasi's card no longer acts
    mine = buttons(card(h, 20, asp.ticket))
    assert LABEL["terima"] in mine and LABEL["lepas"] not in mine  # the last department cannot step aside
    assert "Ditangani: Dinas Kependudukan" in card(h, 20, asp.ticket)["text"]
    # Organisasi no longer acts on it, nor does its daily digest list it
    message = card(h, 30, asp.ticket)
    org_press = await press_on(h, org, message, f"asp:act:{asp.id}:terima")
    assert "tidak ditangani OPD Anda" in str(org_press.params.get("text"))
    await finish(h, capil, 20, asp.ticket, "Jam layanan KTP-el kini 08.00–15.00, sudah diumumkan.")
    await h.server.wait_for_text(10, "Sudah tertangani?")


async def test_stepping_aside_is_for_an_official_of_one_of_several_departments(harness: BotHarness) -> None:
    h = harness
    capil, org, kades, asp = await _two_departments(h)
    await leader(h, 70)
    pu = await official(h, 40, "PUPR", name="Pak PU")
    single = await submit(h, kades, "infrastruktur", "Jalan poros desa berlubang di depan balai desa.")
    await h.settle()
    data = f"asp:act:{asp.id}:lepas"
    refused = await press_on(h, pu, card(h, 20, asp.ticket), data)  # forged: another department's card
    assert "tidak ditangani OPD Anda" in str(refused.params.get("text"))
    await h.say(h.admin, f"/tangani {asp.ticket}", f"Aspirasi {asp.ticket}")
    refused = await press_on(h, h.admin, card(h, h.admin.id, asp.ticket), data)
    assert "Hanya pejabat OPD yang ikut menangani" in str(refused.params.get("text"))
    assert LABEL["lepas"] not in buttons(card(h, 40, single.ticket))
    refused = await press_on(h, pu, card(h, 40, single.ticket), f"asp:act:{single.id}:lepas")
    assert "satu-satunya" in str(refused.params.get("text"))
    assert await h.svc.db.fetchval("SELECT COUNT(*) FROM aspiration_departments WHERE active = 1") == 3


async def test_tolak_by_one_department_closes_it_for_both(harness: BotHarness) -> None:
    h = harness
    capil, org, kades, asp = await _two_departments(h)
    await press_card(h, capil, 20, asp.ticket, "tolak")
    await h.server.wait_for_text(20, "alasan penolakan")
    await h.say(capil, "Keluhan sudah ditangani lewat kanal LAPOR! bulan lalu.", "ditolak")
    await h.settle()
    assert await status_of(h, asp.ticket) == "ditolak"
    assert "Status: Ditolak" in card(h, 30, asp.ticket)["text"] and buttons(card(h, 30, asp.ticket)) == []


async def test_selesai_asks_for_a_result_note_and_photo_that_the_kepala_desa_sees(harness: BotHarness) -> None:
    h = harness
    pu = await official(h, 20, "PUPR")
    kades = await h.kepala_desa(10)
    asp = await submit(h, kades, "infrastruktur", "Gorong-gorong di depan balai desa ambles.")
    await h.settle()
    await press_card(h, pu, 20, asp.ticket, "selesai")
    await h.server.wait_for_text(20, "catatan hasil")
    assert await status_of(h, asp.ticket) == "baru"  # nothing happens before the note
    mark = h.server.mark()
    pu.send_photo("AgACresultphoto")  # no caption: the note is still missing, the prompt stays open
    await h.server.wait_for_text(20, "Catatan hasil terlalu pendek", since=mark)
    assert await status_of(h, asp.ticket) == "baru"
    pu.send_photo("AgACresultphoto", caption="Gorong-gorong diganti box culvert 1 m, selesai dicor 3 Maret.")
    await h.server.wait_for_text(20, "dinyatakan selesai")
    question = await h.server.wait_for_text(10, "Sudah tertangani?")
    assert "Hasil: Gorong-gorong diganti box culvert" in (question.text or "")
    photos = [c for c in h.server.calls_for(10, "sendPhoto") if c.ok]
    assert [c.params.get("photo") for c in photos] == ["AgACresultphoto"]
    assert asp.ticket in str(photos[0].params.get("caption"))
    assert await status_of(h, asp.ticket) == "selesai"
    status = await h.say(kades, f"/status {asp.ticket}", "Riwayat")
    assert "box culvert" in (status.text or "")
    # a note as text, without a photo
    lamp = await submit(h, kades, "infrastruktur", "Lampu penerangan jalan desa mati semua.")
    await h.settle()
    mark = h.server.mark()
    await finish(h, pu, 20, lamp.ticket, "Lampu PJU diganti 12 titik sepanjang jalan desa.")
    question = await h.server.wait_for_text(10, "Sudah tertangani?", since=mark)
    assert "Hasil: Lampu PJU diganti 12 titik" in (question.text or "")
    assert len([c for c in h.server.calls_for(10, "sendPhoto")]) == 1  # only the first one's photo



async def test_one_consolidated_escalation_a_day_grouped_by_department(harness: BotHarness) -> None:
    h = harness
    await leader(h, 70)
    await official(h, 20, "PUPR")
    await official(h, 30, "DINKES", name="Dokter")
    kades = await h.kepala_desa(10)
    roads = [await submit(h, kades, "infrastruktur", f"Jalan dusun {n} berlubang dan tergenang saat hujan.")
             for n in ("Krajan", "Kidul", "Lor")]
    clinics = [await submit(h, kades, "kesehatan", f"Posyandu {n} kekurangan timbangan bayi.") for n in ("A", "B")]
    await h.settle()
    await at(h, 3, 6, 7, 0)  # five aspirations past "accept within 3 working days" on the same morning
    alerts = [t for t in h.server.texts(70) if "Eskalasi" in t]
    assert len(alerts) == 1, alerts  # one message, not five cards
    [alert] = alerts
    assert "5 aspirasi melewati batas layanan" in alert
    pupr_at, dinkes_at = alert.index("Dinas Pekerjaan Umum"), alert.index("Dinas Kesehatan")
    assert pupr_at < dinkes_at  # the department with the most first, its items under it
    assert all(pupr_at < alert.index(a.ticket) < dinkes_at for a in roads)
    assert all(dinkes_at < alert.index(a.ticket) for a in clinics)
    # each department gets one message with its own items only
    [pupr] = [t for t in h.server.texts(20) if "Eskalasi" in t]
    [dinkes] = [t for t in h.server.texts(30) if "Eskalasi" in t]
    assert all(a.ticket in pupr for a in roads) and not any(a.ticket in pupr for a in clinics)
    assert all(a.ticket in dinkes for a in clinics) and not any(a.ticket in dinkes for a in roads)
    assert "3 aspirasi yang Anda tangani" in pupr
    # no card per escalation, and nothing again on the following runs of the day
    assert not [t for t in h.server.texts(70) if t.startswith("📥 Aspirasi")]
    await at(h, 3, 6, 12)
    assert len([t for t in h.server.texts(70) if "Eskalasi" in t]) == 1
    # the response deadline (Monday 9 March) passes: Tuesday brings one new summary with all five again
    await at(h, 3, 10, 7)
    later = [t for t in h.server.texts(70) if "Eskalasi" in t]
    assert len(later) == 2 and all(a.ticket in later[1] for a in roads + clinics)
    assert "belum ditanggapi dalam 5 hari kerja" in later[1]


async def test_briefing_and_daily_digest_show_department_overdue_and_deadlines_due_tomorrow(
        harness: BotHarness) -> None:
    import datetime as dt

    h = harness
    bupati = await leader(h, 70)
    await official(h, 20, "PUPR")
    kades = await h.kepala_desa(10)  # Ledokombo, Kec. Sumber
    await at(h, 3, 2, 9)
    late = await submit(h, kades, "infrastruktur", "Talud sungai di dusun Krajan longsor sepanjang 20 meter.")
    both = await submit(h, kades, "pelayanan_publik", "Pelayanan KTP-el di kecamatan sering tutup sebelum jam kerja.")
    await at(h, 3, 6, 9)  # Friday: to be accepted by Wednesday 11 March
    soon = await submit(h, kades, "infrastruktur", "Jembatan bambu dusun Kidul mulai lapuk dan miring.")
    await h.svc.ngantor.visits.create("Sumber", dt.date(2026, 3, 12), dt.time(8, 0), departments=["PUPR"])
    await at(h, 3, 10, 7)  # Tuesday's daily digest
    [daily] = [t for t in h.server.texts(20) if "Ringkasan harian" in t and "10 Maret" in t]
    line = next(x for x in daily.splitlines() if late.ticket in x)
    assert "⏰ lewat batas terima & tanggapan" in line
    line = next(x for x in daily.splitlines() if soon.ticket in x)
    assert "⏳ batas terima besok (11 Mar 2026)" in line and "lewat batas" not in line
    assert "OPD: PUPR" in daily
    assert "1 aspirasi dengan batas layanan hari ini atau besok (11 Mar 2026)" in daily
    await at(h, 3, 10, 16)  # the briefing, two days before the visit
    [briefing] = [t for t in h.server.texts(bupati.id) if "Briefing" in t]
    line = next(x for x in briefing.splitlines() if late.ticket in x)
    assert "PUPR" in line and "⏰ lewat batas terima & tanggapan" in line
    line = next(x for x in briefing.splitlines() if both.ticket in x)
    assert "DISPENDUKCAPIL, ORGANISASI" in line
    line = next(x for x in briefing.splitlines() if soon.ticket in x)
    assert "PUPR" in line and "⏳ batas terima besok (11 Mar 2026)" in line


async def test_escalations_of_a_weekend_go_out_on_the_next_working_morning(harness: BotHarness) -> None:
    h = harness
    await leader(h, 70)
    await official(h, 20, "PUPR")
    kades = await h.kepala_desa(10)
    await at(h, 3, 3, 9)  # Tuesday: to be accepted by Friday 6 March
    asp = await submit(h, kades, "infrastruktur", "Jalan dusun Krajan berlubang dan tergenang saat hujan.")
    await at(h, 3, 7, 7, 0)  # Saturday: overdue, the village is told, leadership is not disturbed
    await h.server.wait_for_text(10, "melewati batas waktu")
    await at(h, 3, 8, 9)
    assert not [t for t in h.server.texts(70) if "Eskalasi" in t]
    await at(h, 3, 9, 7, 0)  # Monday
    [alert] = [t for t in h.server.texts(70) if "Eskalasi" in t]
    assert asp.ticket in alert and "Senin, 9 Maret 2026" in alert
