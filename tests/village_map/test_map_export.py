"""Exports: the XLSX read back with openpyxl, CSV, Open311 GeoReport v2, shares per audience, and the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot import cli
from bot.aspirations import audience as audiences
from bot.aspirations.service import AspirationService, Attachment, Draft
from bot.core.clock import FakeClock, to_iso
from bot.people import roster
from bot.people.regions import load_regions
from bot.storage.database import Database
from bot.village_map.potential import PotentialDraft, PotentialPhoto
from bot.village_map.recap import Filters
from bot.village_map.service import VillageMap
from bot.village_map.xlsx import MAX_WIDTH, MIN_WIDTH, sheet_name
from tests.conftest import START
from tests.map_seed import seed

TZ = ZoneInfo("Asia/Jakarta")
XLSX_HEADERS = ["Tiket", "Tanggal masuk", "Desa", "Kode desa", "Kecamatan", "Kategori", "Status", "Diperbarui",
                "Ditutup", "Lama sampai ditutup (hari)", "OPD", "Tanggapan terakhir", "Tgl tanggapan terakhir",
                "Uraian", "Lintang", "Bujur", "Lampiran (arsip media)"]


@pytest.fixture
def vm(db: Database, clock: FakeClock) -> VillageMap:
    return VillageMap(db, clock, TZ, AspirationService(db, clock, TZ))


async def _kades(db: Database, clock: FakeClock, tg: int, desa: str) -> roster.Person:
    invitation = await roster.create_invitation(db, clock, role="kepala_desa", desa=desa)
    return await roster.redeem_invitation(db, clock, invitation.code, tg, f"Kades {tg}")


def _book(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _tickets(wb: openpyxl.Workbook) -> set[str]:
    found = set()
    for ws in wb.worksheets[1:]:
        if ws["A1"].value != "Tiket":
            continue
        found |= {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    return found


async def test_xlsx_has_summary_kecamatan_sheets_and_potential(db: Database, clock: FakeClock,
                                                                vm: VillageMap) -> None:
    await seed(db, 250, start=clock.now())
    kades = await _kades(db, clock, 10, "35.13.02.2001")
    await vm.potential.save(kades, PotentialDraft(
        kind="wisata", description="Air terjun di dusun Krajan, ramai saat libur", latitude=-7.86, longitude=113.31,
        photos=[PotentialPhoto("f1", "u1"), PotentialPhoto("f2", "u2")]))
    result = await vm.export("xlsx", audiences.for_export("pimpinan"))
    assert result.rows == 250 and result.filename == "sambang-aspirasi-pimpinan-20260302-0900.xlsx"
    wb = _book(result.content)

    with_rows = [r["name"] for r in await db.fetchall(
        "SELECT k.name FROM kecamatan k WHERE EXISTS (SELECT 1 FROM aspirations a WHERE a.kecamatan_code = k.code)"
        " ORDER BY k.code")]
    assert wb.sheetnames[:len(with_rows) + 3] == ["Ringkasan", "Semua Aspirasi", *with_rows, "Potensi Desa"]

    # every kecamatan sheet: formatted, frozen, filtered header; sensible widths; exactly its aspirations
    total = 0
    for name in with_rows:
        ws = wb[name]
        count = await db.fetchval("SELECT COUNT(*) FROM aspirations a JOIN kecamatan k ON k.code = a.kecamatan_code"
                                  " WHERE k.name = ?", (name,))
        assert [c.value for c in ws[1]] == XLSX_HEADERS
        assert all(c.font.b and c.fill.fgColor.rgb.endswith("1F4E78") for c in ws[1])
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:Q{count + 1}"
        assert ws.max_row == count + 1
        widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width for j in range(1, 18)]
        assert all(MIN_WIDTH <= w <= MAX_WIDTH for w in widths)
        assert widths[XLSX_HEADERS.index("Uraian")] == 60
        assert {row[4] for row in ws.iter_rows(min_row=2, values_only=True)} == {name}
        total += count
    assert total == 250

    # one aspiration, cell by cell, against the database
    row = await db.fetchone("SELECT a.*, d.name AS desa, k.name AS kec FROM aspirations a JOIN desa d ON"
                            " d.code = a.desa_code JOIN kecamatan k ON k.code = a.kecamatan_code WHERE a.id = 3")
    ws = wb[row["kec"]]
    cells = next(r for r in ws.iter_rows(min_row=2) if r[0].value == row["ticket"])
    values = [c.value for c in cells]
    created = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")).astimezone(TZ)
    assert values[1] == created.replace(tzinfo=None, microsecond=0)
    assert cells[1].is_date and cells[1].number_format == "dd/mm/yyyy hh:mm"
    assert values[2:5] == [row["desa"], row["desa_code"], row["kec"]]
    assert values[10] == (row["department"] or None)
    assert values[13] == row["description"]
    location = await db.fetchone("SELECT latitude, longitude FROM attachments WHERE aspiration_id = 3")
    assert (values[14], values[15]) == (location["latitude"], location["longitude"])
    if row["status"] != "baru":
        assert values[11].endswith("Tanggapan untuk nomor 3")

    # summary: totals that match the data, a frozen and filtered kecamatan table
    summary = wb["Ringkasan"]
    labels = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(2, 13)}
    assert labels["Jumlah aspirasi"] == 250 and labels["Untuk"] == "Pimpinan"
    assert labels["Terbuka"] == await db.fetchval(
        "SELECT COUNT(*) FROM aspirations WHERE status IN ('baru', 'diterima', 'diproses', 'selesai')")
    header = next(r for r in range(1, 30) if summary.cell(r, 2).value == "Jumlah")
    assert summary.cell(header, 1).font.b and summary.freeze_panes == f"B{header + 1}"
    assert summary.auto_filter.ref == f"A{header}:R{header + 24}"
    assert summary.cell(header + 25, 1).value == "JUMLAH" and summary.cell(header + 25, 2).value == 250
    assert summary.cell(header, 17).value == "Kinerja Kec."

    # the village potential sheet
    pot = wb["Potensi Desa"]
    assert pot.freeze_panes == "A2" and pot.auto_filter.ref == "A1:J2"
    assert [c.value for c in pot[2]][:8] == ["Sumber", "Ledokombo", "35.13.02.2001", "Wisata",
                                             "Air terjun di dusun Krajan, ramai saat libur", 2, -7.86, 113.31]


async def test_xlsx_keeps_awkward_text_exactly(db: Database, clock: FakeClock, vm: VillageMap) -> None:
    kades = await _kades(db, clock, 10, "35.13.02.2001")
    nasty = "=SUM(A1) <b>jalan</b> & \"jembatan\" 'rusak' \x07 — ꦗꦮ  "
    aspiration, _ = await vm.aspirations.submit(kades, Draft(category="infrastruktur", description=nasty), "k1")
    wb = _book((await vm.export("xlsx", audiences.for_export("admin"))).content)
    cell = wb["Sumber"]["N2"]
    assert cell.value == nasty.replace("\x07", "") and cell.data_type == "s"
    data, _ = await vm.exporter.csv(audiences.for_export("admin"), Filters())
    line = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1]
    assert line[0] == aspiration.ticket and line[13].startswith("'=SUM(A1)")  # not run as a formula


async def test_each_audience_gets_exactly_its_share(db: Database, clock: FakeClock, vm: VillageMap) -> None:
    await seed(db, 300, start=clock.now())
    all_tickets = {r["ticket"] for r in await db.fetchall("SELECT ticket FROM aspirations")}
    secret = {r["ticket"] for r in await db.fetchall("SELECT ticket FROM aspirations WHERE confidential = 1")}
    pupr = {r["ticket"] for r in await db.fetchall(
        "SELECT ticket FROM aspirations WHERE department = 'PUPR' AND confidential = 0")}
    assert secret and pupr

    async def feedback(filters: Filters):
        return ["Desa", "Nilai"], [["Ledokombo", 5]]

    vm.exporter.feedback_source = feedback
    leadership = _book((await vm.export("xlsx", audiences.for_export("pimpinan"))).content)
    admin = _book((await vm.export("xlsx", audiences.for_export("admin"))).content)
    official = _book((await vm.export("xlsx", audiences.for_export("pejabat", "PUPR"))).content)
    assert _tickets(leadership) == all_tickets
    assert _tickets(admin) == all_tickets - secret
    assert _tickets(official) == pupr
    assert "Umpan Balik Desa" in leadership.sheetnames
    assert leadership["Umpan Balik Desa"]["B2"].value == 5
    assert "Umpan Balik Desa" not in admin.sheetnames and "Umpan Balik Desa" not in official.sheetnames
    for book in (admin, official):
        texts = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and not c.value.startswith("Tanpa aspirasi")]  # the note saying so
        assert not any("Kinerja Kecamatan" in t or "Kinerja Kec." == t for t in texts)
    assert official["Ringkasan"]["B3"].value == "OPD PUPR"

    data, count = await vm.exporter.csv(audiences.for_export("pejabat", "PUPR"), Filters())
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == XLSX_HEADERS and {line[0] for line in lines[1:]} == pupr and count == len(pupr)


# -- Open311 GeoReport v2 ---------------------------------------------------------------------------------------------

#: GeoReport v2 service request fields (GET requests.json) and their JSON types.
GEOREPORT_FIELDS: dict[str, tuple[type, ...]] = {
    "service_request_id": (str,), "status": (str,), "status_notes": (str,), "service_name": (str,),
    "service_code": (str,), "description": (str,), "agency_responsible": (str,), "service_notice": (str,),
    "requested_datetime": (str,), "updated_datetime": (str,), "expected_datetime": (str,), "address": (str,),
    "address_id": (str,), "zipcode": (str,), "lat": (float, int), "long": (float, int), "media_url": (str,),
}
REQUIRED = ("service_request_id", "status", "service_name", "service_code", "description", "agency_responsible",
            "requested_datetime", "updated_datetime")


async def test_open311_service_requests_follow_georeport_v2(db: Database, clock: FakeClock, vm: VillageMap) -> None:
    await seed(db, 200, start=clock.now())
    kades = await _kades(db, clock, 10, "35.13.02.2001")
    await vm.aspirations.submit(kades, Draft(category="kinerja_kecamatan", description="Pungutan liar di kantor"
                                             " kecamatan untuk surat pengantar"), "secret")
    await vm.aspirations.submit(kades, Draft(category="kesehatan", description="Posyandu dusun Krajan tanpa timbangan",
                                             attachments=[Attachment("location", latitude=-7.9, longitude=113.2)]),
                                "open")
    result = await vm.export("open311", audiences.for_export("pimpinan"))  # even for leadership
    items = json.loads(result.content)
    public = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE confidential = 0")
    assert isinstance(items, list) and len(items) == public == result.rows
    secret = {r["ticket"] for r in await db.fetchall("SELECT ticket FROM aspirations WHERE confidential = 1")}
    assert len(secret) > 1 and not secret & {i["service_request_id"] for i in items}
    assert not any("Kinerja" in i["service_name"] for i in items)
    closed = {r["ticket"] for r in await db.fetchall(
        "SELECT ticket FROM aspirations WHERE status IN ('ditutup', 'ditolak', 'tidak_dapat', 'dibatalkan')")}
    located = {r["ticket"] for r in await db.fetchall(
        "SELECT a.ticket FROM aspirations a JOIN attachments t ON t.aspiration_id = a.id AND t.kind = 'location'")}
    for item in items:
        assert set(item) <= set(GEOREPORT_FIELDS), set(item) - set(GEOREPORT_FIELDS)
        for key in REQUIRED:
            assert item.get(key) not in (None, ""), key
        for key, value in item.items():
            assert isinstance(value, GEOREPORT_FIELDS[key]), (key, value)
        assert item["status"] == ("closed" if item["service_request_id"] in closed else "open")
        for key in ("requested_datetime", "updated_datetime"):
            moment = datetime.fromisoformat(item[key])
            assert moment.utcoffset() is not None and item[key].endswith("+07:00")
        assert ("lat" in item) == ("long" in item) == (item["service_request_id"] in located)
        if "lat" in item:
            assert -90 <= item["lat"] <= 90 and -180 <= item["long"] <= 180
    mine = next(i for i in items if i["description"].startswith("Posyandu"))
    assert mine["service_code"] == "kesehatan" and mine["service_name"] == "Kesehatan & Stunting"
    assert mine["address_id"] == "35.13.02.2001" and "Ledokombo" in mine["address"]
    assert (mine["lat"], mine["long"]) == (-7.9, 113.2)
    assert mine["requested_datetime"] == "2026-03-02T09:00:00+07:00"


def test_sheet_names_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_name("Wonorejo", taken) == "Wonorejo"
    assert sheet_name("wonorejo", taken) == "wonorejo (2)"
    assert sheet_name("A/B:C*D?[E]", taken) == "A B C D  E"
    assert len(sheet_name("x" * 40, taken)) == 31


# -- the command line ---------------------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database with aspirations, made outside any running event loop, and the environment pointing at it."""
    path = tmp_path / "cli.db"

    async def prepare() -> None:
        db = await Database.open(path)
        await load_regions(db, "35.13")
        await seed(db, 120, start=START)
        await db.close()

    asyncio.run(prepare())
    monkeypatch.setenv("SAMBANG_DB", str(path))
    monkeypatch.setenv("SAMBANG_WILAYAH", "35.13")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return path


def _count(path: Path, sql: str) -> int:
    async def run() -> int:
        db = await Database.open(path)
        try:
            return int(await db.fetchval(sql))
        finally:
            await db.close()

    return asyncio.run(run())


def test_cli_export_defaults_to_the_admin_share(cli_db: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", "--format", "xlsx"]) == 0
    made = list(tmp_path.glob("sambang-aspirasi-admin-*.xlsx"))
    assert len(made) == 1
    assert stat.S_IMODE(os.stat(made[0]).st_mode) == 0o600  # personal data: owner only
    public = _count(cli_db, "SELECT COUNT(*) FROM aspirations WHERE confidential = 0")
    assert len(_tickets(openpyxl.load_workbook(made[0]))) == public < 120
    assert f"untuk Admin: {public} aspirasi" in capsys.readouterr().err
    assert _count(cli_db, "SELECT COUNT(*) FROM audit_log WHERE action = 'ekspor'") == 1


def test_cli_export_for_leadership_a_department_and_filters(cli_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "semua.xlsx"
    assert cli.main(["export", "--audience", "pimpinan", "--output", str(out)]) == 0
    assert len(_tickets(openpyxl.load_workbook(out))) == 120
    assert cli.main(["export", "--format", "csv", "--audience", "pejabat:PUPR", "-o", "pupr.csv"]) == 0
    rows = list(csv.reader((tmp_path / "pupr.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) - 1 == _count(cli_db, "SELECT COUNT(*) FROM aspirations WHERE department = 'PUPR'")
    assert cli.main(["export", "--format", "open311", "--kecamatan", "tiris,Krucil", "--since", "2026-02-01",
                     "-o", "o.json"]) == 0
    items = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert items and all(("Kecamatan Tiris" in i["address"] or "Kecamatan Krucil" in i["address"]) and
                         i["requested_datetime"] >= "2026-02-01" for i in items)


def test_cli_export_refuses_bad_input(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", "--audience", "camat"]) == 1
    assert "Audiens 'camat' tidak dikenal" in capsys.readouterr().err
    assert cli.main(["export", "--kecamatan", "Atlantis"]) == 1
    assert "Kecamatan 'Atlantis' tidak ditemukan" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["export", "--since", "kemarin"])
    assert exc.value.code == 2
    assert cli.main(["export", "-o", "/nonexistent-dir/x.xlsx"]) == 1


async def test_last_response_is_the_latest_answer_to_the_village(db: Database, clock: FakeClock,
                                                                 vm: VillageMap) -> None:
    from bot.officials.service import HISTORY_LABELS

    kades = await _kades(db, clock, 10, "35.13.02.2001")
    aspiration, _ = await vm.aspirations.submit(kades, Draft(category="infrastruktur", description="Jalan desa"
                                                             " berlubang di dusun Krajan"), "k1")
    official = await db.execute("INSERT INTO people(telegram_id, name, role, department, created_at, updated_at)"
                                " VALUES (20, 'Andi', 'pejabat', 'PUPR', 'x', 'x')")
    history = [
        (official, HISTORY_LABELS["terima"], "diterima", None, 1),
        (official, HISTORY_LABELS["balas"], "diterima", "Tim survei datang Kamis", 2),
        (None, HISTORY_LABELS["eskalasi"], "diterima", "belum ditanggapi dalam 5 hari kerja", 3),  # not an answer
        (kades.id, "komentar desa", "diterima", "Terima kasih", 4),  # the village itself
    ]
    for actor, action, status, note, hours in history:
        clock.advance(hours=hours)
        await db.execute(
            "INSERT INTO aspiration_history(aspiration_id, at, actor_id, action, from_status, to_status, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (aspiration.id, to_iso(clock.now()), actor, action, status, status, note))
    [row] = await vm.exporter.rows(audiences.for_export("pimpinan"), Filters())
    assert row.response == "dibalas: Tim survei datang Kamis"
    assert row.response_at == datetime(2026, 3, 2, 12, 0)  # 09:00 WIB + 1 h + 2 h


def test_cli_export_csv_with_semicolons_and_decimal_commas(cli_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "ekspor.csv"
    assert cli.main(["export", "--format", "csv", "--separator", ";", "--audience", "pimpinan", "-o", str(out)]) == 0
    lines = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert lines[0][0] == "Tiket" and len(lines) > 1 and all(len(line) == len(lines[0]) for line in lines)
    numbers = [line[lines[0].index("Lintang")] for line in lines[1:] if line[lines[0].index("Lintang")]]
    assert numbers and all("," in n and "." not in n for n in numbers)
