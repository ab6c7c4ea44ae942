"""The dashboard's figures against the database itself: counts by status, the heat map, coverage, overdue per
department (from the service levels), the list's filters, and the map's data, for each audience."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.aspirations.audience import for_department, for_export
from bot.core.clock import FakeClock, to_iso
from bot.storage.database import Database
from bot.village_map.dashboard import Dashboard, ListFilters
from bot.village_map.locations import VillageLocations
from tests.map_seed import seed

PIMPINAN = for_export("pimpinan")
ADMIN = for_export("admin")
PUPR = for_department("PUPR")


@pytest.fixture
async def seeded(db: Database, clock: FakeClock) -> Database:
    await seed(db, 400, start=clock.now())
    # service levels: every open PUPR aspiration with an odd id is late to be accepted; a confidential one too
    rows = await db.fetchall("SELECT id, department, confidential, status FROM aspirations")
    today = clock.now().date()
    async with db.transaction() as tx:
        for r in rows:
            late = r["id"] % 2 == 1 and (r["department"] == "PUPR" or r["confidential"])
            due = (today - timedelta(days=3 if late else -3)).isoformat()
            await tx.execute(
                "INSERT INTO aspiration_sla(aspiration_id, audience, started_at, accept_due, respond_due)"
                " VALUES (?, 'departments', ?, ?, ?)", (r["id"], to_iso(clock.now()), due,
                                                        (today + timedelta(days=10)).isoformat()))
    return db


async def test_overview_counts_match_the_database(seeded: Database, clock: FakeClock) -> None:
    dash = Dashboard(seeded, ZoneInfo("Asia/Jakarta"))
    ov = await dash.overview(PIMPINAN, clock.now())
    assert ov.total == 400
    by_status = {r["status"]: r["n"] for r in await seeded.fetchall(
        "SELECT status, COUNT(*) AS n FROM aspirations GROUP BY status")}
    assert dict(ov.by_status) == by_status
    late_pupr = await seeded.fetchval(
        "SELECT COUNT(*) FROM aspirations WHERE id % 2 = 1 AND department = 'PUPR'"
        " AND status IN ('baru', 'diterima', 'diproses')")
    late_secret = await seeded.fetchval(
        "SELECT COUNT(*) FROM aspirations WHERE id % 2 = 1 AND confidential = 1"
        " AND status IN ('baru', 'diterima', 'diproses')")
    assert late_pupr > 0
    assert dict(ov.overdue_by_department) == {k: v for k, v in {"PUPR": late_pupr, "Pimpinan": late_secret}.items()
                                              if v}
    assert ov.overdue == late_pupr + late_secret
    cell = await seeded.fetchone("SELECT kecamatan_code AS k, category AS c, COUNT(*) AS n FROM aspirations"
                                 " GROUP BY k, c ORDER BY n DESC LIMIT 1")
    row = next(r for r in ov.heat if r.code == cell["k"])
    assert row.counts[cell["c"]] == cell["n"] and ov.heat_level == "kecamatan"
    assert sum(r.total for r in ov.heat) == 400
    active = await seeded.fetchval("SELECT COUNT(DISTINCT desa_code) FROM aspirations")
    assert (ov.villages, ov.villages_active) == (330, active)
    assert len(ov.weeks) == 12 and sum(w.count for w in ov.weeks) > 0


async def test_each_audience_gets_its_share(seeded: Database, clock: FakeClock) -> None:
    dash = Dashboard(seeded, ZoneInfo("Asia/Jakarta"))
    admin = await dash.overview(ADMIN, clock.now())
    assert admin.total == await seeded.fetchval("SELECT COUNT(*) FROM aspirations WHERE confidential = 0")
    assert "kinerja_kecamatan" not in admin.categories and "Pimpinan" not in dict(admin.overdue_by_department)
    pupr = await dash.overview(PUPR, clock.now())
    assert pupr.total == await seeded.fetchval("SELECT COUNT(*) FROM aspirations WHERE department = 'PUPR'")
    assert [w for w, _ in pupr.overdue_by_department] == ["PUPR"]
    listed = await dash.aspirations(PUPR, ListFilters(), clock.now(), page_size=1000)
    assert listed.total == pupr.total and {r.ticket for r in listed.rows} == {
        r["ticket"] for r in await seeded.fetchall("SELECT ticket FROM aspirations WHERE department = 'PUPR'")}
    late = await dash.aspirations(PIMPINAN, ListFilters(overdue=True), clock.now(), page_size=1000)
    assert late.total == (await dash.overview(PIMPINAN, clock.now())).overdue and all(r.overdue for r in late.rows)


async def test_the_overview_is_reused_for_a_minute_then_refreshed_behind_the_reader(seeded: Database,
                                                                                  clock: FakeClock) -> None:
    dash = Dashboard(seeded, ZoneInfo("Asia/Jakarta"))
    before = await dash.overview(PIMPINAN, clock.now())
    await seeded.execute("DELETE FROM aspirations WHERE id = (SELECT MIN(id) FROM aspirations)")
    clock.advance(seconds=59)
    assert (await dash.overview(PIMPINAN, clock.now())).total == before.total
    clock.advance(seconds=2)  # a minute old: answered at once, made again behind
    stale = await dash.overview(PIMPINAN, clock.now())
    assert stale.total == before.total and stale.generated_at == before.generated_at
    await dash.settled()
    fresh = await dash.overview(PIMPINAN, clock.now())
    assert fresh.total == before.total - 1 and fresh.generated_at == clock.now()
    clock.advance(minutes=20)  # long quiet: the reader waits for new figures
    await seeded.execute("DELETE FROM aspirations WHERE id = (SELECT MIN(id) FROM aspirations)")
    assert (await dash.overview(PIMPINAN, clock.now())).total == before.total - 2
    assert (await dash.overview(PUPR, clock.now())).total < before.total  # each audience its own


async def test_map_places_villages_by_office_then_aspirations(seeded: Database, clock: FakeClock) -> None:
    locations = VillageLocations(seeded, clock, ZoneInfo("Asia/Jakarta"))
    with_location = await seeded.fetchval(
        "SELECT a.desa_code FROM attachments l JOIN aspirations a ON a.id = l.aspiration_id"
        " WHERE l.kind = 'location' LIMIT 1")
    await seeded.execute("INSERT INTO village_locations(desa_code, latitude, longitude, set_at) VALUES (?, ?, ?, ?)",
                         (with_location, -7.77, 113.11, to_iso(clock.now())))
    data = await locations.map_data(PIMPINAN)
    placed = {v.code: v for v in data.villages}
    assert (placed[with_location].latitude, placed[with_location].source) == (-7.77, "kantor")
    others = [v for v in data.villages if v.code != with_location]
    assert others and all(v.source == "aspirasi" for v in others)
    open_counts = {r["desa_code"]: r["n"] for r in await seeded.fetchall(
        "SELECT desa_code, COUNT(*) AS n FROM aspirations WHERE status IN ('baru', 'diterima', 'diproses',"
        " 'selesai') GROUP BY desa_code")}
    assert all(v.open == open_counts.get(v.code, 0) for v in data.villages)
    assert data.total_villages == 330
    # on the map or counted as without a place: every village with open aspirations or a known place
    assert len(data.villages) + data.unplaced == await seeded.fetchval(
        "SELECT COUNT(*) FROM desa d WHERE d.code IN (SELECT desa_code FROM aspirations WHERE status IN ('baru',"
        " 'diterima', 'diproses', 'selesai') UNION SELECT a.desa_code FROM attachments l JOIN aspirations a"
        " ON a.id = l.aspiration_id WHERE l.kind = 'location' UNION SELECT desa_code FROM village_locations)")


async def test_a_province_heat_map_shows_kabupaten_first(tmp_path: Path, clock: FakeClock) -> None:
    from bot.people.regions import load_regions

    db = await Database.open(tmp_path / "jatim.db")
    try:
        await load_regions(db, "35")
        await seed(db, 300, start=clock.now())
        dash = Dashboard(db, ZoneInfo("Asia/Jakarta"))
        province = await dash.overview(PIMPINAN, clock.now())
        assert province.heat_level == "kabupaten"
        by_kabupaten = {r["kab"]: r["n"] for r in await db.fetchall(
            "SELECT substr(kecamatan_code, 1, 5) AS kab, COUNT(*) AS n FROM aspirations GROUP BY kab")}
        assert {r.code: r.total for r in province.heat} == by_kabupaten
        kab = max(by_kabupaten, key=lambda k: by_kabupaten[k])
        one = await dash.overview(PIMPINAN, clock.now(), kab)
        assert one.heat_level == "kecamatan" and one.total == by_kabupaten[kab]
        assert all(r.code.startswith(kab + ".") for r in one.heat) and one.kabupaten is not None
        listed = await dash.aspirations(PIMPINAN, ListFilters(kabupaten=kab), clock.now())
        assert listed.total == by_kabupaten[kab]
    finally:
        await db.close()
