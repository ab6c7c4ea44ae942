"""The recap behind /rekap, the charts and the summary sheet: counts per kecamatan x category, open and resolved,
median days to resolve, and coverage (villages that submitted anything / all villages).

Everything is aggregated in SQL (GROUP BY and window functions), so 100,000 aspirations cost a few index scans, not
100,000 Python objects. "Resolved" is the status ``ditutup`` (confirmed by the village or closed after the waiting
period); "tidak dapat ditindaklanjuti", rejected and withdrawn ones are counted apart as "closed otherwise", so the
resolution rate stays honest. Days to resolve are calendar days from submission to closing.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from .aspirations import AspirationService
from .audience import Audience
from .clock import to_iso
from .domain import CATEGORIES, CLOSED_STATUSES, Status
from .storage import Database

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

    def add(self, category: str, status: str, n: int) -> None:
        self.total += n
        self.by_category[category] = self.by_category.get(category, 0) + n
        if status == RESOLVED:
            self.resolved += n
        elif status in OTHER_CLOSED:
            self.closed_other += n
        else:
            self.open += n


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

    def matrix(self) -> list[list[int]]:
        """Counts per kecamatan (rows, in ``rows`` order) x category (columns, in ``categories`` order)."""
        return [[r.tally.by_category.get(c, 0) for c in self.categories] for r in self.rows]

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

    for r in await db.fetchall(
        f"SELECT a.kecamatan_code AS k, a.category AS c, a.status AS s, COUNT(*) AS n FROM aspirations a"
        f" WHERE {where} GROUP BY a.kecamatan_code, a.category, a.status", params,
    ):
        row = rows.get(r["k"])
        if row is not None:
            row.tally.add(r["c"], r["s"], r["n"])
            total.add(r["c"], r["s"], r["n"])

    resolved_where = f"{where} AND a.status = ? AND a.closed_at IS NOT NULL"
    resolved_params = [*params, RESOLVED]
    # Median days to resolve, per kecamatan and overall: one pass over the resolved aspirations and the medians
    # in Python (two window-function queries over the same rows took four times as long at 100,000 aspirations).
    durations: dict[str, list[float]] = {}
    everything: list[float] = []
    for r in await db.fetchall(
        "SELECT a.kecamatan_code AS k, julianday(a.closed_at) - julianday(a.created_at) AS d FROM aspirations a"
        f" WHERE {resolved_where}",
        resolved_params,
    ):
        if r["d"] is not None:
            durations.setdefault(r["k"], []).append(r["d"])
            everything.append(r["d"])
    for code, values in durations.items():
        if code in rows:
            rows[code].tally.median_days = max(0.0, float(statistics.median(values)))
    total.median_days = max(0.0, float(statistics.median(everything))) if everything else None

    # Coverage: a village counts once it sent an aspiration in this share or recorded its potential.
    pot_where, pot_params = "1 = 1", []  # type: ignore[var-annotated]
    if filters.since is not None:
        pot_where = "v.updated_at >= ?"
        pot_params = [filters.since_iso(tz)]
    for r in await db.fetchall(
        "SELECT d.kecamatan_code AS k, COUNT(*) AS villages, COUNT(x.desa_code) AS active FROM desa d LEFT JOIN ("
        f" SELECT a.desa_code FROM aspirations a WHERE {where}"
        f" UNION SELECT v.desa_code FROM village_potential v WHERE {pot_where}"
        ") x ON x.desa_code = d.code GROUP BY d.kecamatan_code",
        [*params, *pot_params],
    ):
        row = rows.get(r["k"])
        if row is not None:
            row.tally.villages = r["villages"]
            row.tally.villages_active = r["active"]
            total.villages += r["villages"]
            total.villages_active += r["active"]

    categories = tuple(c.code for c in CATEGORIES if audience.confidential or not c.confidential)
    kabupaten = tuple(dict.fromkeys((r.kabupaten_code, r.kabupaten_name) for r in rows.values()))
    return Recap(audience.label, filters, now, categories, list(rows.values()), total, kabupaten)


def format_days(value: float | None) -> str:
    """'4,5 hari' (Indonesian decimal comma), '-' when nothing was resolved."""
    if value is None:
        return "-"
    return f"{value:.1f}".replace(".", ",") + " hari"


def format_percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + "%"
