"""The commitments section of the weekly leadership digest: set-based reads (the same text as one-by-one reads, in a
bounded number of queries) and the cap on the overdue list (SAMBANG_DIGEST_MAX_ITEMS)."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.core.clock import FakeClock, to_iso
from bot.messaging.templates import render, tanggal_pendek
from bot.storage.database import Database
from bot.visits import ngantor
from bot.visits.commitments import Commitment, CommitmentDesa, CommitmentService, Digest
from tests import map_seed
from tests.fake_telegram import render_html

WIB = ZoneInfo("Asia/Jakarta")
NOW = dt.datetime(2026, 3, 9, 7, 30, tzinfo=WIB)  # a Monday, when the weekly digest goes out
TODAY = NOW.date()
SINCE = dt.datetime(2026, 3, 2, tzinfo=WIB)
UNTIL = dt.datetime(2026, 3, 9, tzinfo=WIB)


@pytest.fixture
def svc(db: Database, clock: FakeClock) -> CommitmentService:
    return ngantor.build(db, clock, WIB).commitments


class _Seed:
    """Commitments written straight into SQLite, with villages, linked aspirations and visits."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.n = 0
        self.person: int | None = None

    async def desa(self, count: int) -> list[str]:
        rows = await self.db.fetchall("SELECT code FROM desa ORDER BY code LIMIT ?", (count,))
        return [r["code"] for r in rows]

    async def visit(self, kecamatan: str, day: dt.date) -> int:
        stamp = to_iso(NOW)
        async with self.db.transaction() as tx:
            return await tx.execute(
                "INSERT INTO visits(kecamatan_code, date, start_time, starts_at, place, created_at, updated_at)"
                " VALUES (?, ?, '09:00', ?, 'Balai desa', ?, ?)", (kecamatan, day.isoformat(), stamp, stamp, stamp))

    async def aspiration(self, desa: str, ticket: str) -> int:
        if self.person is None:
            self.person = await map_seed.person(self.db, 770001, "kepala_desa", desa=desa, now=NOW)
        stamp = to_iso(NOW - dt.timedelta(days=30))
        async with self.db.transaction() as tx:
            return await tx.execute(
                "INSERT INTO aspirations(ticket, desa_code, kecamatan_code, submitter_id, category, description,"
                " status, created_at, updated_at) SELECT ?, code, kecamatan_code, ?, 'infrastruktur', 'Jalan rusak',"
                " 'diproses', ?, ? FROM desa WHERE code = ?", (ticket, self.person, stamp, stamp, desa))

    async def add(self, due: dt.date, *, desa: list[str], status: str = "terbuka", department: str = "PUPR",
                  description: str | None = None, outcome: str | None = None, outcome_at: dt.datetime | None = None,
                  visit: int | None = None, aspirations: tuple[int, ...] = ()) -> int:
        self.n += 1
        stamp = to_iso(NOW - dt.timedelta(days=60))
        async with self.db.transaction() as tx:
            cid = await tx.execute(
                "INSERT INTO commitments(visit_id, description, department, due_date, status, outcome, outcome_at,"
                " request_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (visit, description or f"Janji nomor {self.n}: perbaiki saluran & jembatan", department,
                 due.isoformat(), status, outcome, to_iso(outcome_at) if outcome_at else None, f"k{self.n}",
                 stamp, stamp))
            await tx.executemany("INSERT INTO commitment_desa(commitment_id, desa_code) VALUES (?, ?)",
                                 [(cid, code) for code in desa])
            await tx.executemany("INSERT INTO commitment_aspirations(commitment_id, aspiration_id) VALUES (?, ?)",
                                 [(cid, a) for a in aspirations])
        return cid


# -- the reference: how the section was read before (each commitment with its own two queries) -------------------


async def _one_by_one(db: Database, rows: list[Any]) -> list[Commitment]:
    result = []
    for row in rows:
        desa = await db.fetchall(
            "SELECT d.code, d.name, d.kecamatan_code, k.name AS kecamatan_name FROM commitment_desa cd"
            " JOIN desa d ON d.code = cd.desa_code JOIN kecamatan k ON k.code = d.kecamatan_code"
            " WHERE cd.commitment_id = ? ORDER BY d.code", (row["id"],))
        tickets = await db.fetchall(
            "SELECT a.ticket FROM commitment_aspirations ca JOIN aspirations a ON a.id = ca.aspiration_id"
            " WHERE ca.commitment_id = ? ORDER BY a.ticket", (row["id"],))
        label = None
        if row["visit_id"] is not None and row["visit_date"]:
            label = f"Kec. {row['visit_kecamatan']}, {tanggal_pendek(dt.date.fromisoformat(row['visit_date']))}"
        result.append(Commitment(
            id=row["id"], visit_id=row["visit_id"], visit_label=label, description=row["description"],
            department=row["department"], due_date=dt.date.fromisoformat(row["due_date"]), status=row["status"],
            outcome=row["outcome"], outcome_at=row["outcome_at"], created_at=row["created_at"],
            desa=tuple(CommitmentDesa(d["code"], d["name"], d["kecamatan_code"], d["kecamatan_name"]) for d in desa),
            tickets=tuple(t["ticket"] for t in tickets)))
    return result


_SELECT = ("SELECT c.*, v.date AS visit_date, vk.name AS visit_kecamatan FROM commitments c"
           " LEFT JOIN visits v ON v.id = c.visit_id LEFT JOIN kecamatan vk ON vk.code = v.kecamatan_code")


async def _reference_section(db: Database, now: dt.datetime, since: dt.datetime, until: dt.datetime) -> str:
    """The section as the one-by-one code rendered it: every open commitment read, filtered in Python."""
    today = now.astimezone(WIB).date()
    items = await _one_by_one(db, await db.fetchall(
        _SELECT + " WHERE c.status IN ('terbuka', 'berjalan') ORDER BY c.due_date, c.id"))
    finished = await _one_by_one(db, await db.fetchall(
        _SELECT + " WHERE c.status NOT IN ('terbuka', 'berjalan') AND c.outcome_at >= ? AND c.outcome_at < ?"
        " ORDER BY c.outcome_at DESC", (to_iso(since), to_iso(until))))
    overdue = [c for c in items if c.overdue(today)]
    digest = Digest(open=len(items), overdue=overdue,
                    due_soon=[c for c in items if today <= c.due_date <= today + dt.timedelta(days=7)],
                    finished_recently=finished, overdue_total=len(overdue))
    if not digest.open and not digest.finished_recently:
        return ""
    return render("visits/commitments_digest", digest=digest, today=today)


def _count_queries(db: Database) -> list[str]:
    """Record every read the service makes on ``db`` from now on."""
    seen: list[str] = []
    for name in ("fetchall", "fetchone", "fetchval"):
        original = getattr(db, name)

        async def counting(sql: str, params: Any = (), *, _original: Any = original) -> Any:
            seen.append(sql)
            return await _original(sql, params)

        setattr(db, name, counting)
    return seen


async def _varied(db: Database) -> dict[str, list[int]]:
    """Commitments of every kind around NOW: overdue, due soon (both edges), later, finished inside and outside the
    week, with several villages (inserted out of code order), linked tickets, visits and text that needs escaping."""
    seed = _Seed(db)
    codes = await seed.desa(8)
    kecamatan = await db.fetchval("SELECT kecamatan_code FROM desa WHERE code = ?", (codes[0],))
    visit = await seed.visit(kecamatan, TODAY - dt.timedelta(days=40))
    a1 = await seed.aspiration(codes[1], "ASP-2026-00042")
    a2 = await seed.aspiration(codes[2], "ASP-2026-00007")
    ids: dict[str, list[int]] = {"overdue": [], "soon": [], "later": [], "finished": [], "old": []}
    for days, where in ((-30, codes[3:0:-1]), (-1, [codes[4]]), (-30, [codes[5], codes[0]]), (-200, [codes[6]])):
        ids["overdue"].append(await seed.add(TODAY + dt.timedelta(days=days), desa=where, visit=visit,
                                             aspirations=(a1, a2) if days == -30 else (),
                                             status="berjalan" if days == -1 else "terbuka"))
    ids["overdue"].append(await seed.add(TODAY - dt.timedelta(days=3), desa=[codes[7]], department="DINKES",
                                         description="Bangun <posyandu> & " + "sumur bor " * 20))
    for days in (0, 7, 3):
        ids["soon"].append(await seed.add(TODAY + dt.timedelta(days=days), desa=[codes[days]]))
    ids["later"].append(await seed.add(TODAY + dt.timedelta(days=8), desa=codes[:3]))
    for moment, status, outcome in ((SINCE, "terlaksana", "Jembatan <selesai> dibangun."),
                                    (UNTIL - dt.timedelta(seconds=1), "tidak_terlaksana", None),
                                    (NOW - dt.timedelta(days=3), "terlaksana", "x" * 300)):
        ids["finished"].append(await seed.add(TODAY - dt.timedelta(days=20), desa=[codes[2]], status=status,
                                              outcome=outcome, outcome_at=moment))
    for moment in (SINCE - dt.timedelta(seconds=1), UNTIL):  # just outside [since, until)
        ids["old"].append(await seed.add(TODAY - dt.timedelta(days=20), desa=[codes[2]], status="terlaksana",
                                         outcome="lama", outcome_at=moment))
    return ids


# -- tests --------------------------------------------------------------------------------------------------------


async def test_the_section_reads_the_same_as_one_by_one(db: Database, svc: CommitmentService) -> None:
    ids = await _varied(db)
    expected = await _reference_section(db, NOW, SINCE, UNTIL)
    assert await svc.digest_section(NOW, since=SINCE, until=UNTIL) == expected
    assert await svc.digest_section(NOW, since=SINCE, until=UNTIL, max_items=100) == expected  # under the cap
    # the lists the other screens use are the same too
    rows = await db.fetchall(_SELECT + " WHERE c.status IN ('terbuka', 'berjalan') ORDER BY c.due_date, c.id")
    assert await svc.list_open() == await _one_by_one(db, rows)
    for cid in ids["overdue"] + ids["finished"]:
        [row] = await db.fetchall(_SELECT + " WHERE c.id = ?", (cid,))
        assert await svc.get(cid) == (await _one_by_one(db, [row]))[0]

    # and what it says, read as Telegram shows it
    plain, _ = render_html(expected)
    assert "Terbuka: 9 · lewat tenggat: 5 · tenggat 7 hari ke depan: 3 · selesai minggu ini: 3" in plain
    lines = plain.split("\n")
    listed = [int(m[1]) for line in lines if (m := re.match(r"• #(\d+) ", line))]
    oldest, *_ = ids["overdue"][3:]
    assert listed[:5] == [oldest, ids["overdue"][0], ids["overdue"][2], ids["overdue"][4], ids["overdue"][1]]
    assert listed[5:8] == [ids["soon"][0], ids["soon"][2], ids["soon"][1]]  # by due date; day 8 is not soon
    assert listed[8:] == [ids["finished"][1], ids["finished"][2], ids["finished"][0]]  # newest outcome first
    assert ids["later"][0] not in listed and not set(ids["old"]) & set(listed)
    first = next(line for line in lines if line.startswith(f"• #{ids['overdue'][0]} "))
    names = [d.name for d in (await svc.get(ids["overdue"][0])).desa]
    assert first.endswith(f"— PUPR, {', '.join(names)}; 30 hari lewat") and len(names) == 3
    assert "Bangun <posyandu> & sumur bor" in plain and "<posyandu>" not in expected  # escaped, then truncated
    assert "Terlaksana: Jembatan <selesai> dibangun." in plain and "— Tidak dapat dilaksanakan\n" in plain + "\n"
    assert "tidak dicantumkan" not in plain
    # linked tickets and the visit come along (they are in the commitment, not in the digest's text)
    linked = await svc.get(ids["overdue"][0])
    assert linked.tickets == ("ASP-2026-00007", "ASP-2026-00042") and linked.visit_label
    assert (await svc.get(ids["overdue"][4])).tickets == () and (await svc.get(ids["overdue"][4])).visit_id is None


async def test_the_section_takes_a_bounded_number_of_queries(db: Database, svc: CommitmentService) -> None:
    seed = _Seed(db)
    codes = await seed.desa(4)
    for i in range(60):
        await seed.add(TODAY + dt.timedelta(days=i % 20 - 10), desa=[codes[i % 4], codes[(i + 1) % 4]],
                       status="terbuka" if i % 5 else "terlaksana", outcome_at=NOW - dt.timedelta(days=i % 9))
    queries = _count_queries(db)
    text = await svc.digest_section(NOW, since=SINCE, until=UNTIL, max_items=20)
    assert text and len(queries) <= 10, queries  # one by one it was 2 per commitment: over 100
    queries.clear()
    assert len(await svc.list_open()) == 48 and len(queries) == 3


async def test_the_overdue_list_is_capped_oldest_first_and_the_rest_counted(db: Database,
                                                                         svc: CommitmentService) -> None:
    seed = _Seed(db)
    codes = await seed.desa(3)
    overdue = [await seed.add(TODAY - dt.timedelta(days=days), desa=[codes[days % 3]]) for days in
               (5, 40, 1, 12, 12, 90, 3)]
    await seed.add(TODAY + dt.timedelta(days=2), desa=[codes[0]])
    by_age = [overdue[5], overdue[1], overdue[3], overdue[4], overdue[0], overdue[6], overdue[2]]

    text = await svc.digest_section(NOW, since=SINCE, until=UNTIL, max_items=3)
    plain, _ = render_html(text)
    assert "Terbuka: 8 · lewat tenggat: 7 · tenggat 7 hari ke depan: 1" in plain
    assert "Lewat tenggat · 3 yang paling lama:\n" in plain
    listed = [int(x) for x in re.findall(r"• #(\d+) .*hari lewat", plain)]
    assert listed == by_age[:3]
    assert "90 hari lewat\n" in plain and "5 hari lewat" not in plain
    assert "➕ 4 janji lain yang lewat tenggat tidak dicantumkan (ringkasan ini memuat 3 yang paling lama)." \
        " 📥 Daftar lengkap: ketik /janji daftar" in plain
    digest = await svc.digest(NOW, since=SINCE, until=UNTIL, max_items=3)
    assert (digest.open, digest.overdue_total, digest.overdue_not_listed) == (8, 7, 4)
    assert [c.id for c in digest.overdue] == by_age[:3]

    # exactly at the cap and without one: all listed, no summary line
    for cap in (7, None):
        plain, _ = render_html(await svc.digest_section(NOW, since=SINCE, until=UNTIL, max_items=cap))
        assert [int(x) for x in re.findall(r"• #(\d+) .*hari lewat", plain)] == by_age
        assert "Lewat tenggat\n" in plain and "tidak dicantumkan" not in plain and "paling lama" not in plain


async def test_the_weekly_digest_passes_its_cap(db: Database, clock: FakeClock) -> None:
    from bot.app import WEEKLY_SECTIONS
    from bot.officials import digests

    [provider] = [p for name, p in WEEKLY_SECTIONS if name == "commitments"]
    seed = _Seed(db)
    codes = await seed.desa(2)
    for days in range(1, 6):
        await seed.add(TODAY - dt.timedelta(days=days), desa=codes)
    services = SimpleNamespace(db=db, config=Config(token="1:x", digest_max_items=2),
                               ngantor=ngantor.build(db, clock, WIB))
    ctx = digests.weekly_context(NOW, WIB, TODAY)
    section = await provider(services, ctx)
    plain, _ = render_html("\n".join(section.blocks))
    assert len(re.findall(r"• #\d+ .*hari lewat", plain)) == 2
    assert "➕ 3 janji lain yang lewat tenggat tidak dicantumkan" in plain
