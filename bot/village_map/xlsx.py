"""Spreadsheets with openpyxl, fast enough for 100,000 rows.

openpyxl builds every workbook: sheets, header rows (bold on a fill), frozen panes, auto-filters, column widths,
styles and the summary. Writing 100,000 rows cell by cell through openpyxl costs 8-10 s on a small server, though;
so the data rows of big sheets are streamed into the finished file as plain SpreadsheetML (``<row>``/``<c>``
elements with inline strings), reusing the date style openpyxl registered. Only the OOXML format is relied on,
never openpyxl's internals, and tests read every file back with openpyxl.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_ALIGNMENT = Alignment(vertical="center", wrap_text=True)
MIN_WIDTH = 8.0
MAX_WIDTH = 60.0
MAX_CELL_TEXT = 32767  # Excel's limit for one cell
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1899, 12, 30)
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass
class Table:
    """A sheet that is one table: a formatted header row and data rows (str, int, float, datetime, None)."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    #: Fixed widths per column; None means "from the content".
    widths: Sequence[float | None] = ()
    name: str = field(default="", init=False)


def clean_text(value: str) -> str:
    """Text that is valid in XML and fits in a cell."""
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub("", value)
    return value[:MAX_CELL_TEXT]


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name (max 31 characters, none of []:*?/\\)."""
    base = _INVALID_SHEET_CHARS.sub(" ", title).strip().strip("'")[:31] or "Sheet"
    name, i = base, 2
    while name.lower() in taken:
        suffix = f" ({i})"
        name = base[: 31 - len(suffix)] + suffix
        i += 1
    taken.add(name.lower())
    return name


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[Any]], fixed: Sequence[float | None] = (),
                  sample: int = 2000) -> list[float]:
    """Widths from the header and the longest value in the first ``sample`` rows, within sensible bounds."""
    widths = []
    for j, header in enumerate(headers):
        width = fixed[j] if j < len(fixed) else None
        if width is not None:
            widths.append(float(width))
            continue
        longest = len(str(header))
        for row in rows[:sample]:
            value = row[j] if j < len(row) else None
            if value is None:
                continue
            length = 16 if isinstance(value, datetime) else len(str(value))
            longest = max(longest, length)
        widths.append(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))
    return widths


def style_header(ws: Worksheet, row: int, columns: int) -> None:
    for j in range(1, columns + 1):
        cell = ws.cell(row=row, column=j)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT


def add_table_sheet(wb: Workbook, table: Table, taken: set[str]) -> Worksheet:
    """The sheet with its header, frozen header row, auto-filter over all rows and column widths."""
    table.name = sheet_name(table.title, taken)
    ws: Worksheet = wb.create_sheet(table.name)
    ws.append(list(table.headers))
    style_header(ws, 1, len(table.headers))
    ws.freeze_panes = "A2"
    last = get_column_letter(len(table.headers))
    ws.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    for j, width in enumerate(column_widths(table.headers, table.rows, table.widths), start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    return ws


# -- streaming rows into the saved workbook ---------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(ref: str, value: Any, date_style: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{date_style}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{date_style}"><v>{(value - _EPOCH.date()).days}</v></c>'
    text = clean_text(str(value))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _rows_xml(rows: Iterable[Sequence[Any]], first_row: int, columns: int, date_style: int) -> Iterable[str]:
    letters = [get_column_letter(j) for j in range(1, columns + 1)]
    chunk: list[str] = []
    for r, row in enumerate(rows, start=first_row):
        n = str(r)
        cells = "".join(_cell(letters[j] + n, v, date_style) for j, v in enumerate(row[:columns]))
        chunk.append(f'<row r="{n}">{cells}</row>')
        if len(chunk) >= 2000:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def _style_index(styles_xml: bytes, format_code: str) -> int:
    """Index in cellXfs of the plain cell style with number format ``format_code``."""
    root = ElementTree.fromstring(styles_xml)
    ids = {nf.get("formatCode"): nf.get("numFmtId") for nf in root.iterfind("m:numFmts/m:numFmt", _NS)}
    wanted = ids.get(format_code)
    for i, xf in enumerate(root.iterfind("m:cellXfs/m:xf", _NS)):
        if xf.get("numFmtId") == wanted and xf.get("fontId", "0") == "0" and xf.get("fillId", "0") == "0":
            return i
    raise RuntimeError(f"style with number format {format_code!r} not found")


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the archive."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    paths = {}
    for sheet in workbook.iterfind("m:sheets/m:sheet", _NS):
        target = targets[sheet.get(f"{{{_REL_NS}}}id")]
        paths[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return paths


def save(wb: Workbook, tables: Sequence[Table]) -> bytes:
    """Save ``wb`` (whose table sheets hold only their header rows) with every table's rows streamed in."""
    skeleton = io.BytesIO()
    wb.save(skeleton)
    skeleton.seek(0)
    by_name = {t.name: t for t in tables}
    out = io.BytesIO()
    with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=5) as dst:
        date_style = _style_index(src.read("xl/styles.xml"), DATETIME_FORMAT)
        paths = {path: by_name[name] for name, path in _sheet_paths(src).items() if name in by_name}
        for info in src.infolist():
            data = src.read(info.filename)
            table = paths.get(info.filename)
            if table is None or not table.rows:
                dst.writestr(info, data)
                continue
            xml = data.decode("utf-8")
            end = xml.rindex("</sheetData>")
            head, tail = xml[:end], xml[end:]
            last = f"{get_column_letter(len(table.headers))}{len(table.rows) + 1}"
            head = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last}"/>', head, count=1)
            with dst.open(info.filename, "w") as part:
                part.write(head.encode("utf-8"))
                for chunk in _rows_xml(table.rows, 2, len(table.headers), date_style):
                    part.write(chunk.encode("utf-8"))
                part.write(tail.encode("utf-8"))
    return out.getvalue()
