"""The map of problems and potential: village potential, village profiles, the recap with its charts, and exports.

``VillageMap`` is the one service the handlers (/potensi, /desa, /rekap, /ekspor), the weekly digest and
``sambang export`` call. ``install`` wires it into the running services; ``EXPORT_COMMAND`` is the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.aspirations.audience import PIMPINAN, Audience, for_export, parse_audience
from bot.aspirations.service import AspirationService
from bot.core.clock import Clock, from_iso
from bot.core.domain import DomainError
from bot.core.wording import phrases, plain
from bot.media.settings import media_dir
from bot.messaging.templates import render, split_message
from bot.officials import digests
from bot.people.regions import Desa, find_kecamatan, get_desa, search_desa
from bot.storage import audit
from bot.storage.database import Database
from bot.village_map.chart_process import Chart, ChartProcess
from bot.village_map.dashboard import Dashboard
from bot.village_map.export import FORMATS, MIME, Exporter, ExportFile, filename
from bot.village_map.locations import VillageLocations
from bot.village_map.potential import PotentialService
from bot.village_map.profile import (
    ProfileRequest,
    Section,
    VillageProfile,
    VisitSchedule,
    aspirations_section,
    feedback_section,
    potential_section,
    village_heads,
    visits_section,
)
from bot.village_map.recap import Filters, Recap, build_recap, format_days, format_percent, short_label

if TYPE_CHECKING:
    from bot.config import Config
    from bot.services import Services


class VillageMap:
    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo, aspirations: AspirationService,
                 visits: VisitSchedule | None = None) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.aspirations = aspirations
        self.potential = PotentialService(db, clock)
        #: Village offices' locations (/lokasi) and the map's data.
        self.locations = VillageLocations(db, clock, tz)
        #: The dashboard's figures, list and village pages.
        self.dashboard = Dashboard(db, tz)
        self.exporter = Exporter(db, aspirations, tz)
        #: Draws the charts in a worker process: matplotlib never enters the bot's process
        #: (bot/village_map/chart_process.py).
        self.chart_process = ChartProcess()
        #: The visits feature's schedule, for the profiles' visits section (none: the section is left out).
        self.visits = visits
        self.sections: list[tuple[str, Section]] = [
            ("aspirasi", aspirations_section),
            ("potensi", potential_section),
            ("umpan_balik", feedback_section),
            ("kunjungan", visits_section),
        ]
        self.exporter.feedback_source = self.feedback_rows

    # -- village profiles ---------------------------------------------------------------------------------------

    def add_section(self, key: str, section: Section, *, after: str | None = None) -> None:
        """Add a profile section (once), at the end or after the section ``after``."""
        if any(k == key for k, _ in self.sections):
            return
        keys = [k for k, _ in self.sections]
        at = keys.index(after) + 1 if after in keys else len(self.sections)
        self.sections.insert(at, (key, section))

    async def search(self, query: str) -> list[Desa]:
        return await search_desa(self.db, query)

    async def profile(self, desa_code: str, audience: Audience) -> VillageProfile:
        desa = await get_desa(self.db, desa_code)
        if desa is None:
            raise DomainError("village_map/desa_tidak_ditemukan")
        request = ProfileRequest(desa, audience, self.clock.now(), self)
        sections = []
        for key, section in self.sections:
            text = await section(request)
            if text:
                sections.append((key, text))
        return VillageProfile(desa, await village_heads(request), tuple(sections))

    # -- recap and charts ---------------------------------------------------------------------------------------

    async def recap(self, audience: Audience, filters: Filters = Filters()) -> Recap:
        return await build_recap(self.db, self.aspirations, audience, self.clock.now(), self.tz, filters)

    @staticmethod
    def recap_messages(recap: Recap) -> list[str]:
        """The text of ``/rekap``: the totals, then a line per kecamatan, split into Telegram messages."""
        categories = [(short_label(c), recap.total.by_category.get(c, 0)) for c in recap.categories
                      if recap.total.by_category.get(c, 0)]
        place = recap.kabupaten[0][1] if len(recap.kabupaten) == 1 else f"{len(recap.kabupaten)} kabupaten/kota"
        parts = [render("village_map/rekap_text", recap=recap, place=place, median=format_days(recap.total.median_days),
                        coverage=format_percent(recap.total.coverage), categories=categories)]
        for row in recap.rows_with_aspirations:  # a kecamatan without aspirations is counted, not listed
            cats = [(short_label(c), row.tally.by_category[c]) for c in recap.categories
                    if row.tally.by_category.get(c)]
            parts.append(render("village_map/rekap_kecamatan", row=row, median=format_days(row.tally.median_days),
                                categories=cats))
        empty = len(recap.rows) - len(recap.rows_with_aspirations)
        parts.append(render("village_map/rekap_departments", departments=recap.departments, empty=empty))
        return split_message(parts, separator="\n")

    async def charts(self, audience: Audience, filters: Filters = Filters()) -> tuple[Recap, list[Chart]]:
        self.prepare_charts()  # the worker starts while the recap is built
        recap = await self.recap(audience, filters)
        return recap, await self.draw_charts(recap)

    def prepare_charts(self) -> None:
        """Start the chart worker now, so it is ready when :meth:`draw_charts` is called."""
        self.chart_process.prepare()

    async def draw_charts(self, recap: Recap) -> list[Chart]:
        """The PNG charts of ``recap`` (the heat map and the bars), drawn in the chart worker."""
        return await self.chart_process.render(recap)

    async def feedback_rows(self, filters: Filters) -> tuple[Sequence[str], list[Sequence[Any]]] | None:
        """The villages' ratings of visits, for leadership's spreadsheet."""
        headers = ("Tanggal kunjungan", "Kecamatan", "Desa", "Kode desa", "Kepala desa", "Nilai kunjungan (1-5)",
                   "Nilai layanan kecamatan (1-5)", "Komentar", "Diisi pada")
        where, params = ["1 = 1"], []
        if filters.since is not None:
            where.append("v.date >= ?")
            params.append(filters.since.isoformat())
        if filters.kecamatan_codes:
            where.append(f"v.kecamatan_code IN ({','.join('?' * len(filters.kecamatan_codes))})")
            params.extend(filters.kecamatan_codes)
        rows = await self.db.fetchall(
            "SELECT v.date, k.name AS kecamatan, d.name AS desa, f.desa_code, p.name AS person, f.visit_rating,"
            " f.service_rating, f.comment, f.updated_at FROM visit_feedback f JOIN visits v ON v.id = f.visit_id"
            " JOIN kecamatan k ON k.code = v.kecamatan_code LEFT JOIN desa d ON d.code = f.desa_code"
            f" LEFT JOIN people p ON p.id = f.person_id WHERE {' AND '.join(where)}"
            " ORDER BY v.date, k.code, d.name", params)
        return headers, [
            (date.fromisoformat(r["date"]), r["kecamatan"], r["desa"] or "", r["desa_code"] or "", r["person"] or "",
             r["visit_rating"], r["service_rating"], r["comment"] or "",
             from_iso(r["updated_at"]).astimezone(self.tz).replace(tzinfo=None, microsecond=0))
            for r in rows
        ]

    # -- exports ------------------------------------------------------------------------------------------------

    async def export(self, fmt: str, audience: Audience, filters: Filters = Filters(), *,
                     delimiter: str = ",") -> ExportFile:
        """The aspirations as ``fmt``; a CSV is separated by ``delimiter`` ("," or ";" for Excel set to
        Indonesian)."""
        if fmt not in FORMATS:
            raise DomainError("village_map/format_tidak_dikenal_pilih", fmt=fmt, formats=', '.join(FORMATS))
        now = self.clock.now()
        if fmt == "xlsx":
            recap = await self.recap(audience, filters)
            potential = await self.potential.list_all(list(filters.kecamatan_codes) or None)
            content, count = await self.exporter.xlsx(audience, filters, recap, potential)
        elif fmt == "csv":
            content, count = await self.exporter.csv(audience, filters, delimiter=delimiter)
        else:
            content, count = await self.exporter.open311(audience, filters)
        return ExportFile(content, filename(fmt, now, self.tz, audience), MIME[fmt], count, audience.label)

    async def audit_export(self, actor_telegram_id: int | None, fmt: str, result: ExportFile) -> None:
        """Who took which data out, and how much of it."""
        async with self.db.transaction() as tx:
            await audit.record(tx, actor_telegram_id, "ekspor",
                               f"{fmt} untuk {result.audience}: {result.rows} aspirasi ({result.filename})",
                               now=self.clock.now())

    async def resolve_kecamatan(self, names: Sequence[str]) -> tuple[str, ...]:
        """Kecamatan codes for names or codes as people type them; DomainError naming the first unknown one."""
        codes: list[str] = []
        for name in names:
            found = await find_kecamatan(self.db, name)
            if len(found) != 1:
                raise DomainError("village_map/kecamatan_tidak_ditemukan_tidak", name=name.strip(),
                                  options=[k.name for k in found[:5]])
            if found[0].code not in codes:
                codes.append(found[0].code)
        return tuple(codes)


# -- the weekly leadership digest (bot/officials/digests.py) carries the problem map ---------------------------

#: The digest goes to leadership and admins, who both read "Kinerja Kecamatan" items in the bot.
DIGEST_AUDIENCE = for_export(PIMPINAN)


async def weekly_map(services: Services, ctx: digests.WeeklyContext) -> digests.DigestSection | None:
    """The problem map and the open aspirations per kecamatan as photos, with a few lines of text."""
    vm = services.village_map
    recap, drawn = await vm.charts(DIGEST_AUDIENCE)
    if not recap.total.total:
        return None
    busiest = sorted(((r.name, r.tally.open) for r in recap.rows if r.tally.open), key=lambda p: (-p[1], p[0]))
    text = render("officials/digest_weekly_map", recap=recap, median=format_days(recap.total.median_days),
                  coverage=format_percent(recap.total.coverage), busiest=busiest[:3])
    photos = [digests.DigestPhoto(c.png, c.filename, c.title) for c in drawn]
    return digests.DigestSection([text], photos)


# -- sambang export ---------------------------------------------------------------------------------------------


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(plain("village_map/cli_date_invalid", value=text)) from None


def configure_export(parser: argparse.ArgumentParser) -> None:
    help_texts = phrases("village_map/cli_help")
    parser.add_argument("--format", choices=FORMATS, default="xlsx", help="xlsx (default), csv, or open311 (JSON)")
    parser.add_argument("--kecamatan", action="append", default=[], metavar="NAMA",
                        help=help_texts["export_kecamatan"])
    parser.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help=help_texts["export_since"])
    parser.add_argument("--output", "-o", metavar="PATH", help=help_texts["export_output"])
    parser.add_argument("--separator", choices=(",", ";"), default=",", help=help_texts["export_separator"])
    parser.add_argument("--audience", default="admin", metavar="AUDIENS",
                        help=help_texts["export_audience"])
    parser.add_argument("--with-media", action="store_true", help=help_texts["export_with_media"])


async def run_export(config: Config, args: argparse.Namespace) -> int:
    services = await args.open_services(config)
    try:
        vm = services.village_map
        assert vm is not None
        audience = await parse_audience(services.db, args.audience)
        names = [part for item in args.kecamatan for part in item.split(",") if part.strip()]
        filters = Filters(since=args.since, kecamatan_codes=await vm.resolve_kecamatan(names))
        result = await vm.export(args.format, audience, filters, delimiter=args.separator)
        media_note = ""
        if args.with_media:
            paths = await vm.exporter.archived_paths(audience, filters)
            root = media_dir(config)
            content, added, missing = await asyncio.to_thread(with_media, result, root, paths)
            result = replace(result, content=content, filename=result.filename.rsplit(".", 1)[0] + ".zip",
                             mime_type="application/zip")
            media_note = plain("media/export_zip", added=added, missing=missing, root=str(root))
        await vm.audit_export(None, args.format, result)
    finally:
        await services.db.close()
    if args.output == "-":
        sys.stdout.buffer.write(result.content)
        sys.stdout.buffer.flush()
        where = "stdout"
    else:
        path = Path(args.output) if args.output else Path(result.filename)
        try:
            await asyncio.to_thread(_write_private, path, result.content)
        except OSError as exc:
            print(plain("cli/cannot_write", path=path, error=exc.strerror), file=sys.stderr)
            return 1
        where = str(path)
    print(plain("village_map/cli_exported", format=args.format, audience=result.audience, rows=result.rows,
                where=where), file=sys.stderr)
    if media_note:
        print(media_note, file=sys.stderr)
    return 0


def with_media(export: ExportFile, root: Path, paths: Sequence[str]) -> tuple[bytes, int, list[str]]:
    """A zip of the export and the archived files at ``paths`` (under ``media/``, as the export names them);
    (zip bytes, files added, paths missing from the archive folder)."""
    buffer = io.BytesIO()
    added, missing = 0, []
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(export.filename, export.content, compress_type=zipfile.ZIP_DEFLATED)
        for relative in paths:
            source = root / relative
            if not source.is_file():
                missing.append(relative)
                continue
            archive.write(source, f"media/{relative}", compress_type=zipfile.ZIP_STORED)  # photos, audio: packed
            added += 1
    return buffer.getvalue(), added, missing


def _write_private(path: Path, content: bytes) -> None:
    """Exports hold personal data: the file is readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


EXPORT_COMMAND: tuple[str, str, Any, Any] = (
    "export", "village_map/cli_help", configure_export, run_export,
)

