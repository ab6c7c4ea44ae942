"""A hurried kepala desa's moves, end to end: short ticket numbers in /status, /jadwal for one's own kecamatan, the
visit button after the visit, a potensi entry deleted while it was being changed, and the word that an overdue
aspiration went to leadership. Scheduled work is driven by moving the FakeClock, never by waiting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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
