"""The officials' side end to end, as OPD staff and leadership use it: a decision typed after a colleague acted,
two departments on one aspiration, the result note of "Selesai", and the consolidated daily escalation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.harness import BotHarness
from tests.officials_support import card, official, press_card, status_of, submit

WIB = ZoneInfo("Asia/Jakarta")


async def at(h: BotHarness, month: int, day: int, hour: int, minute: int = 0) -> None:
    h.clock.set(datetime(2026, month, day, hour, minute, tzinfo=WIB))
    await h.tick()
    await h.settle()


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
