"""The recap behind /rekap, the charts and the summary sheet: counts per kecamatan x category, open and resolved,
median days to resolve, and coverage (villages that submitted anything / all villages).

Everything is aggregated in SQL, so 100,000 aspirations cost a few index scans, not 100,000 Python objects.
"Resolved" is the status ``ditutup`` (confirmed by the village or closed after the waiting period); "tidak dapat
ditindaklanjuti", rejected and withdrawn ones are counted apart as "closed otherwise", so the resolution rate stays
honest. Days to resolve are calendar days (with fractions) from submission to closing: the column
``resolution_days`` (migration 007), which SQLite derives from the row and keeps in two indexes ordered by it, so a
median is the middle entry of a group, reached with LIMIT/OFFSET, not a sort of every resolved aspiration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.aspirations.audience import Audience
from bot.aspirations.service import AspirationService
from bot.core.clock import to_iso
from bot.core.domain import CATEGORIES, CLOSED_STATUSES, Status
from bot.core.wording import plain
from bot.officials.digests import DepartmentLoad, department_load
from bot.storage.database import Database

RESOLVED = Status.DITUTUP.value
OTHER_CLOSED = tuple(sorted(s.value for s in CLOSED_STATUSES if s is not Status.DITUTUP))

#: Short category names for narrow places (chart axes, one-line summaries).
SHORT_LABELS = {
    "infrastruktur": "Infrastruktur",
    "pelayanan_publik": "Pelayanan",
    "kesehatan": "Kesehatan",
    "pendidikan": "Pendidikan",
    "sosial": "Sosial",
    "ekonomi": "Ekonomi",
    "lingkungan": "Lingkungan",
    "kinerja_kecamatan": "Kinerja Kec.",
    "lainnya": "Lainnya",
}


def short_label(code: str) -> str:
    return SHORT_LABELS.get(code, code)


@dataclass(frozen=True)
class Filters:
    """What part of the data a recap or an export covers."""

    since: date | None = None
    kecamatan_codes: tuple[str, ...] = ()

    def since_iso(self, tz: ZoneInfo) -> str | None:
        """The start of ``since`` (local midnight) as stored in SQLite."""
        return None if self.since is None else to_iso(datetime.combine(self.since, time(0), tzinfo=tz))

    def sql(self, tz: ZoneInfo, alias: str = "a") -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            parts.append(f"{alias}.created_at >= ?")
            params.append(self.since_iso(tz))
        if self.kecamatan_codes:
            parts.append(f"{alias}.kecamatan_code IN ({','.join('?' * len(self.kecamatan_codes))})")
            params.extend(self.kecamatan_codes)
        return (" AND ".join(parts) or "1 = 1"), params


@dataclass
class Tally:
    total: int = 0
    open: int = 0
    resolved: int = 0
    closed_other: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    median_days: float | None = None
    villages: int = 0
    villages_active: int = 0

    @property
    def coverage(self) -> float:
        return self.villages_active / self.villages if self.villages else 0.0

    def add(self, category: str, n: int, resolved: int, closed_other: int) -> None:
        """Count ``n`` aspirations of ``category``, of which ``resolved`` resolved and ``closed_other`` closed
        otherwise (the rest are open)."""
        self.total += n
        self.by_category[category] = self.by_category.get(category, 0) + n
        self.resolved += resolved
        self.closed_other += closed_other
        self.open += n - resolved - closed_other


@dataclass
class KecamatanRow:
    code: str
    name: str
    kabupaten_code: str
    kabupaten_name: str
    tally: Tally = field(default_factory=Tally)


@dataclass
class Recap:
    audience_label: str
    filters: Filters
    generated_at: datetime
    #: Category codes in the audience's share, in the order of the category list.
    categories: tuple[str, ...]
    rows: list[KecamatanRow]
    total: Tally
    #: Kabupaten/kota covered (more than one when a whole province is served).
    kabupaten: tuple[tuple[str, str], ...] = ()
    #: Open work and overdue items per department in this share, the busiest first.
    departments: tuple[DepartmentLoad, ...] = ()

    def matrix(self) -> list[list[int]]:
        """Counts per kecamatan (rows, in ``rows`` order) x category (columns, in ``categories`` order)."""
        return [[r.tally.by_category.get(c, 0) for c in self.categories] for r in self.rows]

    @property
    def rows_with_aspirations(self) -> list[KecamatanRow]:
        return [r for r in self.rows if r.tally.total]

    @property
    def active_rows(self) -> list[KecamatanRow]:
        return [r for r in self.rows if r.tally.total or r.tally.villages_active]


async def build_recap(
    db: Database, aspirations: AspirationService, audience: Audience, now: datetime, tz: ZoneInfo,
    filters: Filters = Filters(),
) -> Recap:
    """Aggregate the audience's share of aspirations (and the villages' potential, for coverage)."""
    share, share_params = audience.where(aspirations)
    scope, scope_params = filters.sql(tz)
    where = f"({share}) AND ({scope})"
    params = [*share_params, *scope_params]

    kec_sql = "SELECT code, name, kabupaten_code, kabupaten_name FROM kecamatan"
    kec_params: list[Any] = []
    if filters.kecamatan_codes:
        kec_sql += f" WHERE code IN ({','.join('?' * len(filters.kecamatan_codes))})"
        kec_params = list(filters.kecamatan_codes)
    rows = {
        r["code"]: KecamatanRow(r["code"], r["name"], r["kabupaten_code"], r["kabupaten_name"])
        for r in await db.fetchall(kec_sql + " ORDER BY code", kec_params)
    }
    total = Tally()

    # Counts per kecamatan x category, split into resolved / closed otherwise / open by SQL (one row per cell).
    other = ",".join("?" * len(OTHER_CLOSED))
    for r in await db.fetchall(
        "SELECT a.kecamatan_code AS k, a.category AS c, COUNT(*) AS n,"
        " COUNT(CASE WHEN a.status = ? THEN 1 END) AS resolved,"
        f" COUNT(CASE WHEN a.status IN ({other}) THEN 1 END) AS other"
        f" FROM aspirations a WHERE {where} GROUP BY a.kecamatan_code, a.category",
        [RESOLVED, *OTHER_CLOSED, *params],
    ):
        row = rows.get(r["k"])
        if row is not None:
            row.tally.add(r["c"], r["n"], r["resolved"], r["other"])
            total.add(r["c"], r["n"], r["resolved"], r["other"])

    medians, total.median_days = await _median_days(db, where, params, rows.keys())
    for code, days in medians.items():
        rows[code].tally.median_days = days

    # Coverage: a village counts once it sent an aspiration in this share or recorded its potential. One probe of
    # the village's aspirations per village (EXISTS stops at the first hit) instead of collecting every
    # aspiration's village; INDEXED BY because with a kecamatan filter the planner would otherwise walk the whole
    # kecamatan (aspirations_map) for each of its villages.
    pot_where, pot_params = "1 = 1", []
    if filters.since is not None:
        pot_where = "v.updated_at >= ?"
        pot_params = [filters.since_iso(tz)]
    desa_where, desa_params = "1 = 1", list(filters.kecamatan_codes)
    if filters.kecamatan_codes:  # only the villages of the rows shown
        desa_where = f"d.kecamatan_code IN ({','.join('?' * len(filters.kecamatan_codes))})"
    for r in await db.fetchall(
        "SELECT d.kecamatan_code AS k, COUNT(*) AS villages,"
        " SUM(EXISTS (SELECT 1 FROM aspirations a INDEXED BY aspirations_desa"
        f"   WHERE a.desa_code = d.code AND {where})"
        f" OR EXISTS (SELECT 1 FROM village_potential v WHERE v.desa_code = d.code AND {pot_where})) AS active"
        f" FROM desa d WHERE {desa_where} GROUP BY d.kecamatan_code",
        [*params, *pot_params, *desa_params],
    ):
        row = rows.get(r["k"])
        if row is not None:
            row.tally.villages = r["villages"]
            row.tally.villages_active = r["active"]
            total.villages += r["villages"]
            total.villages_active += r["active"]

    categories = tuple(c.code for c in CATEGORIES if audience.confidential or not c.confidential)
    kabupaten = tuple(dict.fromkeys((r.kabupaten_code, r.kabupaten_name) for r in rows.values()))
    load = await department_load(db, where, params, now.astimezone(tz).date())
    return Recap(audience.label, filters, now, categories, list(rows.values()), total, kabupaten, tuple(load))


#: Kecamatan per median statement. Fewer statements save trips to aiosqlite's thread, but SQLite gets slower per
#: term in long compounds when the share has a correlated subquery (an official's department: 200 terms took four
#: times as long as 20 on 100,000 aspirations); it allows 500 terms at most and, in old builds, 999 parameters.
_MEDIAN_TERMS = 20
_MAX_PARAMETERS = 999


def _middle(n: int) -> tuple[int, int]:
    """(LIMIT, OFFSET) of the middle value(s) of ``n`` values in order: one when n is odd, two when it is even."""
    return 2 - n % 2, (n - 1) // 2


def _median_of_middle(values: list[float]) -> float:
    """The median from the middle value(s), computed exactly like ``statistics.median`` (mean of the two middle
    values for an even count), never below zero (a closing stamped before submission by a skewed clock)."""
    median = values[0] if len(values) == 1 else (values[0] + values[1]) / 2
    return max(0.0, float(median))


async def _median_days(
    db: Database, where: str, params: list[Any], codes: Iterable[str],
) -> tuple[dict[str, float], float | None]:
    """Median days to resolve of the aspirations matching ``where``: per kecamatan (for ``codes``) and overall.

    The resolved aspirations are counted per kecamatan; then each kecamatan's middle value(s) are read off the index
    ``aspirations_resolution_kecamatan`` (kecamatan, days) with LIMIT/OFFSET, up to ``_MEDIAN_TERMS`` kecamatan per
    statement, and the overall median off ``aspirations_resolution`` (days). SQLite walks the index entries up to
    the middle; nothing is sorted and only the middle values come back.
    """
    resolved = f"({where}) AND a.resolution_days IS NOT NULL"
    counts = {
        r["k"]: r["n"] for r in await db.fetchall(
            f"SELECT a.kecamatan_code AS k, COUNT(*) AS n FROM aspirations a WHERE {resolved}"
            " GROUP BY a.kecamatan_code", params)
    }
    wanted = set(codes)
    groups = [(code, n) for code, n in counts.items() if code in wanted]
    term = (
        "SELECT * FROM (SELECT a.kecamatan_code AS k, a.resolution_days AS d FROM aspirations a"
        f" WHERE a.kecamatan_code = ? AND {resolved} ORDER BY a.resolution_days LIMIT ? OFFSET ?)"
    )
    per_statement = max(1, min(_MEDIAN_TERMS, _MAX_PARAMETERS // (3 + len(params))))
    middles: dict[str, list[float]] = {}
    for start in range(0, len(groups), per_statement):
        part = groups[start:start + per_statement]
        args = [value for code, n in part for value in (code, *params, *_middle(n))]
        for r in await db.fetchall(" UNION ALL ".join([term] * len(part)), args):
            middles.setdefault(r["k"], []).append(r["d"])
    medians = {code: _median_of_middle(values) for code, values in middles.items()}

    n = sum(counts.values())
    if not n:
        return medians, None
    everything = [r["d"] for r in await db.fetchall(
        f"SELECT a.resolution_days AS d FROM aspirations a WHERE {resolved}"
        " ORDER BY a.resolution_days LIMIT ? OFFSET ?", [*params, *_middle(n)])]
    return medians, _median_of_middle(everything) if everything else None


def format_days(value: float | None) -> str:
    """'4,5 hari' (Indonesian decimal comma), '-' when nothing was resolved."""
    if value is None:
        return "-"
    return plain("village_map/days", value=f"{value:.1f}".replace(".", ","))


def format_percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + "%"
