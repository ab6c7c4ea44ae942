"""Digests as plain functions: splitting on item boundaries, due periods, grouping, and the weekly sections."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot import digests
from bot.digests import Block, DigestItem, latest_daily_period, latest_weekly_period, render_daily, split_blocks
from tests.fake_telegram import render_html

TZ = ZoneInfo("Asia/Jakarta")


def _item(n: int, kecamatan: str, desa: str, *, new: bool = False, late: tuple[str, ...] = ()) -> DigestItem:
    return DigestItem(n, f"ASP-2026-{n:05d}", "infrastruktur", "baru",
                      f"Uraian <nomor> {n} & jalan rusak " + "berlubang " * 30, f"2026-03-0{1 + n % 8}T02:00:00Z",
                      desa, kecamatan, new, late)


def test_split_never_cuts_an_item_and_respects_utf16_length() -> None:
    blocks = [Block("<b>Judul</b>")] + [Block(f"• <b>ASP-{i}</b> 🆕 {'é' * 50} {'🌧' * 40}") for i in range(200)]
    messages = split_blocks(blocks, 4096)
    assert len(messages) > 1
    for message in messages:
        assert digests.u16len(message) <= 4096
        text, _ = render_html(message)  # valid Telegram HTML: no tag was cut
        assert text
    joined = "\n".join(messages)
    assert all(joined.count(f"<b>ASP-{i}</b>") == 1 for i in range(200))


def test_split_repeats_the_group_heading_when_continuing() -> None:
    blocks = [Block("H")] + [Block("x" * 40, continued="<b>Kec. A</b> (lanjutan)") for _ in range(10)]
    messages = split_blocks(blocks, 100)
    assert messages[0].startswith("H\n")
    assert all(m.startswith("<b>Kec. A</b> (lanjutan)\n") for m in messages[1:])
    assert all(len(m) <= 100 for m in messages)


def test_an_oversized_block_is_cut_between_lines() -> None:
    block = Block("\n".join(f"<i>baris {i}</i>" for i in range(100)))
    messages = split_blocks([block], 200)
    assert len(messages) > 1 and all(len(m) <= 200 for m in messages)
    for message in messages:
        render_html(message)


def test_due_periods() -> None:
    seven = time(7, 0)
    assert latest_daily_period(datetime(2026, 3, 3, 6, 59, tzinfo=TZ), seven) == date(2026, 3, 2)
    assert latest_daily_period(datetime(2026, 3, 3, 7, 0, tzinfo=TZ), seven) == date(2026, 3, 3)
    half = time(7, 30)
    assert latest_weekly_period(datetime(2026, 3, 9, 7, 29, tzinfo=TZ), half, 0) == date(2026, 3, 2)
    assert latest_weekly_period(datetime(2026, 3, 9, 7, 30, tzinfo=TZ), half, 0) == date(2026, 3, 9)
    assert latest_weekly_period(datetime(2026, 3, 15, 23, 0, tzinfo=TZ), half, 0) == date(2026, 3, 9)
    assert latest_weekly_period(datetime(2026, 3, 13, 8, 0, tzinfo=TZ), half, 4) == date(2026, 3, 13)  # Fridays
    ctx = digests.weekly_context(datetime(2026, 3, 9, 1, 0, tzinfo=UTC), TZ, date(2026, 3, 9))
    assert (ctx.first_day, ctx.last_day) == (date(2026, 3, 2), date(2026, 3, 8))
    assert ctx.start_iso == "2026-03-01T17:00:00.000000Z" and ctx.end_iso == "2026-03-08T17:00:00.000000Z"


def test_daily_digest_groups_by_kecamatan_and_desa_oldest_first() -> None:
    items = [_item(1, "Tiris", "Andungbiru", new=True), _item(2, "Sumber", "Ledokombo", late=("terima",)),
             _item(3, "Tiris", "Tlogoargo"), _item(4, "Tiris", "Andungbiru")]
    [text] = render_daily("Dinas PU", items, date(2026, 3, 3))
    plain, _ = render_html(text)
    order = [plain.index(s) for s in ("Kec. Tiris", "Desa Andungbiru", "ASP-2026-00001", "ASP-2026-00004",
                                      "Desa Tlogoargo", "ASP-2026-00003", "Kec. Sumber", "Desa Ledokombo",
                                      "ASP-2026-00002")]
    assert order == sorted(order)
    assert plain.count("Kec. Tiris") == 1 and "4 aspirasi perlu tindak lanjut, 1 baru, 1 lewat batas" in plain
    assert "⏰ lewat batas terima" in plain and "Uraian <nomor> 1 & jalan" in plain
    assert render_daily("Dinas PU", [], date(2026, 3, 3)) == []
    many = [_item(i, f"Kec{i // 20}", f"Desa{i // 5}") for i in range(80)]
    parts = render_daily("Dinas PU", many, date(2026, 3, 3))
    assert len(parts) > 2 and all(digests.u16len(p) <= 4096 for p in parts)
    assert all("(lanjutan)" in p.split("\n")[0] for p in parts[1:])


def test_weekly_sections_are_registered_once_in_order() -> None:
    names = [name for _, name, _ in digests.WEEKLY_SECTIONS]
    assert names[:4] == ["intake", "outcomes", "departments", "overdue"]

    async def extra(services, ctx):  # type: ignore[no-untyped-def]
        return None

    try:
        digests.weekly_section("zz-test", order=15)(extra)
        digests.weekly_section("zz-test", order=15)(extra)
        names = [name for _, name, _ in digests.WEEKLY_SECTIONS]
        assert names.count("zz-test") == 1 and names.index("zz-test") == 1
    finally:
        digests.WEEKLY_SECTIONS[:] = [s for s in digests.WEEKLY_SECTIONS if s[1] != "zz-test"]
    assert digests.DigestSection().empty and not digests.DigestSection(["x"]).empty
