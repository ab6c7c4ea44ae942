"""Reports at volume: every report leadership and officials ask for, timed on the 100,000-aspiration database.

Each report is one function decorated with ``@report``: it calls the same service and template functions the bot
calls for that message (never a copy of their SQL) and returns what it produced. Targets: p95 under 200 ms for a
message, under 2 s for charts, under 10 s for an export.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .common import OUT, Figures, copy_db, file_size_mb, log, percentile
from .generate import NOW, WILAYAH

TARGETS = {"message": 0.200, "charts": 2.0, "export": 10.0}


@dataclass
class Context:
    services: Any
    #: Interesting people and places of the generated database, found once.
    people: dict[str, Any] = field(default_factory=dict)
    places: dict[str, str] = field(default_factory=dict)
    #: What the reports produced: figures printed with the timings, details logged, files worth looking at.
    facts: dict[str, float | int | str] = field(default_factory=dict)
    produced: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)


ReportFunc = Callable[[Context], Awaitable[list[float] | None]]


@dataclass
class Report:
    name: str
    kind: str  # message | charts | export
    func: ReportFunc
    what: str


REPORTS: list[Report] = []


def report(name: str, kind: str, what: str) -> Callable[[ReportFunc], ReportFunc]:
    """Register a timed report. The function may return per-item seconds (e.g. one per department's digest),
    which are then the samples; otherwise the whole call is one sample."""

    def register(func: ReportFunc) -> ReportFunc:
        REPORTS.append(Report(name, kind, func, what))
        return func

    return register


def _size(obj: Any) -> int:
    if isinstance(obj, str | bytes):
        return len(obj)
    if isinstance(obj, list | tuple):
        return sum(_size(o) for o in obj)
    return 0


# -- the reports -------------------------------------------------------------------------------------------------


def _status_list(name: str, what: str, who: str, title: str, *, show_desa: bool) -> None:
    """Register the report of /status of one of the prepared people: their list of aspirations, rendered."""

    async def status_list(ctx: Context) -> None:
        from bot.messaging.templates import render

        person = ctx.people[who]
        items = await ctx.services.aspirations.list_for(person)
        render("aspirations/status_list", person=person, aspirations=items, title=title, show_desa=show_desa)

    report(name, "message", what)(status_list)


_status_list("status_busy_village", "/status of the kepala desa of the busiest village: list + template",
             "busy_kepala_desa", "Aspirasi desa Anda", show_desa=False)


@report("status_detail_busy", "message", "/status ASP-… of the busiest village's aspiration with the longest history")
async def status_detail(ctx: Context) -> None:
    from bot.messaging.templates import render

    person = ctx.people["busy_kepala_desa"]
    svc = ctx.services.aspirations
    aspiration = await svc.viewable(person, ctx.places["busy_ticket"])
    history = await svc.history(aspiration.id)
    department = await ctx.services.departments.label_for(aspiration)
    render("aspirations/status_detail", a=aspiration, history=history, department=department, show_actors=False)


@report("duplicate_suggestion", "message",
        "possible duplicates offered before Kirim: busiest village's kecamatan, infrastruktur, similarity + SQL")
async def duplicate_suggestion(ctx: Context) -> None:
    from bot.aspirations.service import Draft

    draft = Draft(category="infrastruktur",
                  description="Jalan poros desa rusak parah dan berlubang sepanjang dua kilometer, rawan kecelakaan.")
    found = await ctx.services.aspirations.possible_duplicates(ctx.people["busy_kepala_desa"], draft)
    ctx.facts["duplicate_suggestion.offered"] = len(found)


@report("duplicate_suggestion_worst", "message",
        "possible duplicates in the kecamatan and category with the most open aspirations (all of them compared)")
async def duplicate_suggestion_worst(ctx: Context) -> None:
    from bot.aspirations import audience as audiences
    from bot.aspirations import similar

    db = ctx.services.db
    if "worst_kecamatan" not in ctx.places:  # found once, in the warm-up call that is not timed
        worst = await db.fetchone(
            "SELECT kecamatan_code, category, COUNT(*) AS n FROM aspirations WHERE confidential = 0"
            " AND status IN ('baru', 'diterima', 'diproses', 'selesai') GROUP BY kecamatan_code, category"
            " ORDER BY n DESC LIMIT 1")
        ctx.places.update(worst_kecamatan=worst["kecamatan_code"], worst_category=worst["category"])
        ctx.places["worst_text"] = await db.fetchval(
            "SELECT description FROM aspirations WHERE kecamatan_code = ? AND category = ? ORDER BY id DESC LIMIT 1",
            (worst["kecamatan_code"], worst["category"]))
        ctx.facts["duplicate_suggestion_worst.candidates"] = min(worst["n"], similar.CANDIDATES)
    who = audiences.Audience(audiences.KEPALA_DESA, confidential=False, feedback=False,
                             kecamatan_code=ctx.places["worst_kecamatan"])
    found = await similar.possible_duplicates(db, who, ctx.places["worst_category"], ctx.places["worst_text"])
    ctx.facts["duplicate_suggestion_worst.offered"] = len(found)


_status_list("status_official", "/status of an official of the busiest department", "official",
             "Aspirasi untuk OPD Anda", show_desa=True)
_status_list("status_leadership", "/status of the Bupati (newest across the province)", "bupati", "Aspirasi terbaru",
             show_desa=True)


@report("daily_digest", "message", "daily digest of every department (one sample per department)")
async def daily_digest(ctx: Context) -> list[float]:
    from bot.officials.digests import department_digest, latest_daily_period, render_daily
    services = ctx.services
    config = services.config
    local_now = services.clock.now().astimezone(config.tz)
    day = latest_daily_period(local_now, config.daily_digest_time)
    due = datetime.combine(day, config.daily_digest_time, config.tz)
    names = await services.departments.names()
    samples = []
    for code in sorted(names):
        start = time.perf_counter()
        digest = await department_digest(services.db, code, local_now.date(), due - timedelta(days=1),
                                         config.digest_max_items)
        texts = render_daily(names[code], digest.items, day, backlog=digest.backlog)
        samples.append(time.perf_counter() - start)
        items = digest.backlog.total if digest.backlog else len(digest.items)
        ctx.produced[f"daily_digest.{code}"] = f"{items} items, {len(digest.items)} listed, {len(texts)} messages"
        biggest = ctx.facts.get("daily_digest.max_messages", 0)
        if len(texts) >= biggest:
            ctx.facts["daily_digest.max_messages"] = len(texts)
            ctx.facts["daily_digest.max_items"] = items
            ctx.facts["daily_digest.max_listed"] = len(digest.items)
            ctx.facts["daily_digest.max_department"] = code
    return samples


@report("weekly_digest", "charts", "weekly leadership digest with its two charts (the text alone: weekly_digest_text)")
async def weekly_digest(ctx: Context) -> None:
    from bot.officials.digests import build_weekly, latest_weekly_period, weekly_context
    config = ctx.services.config
    now = ctx.services.clock.now()
    period = latest_weekly_period(now.astimezone(config.tz), config.weekly_digest_time, config.weekly_digest_weekday)
    texts, photos = await build_weekly(ctx.services, weekly_context(now, config.tz, period))
    ctx.facts["weekly_digest.messages"] = len(texts)
    ctx.facts["weekly_digest.photos"] = len(photos)


@report("weekly_digest_text", "message", "weekly leadership digest, text sections only (without the chart section)")
async def weekly_digest_text(ctx: Context) -> None:
    from bot.officials import digests
    config = ctx.services.config
    now = ctx.services.clock.now()
    period = digests.latest_weekly_period(now.astimezone(config.tz), config.weekly_digest_time,
                                          config.weekly_digest_weekday)
    sections = ctx.services.weekly_sections
    kept = list(sections)
    # the problem map is the section that draws the charts: timed above with the whole digest
    sections[:] = [s for s in kept if s[0] != "peta_masalah"]
    try:
        texts, photos = await digests.build_weekly(ctx.services, digests.weekly_context(now, config.tz, period))
    finally:
        sections[:] = kept
    ctx.facts["weekly_digest_text.messages"] = len(texts)
    ctx.facts["weekly_digest_text.photos"] = len(photos)


@report("briefing", "message", "pre-visit briefing of the busiest kecamatan for the Bupati (/briefing)")
async def briefing(ctx: Context) -> None:
    ngantor = ctx.services.ngantor
    texts = await ngantor.briefings.for_person(ctx.people["bupati"], ctx.places["busy_kecamatan"])
    ctx.facts["briefing.messages"] = len(texts)


def _village_map(ctx: Context) -> Any:
    from bot.aspirations import audience as audiences

    return ctx.services.village_map, audiences


@report("rekap_text", "message", "/rekap text for the Bupati: kecamatan x category, median days, coverage")
async def rekap_text(ctx: Context) -> None:
    vm, audiences = _village_map(ctx)
    recap = await vm.recap(audiences.for_person(ctx.people["bupati"]))
    texts = vm.recap_messages(recap)
    ctx.facts["rekap_text.messages"] = len(texts)


@report("rekap_charts", "charts", "/rekap with its charts: recap + heat map kecamatan x category + open per kecamatan")
async def rekap_charts(ctx: Context) -> None:
    vm, audiences = _village_map(ctx)
    recap, charts = await vm.charts(audiences.for_person(ctx.people["bupati"]))
    ctx.facts["rekap_charts.charts"] = len(charts)
    ctx.facts["rekap_charts.png_kb"] = sum(len(c.png) for c in charts) / 1024
    ctx.artifacts["rekap_charts"] = [(c.filename, c.png) for c in charts]


@report("desa_profile", "message", "/desa profile of the busiest village for the Bupati")
async def desa_profile(ctx: Context) -> None:
    vm, audiences = _village_map(ctx)
    profile = await vm.profile(ctx.places["busy_desa"], audiences.for_person(ctx.people["bupati"]))
    ctx.facts["desa_profile.sections"] = len(profile.sections)


@report("export_xlsx", "export", "full XLSX export for leadership (every aspiration, a sheet per kecamatan)")
async def export_xlsx(ctx: Context) -> None:
    vm, audiences = _village_map(ctx)
    result = await vm.export("xlsx", audiences.for_person(ctx.people["bupati"], export=True))
    ctx.facts["export_xlsx.rows"] = result.rows
    ctx.facts["export_xlsx.size_mb"] = len(result.content) / 2**20
    ctx.artifacts["export_xlsx"] = [(result.filename, result.content)]


# -- the harness -------------------------------------------------------------------------------------------------


async def _context(db_path: Path) -> Context:
    from bot.app import open_services
    from bot.config import Config
    from bot.core.clock import FakeClock
    from bot.people.roster import get_person

    config = Config(token="123456:BENCH", db_path=db_path, wilayah=WILAYAH)
    services = await open_services(config, FakeClock(NOW))
    ctx = Context(services)
    db = services.db
    busy = await db.fetchone(
        "SELECT a.desa_code, COUNT(*) AS n FROM aspirations a GROUP BY a.desa_code ORDER BY n DESC LIMIT 1")
    ctx.places["busy_desa"] = busy["desa_code"]
    kades = await db.fetchval(
        "SELECT telegram_id FROM people WHERE role = 'kepala_desa' AND desa_code = ? AND telegram_id IS NOT NULL",
        (busy["desa_code"],))
    ctx.people["busy_kepala_desa"] = await get_person(db, kades)
    ctx.places["busy_ticket"] = await db.fetchval(
        "SELECT a.ticket FROM aspirations a JOIN aspiration_history h ON h.aspiration_id = a.id"
        " WHERE a.desa_code = ? AND a.confidential = 0 GROUP BY a.id ORDER BY COUNT(*) DESC, a.id LIMIT 1",
        (busy["desa_code"],))
    ctx.places["busy_kecamatan"] = await db.fetchval(
        "SELECT kecamatan_code FROM aspirations GROUP BY kecamatan_code ORDER BY COUNT(*) DESC LIMIT 1")
    busy_dept = await db.fetchval(
        "SELECT department FROM aspirations WHERE department IS NOT NULL GROUP BY department"
        " ORDER BY COUNT(*) DESC LIMIT 1")
    official = await db.fetchval(
        "SELECT telegram_id FROM people WHERE role = 'pejabat' AND department = ? ORDER BY id LIMIT 1", (busy_dept,))
    ctx.people["official"] = await get_person(db, official)
    bupati = await db.fetchval("SELECT telegram_id FROM people WHERE role = 'pimpinan' ORDER BY id LIMIT 1")
    ctx.people["bupati"] = await get_person(db, bupati)
    admin = await db.fetchval("SELECT telegram_id FROM people WHERE role = 'admin' ORDER BY id LIMIT 1")
    ctx.people["admin"] = await get_person(db, admin)
    log(f"reports: busy village {busy['desa_code']} ({busy['n']} aspirations), busiest department {busy_dept},"
        f" busiest kecamatan {ctx.places['busy_kecamatan']}")
    return ctx


async def time_report(ctx: Context, rep: Report, runs: int) -> tuple[list[float], float]:
    """(samples in seconds, first cold call in seconds). One warm-up call is not counted in the samples."""
    samples: list[float] = []
    cold = 0.0
    for i in range(runs + 1):
        start = time.perf_counter()
        items = await rep.func(ctx)
        elapsed = time.perf_counter() - start
        if i == 0:
            cold = max(items) if items else elapsed  # per item, like the samples
            continue
        samples.extend(items if items else [elapsed])
    return samples, cold


def _save(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


async def run_reports(figures: Figures, volume_db: Path, *, runs: int, only: set[str] | None = None) -> None:
    work = OUT / "reports"
    shutil.rmtree(work, ignore_errors=True)
    db_path = work / "sambang.db"
    copy_db(volume_db, db_path)  # reports may claim periods or queue messages: never on the cached database
    ctx = await _context(db_path)
    try:
        for rep in REPORTS:
            if only and rep.name not in only:
                continue
            target = TARGETS[rep.kind]
            prefix = f"reports.{rep.name}"
            samples, cold = await time_report(ctx, rep, runs)
            p95 = percentile(samples, 95)
            figures.add(f"{prefix}.p50_ms", 1000 * percentile(samples, 50), "ms")
            figures.add(f"{prefix}.p95_ms", 1000 * p95, "ms")
            figures.add(f"{prefix}.cold_ms", 1000 * cold, "ms")
            figures.add(f"{prefix}.target_ms", 1000 * target, "ms")
            figures.add(f"{prefix}.met", "yes" if p95 < target else "NO")
            for key, value in ctx.facts.items():
                if key.startswith(rep.name + "."):
                    figures.add(f"reports.{key}", value)
            log(f"{rep.name}: {rep.what}: {len(samples)} samples")
        for name, what in sorted(ctx.produced.items()):
            log(f"produced {name}: {what}")
        for name, files in ctx.artifacts.items():
            for filename, content in files:
                _save(work / "artifacts" / f"{name}-{filename}", content)
        figures.add("reports.db_size_mb", file_size_mb(db_path), "MB")
    finally:
        await ctx.services.db.close()
