"""Days to resolve (migration 007): the recap's medians come from an index of ``aspirations.resolution_days``.

The figures must be exactly those of the old computation (every resolved aspiration read, medians with
``statistics.median``), and the stored duration must follow every change of status, whichever path makes it.
"""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.aspirations import audience as audiences
from bot.aspirations.service import AspirationService, Draft
from bot.config import Config
from bot.core.clock import FakeClock, from_iso, to_iso
from bot.core.domain import Role
from bot.officials.departments import DepartmentService, load_routing
from bot.officials.service import OfficialsService
from bot.people import roster
from bot.people.regions import load_regions
from bot.storage import database as storage
from bot.storage.database import Database
from bot.village_map.recap import Filters, build_recap, format_days
from tests.map_seed import person

TZ = ZoneInfo("Asia/Jakarta")
DEPARTMENT = {"infrastruktur": "PUPR", "kesehatan": "DINKES", "kinerja_kecamatan": None}


async def _old_medians(db: Database, where: str, params: list[Any]) -> tuple[dict[str, float], float | None]:
    """The medians as /rekap computed them before migration 007: every resolved aspiration's calendar days from
    submission to closing, ``statistics.median`` per kecamatan and overall, never below zero."""
    per_kecamatan: dict[str, list[float]] = {}
    everything: list[float] = []
    for r in await db.fetchall(
        "SELECT a.kecamatan_code AS k, julianday(a.closed_at) - julianday(a.created_at) AS d FROM aspirations a"
        f" WHERE ({where}) AND a.status = 'ditutup' AND a.closed_at IS NOT NULL", params,
    ):
        if r["d"] is not None:
            per_kecamatan.setdefault(r["k"], []).append(r["d"])
            everything.append(r["d"])
    medians = {k: max(0.0, float(statistics.median(v))) for k, v in per_kecamatan.items()}
    return medians, (max(0.0, float(statistics.median(everything))) if everything else None)


def _official(department: str) -> roster.Person:
    return roster.Person(id=99, telegram_id=13, name="Kadis", role=Role.PEJABAT, desa_code=None, kecamatan_code=None,
                         department=department, title=None, phone=None, active=True)


async def _villages(db: Database, n: int) -> list[tuple[str, str]]:
    """(desa, kecamatan) of the first village of ``n`` different kecamatan."""
    rows = await db.fetchall("SELECT MIN(code) AS desa, kecamatan_code AS k FROM desa GROUP BY kecamatan_code"
                             " ORDER BY kecamatan_code LIMIT ?", (n,))
    return [(r["desa"], r["k"]) for r in rows]


async def _insert(db: Database, submitter: int, desa: str, kecamatan: str, *, status: str, created: datetime,
                  closed: datetime | None, category: str = "infrastruktur") -> int:
    """An aspiration written straight into SQLite (as imports and the seeds do), routed like the bot would."""
    department = DEPARTMENT.get(category)
    async with db.transaction() as tx:
        number = await tx.fetchval("SELECT COALESCE(MAX(id), 0) + 1 FROM aspirations")
        asp_id = await tx.execute(
            "INSERT INTO aspirations(ticket, desa_code, kecamatan_code, submitter_id, category, description, status,"
            " confidential, department, created_at, updated_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (f"ASP-2026-{number:05d}", desa, kecamatan, submitter, category, f"Uraian nomor {number}", status,
             int(category == "kinerja_kecamatan"), department, to_iso(created), to_iso(closed or created),
             to_iso(closed) if closed else None),
        )
        if department:
            await tx.execute("INSERT INTO aspiration_departments(aspiration_id, department, active, assigned_at)"
                             " VALUES (?, ?, 1, ?)", (asp_id, department, to_iso(created)))
    return asp_id


async def _walk(db: Database, service: AspirationService, clock: FakeClock, asp_id: int,
                steps: list[tuple[str, float]]) -> None:
    """Status changes through AspirationService.transition, ``hours`` apart."""
    for action, hours in steps:
        clock.advance(hours=hours)
        async with db.transaction() as tx:
            await service.transition(tx, asp_id, action=action, actor_id=None, now=clock.now(),
                                     note="Catatan" if action in ("tolak", "tdt", "buka_kembali") else None)


async def _varied(db: Database, clock: FakeClock) -> dict[str, str]:
    """A few dozen aspirations over six kecamatan: even and odd counts, a kecamatan with one resolved aspiration,
    ties, a confidential one, reopened ones, closings that are not resolutions, a legacy 'ditutup' row without a
    closing time, and a closing stamped before submission."""
    villages = await _villages(db, 7)
    names = ["even", "odd", "single", "confidential", "reopened", "negative", "none"]
    kec = {name: k for name, (_, k) in zip(names, villages, strict=True)}
    desa = {name: d for name, (d, _) in zip(names, villages, strict=True)}
    submitter = await person(db, 555001, "kepala_desa", desa=desa["even"], now=clock.now())
    t0 = clock.now() - timedelta(days=60)

    async def resolved(name: str, days: float, *, at: datetime = t0, category: str = "infrastruktur") -> None:
        await _insert(db, submitter, desa[name], kec[name], status="ditutup", created=at,
                      closed=at + timedelta(days=days), category=category)

    for days in (1.5, 3.25, 10.0, 2.0):  # four: the mean of the two middle values
        await resolved("even", days, at=t0 + timedelta(hours=days * 7))
    await _insert(db, submitter, desa["even"], kec["even"], status="ditolak", created=t0,
                  closed=t0 + timedelta(hours=12))
    await _insert(db, submitter, desa["even"], kec["even"], status="tidak_dapat", created=t0,
                  closed=t0 + timedelta(days=40))
    await _insert(db, submitter, desa["even"], kec["even"], status="diproses", created=t0, closed=None)
    for days in (0.25, 7.0, 7.0, 30.5, 4.125):  # five, with a tie in the middle
        await resolved("odd", days, category="kesehatan")
    await _insert(db, submitter, desa["odd"], kec["odd"], status="ditutup", created=t0, closed=None)  # legacy row
    await _insert(db, submitter, desa["odd"], kec["odd"], status="selesai", created=t0, closed=None)
    await resolved("single", 6.0)
    await resolved("confidential", 3.0, category="kinerja_kecamatan")
    await resolved("confidential", 9.0)
    await _insert(db, submitter, desa["negative"], kec["negative"], status="ditutup", created=t0,
                  closed=t0 - timedelta(hours=1))
    await _insert(db, submitter, desa["none"], kec["none"], status="baru", created=t0, closed=None)

    # Reopened through the real transitions: declared done, "Belum", done again, then confirmed or auto-closed.
    service = AspirationService(db, clock, TZ)
    start = clock.now()
    clock.set(t0 + timedelta(days=5))
    for extra_hours, last in ((0.0, "konfirmasi"), (30.5, "tutup_otomatis"), (77.25, "konfirmasi")):
        asp = await _insert(db, submitter, desa["reopened"], kec["reopened"], status="baru", created=clock.now(),
                            closed=None)
        await _walk(db, service, clock, asp, [("terima", 2), ("proses", 5), ("selesai", 24), ("buka_kembali", 3),
                                              ("selesai", 48 + extra_hours), (last, 20)])
    still_open = await _insert(db, submitter, desa["reopened"], kec["reopened"], status="baru", created=clock.now(),
                               closed=None)
    await _walk(db, service, clock, still_open, [("proses", 1), ("selesai", 10), ("buka_kembali", 2)])

    # And some noise: random times to the second, random statuses (the single and negative kecamatan stay as they
    # are).
    rnd = random.Random(2026)
    for i in range(36):
        name = rnd.choice(["even", "odd", "confidential", "reopened"])
        created = t0 + timedelta(seconds=rnd.randrange(0, 40 * 86400))
        status = rnd.choice(["ditutup", "ditutup", "ditutup", "diproses", "ditolak", "selesai"])
        closed = created + timedelta(seconds=rnd.randrange(600, 25 * 86400)) if status in ("ditutup", "ditolak") \
            else None
        await _insert(db, submitter, desa[name], kec[name], status=status, created=created, closed=closed,
                      category=rnd.choice(["infrastruktur", "kesehatan", "kinerja_kecamatan"]) if i % 4 else
                      "infrastruktur")
    clock.set(start)
    return kec


async def test_medians_are_exactly_those_of_the_old_computation(db: Database, clock: FakeClock) -> None:
    kec = await _varied(db, clock)
    service = AspirationService(db, clock, TZ)
    since = (clock.now() - timedelta(days=45)).astimezone(TZ).date()
    cases = [
        ("pimpinan", audiences.for_export("pimpinan"), Filters()),
        ("admin export", audiences.for_export("admin"), Filters()),
        ("official", audiences.for_person(_official("PUPR")), Filters()),
        ("since", audiences.for_export("pimpinan"), Filters(since=since)),
        ("kecamatan", audiences.for_export("pimpinan"), Filters(kecamatan_codes=(kec["even"], kec["reopened"]))),
        ("since and kecamatan", audiences.for_export("admin"), Filters(since=since, kecamatan_codes=(kec["odd"],))),
        ("one item", audiences.for_export("admin"), Filters(kecamatan_codes=(kec["single"], kec["none"]))),
    ]
    sizes: set[int] = set()
    totals: set[int] = set()
    for label, audience, filters in cases:
        recap = await build_recap(db, service, audience, clock.now(), TZ, filters)
        share, share_params = audience.where(service)
        scope, scope_params = filters.sql(TZ)
        want, want_total = await _old_medians(db, f"({share}) AND ({scope})", [*share_params, *scope_params])
        got = {r.code: r.tally.median_days for r in recap.rows if r.tally.median_days is not None}
        assert got == want, label  # exact, not approximately
        assert recap.total.median_days == want_total, label
        assert [format_days(r.tally.median_days) for r in recap.rows] == [
            format_days(want.get(r.code)) for r in recap.rows], label
        for r in await db.fetchall(
            "SELECT a.kecamatan_code AS k, COUNT(*) AS n FROM aspirations a"
            f" WHERE ({share}) AND ({scope}) AND a.status = 'ditutup' AND a.closed_at IS NOT NULL"
            " GROUP BY a.kecamatan_code", [*share_params, *scope_params]):
            sizes.add(r["n"])
        totals.add(int(await db.fetchval(
            "SELECT COUNT(*) FROM aspirations a"
            f" WHERE ({share}) AND ({scope}) AND a.status = 'ditutup' AND a.closed_at IS NOT NULL",
            [*share_params, *scope_params])))
    # the cases really cover one, odd and even counts, per kecamatan and overall
    assert 1 in sizes and any(n % 2 == 0 for n in sizes) and any(n % 2 and n > 1 for n in sizes)
    assert any(n % 2 == 0 for n in totals) and any(n % 2 for n in totals)

    everything = await build_recap(db, service, audiences.for_export("pimpinan"), clock.now(), TZ)
    rows = {r.code: r.tally for r in everything.rows}
    assert rows[kec["single"]].resolved == 1 and rows[kec["single"]].median_days == pytest.approx(6.0)
    assert rows[kec["negative"]].median_days == 0.0  # closed "before" it was sent: never below zero
    assert rows[kec["none"]].median_days is None and format_days(rows[kec["none"]].median_days) == "-"
    # the definition, independently of SQLite's julianday: calendar days between the stored moments
    for code, tally in rows.items():
        values = [(from_iso(r["closed_at"]) - from_iso(r["created_at"])).total_seconds() / 86400
                  for r in await db.fetchall("SELECT created_at, closed_at FROM aspirations WHERE kecamatan_code = ?"
                                             " AND status = 'ditutup' AND closed_at IS NOT NULL", (code,))]
        if values:
            assert tally.median_days == pytest.approx(max(0.0, statistics.median(values)), abs=1e-6)


async def _officials(db: Database, clock: FakeClock) -> tuple[AspirationService, OfficialsService]:
    aspirations = AspirationService(db, clock, TZ)
    departments = DepartmentService(db, clock, load_routing(Config(token="1:x")))
    await departments.load_defaults()
    officials = OfficialsService(db, clock, TZ, aspirations, departments)
    aspirations.submit_hooks.append(officials.on_submit)
    return aspirations, officials


async def _registered(db: Database, clock: FakeClock, tg: int, role: str, **place: str) -> roster.Person:
    invitation = await roster.create_invitation(db, clock, role=role, **place)
    return await roster.redeem_invitation(db, clock, invitation.code, tg, f"Orang {tg}")


async def _stored(db: Database, asp_id: int) -> tuple[float | None, float | None, str]:
    """(stored days, days by the recap's definition, status)."""
    row = await db.fetchone(
        "SELECT resolution_days, CASE WHEN status = 'ditutup' AND closed_at IS NOT NULL"
        " THEN julianday(closed_at) - julianday(created_at) END AS expected, status, kecamatan_code"
        " FROM aspirations WHERE id = ?", (asp_id,))
    assert row is not None
    # what the recap reads is the index's copy: it must agree with the row
    indexed = await db.fetchval(
        "SELECT resolution_days FROM aspirations INDEXED BY aspirations_resolution_kecamatan"
        " WHERE kecamatan_code = ? AND resolution_days IS NOT NULL AND id = ?", (row["kecamatan_code"], asp_id))
    assert indexed == row["resolution_days"]
    return row["resolution_days"], row["expected"], row["status"]


async def test_the_stored_duration_follows_every_change_of_status(db: Database, clock: FakeClock) -> None:
    aspirations, officials = await _officials(db, clock)
    kades = await _registered(db, clock, 10, "kepala_desa", desa="35.13.02.2001")
    pupr = await _registered(db, clock, 20, "pejabat", department="PUPR")
    await _registered(db, clock, 21, "pejabat", department="DINKES")

    async def submit(text: str) -> int:
        asp, _ = await aspirations.submit(kades, Draft(category="infrastruktur", description=text), text)
        assert await _stored(db, asp.id) == (None, None, "baru")
        return asp.id

    def days(created: datetime, closed: datetime) -> float:
        return (closed - created).total_seconds() / 86400

    # confirmed by the kepala desa after being reopened once
    created = clock.now()
    road = await submit("Jalan desa rusak berat sepanjang dua kilometer.")
    for action in ("terima", "proses", "selesai"):
        clock.advance(hours=5)
        await officials.act(pupr, road, action)
        assert (await _stored(db, road))[:2] == (None, None)
    clock.advance(hours=3)
    await officials.reopen(kades, road, "Belum, lubangnya baru ditutup separuh.")
    assert await _stored(db, road) == (None, None, "diproses")
    clock.advance(days=2, hours=7)
    await officials.act(pupr, road, "selesai")
    assert await _stored(db, road) == (None, None, "selesai")
    clock.advance(hours=20, minutes=13)
    await officials.confirm(kades, road)
    stored, expected, status = await _stored(db, road)
    assert status == "ditutup" and stored is not None and stored == expected
    assert stored == pytest.approx(days(created, clock.now()), abs=1e-6)

    # closed automatically when the kepala desa does not answer
    created = clock.now()
    bridge = await submit("Jembatan penghubung dusun retak di tiang tengah.")
    clock.advance(hours=1)
    await officials.act(pupr, bridge, "selesai")
    assert (await _stored(db, bridge))[:2] == (None, None)
    clock.set(datetime.combine(clock.now().astimezone(TZ).date() + timedelta(days=30), datetime.min.time(),
                               tzinfo=TZ) + timedelta(hours=8))
    closed, _ = await officials.run_service_levels(clock.now())
    assert closed == 1
    stored, expected, status = await _stored(db, bridge)
    assert status == "ditutup" and stored is not None and stored == expected
    assert stored == pytest.approx(days(created, clock.now()), abs=1e-6)

    # closings that are not resolutions, a reply and a redirect: no duration
    refused = await submit("Mohon pembangunan gedung serbaguna desa.")
    await officials.act(pupr, refused, "tolak", note="Bukan kewenangan kabupaten tahun ini.")
    assert await _stored(db, refused) == (None, None, "ditolak")
    impossible = await submit("Mohon pengaspalan jalan kampung baru.")
    await officials.act(pupr, impossible, "tdt", note="Anggaran tahun ini sudah habis sama sekali.")
    assert await _stored(db, impossible) == (None, None, "tidak_dapat")
    answered = await submit("Saluran air di depan balai desa tersumbat.")
    await officials.act(pupr, answered, "balas", note="Tim kami akan meninjau lokasi minggu ini.")
    await officials.act(pupr, answered, "alihkan", note="Ini urusan sanitasi dan kesehatan.", target="DINKES")
    assert await _stored(db, answered) == (None, None, "baru")

    # the recap reads exactly these two
    recap = await build_recap(db, aspirations, audiences.for_export("pimpinan"), clock.now(), TZ)
    resolved = [r["resolution_days"] for r in await db.fetchall(
        "SELECT resolution_days FROM aspirations WHERE resolution_days IS NOT NULL ORDER BY resolution_days")]
    assert len(resolved) == 2 and recap.total.resolved == 2
    assert recap.total.median_days == (resolved[0] + resolved[1]) / 2
    assert await db.fetchval("PRAGMA integrity_check") == "ok"


async def test_a_direct_write_keeps_the_duration_too(db: Database, clock: FakeClock) -> None:
    """Status or times changed by hand (an admin's repair in sqlite3, a future code path): the column is derived
    from the row, so it cannot go stale."""
    submitter = await person(db, 555002, "kepala_desa", desa="35.13.02.2001", now=clock.now())
    created = clock.now() - timedelta(days=10)
    asp = await _insert(db, submitter, "35.13.02.2001", "35.13.02", status="selesai", created=created, closed=None)
    assert (await _stored(db, asp))[0] is None
    await db.execute("UPDATE aspirations SET status = 'ditutup', closed_at = ? WHERE id = ?",
                     (to_iso(created + timedelta(days=4, hours=6)), asp))
    assert (await _stored(db, asp))[0] == pytest.approx(4.25, abs=1e-9)
    await db.execute("UPDATE aspirations SET created_at = ? WHERE id = ?", (to_iso(created + timedelta(days=1)), asp))
    assert (await _stored(db, asp))[0] == pytest.approx(3.25, abs=1e-9)
    await db.execute("UPDATE aspirations SET status = 'diproses', closed_at = NULL WHERE id = ?", (asp,))
    assert await _stored(db, asp) == (None, None, "diproses")


async def test_the_migration_fills_existing_aspirations(tmp_path: Path, clock: FakeClock,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A database from before migration 007 with resolved aspirations: after upgrading, the recap shows the
    medians it showed before."""
    every = storage.migration_files()
    assert [n for n, _, _ in every if n == 7] == [7]
    monkeypatch.setattr(storage, "migration_files", lambda: [m for m in every if m[0] < 7])
    path = tmp_path / "old.db"
    old = await Database.open(path)
    await load_regions(old, "35.13")
    kec = await _varied(old, clock)
    want, want_total = await _old_medians(old, "1 = 1", [])
    assert want_total is not None and kec["even"] in want
    await old.close()

    monkeypatch.setattr(storage, "migration_files", lambda: every)
    db = await Database.open(path)
    try:
        assert await db.schema_version() == max(n for n, _, _ in every)
        recap = await build_recap(db, AspirationService(db, clock, TZ), audiences.for_export("pimpinan"),
                                  clock.now(), TZ)
        assert {r.code: r.tally.median_days for r in recap.rows if r.tally.median_days is not None} == want
        assert recap.total.median_days == want_total
        stale = await db.fetchval(
            "SELECT COUNT(*) FROM aspirations WHERE resolution_days IS NOT (CASE WHEN status = 'ditutup' AND"
            " closed_at IS NOT NULL THEN julianday(closed_at) - julianday(created_at) END)")
        assert stale == 0
        assert await db.fetchval("PRAGMA integrity_check") == "ok"
    finally:
        await db.close()

