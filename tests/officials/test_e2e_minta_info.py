""""❓ Minta info" end to end: the question reaches the kepala desa, the aspiration shows "menunggu info dari desa",
the service-level clock stops (across a weekend) and runs again after the answer, a reminder after 2 working
days, and the daily digest lists what waits on the village apart."""

from __future__ import annotations

from datetime import date

from bot.officials.digests import Backlog, DigestItem, render_daily
from bot.people import roster
from tests.harness import BotHarness
from tests.officials.test_e2e_officials_schedule import at
from tests.officials_support import LABEL, buttons, card, leader, official, press_card, submit

LEADER = 70


async def _sla(h: BotHarness, aspiration_id: int) -> dict[str, object]:
    row = await h.svc.db.fetchone("SELECT * FROM aspiration_sla WHERE aspiration_id = ?", (aspiration_id,))
    assert row is not None
    return dict(row)


async def test_minta_info_stops_the_clock_over_a_weekend_and_the_answer_starts_it_again(harness: BotHarness) -> None:
    h = harness
    await leader(h, LEADER)
    andi = await official(h, 20, "PUPR")
    kades = await h.kepala_desa(10)
    asp = await submit(h, kades, "infrastruktur", "Talud sungai dusun Krajan longsor sepanjang sepuluh meter.")
    await h.settle()
    await press_card(h, andi, 20, asp.ticket, "terima")  # Monday 2 March; the response is due Monday 9 March
    await h.settle()
    assert LABEL["info"] in buttons(card(h, 20, asp.ticket))

    # Friday 6 March: the official asks the village a question
    await at(h, 3, 6, 10)
    await press_card(h, andi, 20, asp.ticket, "info")
    await h.server.wait_for_text(20, "Tuliskan pertanyaan")
    await h.say(andi, "Berapa panjang talud yang longsor dan apakah rumah warga terancam?", "Batas waktu layanan")
    question = await h.server.wait_for_text(10, "meminta informasi")
    assert "apakah rumah warga terancam" in (question.text or "") and "Kirim pesan" in " ".join(question.buttons)
    await h.settle()
    assert "Menunggu info dari desa" in card(h, 20, asp.ticket)["text"]
    detail = await h.say(kades, f"/status {asp.ticket}", asp.ticket)
    assert "menunggu info dari desa" in (detail.text or "")
    assert (await _sla(h, asp.id))["respond_due"] == "2026-03-09"

    # the daily digest on Monday lists it apart, as waiting on the village, not late
    await at(h, 3, 9, 7, 5)
    [digest] = [t for t in h.server.texts(20) if "Ringkasan harian" in t][-1:]
    assert "Menunggu info dari desa: 1" in digest and "lewat batas" not in digest
    # Monday: one working day without an answer, no reminder yet; Tuesday (respond_due passed): no escalation,
    # but the one reminder to the kepala desa
    assert not any("Pengingat" in t for t in h.server.texts(10))
    await at(h, 3, 10, 8)
    await at(h, 3, 10, 9)
    reminders = [t for t in h.server.texts(10) if "Pengingat" in t]
    assert len(reminders) == 1 and asp.ticket in reminders[0] and "rumah warga terancam" in reminders[0]
    assert not any("Eskalasi" in t for t in h.server.texts(LEADER))

    # Tuesday 10 March: the kepala desa answers by replying to the question with text
    mark = h.server.mark()
    kades.reply(question.message, "Sekitar sepuluh meter, dua rumah di tepi sungai terancam.")
    answer = await h.server.wait_for_text(20, "Jawaban desa", since=mark)
    assert "dua rumah di tepi sungai terancam" in (answer.text or "") and "berjalan lagi" in (answer.text or "")
    await h.settle()
    sla = await _sla(h, asp.id)
    # stopped Friday to Tuesday: two working days (Monday and Tuesday), the weekend not counted
    assert sla["info_requested_at"] is None and sla["paused_days"] == 2 and sla["respond_due"] == "2026-03-11"
    refreshed = card(h, 20, asp.ticket)["text"]
    assert "Batas tanggapan: 11 Mar 2026" in refreshed and "info dari desa diterima" in refreshed
    assert "dua rumah" not in refreshed  # the answer itself stays in the thread, not on every card
    messages = await h.svc.thread.messages(asp.id)
    assert [m.purpose for m in messages] == ["minta_info", "jawab_info"]

    # the clock runs again: Wednesday is still in time, Thursday the response is late and escalated once
    await at(h, 3, 11, 9)
    assert not any("Eskalasi" in t for t in h.server.texts(LEADER))
    await at(h, 3, 12, 8)
    alerts = [t for t in h.server.texts(LEADER) if "Eskalasi" in t]
    assert len(alerts) == 1 and asp.ticket in alerts[0]
    # asked again and then finished: nobody waits on the village any more, and no reminder follows
    assert (await h.svc.aspirations.get(asp.id)).status == "diterima"
    official_person = await roster.get_person(h.svc.db, 20)
    await h.svc.officials.act(official_person, asp.id, "info", note="Apakah sudah ada korban jiwa?")
    assert (await _sla(h, asp.id))["info_requested_at"] is not None
    await h.svc.officials.act(official_person, asp.id, "selesai")
    assert (await _sla(h, asp.id))["info_requested_at"] is None
    await at(h, 3, 17, 9)
    assert len([t for t in h.server.texts(10) if "Pengingat" in t]) == 1


def test_the_daily_digest_lists_what_waits_on_villages_apart_also_when_capped() -> None:
    def item(n: int, *, new: bool, waiting: bool) -> DigestItem:
        return DigestItem(n, f"ASP-2026-0000{n}", "infrastruktur", "diterima", f"Uraian nomor {n}", "2026-03-02",
                          "Ledokombo", "Sumber", new, (), waiting=waiting)

    items = [item(1, new=True, waiting=False), item(2, new=False, waiting=True), item(3, new=False, waiting=False)]
    for backlog in (None, Backlog(total=9, new=1, late=0, left_out=(("Sumber", 6),))):
        [text] = render_daily("PUPR", items, date(2026, 3, 9), backlog=backlog)
        section = text.index("Menunggu info dari desa: 1")
        assert text.index("ASP-2026-00002") > section > max(text.index("ASP-2026-00001"), text.index("ASP-2026-00003"))
