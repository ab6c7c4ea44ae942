"""The map of problems and potential as services: potential, village search, profiles, recap and charts."""

from __future__ import annotations

import io
import statistics
import struct
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.aspirations import audience as audiences
from bot.aspirations.service import AspirationService, Draft
from bot.core.clock import FakeClock, from_iso, to_iso
from bot.core.domain import NotAllowed, NotFound, Role
from bot.people import roster
from bot.people.regions import search_desa, sound_key
from bot.storage.database import Database
from bot.village_map import charts
from bot.village_map.potential import MAX_PHOTOS, PotentialDraft, PotentialPhoto
from bot.village_map.recap import Filters, KecamatanRow, Recap, Tally
from bot.village_map.service import VillageMap
from tests.map_seed import seed

TZ = ZoneInfo("Asia/Jakarta")
LEDOKOMBO = "35.13.02.2001"  # Kec. Sumber


async def _person(db: Database, clock: FakeClock, tg: int, role: str, **place: str) -> roster.Person:
    invitation = await roster.create_invitation(db, clock, role=role, **place)
    return await roster.redeem_invitation(db, clock, invitation.code, tg, f"{role} {tg}")


def _official(department: str) -> roster.Person:
    """An official as the roster returns one (registering needs the departments loaded by the officials feature)."""
    return roster.Person(id=99, telegram_id=13, name="Kadis", role=Role.PEJABAT, desa_code=None, kecamatan_code=None,
                         department=department, title=None, phone=None, active=True)


@pytest.fixture
def vm(db: Database, clock: FakeClock) -> VillageMap:
    return VillageMap(db, clock, TZ, AspirationService(db, clock, TZ))


# -- potential ---------------------------------------------------------------------------------------------------


async def test_potential_is_saved_changed_and_deleted_by_its_village_only(db: Database, clock: FakeClock,
                                                                          vm: VillageMap) -> None:
    kades = await _person(db, clock, 10, "kepala_desa", desa=LEDOKOMBO)
    other = await _person(db, clock, 11, "kepala_desa", desa="35.13.07.2003")
    camat = await _person(db, clock, 12, "camat", kecamatan="Sumber")
    service = vm.potential
    draft = PotentialDraft(kind="wisata", description="Air terjun Madakaripura di dusun Krajan, 200 wisatawan sepekan",
                           photos=[PotentialPhoto("f1", "u1", 100)], latitude=-7.85, longitude=113.3)
    entry, created = await service.save(kades, draft)
    again, created_again = await service.save(kades, draft)  # "Simpan" pressed twice
    assert created and not created_again and again.id == entry.id
    assert await db.fetchval("SELECT COUNT(*) FROM village_potential") == 1
    assert entry.kind_label == "Wisata" and entry.desa_name == "Ledokombo" and len(entry.photos) == 1

    change = service.draft_of(entry)
    change.description = "Air terjun dan kebun kopi rakyat di dusun Krajan, dikelola pokdarwis"
    change.photos = []
    updated, created = await service.save(kades, change)
    assert not created and updated.id == entry.id and updated.photos == ()
    assert updated.description.startswith("Air terjun dan kebun kopi")

    # another village's head and a camat cannot touch it
    with pytest.raises(NotFound):
        await service.owned_entry(other, entry.id)
    with pytest.raises(NotFound):
        await service.delete(other, entry.id)
    foreign = service.draft_of(entry)
    with pytest.raises(NotFound):
        await service.save(other, foreign)
    with pytest.raises(NotAllowed):
        await service.save(camat, PotentialDraft(kind="umkm", description="Kerajinan anyaman bambu ibu-ibu PKK"))

    deleted = await service.delete(kades, entry.id)
    assert deleted.id == entry.id
    assert await db.fetchval("SELECT COUNT(*) FROM village_potential") == 0
    assert await db.fetchval("SELECT COUNT(*) FROM village_potential_photos") == 0
    actions = [r["action"] for r in await db.fetchall("SELECT action FROM audit_log WHERE action LIKE 'potensi%'")]
    assert actions == ["potensi_simpan", "potensi_ubah", "potensi_hapus"]


async def test_potential_limits_are_enforced(db: Database, clock: FakeClock, vm: VillageMap) -> None:
    kades = await _person(db, clock, 10, "kepala_desa", desa=LEDOKOMBO)
    from bot.core.domain import DomainError

    with pytest.raises(DomainError, match="terlalu pendek"):
        await vm.potential.save(kades, PotentialDraft(kind="pertanian", description="Padi"))
    with pytest.raises(DomainError, match="terlalu panjang: 1501 karakter"):
        await vm.potential.save(kades, PotentialDraft(kind="pertanian", description="x" * 1501))
    with pytest.raises(DomainError, match="Jenis potensi"):
        await vm.potential.save(kades, PotentialDraft(kind="emas", description="Tambang emas rakyat di bukit"))
    too_many = [PotentialPhoto(f"f{i}", f"u{i}") for i in range(MAX_PHOTOS + 1)]
    with pytest.raises(DomainError, match="Paling banyak 5 foto"):
        await vm.potential.save(kades, PotentialDraft(kind="pertanian", description="Sawah padi organik 20 ha",
                                                      photos=too_many))
    assert await db.fetchval("SELECT COUNT(*) FROM village_potential") == 0


# -- village search ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ("sumber anyar", [("Sumberanyar", "Paiton")]),
    ("SUMBERANYAR", [("Sumberanyar", "Paiton")]),
    ("Soemberanjar", [("Sumberanyar", "Paiton")]),  # old spelling
    ("sumbranyar", [("Sumberanyar", "Paiton")]),  # a letter missing
    ("  ledok   ombo ", [("Ledokombo", "Sumber")]),
    ("Desa Ledokmbo", [("Ledokombo", "Sumber")]),
    ("35.13.02.2001", [("Ledokombo", "Sumber")]),
    ("3513022001", [("Ledokombo", "Sumber")]),
    ("wonorejo", [("Wonorejo", "Maron"), ("Wonorejo", "Wonomerto")]),
    ("Wonorejo, Maron", [("Wonorejo", "Maron")]),
    ("wonorejo wonomerto", [("Wonorejo", "Wonomerto")]),
    ("Wonorejo, Kraksaan", [("Wonorejo", "Maron"), ("Wonorejo", "Wonomerto")]),  # wrong kecamatan: ask
    ("xyzzy", []),
    ("35.13.99.9999", []),
])
async def test_search_desa_tolerates_case_spacing_and_misspellings(db: Database, query: str,
                                                                   expected: list[tuple[str, str]]) -> None:
    found = await search_desa(db, query)
    assert sorted((d.name, d.kecamatan_name) for d in found) == sorted(expected)


async def test_search_desa_prefix_offers_several(db: Database) -> None:
    found = await search_desa(db, "sumberk")
    assert len(found) == 7 and all(d.name.startswith("Sumberk") for d in found)
    assert sound_key("Soember Anjar") == sound_key("sumberanyar") == "sumberanyar"


# -- audiences ---------------------------------------------------------------------------------------------------


async def test_audience_of_each_role(db: Database, clock: FakeClock) -> None:
    kades = await _person(db, clock, 10, "kepala_desa", desa=LEDOKOMBO)
    camat = await _person(db, clock, 11, "camat", kecamatan="Sumber")
    pimpinan = await _person(db, clock, 12, "pimpinan", title="Bupati")
    pejabat = _official("PUPR")
    admin = await _person(db, clock, 14, "admin")
    for refused in (kades, camat):
        with pytest.raises(NotAllowed):
            audiences.for_person(refused)
        with pytest.raises(NotAllowed):
            audiences.for_person(refused, export=True)
    assert audiences.for_person(pimpinan, export=True) == audiences.Audience("pimpinan", True, True)
    assert audiences.for_person(admin) == audiences.Audience("admin", True, True)
    assert audiences.for_person(admin, export=True) == audiences.Audience("admin", False, False)
    official = audiences.for_person(pejabat, export=True)
    assert (official.kind, official.confidential, official.feedback, official.department) == (
        "pejabat", False, False, "PUPR")
    await db.execute("INSERT INTO departments(code, name, created_at, updated_at) VALUES ('PUPR', 'Dinas PUPR',"
                     " '2026-01-01', '2026-01-01')")  # what the officials feature loads at start
    assert (await audiences.parse_audience(db, "pejabat:pupr")).department == "PUPR"
    with pytest.raises(NotAllowed):
        await audiences.parse_audience(db, "pejabat:NOPE")
    with pytest.raises(NotAllowed):
        await audiences.parse_audience(db, "camat")
    with pytest.raises(NotAllowed):
        await audiences.parse_audience(db, "pejabat:")


# -- recap ---------------------------------------------------------------------------------------------------------


async def _expected(db: Database, where: str = "1 = 1") -> dict[str, object]:
    """The recap computed the slow, obvious way from every row, to compare with the SQL aggregation."""
    rows = await db.fetchall(f"SELECT * FROM aspirations a WHERE {where}")
    per_cell: dict[tuple[str, str], int] = {}
    days: dict[str, list[float]] = {}
    for r in rows:
        per_cell[(r["kecamatan_code"], r["category"])] = per_cell.get((r["kecamatan_code"], r["category"]), 0) + 1
        if r["status"] == "ditutup":
            d = (from_iso(r["closed_at"]) - from_iso(r["created_at"])).total_seconds() / 86400
            days.setdefault(r["kecamatan_code"], []).append(d)
    open_ = {}
    for r in rows:
        if r["status"] in ("baru", "diterima", "diproses", "selesai"):
            open_[r["kecamatan_code"]] = open_.get(r["kecamatan_code"], 0) + 1
    active = {r["desa_code"] for r in rows} | {
        r["desa_code"] for r in await db.fetchall("SELECT desa_code FROM village_potential")}
    return {
        "cells": per_cell, "open": open_, "median": {k: statistics.median(v) for k, v in days.items()},
        "all_days": [d for v in days.values() for d in v], "active": len(active), "total": len(rows),
    }


async def test_recap_counts_medians_and_coverage(db: Database, clock: FakeClock, vm: VillageMap) -> None:
    await seed(db, 600, start=clock.now())
    kades = await _person(db, clock, 10, "kepala_desa", desa="35.13.24.2001")
    await vm.potential.save(kades, PotentialDraft(kind="peternakan", description="Sapi perah 300 ekor, susu segar"))
    recap = await vm.recap(audiences.for_export("pimpinan"))
    want = await _expected(db)
    assert recap.total.total == want["total"] == 600
    assert len(recap.rows) == 24 and recap.categories[-2:] == ("kinerja_kecamatan", "lainnya")
    for i, row in enumerate(recap.rows):
        for j, cat in enumerate(recap.categories):
            assert recap.matrix()[i][j] == want["cells"].get((row.code, cat), 0)
        assert row.tally.open == want["open"].get(row.code, 0)
        expected_median = want["median"].get(row.code)
        if expected_median is None:
            assert row.tally.median_days is None
        else:
            assert row.tally.median_days == pytest.approx(expected_median, abs=1e-4)
    assert recap.total.median_days == pytest.approx(statistics.median(want["all_days"]), abs=1e-4)
    assert recap.total.open + recap.total.resolved + recap.total.closed_other == 600
    assert recap.total.villages == 330
    assert recap.total.villages_active == want["active"]
    assert recap.total.coverage == pytest.approx(want["active"] / 330)


async def test_recap_since_and_kecamatan_filters(db: Database, clock: FakeClock, vm: VillageMap) -> None:
    await seed(db, 400, start=clock.now())
    since = (clock.now() - timedelta(days=30)).astimezone(TZ).date()
    tiris = (await vm.resolve_kecamatan(["tiris"]))[0]
    recap = await vm.recap(audiences.for_export("pimpinan"), Filters(since=since, kecamatan_codes=(tiris,)))
    start = to_iso(datetime.combine(since, datetime.min.time(), tzinfo=TZ))
    want = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE created_at >= ? AND kecamatan_code = ?",
                             (start, tiris))
    assert [r.name for r in recap.rows] == ["Tiris"]
    assert recap.total.total == want > 0


async def test_each_role_sees_exactly_its_share_in_the_recap_and_profile(db: Database, clock: FakeClock,
                                                                         vm: VillageMap) -> None:
    await seed(db, 300, start=clock.now())
    pejabat = _official("PUPR")
    everything = await vm.recap(audiences.for_export("pimpinan"))
    admin_view = await vm.recap(audiences.Audience("admin", True, True))
    admin_export = await vm.recap(audiences.for_export("admin"))
    official = await vm.recap(audiences.for_person(pejabat))
    confidential = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE confidential = 1")
    pupr = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE department = 'PUPR' AND confidential = 0")
    assert confidential > 0 and pupr > 0
    assert everything.total.total == admin_view.total.total == 300
    assert "kinerja_kecamatan" in everything.categories
    assert admin_export.total.total == 300 - confidential and "kinerja_kecamatan" not in admin_export.categories
    assert official.total.total == pupr and set(official.total.by_category) == {"infrastruktur"}

    desa = await db.fetchval("SELECT desa_code FROM aspirations WHERE department = 'PUPR' GROUP BY desa_code"
                             " ORDER BY COUNT(*) DESC LIMIT 1")
    in_desa = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE desa_code = ?", (desa,))
    pupr_in_desa = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE desa_code = ? AND department = 'PUPR'",
                                     (desa,))
    full = await vm.profile(desa, audiences.for_export("pimpinan"))
    part = await vm.profile(desa, audiences.for_person(pejabat))
    assert f"Aspirasi</b>: {in_desa}" in (full.section("aspirasi") or "")
    assert f"yang ditangani PUPR: {pupr_in_desa}" in (part.section("aspirasi") or "")
    assert "Kinerja Kecamatan" not in (part.section("aspirasi") or "")


async def test_profile_sections_can_be_added_by_other_features(db: Database, clock: FakeClock,
                                                               vm: VillageMap) -> None:
    async def agenda(request):
        return f"Agenda Kec. {request.desa.kecamatan_name}"

    async def secret(request):
        return "Catatan pimpinan" if request.audience.feedback else None

    vm.add_section("catatan", secret)
    vm.add_section("agenda", agenda, after="aspirasi")
    vm.add_section("agenda", agenda)  # once only
    full = await vm.profile(LEDOKOMBO, audiences.for_export("pimpinan"))
    keys = [k for k, _ in full.sections]
    assert keys[:3] == ["aspirasi", "agenda", "potensi"] and keys[-1] == "catatan"
    assert full.section("agenda") == "Agenda Kec. Sumber"
    official = await vm.profile(LEDOKOMBO, audiences.for_export("pejabat", "PUPR"))
    assert "catatan" not in [k for k, _ in official.sections]
    assert "Kepala desa: belum terdaftar" in full.parts()[0]


# -- charts ----------------------------------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


async def test_charts_are_pngs_of_the_expected_size_showing_the_recap(db: Database, clock: FakeClock,
                                                                      vm: VillageMap) -> None:
    await seed(db, 500, start=clock.now())
    recap, drawn = await vm.charts(audiences.for_export("pimpinan"))
    heat, bars = drawn
    assert _png_size(heat.png) == charts.HEATMAP_SIZE == (heat.width, heat.height)
    assert _png_size(bars.png) == charts.BAR_SIZE == (bars.width, bars.height)
    for chart in drawn:
        image = Image.open(io.BytesIO(chart.png))
        image.verify()
        assert image.format == "PNG" and image.size == (chart.width, chart.height)
    # the heat map shows the recap's matrix; the bars the open aspirations, largest first
    assert heat.row_level == "kecamatan" and heat.rows == tuple(r.name for r in recap.rows)
    assert heat.columns == recap.categories
    assert [list(v) for v in heat.values] == recap.matrix()
    assert heat.total == 500
    opened = {r.name: r.tally.open for r in recap.rows}
    assert dict(zip(bars.rows, (v[0] for v in bars.values), strict=True)) == opened
    assert [v[0] for v in bars.values] == sorted(opened.values(), reverse=True)
    assert sum(opened.values()) == await db.fetchval(
        "SELECT COUNT(*) FROM aspirations WHERE status IN ('baru', 'diterima', 'diproses', 'selesai')")


async def test_charts_of_an_official_audience_leave_out_the_confidential_column(db: Database, clock: FakeClock,
                                                                                vm: VillageMap) -> None:
    await seed(db, 200, start=clock.now())
    recap, (heat, _bars) = await vm.charts(audiences.for_export("admin"))
    assert "kinerja_kecamatan" not in heat.columns
    assert heat.total == await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE confidential = 0")


def test_charts_group_a_province_by_kabupaten() -> None:
    rows = []
    for k in range(3):
        for i in range(20):
            tally = Tally(total=i, open=i % 4, by_category={"infrastruktur": i})
            rows.append(KecamatanRow(f"35.{k:02d}.{i:02d}", f"Kec {k}-{i}", f"35.{k:02d}", f"Kabupaten {k}", tally))
    recap = Recap("Pimpinan", Filters(since=date(2026, 1, 1)), datetime(2026, 3, 2, tzinfo=UTC),
                  ("infrastruktur", "lainnya"), rows, Tally(), (("35.00", "A"), ("35.01", "B"), ("35.02", "C")))
    heat = charts.heatmap(recap)
    bars = charts.open_bars(recap)
    assert heat.row_level == bars.row_level == "kabupaten"
    assert heat.rows == ("Kabupaten 0", "Kabupaten 1", "Kabupaten 2")
    assert heat.values == ((190, 0),) * 3
    assert bars.values == ((sum(i % 4 for i in range(20)),),) * 3
    assert _png_size(heat.png) == charts.HEATMAP_SIZE


async def test_empty_recap_still_draws(db: Database, clock: FakeClock, vm: VillageMap) -> None:
    recap, drawn = await vm.charts(audiences.for_export("pimpinan"))
    assert recap.total.total == 0 and recap.total.median_days is None
    assert all(_png_size(c.png) == (c.width, c.height) for c in drawn)
    assert drawn[0].total == 0


async def test_submitted_aspirations_appear_in_the_recap(db: Database, clock: FakeClock, vm: VillageMap) -> None:
    kades = await _person(db, clock, 10, "kepala_desa", desa=LEDOKOMBO)
    for cat in ("infrastruktur", "infrastruktur", "kesehatan"):
        await vm.aspirations.submit(kades, Draft(category=cat, description="Masalah desa yang perlu ditangani"),
                                    f"k-{cat}-{clock.now()}")
        clock.advance(minutes=1)
    recap = await vm.recap(audiences.for_export("pimpinan"))
    sumber = next(r for r in recap.rows if r.name == "Sumber")
    assert sumber.tally.by_category == {"infrastruktur": 2, "kesehatan": 1}
    assert sumber.tally.open == 3 and sumber.tally.villages_active == 1
