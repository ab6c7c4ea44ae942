"""Exports of the aspirations: XLSX (summary, one sheet per kecamatan, village potential), CSV, and Open311
GeoReport v2 JSON for other complaint systems.

Every export is for an ``Audience`` (see bot/aspirations/audience.py): leadership gets everything including "Kinerja
Kecamatan" items and the villages' feedback; admins everything else; an official their department's share. Open311
never contains confidential items, whoever asks. Rows come from one SQL query (with the last response per
aspiration from an indexed subquery); spreadsheets are assembled in a worker thread.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.aspirations.audience import Audience
from bot.aspirations.service import AspirationService
from bot.core.clock import from_iso
from bot.core.domain import CLOSED_STATUSES, category_label, status_label
from bot.core.wording import phrases, plain
from bot.core.workdays import working_days_between
from bot.officials.service import HISTORY_LABELS
from bot.storage.database import Database
from bot.village_map.potential import Potential
from bot.village_map.recap import Filters, Recap, format_percent, short_label

if TYPE_CHECKING:
    from bot.village_map import xlsx
    from bot.village_map.xlsx import Table as SheetTable  # ``xlsx`` in the class body is the method


def _xlsx() -> Any:
    """openpyxl (with numpy and Pillow, ~30 MB) loads only when a spreadsheet is asked for."""
    from bot.village_map import xlsx

    return xlsx

FORMATS = ("xlsx", "csv", "open311")
#: Statuses in which the departments work against the service levels.
_OPEN_WORK = ("baru", "diterima", "diproses")
#: History entries that are not a response to the village: the submission itself and an escalation to leadership.
NOT_RESPONSES = ("dikirim", HISTORY_LABELS["eskalasi"])
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "open311": "application/json",
}
EXTENSION = {"xlsx": "xlsx", "csv": "csv", "open311": "json"}
#: An aspiration's responsible departments, comma-separated, from the routing table.
DEPARTMENT_SQL = ("(SELECT group_concat(ad.department, ',') FROM aspiration_departments ad"
                  " WHERE ad.aspiration_id = a.id AND ad.active = 1)")

HEADERS = (
    "Tiket", "Tanggal masuk", "Desa", "Kode desa", "Kecamatan", "Kategori", "Status", "Diperbarui", "Ditutup",
    "Lama sampai ditutup (hari)", "OPD", "Tanggapan terakhir", "Tgl tanggapan terakhir", "Uraian", "Lintang", "Bujur",
    "Lampiran (arsip media)",
)
#: Fixed widths where the content would make a column too wide or too narrow.
WIDTHS: tuple[float | None, ...] = (16, 17, None, 15, None, None, None, 17, 17, 12, None, 50, 17, 60, 11, 11, 60)
POTENTIAL_HEADERS = ("Kecamatan", "Desa", "Kode desa", "Jenis", "Uraian", "Foto", "Lintang", "Bujur", "Diperbarui",
                     "Diperbarui oleh")
POTENTIAL_WIDTHS: tuple[float | None, ...] = (None, None, 15, None, 60, 6, 11, 11, 17, None)

#: Columns of the feedback sheet and the rows (leadership's exports only); None when there is no feedback feature.
FeedbackSource = Callable[[Filters], Awaitable[tuple[Sequence[str], list[Sequence[Any]]] | None]]


class ExportRow(NamedTuple):
    ticket: str
    created: datetime  # local, naive (as spreadsheets show it)
    desa_name: str
    desa_code: str
    kecamatan_code: str
    kecamatan_name: str
    kabupaten_name: str
    category: str
    status: str
    updated: datetime
    closed: datetime | None
    days: float | None
    department: str
    response: str
    response_at: datetime | None
    description: str
    latitude: float | None
    longitude: float | None
    confidential: bool
    #: UTC offset of ``created`` and ``updated``, e.g. "+07:00", for Open311's W3C datetimes.
    created_offset: str
    updated_offset: str
    #: The responsible departments' codes, and the service levels (ISO dates; None: not met yet / none).
    department_codes: tuple[str, ...] = ()
    accept_due: str | None = None
    respond_due: str | None = None
    accepted_at: str | None = None
    responded_at: str | None = None
    #: Each photo, document, voice note and video with its path in the media archive (SAMBANG_MEDIA_DIR).
    attachments: str = ""

    def overdue_days(self, today: date) -> int | None:
        """Working days past the earliest missed service level while the departments still work on it; 0 when
        none is missed; None once it left their hands (done, closed)."""
        if self.status not in _OPEN_WORK:
            return None
        missed = [due for due, met in ((self.accept_due, self.accepted_at), (self.respond_due, self.responded_at))
                  if due and met is None and due < today.isoformat()]
        return working_days_between(date.fromisoformat(min(missed)), today) if missed else 0

    def cells(self) -> tuple[Any, ...]:
        return (self.ticket, self.created, self.desa_name, self.desa_code, self.kecamatan_name,
                category_label(self.category), status_label(self.status), self.updated, self.closed, self.days,
                self.department, self.response, self.response_at, self.description, self.latitude, self.longitude,
                self.attachments)


@dataclass(frozen=True)
class ArchivedAttachment:
    kind: str
    file_name: str | None
    duration: int | None
    #: relative to the archive folder; None while not archived
    path: str | None
    status: str | None

    def describe(self) -> str:
        """"pesan suara 0:42: ab/abcdef….ogg", "dokumen proposal.pdf: (belum diarsipkan)"."""
        words = phrases("village_map/export_media")  # the kinds of file and "not archived (yet)"
        label = words.get(self.kind, self.kind)
        if self.file_name:
            label += f" {self.file_name}"
        if self.duration is not None and self.kind in ("voice", "video", "video_note"):
            label += f" {self.duration // 60}:{self.duration % 60:02d}"
        if self.path:
            return f"{label}: {self.path}"
        return f"{label}: ({words['failed' if self.status == 'failed' else 'pending']})"


class LocalTimes:
    """Stored UTC stamps as local wall-clock times, fast: the zone's offset is looked up once per UTC hour."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[str, tuple[timedelta, str]] = {}

    def offset(self, stamp: str) -> tuple[timedelta, str]:
        hour = stamp[:13]
        hit = self._offsets.get(hour)
        if hit is None:
            delta = datetime.fromisoformat(hour + ":00:00+00:00").astimezone(self.tz).utcoffset() or timedelta(0)
            minutes = int(delta.total_seconds() // 60)
            sign = "-" if minutes < 0 else "+"
            hit = self._offsets[hour] = (delta, f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
        return hit

    def local(self, stamp: str | None) -> datetime | None:
        """'2026-03-02T02:00:00.000000Z' -> datetime(2026, 3, 2, 9, 0) in Asia/Jakarta (seconds precision)."""
        if not stamp:
            return None
        return datetime.fromisoformat(stamp[:19]) + self.offset(stamp)[0]


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    mime_type: str
    rows: int
    audience: str


@dataclass
class Exporter:
    db: Database
    aspirations: AspirationService
    tz: ZoneInfo
    #: Set by the feedback feature; None until it exists.
    feedback_source: FeedbackSource | None = None
    extra_sheets: list[Callable[[Audience, Filters], Awaitable[xlsx.Table | None]]] = field(default_factory=list)

    # -- data ---------------------------------------------------------------------------------------------------

    async def department_names(self) -> dict[str, str]:
        """Department code -> name, once the departments table exists (else the codes speak for themselves)."""
        columns = {r["name"] for r in await self.db.fetchall("PRAGMA table_info(departments)")}
        if not {"code", "name"} <= columns:
            return {}
        return {r["code"]: r["name"] for r in await self.db.fetchall("SELECT code, name FROM departments")}

    async def department_sql(self) -> str:
        """SQL for an aspiration's responsible departments, from the routing table."""
        return DEPARTMENT_SQL

    async def rows(self, audience: Audience, filters: Filters, *, public_only: bool = False) -> list[ExportRow]:
        share, share_params = audience.where(self.aspirations)
        department = await self.department_sql()
        scope, scope_params = filters.sql(self.tz)
        where = f"({share}) AND ({scope})" + (" AND a.confidential = 0" if public_only else "")
        records = await self.db.fetchall(
            "SELECT a.ticket, a.created_at, a.updated_at, a.closed_at, a.category, a.status,"
            f" {department} AS department, a.description, a.confidential, a.desa_code, d.name AS desa_name,"
            " a.kecamatan_code,"
            " k.name AS kecamatan_name, k.kabupaten_name, h.at AS response_at, h.action AS response_action,"
            " h.to_status AS response_status, h.note AS response_note, loc.latitude, loc.longitude,"
            " s.accept_due, s.respond_due, s.accepted_at, s.responded_at"
            " FROM aspirations a JOIN desa d ON d.code = a.desa_code JOIN kecamatan k ON k.code = a.kecamatan_code"
            " LEFT JOIN aspiration_sla s ON s.aspiration_id = a.id"
            " LEFT JOIN aspiration_history h ON h.id = (SELECT MAX(h2.id) FROM aspiration_history h2"
            "   WHERE h2.aspiration_id = a.id AND h2.action NOT IN (?, ?)"
            "   AND (h2.actor_id IS NULL OR h2.actor_id <> a.submitter_id))"
            " LEFT JOIN attachments loc ON loc.id = (SELECT MAX(l.id) FROM attachments l"
            "   WHERE l.aspiration_id = a.id AND l.kind = 'location')"
            f" WHERE {where} ORDER BY a.kecamatan_code, a.created_at, a.id",
            [*NOT_RESPONSES, *share_params, *scope_params],
        )
        names = await self.department_names()
        files = await self._attachments(where, [*share_params, *scope_params])
        return await asyncio.to_thread(self._convert, records, names, files)

    async def _attachments(self, where: str, params: list[Any]) -> dict[str, list[ArchivedAttachment]]:
        """ticket -> its files with their archive paths, for the aspirations ``where`` selects."""
        found: dict[str, list[ArchivedAttachment]] = {}
        for r in await self.db.fetchall(
            "SELECT a.ticket, t.kind, t.file_name, t.duration, f.path, m.status"
            " FROM aspirations a JOIN desa d ON d.code = a.desa_code JOIN kecamatan k ON k.code = a.kecamatan_code"
            " JOIN attachments t ON t.aspiration_id = a.id"
            " LEFT JOIN media_downloads m ON m.file_unique_id = t.file_unique_id"
            " LEFT JOIN media_files f ON f.sha256 = m.sha256 AND m.status = 'done'"
            f" WHERE {where} AND t.kind <> 'location' ORDER BY a.id, t.position",
            params,
        ):
            found.setdefault(r["ticket"], []).append(
                ArchivedAttachment(r["kind"], r["file_name"], r["duration"], r["path"], r["status"]))
        return found

    async def archived_paths(self, audience: Audience, filters: Filters) -> list[str]:
        """The archive paths of every file of the aspirations this export holds (``--with-media``)."""
        share, share_params = audience.where(self.aspirations)
        scope, scope_params = filters.sql(self.tz)
        files = await self._attachments(f"({share}) AND ({scope})", [*share_params, *scope_params])
        return sorted({f.path for items in files.values() for f in items if f.path})

    def _convert(self, records: list[Any], names: dict[str, str],
                 files: dict[str, list[ArchivedAttachment]]) -> list[ExportRow]:
        times = LocalTimes(self.tz)
        local = times.local
        out = []
        for r in records:
            created_at, updated_at, closed_at = r["created_at"], r["updated_at"] or r["created_at"], r["closed_at"]
            created, updated = local(created_at), local(updated_at)
            assert created is not None and updated is not None  # every aspiration has its creation time
            closed = local(closed_at)
            note = (r["response_note"] or "").strip()
            label = r["response_action"] or (status_label(r["response_status"]) if r["response_status"] else "")
            response = f"{label}: {note}" if note and label else (note or label)
            days = None
            if closed_at and created_at:
                elapsed = datetime.fromisoformat(closed_at[:19]) - datetime.fromisoformat(created_at[:19])
                days = round(elapsed.total_seconds() / 86400, 1)
            department = ", ".join(names.get(code, code) for code in (r["department"] or "").split(",") if code)
            attached = files.get(r["ticket"], [])
            description = r["description"]
            if not description.strip():  # told by voice: say so, with where to listen to it
                description = "; ".join(f.describe() for f in attached if f.kind == "voice")
            out.append(ExportRow(
                r["ticket"], created, r["desa_name"], r["desa_code"], r["kecamatan_code"], r["kecamatan_name"],
                r["kabupaten_name"], r["category"], r["status"], updated, closed, days,
                department, response, local(r["response_at"]), description,
                r["latitude"], r["longitude"], bool(r["confidential"]), times.offset(created_at)[1],
                times.offset(updated_at)[1], tuple(c for c in (r["department"] or "").split(",") if c),
                r["accept_due"], r["respond_due"], r["accepted_at"], r["responded_at"],
                attachments="\n".join(f.describe() for f in attached),
            ))
        return out

    # -- formats ------------------------------------------------------------------------------------------------

    async def xlsx(self, audience: Audience, filters: Filters, recap: Recap,
                   potential: list[Potential]) -> tuple[bytes, int]:
        rows = await self.rows(audience, filters)
        feedback: xlsx.Table | None = None
        if audience.feedback and self.feedback_source is not None:
            found = await self.feedback_source(filters)
            if found is not None:
                feedback = _xlsx().Table(phrases("village_map/xlsx_summary")["sheet_feedback"], *found)
        extra = [t for t in [await make(audience, filters) for make in self.extra_sheets] if t is not None]
        names = await self.department_names()
        today = recap.generated_at.astimezone(self.tz).date()
        content = await asyncio.to_thread(self._build_xlsx, audience, recap, rows, potential, feedback, extra,
                                          all_rows_table(rows, names, today))
        return content, len(rows)

    def _build_xlsx(self, audience: Audience, recap: Recap, rows: list[ExportRow], potential: list[Potential],
                    feedback: SheetTable | None, extra: list[SheetTable], everything: SheetTable) -> bytes:
        from openpyxl import Workbook

        from bot.village_map import xlsx as sheets

        wb = Workbook()
        tables: list[sheets.Table] = []
        taken: set[str] = set()
        summary = wb.active
        assert summary is not None  # a new workbook has its one sheet
        words = phrases("village_map/xlsx_summary")
        summary.title = sheets.sheet_name(words["sheet"], taken)
        self._summary(summary, audience, recap, len(rows))
        tables.append(everything)
        by_kecamatan: dict[str, list[tuple[Any, ...]]] = {}
        titles: dict[str, str] = {}
        for row in rows:
            by_kecamatan.setdefault(row.kecamatan_code, []).append(row.cells())
            titles[row.kecamatan_code] = row.kecamatan_name
        for code, cells in by_kecamatan.items():
            tables.append(sheets.Table(titles[code], HEADERS, cells, WIDTHS))
        tables.append(sheets.Table(words["sheet_potential"], POTENTIAL_HEADERS, [
            (p.kecamatan_name, p.desa_name, p.desa_code, p.kind_label, p.description, len(p.photos), p.latitude,
             p.longitude, from_iso(p.updated_at).astimezone(self.tz).replace(tzinfo=None, microsecond=0),
             p.updated_by_name or "")
            for p in potential
        ], POTENTIAL_WIDTHS))
        if feedback is not None:
            tables.append(feedback)
        tables.extend(extra)
        for table in tables:
            sheets.add_table_sheet(wb, table, taken)
        return sheets.save(wb, tables)

    def _summary(self, ws: Any, audience: Audience, recap: Recap, count: int) -> None:
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        xlsx = _xlsx()
        since = recap.filters.since
        words = phrases("village_map/xlsx_summary")
        ws["A1"] = words["title"]
        ws["A1"].font = Font(bold=True, size=14)
        meta: list[tuple[str, Any]] = [
            (words["made"], recap.generated_at.astimezone(self.tz).replace(tzinfo=None, microsecond=0)),
            (words["audience"], recap.audience_label),
            (words["period"], plain("village_map/xlsx_since", since=f"{since:%d/%m/%Y}") if since
             else words["whole_period"]),
            (words["kecamatan"], ", ".join(r.name for r in recap.rows) if recap.filters.kecamatan_codes
             else words["all_kecamatan"]),
            (words["count"], count),
            (words["open"], recap.total.open),
            (words["resolved"], recap.total.resolved),
            (words["closed_other"], recap.total.closed_other),
            (words["median"], round(recap.total.median_days, 1) if recap.total.median_days is not None else "-"),
            (words["coverage"], plain("village_map/xlsx_coverage", active=recap.total.villages_active,
                                      total=recap.total.villages, percent=format_percent(recap.total.coverage))),
        ]
        if not audience.confidential:
            meta.append((words["note"], words["note_text"]))
        for i, (label, value) in enumerate(meta, start=2):
            ws.cell(row=i, column=1, value=label).font = Font(bold=True)
            cell = ws.cell(row=i, column=2, value=value)
            if isinstance(value, datetime):
                cell.number_format = xlsx.DATETIME_FORMAT
        header_row = len(meta) + 3
        headers = ["Kecamatan", "Jumlah", "Terbuka", "Tuntas", "Ditutup lainnya", "Median hari sampai tuntas",
                   "Desa aktif", "Jumlah desa", "Cakupan (%)", *(short_label(c) for c in recap.categories)]
        for j, header in enumerate(headers, start=1):
            ws.cell(row=header_row, column=j, value=header)
        xlsx.style_header(ws, header_row, len(headers))

        def line(name: str, t: Any) -> list[Any]:
            return [name, t.total, t.open, t.resolved, t.closed_other,
                    round(t.median_days, 1) if t.median_days is not None else None, t.villages_active, t.villages,
                    round(t.coverage * 100, 1), *(t.by_category.get(c, 0) for c in recap.categories)]

        for i, kec in enumerate(recap.rows, start=header_row + 1):
            for j, value in enumerate(line(kec.name, kec.tally), start=1):
                ws.cell(row=i, column=j, value=value)
        total_row = header_row + len(recap.rows) + 1
        for j, value in enumerate(line("JUMLAH", recap.total), start=1):
            ws.cell(row=total_row, column=j, value=value).font = Font(bold=True)
        ws.freeze_panes = f"B{header_row + 1}"
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{total_row - 1}"
        ws.column_dimensions["A"].width = 30
        ws.column_dimensions["B"].width = 22
        for j in range(3, len(headers) + 1):
            ws.column_dimensions[get_column_letter(j)].width = max(10.0, min(18.0, len(headers[j - 1]) + 2))

    async def csv(self, audience: Audience, filters: Filters, *, delimiter: str = ",") -> tuple[bytes, int]:
        """CSV with ``delimiter`` "," or ";" (Excel with Indonesian regional settings: its decimals then use a
        comma too)."""
        rows = await self.rows(audience, filters)
        return await asyncio.to_thread(_csv_bytes, rows, delimiter), len(rows)

    async def open311(self, audience: Audience, filters: Filters) -> tuple[bytes, int]:
        """GeoReport v2 service requests (a JSON array); confidential items are never included."""
        rows = await self.rows(audience, filters, public_only=True)
        return await asyncio.to_thread(_open311_bytes, rows), len(rows)


# -- one sheet with every aspiration, for pivot tables ----------------------------------------------------------

ALL_HEADERS = (
    "Tiket", "Tanggal masuk", "Bulan masuk", "Kabupaten", "Kecamatan", "Kode kecamatan", "Desa", "Kode desa",
    "Kategori", "Status", "Terbuka", "Batas terima", "Batas tanggapan", "Lewat batas (hari kerja)", "Ditutup",
    "Lama sampai ditutup (hari)", "OPD utama", "Jumlah OPD",
)


def all_rows_table(rows: list[ExportRow], names: dict[str, str], today: date) -> SheetTable:
    """Every aspiration on one sheet, one row each, for pivot tables: deadlines, working days overdue, and one
    column per department (1 where the department handles it), besides the first department."""
    codes = sorted({c for r in rows for c in r.department_codes})
    headers = (*ALL_HEADERS, *(f"OPD {code}" for code in codes))
    closed = {s.value for s in CLOSED_STATUSES}
    out = []
    for r in rows:
        handles = set(r.department_codes)
        first = r.department_codes[0] if r.department_codes else None
        out.append((
            r.ticket, r.created, r.created.strftime("%Y-%m"), r.kabupaten_name, r.kecamatan_name, r.kecamatan_code,
            r.desa_name, r.desa_code, category_label(r.category), status_label(r.status),
            "Tidak" if r.status in closed else "Ya",
            _day(r.accept_due), _day(r.respond_due), r.overdue_days(today), r.closed, r.days,
            names.get(first, first) if first else None, len(r.department_codes),
            *(1 if code in handles else None for code in codes),
        ))
    widths = (16, 17, 10, None, None, 14, None, 15, None, None, 8, 17, 17, 12, 17, 12, None, 8)
    from bot.village_map import xlsx as sheets

    return sheets.Table(phrases("village_map/xlsx_summary")["sheet_all"], headers, out, widths)


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


# -- CSV ----------------------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: Any, decimal: str = ".") -> str:
    """A cell as text; text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv_bytes(rows: list[ExportRow], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    decimal = "," if delimiter == ";" else "."
    writer.writerow(HEADERS)
    writer.writerows([_csv_text(v, decimal) for v in row.cells()] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


# -- Open311 GeoReport v2 ----------------------------------------------------------------------------------------


def service_request(row: ExportRow) -> dict[str, Any]:
    """One GeoReport v2 service request. Optional fields without a value are left out."""
    closed = row.status in {s.value for s in CLOSED_STATUSES}
    notes = status_label(row.status)
    if row.response and row.response != notes:
        notes = f"{notes}. {row.response}"
    item: dict[str, Any] = {
        "service_request_id": row.ticket,
        "status": "closed" if closed else "open",
        "status_notes": notes,
        "service_name": category_label(row.category),
        "service_code": row.category,
        "description": row.description,
        "agency_responsible": row.department or "Pemerintah " + row.kabupaten_name,
        "requested_datetime": row.created.isoformat() + row.created_offset,
        "updated_datetime": row.updated.isoformat() + row.updated_offset,
        "address": f"Desa {row.desa_name}, Kecamatan {row.kecamatan_name}, {row.kabupaten_name}",
        "address_id": row.desa_code,
    }
    if row.latitude is not None and row.longitude is not None:
        item["lat"] = row.latitude
        item["long"] = row.longitude
    return item


def _open311_bytes(rows: list[ExportRow]) -> bytes:
    """A JSON array, one service request per line (json's C encoder; indenting would use the slow one)."""
    items = [json.dumps(service_request(r), ensure_ascii=False) for r in rows if not r.confidential]
    return (("[\n" + ",\n".join(items) + "\n]\n") if items else "[]\n").encode("utf-8")


def filename(fmt: str, now: datetime, tz: ZoneInfo, audience: Audience) -> str:
    stamp = now.astimezone(tz).strftime("%Y%m%d-%H%M")
    who = audience.kind if audience.department is None else f"opd-{audience.department.lower()}"
    suffix = "open311" if fmt == "open311" else "aspirasi"
    return f"sambang-{suffix}-{who}-{stamp}.{EXTENSION[fmt]}"
