"""The schedule settings end to end (the clock moved by hand): the daily digest on working days only unless set to
every day, the weekly digest's weekday, and the times of the visit announcements, briefing and feedback request."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_config
from bot.core.clock import FakeClock
from tests.harness import BotHarness
from tests.officials_support import at, digest_texts, leader, official, submit

TOKEN = "123456:ABC-def"


async def started(tmp_path: Path, clock: FakeClock, **changes: Any) -> BotHarness:
    h = BotHarness(tmp_path, clock, **changes)
    await h.start()
    return h


@pytest.fixture
async def every_day(tmp_path: Path, clock: FakeClock) -> AsyncIterator[BotHarness]:
    h = await started(tmp_path, clock, daily_digest_working_days_only=False, weekly_digest_weekday=4)
    try:
        yield h
    finally:
        await h.close()


async def test_daily_digest_skips_the_weekend_and_monday_lists_the_weekend_as_new(harness: BotHarness) -> None:
    await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    await at(harness, 3, 5, 10)  # Thursday
    thursday = await submit(harness, kades, "infrastruktur", "Jalan poros Ledokombo berlubang besar.")
    await at(harness, 3, 6, 7)  # Friday's digest
    assert len(digest_texts(harness, 20, "Ringkasan harian")) == 1
    await at(harness, 3, 6, 15)
    friday = await submit(harness, kades, "infrastruktur", "Jembatan dusun Krajan putus sejak kemarin.")
    await at(harness, 3, 7, 7, 5)  # Saturday
    await at(harness, 3, 7, 15)
    saturday = await submit(harness, kades, "infrastruktur", "Saluran irigasi tersier jebol di sawah utara.")
    await at(harness, 3, 8, 7, 5)  # Sunday
    assert len(digest_texts(harness, 20, "Ringkasan harian")) == 1  # nothing on the weekend
    await at(harness, 3, 9, 7, 0)  # Monday
    monday = digest_texts(harness, 20, "Ringkasan harian")[-1]
    assert "Senin, 9 Maret 2026" in monday
    assert "3 aspirasi perlu tindak lanjut, 2 baru" in monday  # new since Friday's digest: Friday's and Saturday's
    for a in (thursday, friday, saturday):
        assert a.ticket in monday


async def test_daily_digest_every_day_when_configured_and_weekly_digest_on_another_day(
        every_day: BotHarness) -> None:
    h = every_day
    await official(h, 20, "PUPR")
    await leader(h, 70)
    kades = await h.kepala_desa(10)
    await at(h, 3, 5, 10)
    await submit(h, kades, "infrastruktur", "Jalan poros Ledokombo berlubang besar.")
    await at(h, 3, 6, 7, 29)  # Friday, before the weekly digest's time
    assert digest_texts(h, 70, "Ringkasan mingguan") == []
    await at(h, 3, 6, 7, 30)
    assert len(digest_texts(h, 70, "Ringkasan mingguan")) == 1  # SAMBANG_WEEKLY_DIGEST_DAY=jumat
    await at(h, 3, 7, 7, 5)  # Saturday
    await at(h, 3, 8, 7, 5)  # Sunday
    days = digest_texts(h, 20, "Ringkasan harian")
    assert any("Sabtu, 7 Maret 2026" in t for t in days) and any("Minggu, 8 Maret 2026" in t for t in days)
    await at(h, 3, 9, 7, 30)  # Monday: no weekly digest on the default day
    assert len(digest_texts(h, 70, "Ringkasan mingguan")) == 1


async def test_visit_times_follow_the_settings(tmp_path: Path, clock: FakeClock) -> None:
    h = await started(tmp_path, clock, announce_times=(dt.time(10, 15), dt.time(20, 0), dt.time(5, 30)),
                      briefing_time=dt.time(13, 0), feedback_time=dt.time(11, 0))
    try:
        kades = await h.kepala_desa(11, desa="35.13.02.2001", name="Kades Ledokombo")
        bupati = h.user(31, "Bupati")
        await h.register(bupati, "pimpinan", title="Bupati")
        await at(h, 3, 2, 9)
        await h.svc.ngantor.visits.create("Sumber", dt.date(2026, 3, 12), dt.time(8, 0), departments=["PUPR"])

        async def count_at(chat: int, marker: str, month: int, day: int, hour: int, minute: int) -> int:
            await at(h, month, day, hour, minute)
            return len(digest_texts(h, chat, marker))

        assert await count_at(kades.id, "Kecamatan Sumber", 3, 5, 10, 14) == 0
        assert await count_at(kades.id, "Kecamatan Sumber", 3, 5, 10, 15) == 1  # H-7 at 10:15
        assert await count_at(bupati.id, "Briefing", 3, 10, 12, 59) == 0
        assert await count_at(bupati.id, "Briefing", 3, 10, 13, 0) == 1  # two days before at 13:00
        assert await count_at(kades.id, "Besok:", 3, 11, 19, 59) == 0
        assert await count_at(kades.id, "Besok:", 3, 11, 20, 0) == 1  # H-1 at 20:00
        assert await count_at(kades.id, "Hari ini:", 3, 12, 5, 29) == 0
        assert await count_at(kades.id, "Hari ini:", 3, 12, 5, 30) == 1  # the day at 05:30
        feedback = "Bagaimana kunjungan Bupati"
        before = len(digest_texts(h, kades.id, feedback))
        assert await count_at(kades.id, feedback, 3, 13, 10, 59) == before
        assert await count_at(kades.id, feedback, 3, 13, 11, 0) == before + 1  # the day after at 11:00
    finally:
        await h.close()


def test_schedule_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DAILY_DIGEST_DAYS": "setiap",
                          "SAMBANG_WEEKLY_DIGEST_DAY": "Jumat", "SAMBANG_ANNOUNCE_TIME": "10:15, 20:00, 05:30",
                          "SAMBANG_BRIEFING_TIME": "13.00", "SAMBANG_FEEDBACK_TIME": "11:00"},
                         dotenv_path=tmp_path / "none.env")
    assert config.daily_digest_working_days_only is False and config.weekly_digest_weekday == 4
    assert config.announce_times == (dt.time(10, 15), dt.time(20, 0), dt.time(5, 30))
    assert (config.briefing_time, config.feedback_time) == (dt.time(13, 0), dt.time(11, 0))
    defaults = load_config({"TELEGRAM_BOT_TOKEN": TOKEN}, dotenv_path=tmp_path / "none.env")
    assert defaults.daily_digest_working_days_only is True and defaults.weekly_digest_weekday == 0
    assert load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_WEEKLY_DIGEST_DAY": "7"},
                       dotenv_path=tmp_path / "none.env").weekly_digest_weekday == 6


@pytest.mark.parametrize(("variable", "value", "words"), [
    ("SAMBANG_DAILY_DIGEST_DAYS", "kadang", "kerja"),
    ("SAMBANG_WEEKLY_DIGEST_DAY", "monday", "nama hari"),
    ("SAMBANG_WEEKLY_DIGEST_DAY", "8", "nama hari"),
    ("SAMBANG_ANNOUNCE_TIME", "09:00,19:00", "3 jam"),
    ("SAMBANG_ANNOUNCE_TIME", "09:00,25:00,06:00", "jam tidak valid"),
    ("SAMBANG_BRIEFING_TIME", "sore", "jam tidak valid"),
    ("SAMBANG_FEEDBACK_TIME", "9", "jam tidak valid"),
])
def test_bad_schedule_settings_name_the_variable_in_indonesian(tmp_path: Path, variable: str, value: str,
                                                                words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"TELEGRAM_BOT_TOKEN": TOKEN, variable: value}, dotenv_path=tmp_path / "none.env")
    assert info.value.variable == variable and words in info.value.message


async def test_digests_count_kecamatan_by_code_when_two_share_a_name(harness: BotHarness) -> None:
    """A whole province: Sumber of Kabupaten Probolinggo and a Sumber of another kabupaten stay apart."""
    h = harness
    await h.svc.db.execute("INSERT INTO kecamatan(code, name, kabupaten_code, kabupaten_name)"
                           " VALUES ('35.99.01', 'Sumber', '35.99', 'Kabupaten Contoh')")
    await h.svc.db.execute("INSERT INTO desa(code, name, kind, kecamatan_code)"
                           " VALUES ('35.99.01.2001', 'Sumberejo', 'desa', '35.99.01')")
    await official(h, 20, "PUPR")
    await leader(h, 70)
    here = await h.kepala_desa(10)  # Ledokombo, Kec. Sumber, Kabupaten Probolinggo
    there = await h.kepala_desa(11, desa="35.99.01.2001", name="Kades Sumberejo")
    await at(h, 3, 3, 10)
    mine = await submit(h, here, "infrastruktur", "Jalan poros Ledokombo berlubang besar.")
    other = await submit(h, there, "infrastruktur", "Jembatan Sumberejo retak di tengah.")
    await submit(h, there, "infrastruktur", "Drainase Sumberejo tersumbat sampah.")
    await at(h, 3, 4, 7)
    [daily] = digest_texts(h, 20, "Ringkasan harian")
    assert "Kec. Sumber (Kabupaten Probolinggo)" in daily and "Kec. Sumber (Kabupaten Contoh)" in daily
    assert daily.index("Kec. Sumber (Kabupaten Probolinggo)") < daily.index(mine.ticket) \
        < daily.index("Kec. Sumber (Kabupaten Contoh)") < daily.index(other.ticket)
    await at(h, 3, 9, 7, 30)
    [weekly] = digest_texts(h, 70, "Ringkasan mingguan")
    assert "Sumber (Kabupaten Contoh): 2" in weekly and "Sumber (Kabupaten Probolinggo): 1" in weekly
    assert "Sumber: 3" not in weekly
