"""The pre-visit briefing: what leadership and the attending department heads should know before a visit.

For one kecamatan: every open aspiration of its villages grouped by desa and category, the oldest first, with the
count per village; the villages that have sent nothing yet; and the open and overdue commitments concerning it.
Leadership's version includes "Kinerja Kecamatan" (confidential) aspirations; the departments' version leaves them
out entirely. The camat never gets a briefing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from . import broadcast
from .clock import from_iso
from .commitments import Commitment, CommitmentService
from .domain import OPEN_STATUSES, Role
from .regions import list_desa
from .roster import Person
from .storage import Database
from .templates import render, split_message
from .visits import JOB, Visit, VisitService, claim_in

MAX_ITEM_TEXT = 220


@dataclass(frozen=True)
class BriefItem:
    ticket: str
    category: str
    status: str
    description: str
    created_at: str
    days_open: int
    confidential: bool
    visit_tagged: bool


@dataclass
class DesaBrief:
    code: str
    name: str
    kind: str
    categories: list[tuple[str, list[BriefItem]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(items) for _, items in self.categories)

    @property
    def label(self) -> str:
        return f"{'Kelurahan' if self.kind == 'kelurahan' else 'Desa'} {self.name}"


@dataclass
class Briefing:
    kecamatan_code: str
    kecamatan_name: str
    visit: Visit | None
    generated_at: datetime
    confidential: bool
    villages: list[DesaBrief]
    silent: list[str]
    desa_total: int
    commitments_open: list[Commitment]
    commitments_overdue: list[Commitment]

    @property
    def open_total(self) -> int:
        return sum(v.count for v in self.villages)


class BriefingService:
    def __init__(self, db: Database, visits: VisitService, commitments: CommitmentService) -> None:
        self.db = db
        self.visits = visits
        self.commitments = commitments

    async def build(self, kecamatan_code: str, *, confidential: bool, visit: Visit | None = None,
                    now: datetime | None = None) -> Briefing:
        moment = now or self.visits.clock.now()
        today = self.visits.today(moment)
        name = await self.db.fetchval("SELECT name FROM kecamatan WHERE code = ?", (kecamatan_code,))
        statuses = sorted(s.value for s in OPEN_STATUSES)
        marks = ",".join("?" * len(statuses))
        hide = "" if confidential else " AND a.confidential = 0"
        rows = await self.db.fetchall(
            f"SELECT a.* FROM aspirations a WHERE a.kecamatan_code = ? AND a.status IN ({marks}){hide}"
            " ORDER BY a.created_at, a.id", [kecamatan_code, *statuses])
        desa = await list_desa(self.db, kecamatan_code)
        by_code = {d.code: DesaBrief(d.code, d.name, d.kind) for d in desa}
        grouped: dict[str, dict[str, list[BriefItem]]] = {}
        order: list[str] = []
        for r in rows:
            created = from_iso(r["created_at"]).astimezone(self.visits.tz).date()
            text = r["description"]
            if len(text) > MAX_ITEM_TEXT:
                text = text[: MAX_ITEM_TEXT - 1].rstrip() + "…"
            item = BriefItem(r["ticket"], r["category"], r["status"], text, r["created_at"],
                             (today - created).days, bool(r["confidential"]),
                             visit is not None and r["visit_id"] == visit.id)
            if r["desa_code"] not in grouped:
                grouped[r["desa_code"]] = {}
                order.append(r["desa_code"])
            grouped[r["desa_code"]].setdefault(r["category"], []).append(item)
        villages: list[DesaBrief] = []
        for code in order:  # villages whose oldest open aspiration is oldest come first
            brief = by_code.get(code) or DesaBrief(code, code, "desa")
            brief.categories = list(grouped[code].items())
            villages.append(brief)
        sent = await self.db.fetchall(
            f"SELECT DISTINCT desa_code FROM aspirations WHERE kecamatan_code = ?{hide.replace('a.', '')}",
            (kecamatan_code,))
        sent_codes = {r["desa_code"] for r in sent}
        silent = [by_code[c].label for c in by_code if c not in sent_codes]
        open_c, overdue_c = await self.commitments.for_kecamatan(kecamatan_code, today)
        return Briefing(kecamatan_code, name or kecamatan_code, visit, moment, confidential, villages, silent,
                        len(desa), open_c, overdue_c)

    def render(self, briefing: Briefing) -> list[str]:
        """The briefing as Telegram messages (split between villages when it is long)."""
        today = self.visits.today(briefing.generated_at)
        parts = [render("briefing_header", b=briefing, today=today)]
        parts += [render("briefing_village", v=v) for v in briefing.villages]
        parts.append(render("briefing_footer", b=briefing, today=today))
        return split_message(parts, 4000)

    async def allowed(self, person: Person, kecamatan_code: str) -> bool:
        """Leadership and admins may read any briefing; a department official only that of a coming visit
        their department attends. Camat and kepala desa never."""
        if person.role in (Role.PIMPINAN, Role.ADMIN):
            return True
        if person.role is Role.PEJABAT and person.department:
            for visit in await self.visits.upcoming(kecamatan_code=kecamatan_code):
                if person.department.lower() in (d.lower() for d in visit.departments):
                    return True
        return False

    async def for_person(self, person: Person, kecamatan_code: str) -> list[str]:
        upcoming = await self.visits.upcoming(kecamatan_code=kecamatan_code, limit=1)
        briefing = await self.build(kecamatan_code, confidential=person.role in (Role.PIMPINAN, Role.ADMIN),
                                    visit=upcoming[0] if upcoming else None)
        return self.render(briefing)

    async def send_scheduled(self, visit: Visit, now: datetime) -> bool:
        """Two days before a visit: leadership and the heads of the attending departments get the briefing."""
        period = f"briefing:{visit.id}:r{visit.revision}"
        if await self.db.fetchval("SELECT 1 FROM job_runs WHERE job = ? AND period = ?", (JOB, period)):
            return False
        full = self.render(await self.build(visit.kecamatan_code, confidential=True, visit=visit, now=now))
        shared = self.render(await self.build(visit.kecamatan_code, confidential=False, visit=visit, now=now))
        async with self.db.transaction() as tx:
            if not await claim_in(tx, JOB, period, now):
                return False
            current = await self.visits.find(visit.id, tx)
            if current is None or current.cancelled or current.revision != visit.revision:
                return False
            recipients = await broadcast.people(tx, "p.role = 'pimpinan'")
            if visit.departments:
                marks = ",".join("?" * len(visit.departments))
                recipients += await broadcast.people(
                    tx, f"p.role = 'pejabat' AND lower(p.department) IN ({marks})",
                    [d.lower() for d in visit.departments])

            def messages(r: broadcast.Recipient) -> list[broadcast.Message]:
                return [(text, None) for text in (full if r.role == Role.PIMPINAN.value else shared)]

            await broadcast.fan_out(
                tx, kind="briefing", audience=f"Pimpinan dan OPD hadir ({', '.join(visit.departments) or '-'})",
                text=f"Briefing kunjungan #{visit.id} Kecamatan {visit.kecamatan_name}", recipients=recipients,
                message_for=messages, now=now, ref=f"visit:{visit.id}:brief",
                dedup_prefix=f"visit:{visit.id}:r{visit.revision}:brief")
        return True

