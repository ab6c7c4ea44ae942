"""Digests as plain functions: splitting on item boundaries, due periods, grouping, and the weekly sections."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.core.clock import to_iso
from bot.messaging.templates import Block, split_blocks, u16len
from bot.officials import digests
from bot.officials.digests import DigestItem, latest_daily_period, latest_weekly_period, render_daily
from bot.storage.database import Database
from tests import map_seed
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
        assert u16len(message) <= 4096
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
    assert len(parts) > 2 and all(u16len(p) <= 4096 for p in parts)
    assert all("(lanjutan)" in p.split("\n")[0] for p in parts[1:])


def test_weekly_sections_are_listed_once_in_order() -> None:
    from bot.app import WEEKLY_SECTIONS

    names = [name for name, _ in WEEKLY_SECTIONS]
    assert names[:4] == ["intake", "outcomes", "departments", "overdue"]
    assert len(names) == len(set(names))
    assert digests.DigestSection().empty and not digests.DigestSection(["x"]).empty


# -- the cap on listed items (SAMBANG_DIGEST_MAX_ITEMS) -----------------------------------------------------------

DAY = date(2026, 3, 3)
SINCE = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # the previous digest: what was assigned after it is new
OLD = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


class _Seed:
    """Aspirations written straight into SQLite, numbered in the order they are added (so by age)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.n = 0
        self.submitter: int | None = None

    async def villages(self, count: int) -> list[tuple[str, str, str]]:
        """(desa code, desa name, kecamatan name) of the first village of ``count`` kecamatan."""
        rows = await self.db.fetchall(
            "SELECT d.code, d.name, k.name AS kecamatan FROM desa d JOIN kecamatan k ON k.code = d.kecamatan_code"
            " WHERE d.code = (SELECT MIN(code) FROM desa WHERE kecamatan_code = k.code) ORDER BY k.code")
        return [(r["code"], r["name"], r["kecamatan"]) for r in rows[:count]]

    async def add(self, desa: str, *, department: str | None = "PUPR", new: bool = False, status: str = "baru",
                  confidential: int = 0, overdue: bool = False, days: float = 0.0) -> str:
        if self.submitter is None:
            self.submitter = await map_seed.person(self.db, 880001, "kepala_desa", desa=desa, now=OLD)
        self.n += 1
        created = (SINCE + timedelta(hours=1 + self.n / 60)) if new else OLD + timedelta(days=days, minutes=self.n)
        ticket = f"ASP-2026-{self.n:05d}"
        async with self.db.transaction() as tx:
            asp = await tx.execute(
                "INSERT INTO aspirations(ticket, desa_code, kecamatan_code, submitter_id, category, description,"
                " status, confidential, department, created_at, updated_at)"
                " SELECT ?, code, kecamatan_code, ?, 'infrastruktur', ?, ?, ?, ?, ?, ? FROM desa WHERE code = ?",
                (ticket, self.submitter, f"Uraian nomor {self.n} <jalan> & jembatan " + "rusak berat " * 12,
                 status, confidential, department, to_iso(created), to_iso(created), desa))
            if department:
                await tx.execute("INSERT INTO aspiration_departments(aspiration_id, department, active, assigned_at)"
                                 " VALUES (?, ?, 1, ?)", (asp, department, to_iso(created)))
            due = "2026-02-01" if overdue else "2026-12-31"
            await tx.execute("INSERT INTO aspiration_sla(aspiration_id, audience, started_at, accept_due, respond_due)"
                             " VALUES (?, ?, ?, ?, ?)", (asp, "departments" if department else "admin",
                                                         to_iso(created), due, due))
        return ticket


def _listed(texts: list[str]) -> list[str]:
    return re.findall(r"<b>(ASP-\d{4}-\d{5})</b>", "\n".join(texts))


def _plain(texts: list[str]) -> str:
    return "\n".join(render_html(t)[0] for t in texts)


async def test_daily_digest_lists_at_most_the_cap_and_counts_the_rest_per_kecamatan(db: Database) -> None:
    seed = _Seed(db)
    (a, _, kec_a), (b, _, kec_b), (c, _, kec_c) = await seed.villages(3)
    tickets = []
    for desa, count in ((a, 6), (b, 9), (c, 8)):  # 23 open, oldest first: A's, then B's, then C's
        tickets += [await seed.add(desa, overdue=desa == b) for _ in range(count)]
    # not the department's open work: finished, another department, confidential, no department
    await seed.add(a, status="ditutup")
    await seed.add(a, department="DINKES")
    await seed.add(a, confidential=1)
    await seed.add(a, department=None)
    fetched = _count_rows(db)
    digest = await digests.department_digest(db, "PUPR", DAY, SINCE, max_items=10)
    assert max(fetched) <= 10  # only the listed rows (and a few counts per kecamatan) are read
    assert [i.ticket for i in digest.items] == tickets[:10]
    assert digest.backlog == digests.Backlog(23, 0, 9, ((kec_c, 8), (kec_b, 5)))
    texts = render_daily("Dinas PU", digest.items, DAY, backlog=digest.backlog)
    assert _listed(texts) == tickets[:10]
    plain = _plain(texts)
    assert "23 aspirasi perlu tindak lanjut, 9 lewat batas. Ditampilkan 10: yang terlama" in plain
    assert "13 aspirasi terbuka lainnya tidak dicantumkan; ringkasan ini memuat 10. Per kecamatan:\n" \
        f"• Kec. {kec_c}: 8\n• Kec. {kec_b}: 5\n📥 Daftar lengkap: ketik /ekspor" in plain
    assert plain.rstrip().endswith("untuk satu kecamatan.")  # the summary closes the digest
    assert "Baru sejak" not in plain and "🆕" not in plain


async def test_new_items_are_listed_even_when_the_backlog_is_larger_than_the_cap(db: Database) -> None:
    seed = _Seed(db)
    (a, _, kec_a), (b, desa_b, kec_b) = await seed.villages(2)
    backlog = [await seed.add(a) for _ in range(30)]
    new = [await seed.add(b, new=True) for _ in range(3)]
    digest = await digests.department_digest(db, "PUPR", DAY, SINCE, max_items=10)
    assert [i.ticket for i in digest.items] == new + backlog[:7]
    assert digest.backlog is not None and (digest.backlog.total, digest.backlog.new) == (33, 3)
    texts = render_daily("Dinas PU", digest.items, DAY, backlog=digest.backlog)
    plain = _plain(texts)
    assert "33 aspirasi perlu tindak lanjut, 3 baru. Ditampilkan 10: yang baru dulu, lalu yang terlama" in plain
    order = [plain.index(s) for s in ("Baru sejak ringkasan kemarin: 3", f"Kec. {kec_b}", f"Desa {desa_b}",
                                      new[0], new[2], "Terlama yang masih terbuka · 7 dari 30", f"Kec. {kec_a}",
                                      backlog[0], backlog[6], "23 aspirasi terbuka lainnya tidak dicantumkan")]
    assert order == sorted(order)
    assert plain.count("🆕") == 4  # the section heading and the three new items
    assert f"• Kec. {kec_a}: 23\n" in plain and "termasuk" not in plain

    # more new items than the cap: the oldest new ones fill it, the other new ones are counted
    more = [await seed.add(b, new=True) for _ in range(9)]
    digest = await digests.department_digest(db, "PUPR", DAY, SINCE, max_items=10)
    assert [i.ticket for i in digest.items] == (new + more)[:10]
    plain = _plain(render_daily("Dinas PU", digest.items, DAY, backlog=digest.backlog))
    assert "Baru sejak ringkasan kemarin: 12 · ditampilkan 10 yang terlama" in plain
    assert "Terlama yang masih terbuka" not in plain and backlog[0] not in plain
    assert "32 aspirasi terbuka lainnya tidak dicantumkan (termasuk 2 yang baru)" in plain
    assert f"• Kec. {kec_a}: 30\n• Kec. {kec_b}: 2\n" in plain


async def test_under_the_cap_the_digest_is_unchanged_and_has_no_summary(db: Database) -> None:
    seed = _Seed(db)
    (a, _, _), (b, _, _) = await seed.villages(2)
    tickets = [await seed.add(a), await seed.add(b, overdue=True), await seed.add(a, new=True)]
    for cap in (3, 100):
        digest = await digests.department_digest(db, "PUPR", DAY, SINCE, max_items=cap)
        assert digest.backlog is None and sorted(i.ticket for i in digest.items) == sorted(tickets)
        texts = render_daily("Dinas PU", digest.items, DAY, backlog=digest.backlog)
        assert texts == render_daily("Dinas PU", digest.items, DAY)  # exactly what small departments saw before
        plain = _plain(texts)
        assert "3 aspirasi perlu tindak lanjut, 1 baru, 1 lewat batas. Terlama di atas." in plain
        assert "tidak dicantumkan" not in plain and "Ditampilkan" not in plain and "/ekspor" not in plain
        assert "Baru sejak" not in plain and "Terlama yang masih terbuka" not in plain
    empty = await digests.department_digest(db, "DINKES", DAY, SINCE, max_items=10)
    assert empty == digests.DepartmentDigest([]) and render_daily("Dinkes", empty.items, DAY) == []


async def test_the_summary_names_at_most_fifteen_kecamatan(db: Database) -> None:
    seed = _Seed(db)
    villages = await seed.villages(20)
    assert len(villages) == 20
    for index, (desa, _, _) in enumerate(villages):
        for _ in range(index + 1):  # 1 item in the first kecamatan ... 20 in the last: 210 in all
            await seed.add(desa, days=-index)  # the kecamatan with the fewest are the newest: not listed first
    digest = await digests.department_digest(db, "PUPR", DAY, SINCE, max_items=5)
    plain = _plain(render_daily("Dinas PU", digest.items, DAY, backlog=digest.backlog))
    lines = [line for line in plain.split("\n") if line.startswith("• Kec. ")]
    assert len(lines) == 15
    # the busiest (20) lost its 5 oldest to the listing: 15 left, after those with 19..16 left
    assert lines[:2] == [f"• Kec. {villages[18][2]}: 19", f"• Kec. {villages[17][2]}: 18"]
    assert f"• Kec. {villages[19][2]}: 15" in lines
    counts = [int(line.rsplit(": ", 1)[1]) for line in lines]
    assert counts == sorted(counts, reverse=True)
    assert "• dan 5 kecamatan lain: 15\n" in plain  # the five smallest: 1+2+3+4+5
    assert "205 aspirasi terbuka lainnya tidak dicantumkan" in plain


async def test_splitting_still_holds_with_the_cap(db: Database) -> None:
    seed = _Seed(db)
    villages = await seed.villages(4)
    tickets = [await seed.add(villages[i % 4][0], new=i % 7 == 0) for i in range(260)]
    digest = await digests.department_digest(db, "PUPR", DAY, SINCE, max_items=150)
    texts = render_daily("Dinas PU", digest.items, DAY, backlog=digest.backlog)
    assert len(texts) > 3
    for text in texts:
        assert u16len(text) <= 4096
        render_html(text)  # valid Telegram HTML: no tag was cut
    listed = _listed(texts)
    assert len(listed) == len(set(listed)) == 150 and set(listed) <= set(tickets)
    # a message that starts inside a village repeats its heading (the closing lines need none)
    assert all("(lanjutan)" in t.split("\n")[0] or t.startswith(("Tindak lanjuti", "➕")) for t in texts[1:])
    assert "110 aspirasi terbuka lainnya tidak dicantumkan" in _plain(texts[-1:])


async def test_weekly_overdue_section_lists_the_oldest_up_to_the_cap_and_counts_the_rest(db: Database) -> None:
    seed = _Seed(db)
    (a, _, kec_a), (b, _, kec_b) = await seed.villages(2)
    pupr = [await seed.add(a, overdue=True) for _ in range(4)]
    dinkes = [await seed.add(b, department="DINKES", overdue=True) for _ in range(3)]
    nobody = [await seed.add(b, department=None, overdue=True) for _ in range(2)]  # waiting for the admins
    secret = await seed.add(a, department=None, confidential=1, overdue=True)  # waiting for leadership
    await seed.add(a, overdue=False)  # not overdue
    await seed.add(a, overdue=True, status="ditutup")  # finished
    ctx = digests.weekly_context(datetime(2026, 3, 9, 1, 0, tzinfo=UTC), TZ, date(2026, 3, 9))
    services = SimpleNamespace(db=db, config=Config(token="1:x", digest_max_items=5), departments=None)
    fetched = _count_rows(db)
    section = await digests.weekly_overdue(services, ctx)
    assert max(fetched) <= 5
    assert section is not None
    text = "\n".join(section.blocks)
    assert _listed([text]) == pupr + dinkes[:1]
    plain = _plain([text])
    assert "Lewat batas layanan: 10 · 5 yang terlama:" in plain
    assert "5 lainnya yang lewat batas tidak dicantumkan (ringkasan ini memuat 5 yang terlama)." in plain
    assert "Per OPD:\n• Admin: 2\n• DINKES: 2\n• Pimpinan: 1\nPer kecamatan:\n" \
        f"• Kec. {kec_b}: 4\n• Kec. {kec_a}: 1\n📥 Daftar lengkap: ketik /ekspor" in plain
    assert nobody[0] not in plain and secret not in plain
    # the open load per department counts the overdue ones in SQL too
    departments = await digests.weekly_departments(services, ctx)
    assert departments is not None
    load = _plain(departments.blocks)
    assert "PUPR: 5 terbuka, 4 lewat batas" in load and "DINKES: 3 terbuka, 3 lewat batas" in load

    # under the cap: every overdue item, no counts
    services = SimpleNamespace(db=db, config=Config(token="1:x", digest_max_items=10), departments=None)
    section = await digests.weekly_overdue(services, ctx)
    assert section is not None
    plain = _plain(section.blocks)
    assert "Lewat batas layanan: 10\n" in plain + "\n" and "yang terlama" not in plain
    assert "tidak dicantumkan" not in plain and len(_listed(section.blocks)) == 10


def _count_rows(db: Database) -> list[int]:
    """Record how many rows each ``db.fetchall`` returns from now on (the test's database only)."""
    counts: list[int] = [0]
    original = db.fetchall

    async def counting(sql: str, params: Any = ()) -> list[Any]:
        rows = await original(sql, params)
        if "kecamatan k" not in sql or "GROUP BY" not in sql:  # counts per kecamatan: one row per kecamatan
            counts.append(len(rows))
        return rows

    db.fetchall = counting
    return counts


# -- the weekly intake per kecamatan (capped like the other lists) -------------------------------------------------

WEEK = digests.weekly_context(datetime(2026, 3, 9, 1, 0, tzinfo=UTC), TZ, date(2026, 3, 9))  # 2–8 March


async def _intake_text(db: Database, cap: int) -> str:
    services = SimpleNamespace(db=db, config=Config(token="1:x", digest_max_items=cap), departments=None)
    section = await digests.weekly_intake(services, WEEK)
    assert section is not None
    return _plain(section.blocks)


def _kecamatan_lines(plain: str) -> list[tuple[str, int]]:
    part = plain.split("Per kecamatan", 1)[1]
    return [(m[1], int(m[2])) for m in re.finditer(r"^• (?!dan )(.+): (\d+)$", part, re.M)]


async def test_weekly_intake_lists_every_kecamatan_under_the_cap(db: Database) -> None:
    seed = _Seed(db)
    villages = await seed.villages(24)
    assert len(villages) == 24  # every kecamatan of Kab. Probolinggo
    counts = {}
    for index, (desa, _, kecamatan) in enumerate(villages):
        counts[kecamatan] = index % 4 + 1
        for _ in range(counts[kecamatan]):
            await seed.add(desa, new=True)  # submitted during the week
    await seed.add(villages[0][0])  # weeks before: not counted
    expected = sorted(counts.items(), key=lambda p: (-p[1], p[0]))
    for cap in (24, 100):
        plain = await _intake_text(db, cap)
        assert f"Aspirasi masuk: {sum(counts.values())}" in plain
        assert "Per kecamatan\n" in plain and "terbanyak" not in plain
        assert _kecamatan_lines(plain) == expected
        assert "kecamatan lain" not in plain and "/rekap" not in plain


async def test_weekly_intake_over_the_cap_lists_the_busiest_and_sums_the_rest(db: Database) -> None:
    seed = _Seed(db)
    villages = await seed.villages(12)
    counts = {}
    for index, (desa, _, kecamatan) in enumerate(villages):
        counts[kecamatan] = (index * 5) % 7 + 1  # ties included
        for _ in range(counts[kecamatan]):
            await seed.add(desa, new=True)
    ranked = sorted(counts.items(), key=lambda p: (-p[1], p[0]))
    plain = await _intake_text(db, 5)
    assert "Per kecamatan · 5 terbanyak dari 12 kecamatan:\n" in plain
    assert _kecamatan_lines(plain) == ranked[:5]
    rest = sum(n for _, n in ranked[5:])
    assert f"\n• dan 7 kecamatan lain: {rest}\n" in plain
    assert "📥 Semua kecamatan: /rekap 2026-03-02 (rekap sejak 2 Mar 2026) atau /ekspor 2026-03-02" in plain
    # the listed counts and the summed rest add up to everything that came in
    assert sum(n for _, n in _kecamatan_lines(plain)) + rest == sum(counts.values())
    assert f"Aspirasi masuk: {sum(counts.values())}" in plain
    # the last kecamatan that fits the cap is still listed, one more is summed
    plain = await _intake_text(db, 11)
    assert len(_kecamatan_lines(plain)) == 11 and f"• dan 1 kecamatan lain: {ranked[-1][1]}\n" in plain


async def test_the_oldest_overdue_are_listed_across_statuses_in_age_order(db: Database) -> None:
    """The oldest overdue are read per open status and merged: the listing is the same as one sort of them all."""
    seed = _Seed(db)
    (a, _, _), (b, _, _) = await seed.villages(2)
    statuses = ["diproses", "baru", "diterima", "baru", "selesai", "diproses", "diterima", "ditutup", "baru",
                "diproses", "diterima", "baru"]
    overdue = []
    for index, status in enumerate(statuses):
        ticket = await seed.add(a if index % 2 else b, status=status, overdue=index != 3)
        if index != 3 and status in ("baru", "diterima", "diproses"):
            overdue.append(ticket)
    assert len(overdue) == 9
    ctx = digests.weekly_context(datetime(2026, 3, 9, 1, 0, tzinfo=UTC), TZ, date(2026, 3, 9))
    for cap, expected in ((4, overdue[:4]), (1, overdue[:1]), (9, overdue), (50, overdue)):
        services = SimpleNamespace(db=db, config=Config(token="1:x", digest_max_items=cap), departments=None)
        section = await digests.weekly_overdue(services, ctx)
        assert section is not None
        assert _listed(section.blocks) == expected
        assert f"Lewat batas layanan: 9{f' · {cap} yang terlama:' if cap < 9 else ''}" in _plain(section.blocks)


# -- the week's outcomes, read through migration 008's indexes -----------------------------------------------------


async def test_weekly_outcomes_count_the_week_from_their_indexes(db: Database) -> None:
    from bot.officials.service import HISTORY_LABELS

    seed = _Seed(db)
    (a, _, _), = await seed.villages(1)
    inside, before, after = "2026-03-04T03:00:00.000000Z", "2026-03-01T16:59:59.000000Z", WEEK.end_iso
    closings = [("ditutup", inside, True), ("ditutup", inside, True), ("ditutup", inside, False),
                ("tidak_dapat", inside, False), ("ditolak", WEEK.start_iso, False), ("ditutup", before, True),
                ("ditutup", after, True)]
    for status, at, automatic in closings:
        ticket = await seed.add(a, status=status)
        aid = await db.fetchval("SELECT id FROM aspirations WHERE ticket = ?", (ticket,))
        async with db.transaction() as tx:
            await tx.execute("UPDATE aspirations SET closed_at = ? WHERE id = ?", (at, aid))
            await tx.execute("INSERT INTO aspiration_history(aspiration_id, at, action, from_status, to_status)"
                             " VALUES (?, ?, ?, 'selesai', ?)",
                             (aid, at, HISTORY_LABELS["tutup_otomatis" if automatic else "konfirmasi"], status))
    services = SimpleNamespace(db=db, config=Config(token="1:x"), departments=None)
    section = await digests.weekly_outcomes(services, WEEK)
    assert section is not None
    plain = _plain(section.blocks)
    assert "Tuntas, dikonfirmasi desa: 1\n• Ditutup otomatis (desa tidak menjawab dalam batas waktu): 2" in plain
    assert "Tidak dapat ditindaklanjuti: 1\n• Ditolak: 1\n" in plain
    assert "Tingkat penyelesaian: 20% dikonfirmasi desa; 60% bila yang ditutup otomatis ikut dihitung" in plain

    # both counts are range searches of their index, not scans of the table (the history's index is partial: the
    # label bound at run time must still match its WHERE clause)
    async def plan(sql: str, params: tuple[str, ...]) -> str:
        return " | ".join(r["detail"] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql, params))

    closed = await plan(digests._CLOSED_IN_WEEK, (WEEK.start_iso, WEEK.end_iso))
    assert "COVERING INDEX aspirations_closed (closed_at>? AND closed_at<?)" in closed and "SCAN" not in closed
    auto = await plan(digests._AUTO_CLOSED_IN_WEEK, (HISTORY_LABELS["tutup_otomatis"], WEEK.start_iso, WEEK.end_iso))
    assert "INDEX aspiration_history_auto_closed (at>? AND at<?)" in auto and "SCAN" not in auto
