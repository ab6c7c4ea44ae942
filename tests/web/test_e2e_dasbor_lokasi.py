"""The bot's side of the dashboard, end to end on the fake Bot API: /dasbor (a Mini App button when the dashboard
is on https, a link otherwise, a refusal for those it is not for), /lokasi, and the one gentle prompt that asks each
kepala desa for the village office's location."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FakeClock
from tests.harness import BotHarness

LEDOKOMBO = "35.13.02.2001"


@pytest.fixture
async def https_harness(tmp_path: Path, clock: FakeClock) -> AsyncIterator[BotHarness]:
    h = BotHarness(tmp_path, clock, web_url="https://dasbor.example.go.id")
    await h.start()
    try:
        yield h
    finally:
        await h.close()


def _markup(call: Any) -> dict[str, Any]:
    return dict(call.params.get("reply_markup") or {})


async def test_dasbor_gives_leadership_a_mini_app_button(https_harness: BotHarness) -> None:
    h = https_harness
    bupati = h.user(60, "Bupati")
    await h.register(bupati, "pimpinan", title="Bupati")
    call = await h.say(bupati, "/dasbor", "Dasbor Sambang")
    button = _markup(call)["inline_keyboard"][0][0]
    assert button["text"] == "📊 Dasbor"
    assert button["web_app"] == {"url": "https://dasbor.example.go.id/"}
    pupr = h.user(61, "Kadis PUPR")
    await h.register(pupr, "pejabat", department="PUPR")
    call = await h.say(pupr, "/dasbor", "Dasbor Sambang")
    assert _markup(call)["inline_keyboard"][0][0]["web_app"]["url"] == "https://dasbor.example.go.id/"


async def test_dasbor_is_refused_to_kepala_desa_and_camat(https_harness: BotHarness) -> None:
    h = https_harness
    kades = await h.kepala_desa(10)
    call = await h.say(kades, "/dasbor", "hanya untuk")
    assert "web_app" not in str(call.params)
    camat = h.user(20, "Pak Camat")
    await h.register(camat, "camat", kecamatan="35.13.02")
    call = await h.say(camat, "/dasbor", "hanya untuk")
    assert "web_app" not in str(call.params)


async def test_dasbor_without_https_is_a_link_and_without_address_a_word_to_the_admin(tmp_path: Path,
                                                                                     clock: FakeClock) -> None:
    h = BotHarness(tmp_path, clock, web_url="http://10.0.0.5:8080")
    await h.start()
    try:
        call = await h.say(h.admin, "/dasbor", "Buka di peramban: http://10.0.0.5:8080/")
        assert "web_app" not in str(call.params)
    finally:
        await h.close()
    h = BotHarness(tmp_path / "tanpa", clock)
    (tmp_path / "tanpa").mkdir()
    await h.start()
    try:
        await h.say(h.admin, "/dasbor", "SAMBANG_WEB_URL")
    finally:
        await h.close()


async def test_lokasi_stores_the_village_office(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    call = await harness.say(kades, "/lokasi", "Lokasi kantor desa")
    keyboard = _markup(call)["keyboard"]
    assert keyboard[0][0]["request_location"] is True
    mark = harness.server.mark()
    kades.send_location(-7.9012, 113.2345)
    await harness.server.wait_for_text(kades.id, "tersimpan", since=mark)
    row = await harness.svc.db.fetchone("SELECT * FROM village_locations WHERE desa_code = ?", (LEDOKOMBO,))
    assert (row["latitude"], row["longitude"]) == (-7.9012, 113.2345)
    # a location later, without /lokasi, is not taken as the office
    mark = harness.server.mark()
    kades.send_location(-7.5, 113.5)
    await harness.server.wait_for(lambda c: c.method == "sendMessage", 5, chat_id=kades.id, since=mark)
    row = await harness.svc.db.fetchone("SELECT * FROM village_locations WHERE desa_code = ?", (LEDOKOMBO,))
    assert row["latitude"] == -7.9012


async def test_lokasi_waits_an_hour_and_only_for_kepala_desa(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/lokasi", "Lokasi kantor desa")
    harness.clock.advance(hours=2)
    mark = harness.server.mark()
    kades.send_location(-7.9, 113.2)
    await harness.server.wait_for(lambda c: c.method == "sendMessage", 5, chat_id=kades.id, since=mark)
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM village_locations") == 0
    await harness.say(harness.admin, "/lokasi", "hanya untuk Kepala Desa")


async def test_each_kepala_desa_is_asked_once_in_the_daytime(harness: BotHarness) -> None:
    first = await harness.kepala_desa(10)
    second = await harness.kepala_desa(11, desa="35.13.02.2002", name="Siti")
    await harness.settle()

    def asked(user: Any) -> int:
        return sum("Lokasi kantor desa" in t for t in harness.server.texts(user.id))

    await harness.tick()  # their first day: not yet
    await harness.settle()
    assert asked(first) == asked(second) == 0
    await harness.say(second, "/aspirasi", "Langkah 1 dari 4")  # writing: not now
    await harness.advance(days=1)  # 09:00 WIB the next day
    await harness.settle()
    assert (asked(first), asked(second)) == (1, 0)
    await harness.say(second, "/batal", "dibatalkan")
    await harness.tick()
    await harness.settle()
    assert (asked(first), asked(second)) == (1, 1)  # once each
    # a village whose office is known is not asked; nobody is asked at night
    await harness.svc.db.execute("INSERT INTO village_locations(desa_code, latitude, longitude, set_at)"
                                 " VALUES ('35.13.02.2003', -7.9, 113.2, '2026-03-01T00:00:00.000000Z')")
    third = await harness.kepala_desa(12, desa="35.13.02.2003", name="Joko")
    fourth = await harness.kepala_desa(13, desa="35.13.02.2004", name="Ani")
    await harness.advance(days=1, hours=10)  # 19:00 WIB, more than a day later
    await harness.settle()
    assert asked(fourth) == 0
    await harness.advance(hours=14)  # 09:00 WIB
    await harness.settle()
    assert (asked(first), asked(fourth), asked(third)) == (1, 1, 0)


async def test_staff_get_the_dashboard_as_the_chat_menu_button(https_harness: BotHarness) -> None:
    h = https_harness
    bupati = h.user(60, "Bupati")
    await h.register(bupati, "pimpinan", title="Bupati")
    kades = await h.kepala_desa(10)
    await h.restart()  # the buttons are set at start, once per address
    await h.settle()
    buttons = [c for c in h.server.calls_for(bupati.id, "setChatMenuButton")]
    assert [c.params["menu_button"] for c in buttons] == [
        {"type": "web_app", "text": "📊 Dasbor", "web_app": {"url": "https://dasbor.example.go.id/"}}]
    assert h.server.calls_for(h.admin.id, "setChatMenuButton")
    assert not h.server.calls_for(kades.id, "setChatMenuButton")
    await h.restart()
    await h.settle()
    assert len(h.server.calls_for(bupati.id, "setChatMenuButton")) == 1  # not again
