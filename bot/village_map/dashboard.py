"""What the dashboard reads: the overview's figures, the filtered list of aspirations and a village's page — each
for an ``Audience`` (bot/aspirations/audience.py), the same rule as the bot's, aggregated in SQL.

"Overdue" is the officials' service levels (bot/officials): an open aspiration not accepted, or not answered,
after its last working day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from bot.aspirations.audience import PEJABAT, Audience
from bot.core.clock import to_iso
from bot.core.domain import CATEGORY_BY_CODE, CLOSED_STATUSES, Status
from bot.storage.database import Database
from bot.village_map.profile import village_counts

log = logging.getLogger(__name__)
T = TypeVar("T")
PAGE_SIZE = 50
WEEKS = 12
WORKING = ("baru", "diterima", "diproses")
OPEN = (*WORKING, "selesai")
CLOSED = tuple(sorted(s.value for s in CLOSED_STATUSES))
#: The same, read from the service levels' side: ``LATE_FROM`` then ``WHERE LATE_WHERE`` (the local date, twice).
LATE_FROM = "FROM aspiration_sla s JOIN aspirations a ON a.id = s.aspiration_id"
LATE_WHERE = ("a.status IN ('baru', 'diterima', 'diproses') AND ((s.accepted_at IS NULL AND s.accept_due < ?)"
              " OR (s.responded_at IS NULL AND s.respond_due < ?))")
#: Past a service level on ``?`` (the local date, twice); ``s`` the service levels of aspiration ``a``.
LATE = ("(a.status IN ('baru', 'diterima', 'diproses') AND EXISTS (SELECT 1 FROM aspiration_sla s"
        " WHERE s.aspiration_id = a.id AND ((s.accepted_at IS NULL AND s.accept_due < ?)"
        " OR (s.responded_at IS NULL AND s.respond_due < ?))))")
#: The kecamatan of one kabupaten (codes "35.13.xx"): a range, so the kecamatan indexes answer it.
KABUPATEN = "a.kecamatan_code >= ? AND a.kecamatan_code < ?"
#: More kecamatan than this and the heat map shows kabupaten/kota first (a province), each opening its kecamatan.
MAX_HEAT_ROWS = 60
#: Seconds the overview's and the map's figures are reused for the same audience, and how much longer they are
#: answered at once while newer ones are made.
CACHE_SECONDS = 60
STALE_SECONDS = 600


def kabupaten_range(code: str) -> tuple[str, str]:
    return f"{code}.", f"{code}/"  # "/" sorts right after "."


DEPARTMENTS = ("(SELECT group_concat(ad.department, ', ') FROM aspiration_departments ad"
               " WHERE ad.aspiration_id = a.id AND ad.active = 1)")
#: The departments an aspiration waits for, comma-separated in code order (one spelling per set).
ACTIVE_DEPARTMENTS = ("(SELECT group_concat(department) FROM (SELECT ad.department FROM aspiration_departments ad"
                      " WHERE ad.aspiration_id = a.id AND ad.active = 1 ORDER BY ad.department))")


@dataclass(frozen=True)
class ListFilters:
    """The list's filters as the page's form gives them (unknown values are dropped by ``clean``)."""

    kabupaten: str = ""
    kecamatan: str = ""
    desa: str = ""
    category: str = ""
    #: a status code, or "terbuka" / "tertutup"
    status: str = ""
    department: str = ""
    since: date | None = None
    until: date | None = None
    overdue: bool = False
    page: int = 1

    def where(self, tz: ZoneInfo, today: date) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.kabupaten:
            parts.append(KABUPATEN)
            params.extend(kabupaten_range(self.kabupaten))
        if self.kecamatan:
            parts.append("a.kecamatan_code = ?")
            params.append(self.kecamatan)
        if self.desa:
            parts.append("a.desa_code = ?")
            params.append(self.desa)
        if self.category:
            parts.append("a.category = ?")
            params.append(self.category)
        if self.status == "terbuka":
            parts.append(f"a.status IN ({','.join('?' * len(OPEN))})")
            params.extend(OPEN)
        elif self.status == "tertutup":
            parts.append(f"a.status IN ({','.join('?' * len(CLOSED))})")
            params.extend(CLOSED)
        elif self.status:
            parts.append("a.status = ?")
            params.append(self.status)
        if self.department:
            parts.append("EXISTS (SELECT 1 FROM aspiration_departments f WHERE f.aspiration_id = a.id"
                         " AND f.department = ? AND f.active = 1)")
            params.append(self.department)
        if self.since is not None:
            parts.append("a.created_at >= ?")
            params.append(to_iso(datetime.combine(self.since, time(0), tzinfo=tz)))
        if self.until is not None:
            parts.append("a.created_at < ?")
            params.append(to_iso(datetime.combine(self.until + timedelta(days=1), time(0), tzinfo=tz)))
        if self.overdue:
            parts.append(LATE)
            params.extend([today.isoformat()] * 2)
        return " AND ".join(parts) or "1 = 1", params

    def query(self, **changes: Any) -> dict[str, str]:
        """The filters as the list's query string (empty ones left out), with ``changes``."""
        f = replace(self, **changes)
        pairs = {"kabupaten": f.kabupaten, "kecamatan": f.kecamatan, "desa": f.desa, "kategori": f.category,
                 "status": f.status,
                 "opd": f.department, "sejak": f.since.isoformat() if f.since else "",
                 "sampai": f.until.isoformat() if f.until else "", "terlambat": "1" if f.overdue else "",
                 "hal": str(f.page) if f.page > 1 else ""}
        return {k: v for k, v in pairs.items() if v}


@dataclass(frozen=True)
class ListRow:
    ticket: str
    created_at: str
    desa_code: str
    desa_name: str
    kecamatan_name: str
    category: str
    status: str
    departments: str
    confidential: bool
    overdue: bool


@dataclass(frozen=True)
class ListPage:
    rows: list[ListRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class WeekCount:
    start: date
    count: int


@dataclass(frozen=True)
class HeatRow:
    """One row of the heat map: a kecamatan, or a kabupaten/kota of a province."""

    code: str
    name: str
    counts: dict[str, int]
    total: int


@dataclass
class Overview:
    by_status: list[tuple[str, int]]
    total: int
    open: int
    overdue: int
    weeks: list[WeekCount]
    overdue_by_department: list[tuple[str, int]]
    #: kecamatan x category counts (or kabupaten x category for a province), the categories in the share
    heat: list[HeatRow]
    heat_level: str  # kecamatan | kabupaten
    categories: tuple[str, ...]
    villages: int
    villages_active: int
    generated_at: datetime
    #: (code, name) of the kabupaten the overview is narrowed to, if any
    kabupaten: tuple[str, str] | None = None
    department_names: dict[str, str] = field(default_factory=dict)

    @property
    def peak(self) -> int:
        return max((n for row in self.heat for n in row.counts.values()), default=0)

    @property
    def week_peak(self) -> int:
        return max((w.count for w in self.weeks), default=0)


@dataclass(frozen=True)
class VillageFacts:
    by_status: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    total: int
    open: int
    heads: list[tuple[str, bool]]
    feedback: list[dict[str, Any]]


class Dashboard:
    def __init__(self, db: Database, tz: ZoneInfo) -> None:
        self.db = db
        self.tz = tz
        self._cache: dict[tuple[Any, ...], tuple[datetime, Any]] = {}
        self._refreshing: dict[tuple[Any, ...], asyncio.Task[None]] = {}

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    async def department_names(self) -> dict[str, str]:
        return {r["code"]: r["name"] for r in await self.db.fetchall("SELECT code, name FROM departments")}

    async def cached(self, key: tuple[Any, ...], now: datetime, make: Callable[[], Awaitable[T]]) -> T:
        """``make()``, reused for the same ``key`` (which names the audience): fresh for ``CACHE_SECONDS``; for
        ``STALE_SECONDS`` more the figures already made are answered at once while new ones are made in the
        background. The overview and the map are summaries that say how old they are; only the first reader after
        a long quiet waits for them."""
        hit = self._cache.get(key)
        if hit is not None:
            made_at, value = hit
            age = (now - made_at).total_seconds()
            if 0 <= age < CACHE_SECONDS:
                return cast(T, value)
            if 0 <= age < CACHE_SECONDS + STALE_SECONDS:
                if key not in self._refreshing:
                    task = asyncio.get_running_loop().create_task(self._refresh(key, now, make))
                    self._refreshing[key] = task
                return cast(T, value)
        value = await make()
        self._store(key, now, value)
        return value

    def _store(self, key: tuple[Any, ...], now: datetime, value: Any) -> None:
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = (now, value)

    async def _refresh(self, key: tuple[Any, ...], now: datetime, make: Callable[[], Awaitable[Any]]) -> None:
        try:
            self._store(key, now, await make())
        except Exception:  # the stale figures stay; the next reader tries again
            log.warning("dashboard: refreshing %s failed", key[0], exc_info=True)
        finally:
            self._refreshing.pop(key, None)

    async def settled(self) -> None:
        """Wait for the refreshes running in the background (tests, a clean stop)."""
        while self._refreshing:
            await asyncio.gather(*list(self._refreshing.values()), return_exceptions=True)

    def forget(self) -> None:
        """Drop what ``cached`` keeps (the benchmark times the first reader of a minute with it)."""
        self._cache.clear()

    async def overview(self, audience: Audience, now: datetime, kabupaten: str = "") -> Overview:
        key = ("overview", audience.kind, audience.department, audience.confidential, kabupaten)
        return await self.cached(key, now, lambda: self._overview(audience, now, kabupaten))

    async def _overview(self, audience: Audience, now: datetime, kabupaten: str) -> Overview:
        share, params = audience.scan()
        if kabupaten:
            share = f"({share}) AND {KABUPATEN}"
            params = [*params, *kabupaten_range(kabupaten)]
        today = self.today(now).isoformat()
        counts = {r["status"]: r["n"] for r in await self.db.fetchall(
            f"SELECT a.status, COUNT(*) AS n FROM aspirations a WHERE {share} GROUP BY a.status", params)}
        order = [s.value for s in Status]
        by_status = [(s, counts[s]) for s in sorted(counts, key=lambda s: order.index(s) if s in order else 99)]
        # intake per week (Monday to Sunday, local), the current week last
        local = now.astimezone(self.tz)
        monday = local.date() - timedelta(days=local.weekday())
        first = monday - timedelta(weeks=WEEKS - 1)
        offset = int((local.utcoffset() or timedelta(0)).total_seconds() // 60)
        days = await self.db.fetchall(
            f"SELECT date(a.created_at, '{offset:+d} minutes') AS day, COUNT(*) AS n FROM aspirations a"
            f" WHERE a.created_at >= ? AND ({share}) GROUP BY day",
            [to_iso(datetime.combine(first, time(0), tzinfo=self.tz)), *params])
        weeks = {first + timedelta(weeks=i): 0 for i in range(WEEKS)}
        for r in days:
            day = date.fromisoformat(r["day"])
            start = day - timedelta(days=day.weekday())
            if start in weeks:
                weeks[start] += r["n"]
        # overdue: from the service levels past their day (their indexes), then the share; one pass, grouped by
        # the set of departments each waits for (a handful of sets), then counted per department
        late = await self.db.fetchall(
            f"SELECT {ACTIVE_DEPARTMENTS} AS who, a.confidential AS secret, COUNT(*) AS n {LATE_FROM}"
            f" WHERE {LATE_WHERE} AND ({share}) GROUP BY who, secret", [today, today, *params])
        per_department: dict[str, int] = {}
        for r in late:
            for who in (r["who"].split(",") if r["who"] else ["Pimpinan" if r["secret"] else "Admin"]):
                per_department[who] = per_department.get(who, 0) + r["n"]
        overdue_by_department = sorted(per_department.items(), key=lambda kv: (-kv[1], kv[0]))
        if audience.kind == PEJABAT:  # an official's share: their own department's late work
            overdue_by_department = [(w, n) for w, n in overdue_by_department if w == audience.department]
        overdue = sum(r["n"] for r in late)
        heat, level, categories = await self._heat(audience, share, params, kabupaten)
        villages, active = await self._coverage(audience, kabupaten)
        chosen = None
        if kabupaten:
            row = await self.db.fetchone("SELECT kabupaten_code, kabupaten_name FROM kecamatan"
                                         " WHERE kabupaten_code = ? LIMIT 1", (kabupaten,))
            chosen = (row["kabupaten_code"], row["kabupaten_name"]) if row else (kabupaten, kabupaten)
        return Overview(
            by_status=by_status, total=sum(counts.values()), open=sum(counts.get(s, 0) for s in OPEN),
            overdue=overdue, weeks=[WeekCount(d, n) for d, n in weeks.items()],
            overdue_by_department=overdue_by_department, heat=heat, heat_level=level, categories=categories,
            villages=villages, villages_active=active, generated_at=now, kabupaten=chosen,
            department_names=await self.department_names())

    async def _heat(self, audience: Audience, share: str, params: list[Any],
                    kabupaten: str) -> tuple[list[HeatRow], str, tuple[str, ...]]:
        """Counts per kecamatan x category (the index ``aspirations_map`` answers it), summed per kabupaten/kota
        when there are too many kecamatan to read (a province) and no kabupaten was chosen."""
        kec_sql = "SELECT code, name, kabupaten_code, kabupaten_name FROM kecamatan"
        kec_params: list[Any] = []
        if kabupaten:
            kec_sql += " WHERE kabupaten_code = ?"
            kec_params = [kabupaten]
        kecamatan = {r["code"]: r for r in await self.db.fetchall(kec_sql + " ORDER BY code", kec_params)}
        cells: dict[str, dict[str, int]] = {}
        for r in await self.db.fetchall(
                f"SELECT a.kecamatan_code AS k, a.category AS c, COUNT(*) AS n FROM aspirations a WHERE {share}"
                " GROUP BY a.kecamatan_code, a.category", params):
            cells.setdefault(r["k"], {})[r["c"]] = r["n"]
        categories = tuple(c for c in CATEGORY_BY_CODE if audience.confidential
                           or not CATEGORY_BY_CODE[c].confidential)
        level = "kecamatan"
        if len(kecamatan) > MAX_HEAT_ROWS and len({k["kabupaten_code"] for k in kecamatan.values()}) > 1:
            level = "kabupaten"
        rows: dict[str, HeatRow] = {}
        for code, k in kecamatan.items():
            found = cells.get(code)
            if not found:
                continue
            key, name = (k["kabupaten_code"], k["kabupaten_name"]) if level == "kabupaten" else (code, k["name"])
            row = rows.get(key) or HeatRow(key, name, {}, 0)
            merged = dict(row.counts)
            for c, n in found.items():
                merged[c] = merged.get(c, 0) + n
            rows[key] = HeatRow(key, name, merged, row.total + sum(found.values()))
        return list(rows.values()), level, categories

    async def _coverage(self, audience: Audience, kabupaten: str) -> tuple[int, int]:
        """(villages, villages that sent an aspiration in this share or recorded their potential)."""
        share, params = audience.scan()
        where, extra = "1 = 1", []
        if kabupaten:
            where = "d.kecamatan_code >= ? AND d.kecamatan_code < ?"
            extra = list(kabupaten_range(kabupaten))
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS villages, SUM(EXISTS (SELECT 1 FROM aspirations a INDEXED BY aspirations_desa_status"
            f" WHERE a.desa_code = d.code AND {share})"
            " OR EXISTS (SELECT 1 FROM village_potential v WHERE v.desa_code = d.code)) AS active"
            f" FROM desa d WHERE {where}", [*params, *extra])
        assert row is not None  # an aggregate always has its row
        return int(row["villages"] or 0), int(row["active"] or 0)

    async def aspirations(self, audience: Audience, filters: ListFilters, now: datetime,
                          page_size: int = PAGE_SIZE) -> ListPage:
        share, params = audience.where()
        today = self.today(now)
        scope, scope_params = filters.where(self.tz, today)
        where = f"({share}) AND ({scope})"
        whole, whole_params = audience.scan()  # counting reads the whole share: its faster form
        total = int(await self.db.fetchval(f"SELECT COUNT(*) FROM aspirations a WHERE ({whole}) AND ({scope})",
                                           [*whole_params, *scope_params]))
        pages = max(1, -(-total // page_size))
        page = min(max(1, filters.page), pages)
        iso = today.isoformat()
        # the page's aspirations first (only what sorting needs), then their details: a filter that the planner
        # answers from another index (status, kecamatan) sorts its matches without computing the details of each
        ids = [r["id"] for r in await self.db.fetchall(
            f"SELECT a.id FROM aspirations a WHERE {where} ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?",
            [*params, *scope_params, page_size, (page - 1) * page_size])]
        rows = await self.db.fetchall(
            "SELECT a.ticket, a.created_at, a.desa_code, d.name AS desa_name, k.name AS kecamatan_name, a.category,"
            f" a.status, a.confidential, {DEPARTMENTS} AS departments, {LATE} AS late"
            " FROM aspirations a JOIN desa d ON d.code = a.desa_code JOIN kecamatan k ON k.code = a.kecamatan_code"
            f" WHERE a.id IN ({','.join('?' * len(ids))}) ORDER BY a.created_at DESC, a.id DESC",
            [iso, iso, *ids]) if ids else []
        return ListPage([ListRow(r["ticket"], r["created_at"], r["desa_code"], r["desa_name"], r["kecamatan_name"],
                                 r["category"], r["status"], r["departments"] or "", bool(r["confidential"]),
                                 bool(r["late"])) for r in rows], total, page, pages)

    async def is_overdue(self, aspiration_id: int, now: datetime) -> bool:
        iso = self.today(now).isoformat()
        return bool(await self.db.fetchval(f"SELECT {LATE} FROM aspirations a WHERE a.id = ?",
                                           [iso, iso, aspiration_id]))

    async def village(self, desa_code: str, audience: Audience) -> VillageFacts:
        by_status, by_category = await village_counts(self.db, desa_code, audience)
        order = [s.value for s in Status]
        cats = list(CATEGORY_BY_CODE)
        heads = [(r["name"] or "-", r["telegram_id"] is not None) for r in await self.db.fetchall(
            "SELECT name, telegram_id FROM people WHERE role = 'kepala_desa' AND active = 1 AND desa_code = ?"
            " ORDER BY id", (desa_code,))]
        feedback: list[dict[str, Any]] = []
        if audience.feedback:
            feedback = [dict(r) for r in await self.db.fetchall(
                "SELECT v.date, k.name AS kecamatan, f.visit_rating, f.service_rating, f.comment"
                " FROM visit_feedback f JOIN visits v ON v.id = f.visit_id"
                " JOIN kecamatan k ON k.code = v.kecamatan_code"
                " WHERE f.desa_code = ? ORDER BY v.date DESC, f.id DESC LIMIT 10", (desa_code,))]
        return VillageFacts(
            by_status=sorted(by_status.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99),
            by_category=sorted(by_category.items(), key=lambda kv: (-kv[1], cats.index(kv[0]) if kv[0] in cats
                                                                     else 99)),
            total=sum(by_status.values()), open=sum(by_status.get(s, 0) for s in OPEN), heads=heads,
            feedback=feedback)
