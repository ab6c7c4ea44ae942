"""The pre-visit briefing: what leadership and the attending department heads should know before a visit.

For one kecamatan: every open aspiration of its villages grouped by desa and category, the oldest first, with the
count per village; the villages that have sent nothing yet; and the open and overdue commitments concerning it.
Leadership's version includes "Kinerja Kecamatan" (confidential) aspirations; the departments' version leaves them
out entirely, and each department reads only its own share (the aspirations routed to it): what an audience sees
is the rule of bot/aspirations/audience.py. The camat never gets a briefing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.aspirations import audience as audiences
from bot.core.clock import from_iso
from bot.core.domain import OPEN_STATUSES, Role
from bot.core.wording import plain
from bot.messaging.templates import render, split_message
from bot.officials.digests import deadlines_due, overdue
from bot.people.regions import list_desa
from bot.people.roster import Person
from bot.storage.database import Database
from bot.storage.jobs import claim, period_done
from bot.visits import broadcast
from bot.visits.commitments import Commitment, CommitmentService
from bot.visits.service import JOB, Visit, VisitService

MAX_ITEM_TEXT = 220
#: Statuses in which service levels run (after "Selesai" the village is asked, nothing is late).
_OPEN_WORK = ("baru", "diterima", "diproses")


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
    #: Codes of the departments handling it now.
    departments: tuple[str, ...] = ()
    #: Service levels missed ("terima", "tanggapan"), and those falling today or on the next working day.
    late: tuple[str, ...] = ()
    due: tuple[tuple[str, str, str], ...] = ()


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
    audience: audiences.Audience
    villages: list[DesaBrief]
    silent: list[str]
    desa_total: int
    commitments_open: list[Commitment]
    commitments_overdue: list[Commitment]

    @property
    def open_total(self) -> int:
        return sum(v.count for v in self.villages)

    @property
    def confidential(self) -> bool:
        return self.audience.confidential


class BriefingService:
    def __init__(self, db: Database, visits: VisitService, commitments: CommitmentService) -> None:
        self.db = db
        self.visits = visits
        self.commitments = commitments

    async def build(self, kecamatan_code: str, audience: audiences.Audience, *, visit: Visit | None = None,
                    now: datetime | None = None) -> Briefing:
        """The briefing of one kecamatan as ``audience`` may read it (bot/aspirations/audience.py)."""
        moment = now or self.visits.clock.now()
        today = self.visits.today(moment)
        name = await self.db.fetchval("SELECT name FROM kecamatan WHERE code = ?", (kecamatan_code,))
        statuses = sorted(s.value for s in OPEN_STATUSES)
        marks = ",".join("?" * len(statuses))
        share, share_params = audience.where()
        rows = await self.db.fetchall(
            "SELECT a.*, s.accept_due, s.respond_due, s.accepted_at, s.responded_at,"
            " (SELECT group_concat(department, ',') FROM aspiration_departments WHERE aspiration_id = a.id"
            "  AND active = 1) AS departments"
            f" FROM aspirations a LEFT JOIN aspiration_sla s ON s.aspiration_id = a.id WHERE a.kecamatan_code = ?"
            f" AND a.status IN ({marks}) AND ({share}) ORDER BY a.created_at, a.id",
            [kecamatan_code, *statuses, *share_params])
        desa = await list_desa(self.db, kecamatan_code)
        by_code = {d.code: DesaBrief(d.code, d.name, d.kind) for d in desa}
        grouped: dict[str, dict[str, list[BriefItem]]] = {}
        order: list[str] = []
        for r in rows:
            created = from_iso(r["created_at"]).astimezone(self.visits.tz).date()
            text = r["description"]
            if len(text) > MAX_ITEM_TEXT:
                text = text[: MAX_ITEM_TEXT - 1].rstrip() + "…"
            working = r["status"] in _OPEN_WORK
            item = BriefItem(r["ticket"], r["category"], r["status"], text, r["created_at"],
                             (today - created).days, bool(r["confidential"]),
                             visit is not None and r["visit_id"] == visit.id,
                             tuple(r["departments"].split(",")) if r["departments"] else (),
                             overdue(r["accept_due"], r["respond_due"], r["accepted_at"], r["responded_at"],
                                     today) if working else (),
                             deadlines_due(r["accept_due"], r["respond_due"], r["accepted_at"], r["responded_at"],
                                           today) if working else ())
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
            f"SELECT DISTINCT a.desa_code FROM aspirations a WHERE a.kecamatan_code = ? AND ({share})",
            [kecamatan_code, *share_params])
        sent_codes = {r["desa_code"] for r in sent}
        silent = [by_code[c].label for c in by_code if c not in sent_codes]
        open_c, overdue_c = await self.commitments.for_kecamatan(kecamatan_code, today)
        return Briefing(kecamatan_code, name or kecamatan_code, visit, moment, audience, villages, silent,
                        len(desa), open_c, overdue_c)

    def render(self, briefing: Briefing) -> list[str]:
        """The briefing as Telegram messages (split between villages when it is long)."""
        today = self.visits.today(briefing.generated_at)
        parts = [render("visits/briefing_header", b=briefing, today=today)]
        parts += [render("visits/briefing_village", v=v) for v in briefing.villages]
        parts.append(render("visits/briefing_footer", b=briefing, today=today))
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
        briefing = await self.build(kecamatan_code, audiences.of(person), visit=upcoming[0] if upcoming else None)
        return self.render(briefing)

    async def send_scheduled(self, visit: Visit, now: datetime) -> bool:
        """Two days before a visit: leadership and the officials of the attending departments get the briefing,
        each department its own share."""
        period = f"briefing:{visit.id}:r{visit.revision}"
        if await period_done(self.db, JOB, period):
            return False
        full = self.render(await self.build(visit.kecamatan_code, audiences.for_export(audiences.PIMPINAN),
                                            visit=visit, now=now))
        officials = "p.role = 'pejabat' AND lower(p.department) IN ({})".format(",".join("?" * len(visit.departments)))
        wanted = [d.lower() for d in visit.departments]
        shares: dict[str, list[str]] = {}
        for official in await broadcast.people(self.db, officials, wanted) if visit.departments else []:
            if official.department and official.department not in shares:
                shares[official.department] = self.render(await self.build(
                    visit.kecamatan_code, audiences.for_department(official.department), visit=visit, now=now))
        async with self.db.transaction() as tx:
            if not await claim(tx, JOB, period, now):
                return False
            current = await self.visits.find(visit.id, tx)
            if current is None or current.cancelled or current.revision != visit.revision:
                return False
            recipients = await broadcast.people(tx, "p.role = 'pimpinan'")
            if visit.departments:
                # each official gets their department's share (one who joined since it was built: none)
                recipients += [r for r in await broadcast.people(tx, officials, wanted) if r.department in shares]

            def messages(r: broadcast.Recipient) -> list[broadcast.Message]:
                texts = full if r.role == Role.PIMPINAN.value else shares[r.department or ""]
                return [(text, None) for text in texts]

            await broadcast.fan_out(
                tx, kind="briefing", audience=plain("visits/log_audience_briefing", departments=visit.departments),
                text=plain("visits/log_briefing", id=visit.id, kecamatan=visit.kecamatan_name), recipients=recipients,
                message_for=messages, now=now, ref=f"visit:{visit.id}:brief",
                dedup_prefix=f"visit:{visit.id}:r{visit.revision}:brief")
        return True

