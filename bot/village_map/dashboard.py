"""What the dashboard reads: the overview's figures, the filtered list of aspirations and a village's page — each
for an ``Audience`` (bot/aspirations/audience.py), the same rule as the bot's, aggregated in SQL.

"Overdue" is the officials' service levels (bot/officials): an open aspiration not accepted, or not answered,
after its last working day.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.aspirations.audience import PEJABAT, Audience
from bot.core.clock import to_iso
from bot.core.domain import CATEGORY_BY_CODE, CLOSED_STATUSES, Status
from bot.storage.database import Database

PAGE_SIZE = 50
WEEKS = 12
WORKING = ("baru", "diterima", "diproses")
OPEN = (*WORKING, "selesai")
CLOSED = tuple(sorted(s.value for s in CLOSED_STATUSES))
#: Past a service level on ``?`` (the local date, twice); ``s`` the service levels of aspiration ``a``.
LATE = ("(a.status IN ('baru', 'diterima', 'diproses') AND EXISTS (SELECT 1 FROM aspiration_sla s"
        " WHERE s.aspiration_id = a.id AND ((s.accepted_at IS NULL AND s.accept_due < ?)"
        " OR (s.responded_at IS NULL AND s.respond_due < ?))))")
DEPARTMENTS = ("(SELECT group_concat(ad.department, ', ') FROM aspiration_departments ad"
               " WHERE ad.aspiration_id = a.id AND ad.active = 1)")


@dataclass(frozen=True)
class ListFilters:
    """The list's filters as the page's form gives them (unknown values are dropped by ``clean``)."""

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
        pairs = {"kecamatan": f.kecamatan, "desa": f.desa, "kategori": f.category, "status": f.status,
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


@dataclass
class Overview:
    by_status: list[tuple[str, int]]
    total: int
    open: int
    overdue: int
    weeks: list[WeekCount]
    overdue_by_department: list[tuple[str, int]]
    department_names: dict[str, str] = field(default_factory=dict)


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

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    async def department_names(self) -> dict[str, str]:
        return {r["code"]: r["name"] for r in await self.db.fetchall("SELECT code, name FROM departments")}

    async def overview(self, audience: Audience, now: datetime) -> Overview:
        share, params = audience.where()
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
        late = await self.db.fetchall(
            "SELECT COALESCE(ad.department, CASE WHEN a.confidential THEN 'Pimpinan' ELSE 'Admin' END) AS who,"
            " COUNT(*) AS n FROM aspirations a LEFT JOIN aspiration_departments ad ON ad.aspiration_id = a.id"
            f" AND ad.active = 1 WHERE {LATE} AND ({share}) GROUP BY who ORDER BY n DESC, who",
            [today, today, *params])
        overdue_by_department = [(r["who"], r["n"]) for r in late]
        if audience.kind == PEJABAT:  # an official's share: their own department's late work
            overdue_by_department = [(w, n) for w, n in overdue_by_department if w == audience.department]
        overdue = int(await self.db.fetchval(
            f"SELECT COUNT(*) FROM aspirations a WHERE {LATE} AND ({share})", [today, today, *params]))
        return Overview(
            by_status=by_status, total=sum(counts.values()), open=sum(counts.get(s, 0) for s in OPEN),
            overdue=overdue, weeks=[WeekCount(d, n) for d, n in weeks.items()],
            overdue_by_department=overdue_by_department, department_names=await self.department_names())

    async def aspirations(self, audience: Audience, filters: ListFilters, now: datetime,
                          page_size: int = PAGE_SIZE) -> ListPage:
        share, params = audience.where()
        today = self.today(now)
        scope, scope_params = filters.where(self.tz, today)
        where = f"({share}) AND ({scope})"
        total = int(await self.db.fetchval(f"SELECT COUNT(*) FROM aspirations a WHERE {where}",
                                           [*params, *scope_params]))
        pages = max(1, -(-total // page_size))
        page = min(max(1, filters.page), pages)
        iso = today.isoformat()
        rows = await self.db.fetchall(
            "SELECT a.ticket, a.created_at, a.desa_code, d.name AS desa_name, k.name AS kecamatan_name, a.category,"
            f" a.status, a.confidential, {DEPARTMENTS} AS departments, {LATE} AS late"
            " FROM aspirations a JOIN desa d ON d.code = a.desa_code JOIN kecamatan k ON k.code = a.kecamatan_code"
            f" WHERE {where} ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?",
            [iso, iso, *params, *scope_params, page_size, (page - 1) * page_size])
        return ListPage([ListRow(r["ticket"], r["created_at"], r["desa_code"], r["desa_name"], r["kecamatan_name"],
                                 r["category"], r["status"], r["departments"] or "", bool(r["confidential"]),
                                 bool(r["late"])) for r in rows], total, page, pages)

    async def is_overdue(self, aspiration_id: int, now: datetime) -> bool:
        iso = self.today(now).isoformat()
        return bool(await self.db.fetchval(f"SELECT {LATE} FROM aspirations a WHERE a.id = ?",
                                           [iso, iso, aspiration_id]))

    async def village(self, desa_code: str, audience: Audience) -> VillageFacts:
        share, params = audience.where()
        rows = await self.db.fetchall(
            f"SELECT a.status, a.category, COUNT(*) AS n FROM aspirations a WHERE a.desa_code = ? AND ({share})"
            " GROUP BY a.status, a.category", [desa_code, *params])
        by_status: dict[str, int] = {}
        by_category: dict[str, int] = {}
        for r in rows:
            by_status[r["status"]] = by_status.get(r["status"], 0) + r["n"]
            by_category[r["category"]] = by_category.get(r["category"], 0) + r["n"]
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
