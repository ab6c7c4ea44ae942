"""A hurried kepala desa's moves, end to end: short ticket numbers in /status, /jadwal for one's own kecamatan, the
visit button after the visit, a potensi entry deleted while it was being changed, and the word that an overdue
aspiration went to leadership. Scheduled work is driven by moving the FakeClock, never by waiting."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.harness import BotHarness
from tests.officials_support import submit

WIB = ZoneInfo("Asia/Jakarta")


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
