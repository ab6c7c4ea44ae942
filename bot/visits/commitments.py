"""Commitments: what leadership promises during a visit, followed up until the department reports the outcome.

A commitment has a text, the responsible department, one or more villages and a due date; it may be linked to the
visit where it was made and to aspirations (by ticket). The kepala desa of those villages are told when it is
recorded; the department is reminded seven days and one day before the due date; on the due date (and weekly
while it stays open) the department is asked for the outcome, which is reported to the villages and leadership.
Open and overdue commitments appear in the pre-visit briefing and in the weekly leadership digest
(``digest_section``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.aspirations.service import TICKET_RE
from bot.core.clock import Clock, to_iso
from bot.core.domain import DomainError, NotAllowed, NotFound, Role
from bot.core.text import clean_text
from bot.core.wording import phrases, plain
from bot.messaging import callbacks, outbox
from bot.messaging.templates import render
from bot.people.regions import Desa, find_desa
from bot.people.roster import Person
from bot.storage import audit
from bot.storage.database import Database, Row, Transaction
from bot.storage.jobs import claiming
from bot.visits import broadcast
from bot.visits.service import canonical_department, parse_date

OPEN = ("terbuka", "berjalan")
STATUS_LABELS = {
    "terbuka": "Terbuka",
    "berjalan": "Masih berjalan",
    "terlaksana": "Terlaksana",
    "tidak_terlaksana": "Tidak dapat dilaksanakan",
}
#: Button answers of the department → status.
OUTCOMES = {"ok": "terlaksana", "run": "berjalan", "no": "tidak_terlaksana"}
REMINDERS: tuple[tuple[str, int], ...] = (("d-7", 7), ("d-1", 1))
REMINDER_TIME = dt.time(8, 0)
ASK_EVERY_DAYS = 7
MAX_DESCRIPTION = 1000
MAX_DESA = 20
JOB = "commitments"


@dataclass(frozen=True)
class CommitmentDesa:
    code: str
    name: str
    kecamatan_code: str
    kecamatan_name: str


@dataclass(frozen=True)
class Commitment:
    id: int
    visit_id: int | None
    visit_label: str | None
    description: str
    department: str
    due_date: dt.date
    status: str
    outcome: str | None
    outcome_at: str | None
    created_at: str
    desa: tuple[CommitmentDesa, ...]
    tickets: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def overdue(self, today: dt.date) -> bool:
        return self.is_open and self.due_date < today

    def days_late(self, today: dt.date) -> int:
        return max(0, (today - self.due_date).days)

    @property
    def desa_names(self) -> str:
        return ", ".join(d.name for d in self.desa)


@dataclass
class CommitmentDraft:
    """What an admin or leader has entered so far in /janji (kept in the conversation's user data)."""

    visit_id: int | None = None
    description: str | None = None
    department: str | None = None
    desa_codes: list[str] = field(default_factory=list)
    due_date: str | None = None  # ISO date
    tickets: list[str] = field(default_factory=list)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CommitmentDraft:
        return cls(**(data or {}))


@dataclass(frozen=True)
class Digest:
    """The commitments part of the weekly digest. ``overdue`` lists the oldest overdue commitments (by due date),
    at most the cap; ``overdue_total`` counts all of them."""

    open: int
    overdue: list[Commitment]
    due_soon: list[Commitment]
    finished_recently: list[Commitment]
    overdue_total: int

    @property
    def overdue_not_listed(self) -> int:
        return self.overdue_total - len(self.overdue)


_SELECT = (
    "SELECT c.*, v.date AS visit_date, vk.name AS visit_kecamatan FROM commitments c"
    " LEFT JOIN visits v ON v.id = c.visit_id LEFT JOIN kecamatan vk ON vk.code = v.kecamatan_code"
)


class CommitmentService:
    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz

    def today(self, now: datetime | None = None) -> dt.date:
        return (now or self.clock.now()).astimezone(self.tz).date()

    def at(self, day: dt.date, time: dt.time) -> datetime:
        return datetime.combine(day, time, tzinfo=self.tz).astimezone(dt.UTC)

    # -- reads -----------------------------------------------------------------------------------------------

    async def _commitments(self, conn: Database | Transaction, rows: list[Row]) -> list[Commitment]:
        """Commitments from rows of ``_SELECT``, in the rows' order, with their villages and linked tickets read
        for all of them at once (two queries, however many rows)."""
        if not rows:
            return []
        ids = json.dumps([row["id"] for row in rows])
        desa: dict[int, list[CommitmentDesa]] = {}
        for d in await conn.fetchall(
                "SELECT cd.commitment_id, d.code, d.name, d.kecamatan_code, k.name AS kecamatan_name"
                " FROM commitment_desa cd JOIN desa d ON d.code = cd.desa_code"
                " JOIN kecamatan k ON k.code = d.kecamatan_code"
                " WHERE cd.commitment_id IN (SELECT value FROM json_each(?)) ORDER BY cd.commitment_id, d.code",
                (ids,)):
            desa.setdefault(d["commitment_id"], []).append(
                CommitmentDesa(d["code"], d["name"], d["kecamatan_code"], d["kecamatan_name"]))
        tickets: dict[int, list[str]] = {}
        for t in await conn.fetchall(
                "SELECT ca.commitment_id, a.ticket FROM commitment_aspirations ca"
                " JOIN aspirations a ON a.id = ca.aspiration_id"
                " WHERE ca.commitment_id IN (SELECT value FROM json_each(?)) ORDER BY ca.commitment_id, a.ticket",
                (ids,)):
            tickets.setdefault(t["commitment_id"], []).append(t["ticket"])
        return [self._build(row, desa.get(row["id"], ()), tickets.get(row["id"], ())) for row in rows]

    @staticmethod
    def _build(row: Row, desa: Iterable[CommitmentDesa], tickets: Iterable[str]) -> Commitment:
        label = None
        if row["visit_id"] is not None and row["visit_date"]:
            from bot.messaging.templates import tanggal_pendek

            label = f"Kec. {row['visit_kecamatan']}, {tanggal_pendek(dt.date.fromisoformat(row['visit_date']))}"
        return Commitment(
            id=row["id"], visit_id=row["visit_id"], visit_label=label, description=row["description"],
            department=row["department"], due_date=dt.date.fromisoformat(row["due_date"]), status=row["status"],
            outcome=row["outcome"], outcome_at=row["outcome_at"], created_at=row["created_at"],
            desa=tuple(desa), tickets=tuple(tickets),
        )

    async def get(self, commitment_id: int, conn: Database | Transaction | None = None) -> Commitment:
        c = conn or self.db
        row = await c.fetchone(_SELECT + " WHERE c.id = ?", (commitment_id,))
        if row is None:
            raise NotFound("visits/janji_tidak_ditemukan")
        [commitment] = await self._commitments(c, [row])
        return commitment

    async def _many(self, where: str, params: list[Any], order: str = "c.due_date, c.id",
                    limit: int | None = None) -> list[Commitment]:
        sql = f"{_SELECT} WHERE {where} ORDER BY {order}"
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, limit]
        rows = await self.db.fetchall(sql, params)
        return await self._commitments(self.db, rows)

    async def list_open(self, *, kecamatan_code: str | None = None, department: str | None = None,
                        desa_code: str | None = None) -> list[Commitment]:
        where, params = "c.status IN ('terbuka', 'berjalan')", []
        if kecamatan_code:
            where += (" AND (c.id IN (SELECT cd.commitment_id FROM commitment_desa cd JOIN desa d ON d.code ="
                      " cd.desa_code WHERE d.kecamatan_code = ?) OR v.kecamatan_code = ?)")
            params += [kecamatan_code, kecamatan_code]
        if department:
            where += " AND lower(c.department) = lower(?)"
            params.append(department)
        if desa_code:
            where += " AND c.id IN (SELECT commitment_id FROM commitment_desa WHERE desa_code = ?)"
            params.append(desa_code)
        return await self._many(where, params)

    async def for_kecamatan(self, kecamatan_code: str, today: dt.date | None = None
                            ) -> tuple[list[Commitment], list[Commitment]]:
        """(open and not yet due, overdue) commitments concerning a kecamatan, for its briefing."""
        day = today or self.today()
        items = await self.list_open(kecamatan_code=kecamatan_code)
        return [c for c in items if not c.overdue(day)], [c for c in items if c.overdue(day)]

    async def digest(self, now: datetime | None = None, *, since: datetime | None = None,
                     until: datetime | None = None, max_items: int | None = None) -> Digest:
        """The commitments part of the weekly leadership digest; "finished" means in [since, until), by default
        the seven days before ``now``. At most ``max_items`` overdue commitments are listed (the oldest due dates
        first; None: all of them); the others are only counted. Set-based: a handful of queries whatever the
        number of commitments."""
        moment = now or self.clock.now()
        today = self.today(moment)
        open_ = "c.status IN ('terbuka', 'berjalan')"
        counts = await self.db.fetchone(
            "SELECT COUNT(*) AS open, COALESCE(SUM(due_date < ?), 0) AS overdue FROM commitments c"
            f" WHERE {open_}", (today.isoformat(),))
        assert counts is not None  # an aggregate always has its one row
        overdue = await self._many(f"{open_} AND c.due_date < ?", [today.isoformat()], limit=max_items) \
            if counts["overdue"] else []
        due_soon = await self._many(f"{open_} AND c.due_date >= ? AND c.due_date <= ?",
                                    [today.isoformat(), (today + timedelta(days=7)).isoformat()])
        start = to_iso(since or moment - timedelta(days=7))
        end = to_iso(until or moment + timedelta(seconds=1))
        finished = await self._many("c.status NOT IN ('terbuka', 'berjalan') AND c.outcome_at >= ? AND"
                                    " c.outcome_at < ?", [start, end], order="c.outcome_at DESC")
        return Digest(open=counts["open"], overdue=overdue, due_soon=due_soon, finished_recently=finished,
                      overdue_total=counts["overdue"])

    async def digest_section(self, now: datetime | None = None, *, since: datetime | None = None,
                             until: datetime | None = None, max_items: int | None = None) -> str:
        """Telegram HTML for the weekly leadership digest ("" when there is nothing to report); at most
        ``max_items`` overdue commitments are listed (None: all)."""
        moment = now or self.clock.now()
        digest = await self.digest(moment, since=since, until=until, max_items=max_items)
        if not digest.open and not digest.finished_recently:
            return ""
        return render("visits/commitments_digest", digest=digest, today=self.today(moment))

    # -- recording -------------------------------------------------------------------------------------------

    async def resolve_desa(self, text: str, kecamatan_code: str | None = None) -> list[Desa]:
        """Villages from "Ledokombo, Sumber Anom" (names or codes, commas or new lines); DomainError if a name is
        unknown or ambiguous. Searched within ``kecamatan_code`` first when given."""
        parts = [p.strip() for p in re.split(r"[,;\n]+", text) if p.strip()]
        if not parts:
            raise DomainError("visits/tuliskan_minimal_satu_desa")
        if len(parts) > MAX_DESA:
            raise DomainError("visits/paling_banyak_desa_satu", max_desa=MAX_DESA)
        result: list[Desa] = []
        for part in parts:
            found = await find_desa(self.db, part, kecamatan_code) if kecamatan_code else []
            if not found:
                found = await find_desa(self.db, part)
            if not found:
                raise DomainError("visits/desa_tidak_ditemukan", part=part[:60])
            if len(found) > 1:
                options = "; ".join(f"{d.name} (Kec. {d.kecamatan_name}, {d.code})" for d in found[:5])
                raise DomainError("visits/cocok_beberapa_desa_tulis", part=part[:60], options=options)
            if found[0].code not in {d.code for d in result}:
                result.append(found[0])
        return result

    async def resolve_tickets(self, text: str) -> list[str]:
        tickets = [t.strip().upper() for t in re.split(r"[\s,;]+", text) if t.strip()]
        for t in tickets:
            if not TICKET_RE.match(t):
                raise DomainError("visits/format_nomor_tiket_tidak", t=t[:30])
            if not await self.db.fetchval("SELECT 1 FROM aspirations WHERE ticket = ?", (t,)):
                raise DomainError("visits/aspirasi_tidak_ditemukan", t=t)
        return list(dict.fromkeys(tickets))

    def parse_due(self, text: str) -> dt.date:
        """A due date typed as a date, or as "30 hari" / "2 minggu" / "3 bulan" from today."""
        t = text.strip().lower()
        if m := re.fullmatch(r"\+?(\d{1,3})\s*(hari|minggu|bulan)?", t):
            n = int(m[1])
            unit = m[2] or "hari"
            days = n * {"hari": 1, "minggu": 7, "bulan": 30}[unit]
            due = self.today() + timedelta(days=days)
        else:
            due = parse_date(text)
        if due < self.today():
            raise DomainError("visits/tenggat_tidak_boleh_sebelum")
        if due > self.today() + timedelta(days=3 * 366):
            raise DomainError("visits/tenggat_terlalu_jauh_lebih")
        return due

    async def department(self, code: str) -> str:
        canonical = await canonical_department(self.db, code)
        if canonical is None:
            raise DomainError("visits/opd_tidak_dikenal_2", code=code.strip()[:30])
        return canonical

    async def create(self, person: Person, draft: CommitmentDraft) -> tuple[Commitment, bool]:
        """Store a commitment and tell its villages and department; saving the same draft twice stores one."""
        if person.role not in (Role.ADMIN, Role.PIMPINAN):
            raise NotAllowed("visits/hanya_admin_pimpinan_mencatat")
        description = clean_text(draft.description or "")[:MAX_DESCRIPTION]
        if len(description) < 5:
            raise DomainError("visits/isi_janji_belum_ditulis")
        if not draft.department or not draft.desa_codes or not draft.due_date:
            raise DomainError("visits/janji_belum_lengkap_opd")
        department = await self.department(draft.department)
        existing = await self.db.fetchval("SELECT id FROM commitments WHERE request_key = ?", (draft.token,))
        if existing:
            return await self.get(existing), False
        now = self.clock.now()
        stamp = to_iso(now)
        async with self.db.transaction() as tx:
            again = await tx.fetchval("SELECT id FROM commitments WHERE request_key = ?", (draft.token,))
            if again:
                return await self.get(again, tx), False
            cid = await tx.execute(
                "INSERT INTO commitments(visit_id, description, department, due_date, created_by, request_key,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (draft.visit_id, description, department, draft.due_date, person.id, draft.token, stamp, stamp))
            await tx.executemany("INSERT INTO commitment_desa(commitment_id, desa_code) VALUES (?, ?)",
                                 [(cid, code) for code in draft.desa_codes])
            for ticket in draft.tickets:
                asp = await tx.fetchval("SELECT id FROM aspirations WHERE ticket = ?", (ticket,))
                if asp:
                    await tx.execute("INSERT OR IGNORE INTO commitment_aspirations(commitment_id, aspiration_id)"
                                     " VALUES (?, ?)", (cid, asp))
            await tx.execute("INSERT INTO commitment_history(commitment_id, at, actor_id, status, note)"
                             " VALUES (?, ?, ?, 'terbuka', 'dicatat')", (cid, stamp, person.id))
            await audit.record(tx, person.telegram_id, "commitment:create", f"{cid} {department}", now=now)
            commitment = await self.get(cid, tx)
            await self._notify_created(tx, commitment, now)
        return commitment, True

    async def _village_heads(self, tx: Transaction | Database, commitment: Commitment) -> list[broadcast.Recipient]:
        codes = [d.code for d in commitment.desa]
        if not codes:
            return []
        marks = ",".join("?" * len(codes))
        return await broadcast.people(tx, f"p.role = 'kepala_desa' AND p.desa_code IN ({marks})", codes)

    async def department_people(self, tx: Transaction | Database, department: str) -> list[broadcast.Recipient]:
        """The department's officials; admins stand in when nobody of that department is registered."""
        officials = await broadcast.people(tx, "p.role = 'pejabat' AND lower(p.department) = lower(?)",
                                           (department,))
        return officials or await broadcast.people(tx, "p.role = 'admin'")

    async def _notify_created(self, tx: Transaction, c: Commitment, now: datetime) -> None:
        heads = await self._village_heads(tx, c)
        await broadcast.fan_out(
            tx, kind="janji", audience=plain("visits/log_audience_heads", desa=c.desa_names, leaders=False),
            text=plain("visits/log_commitment_created", id=c.id),
            recipients=heads, message_for=lambda r: (render("visits/commitment_village", c=c), None), now=now,
            ref=f"janji:{c.id}:desa", dedup_prefix=f"janji:{c.id}:new:desa")
        dept = await self.department_people(tx, c.department)
        await broadcast.fan_out(
            tx, kind="janji", audience=f"OPD {c.department}",
            text=plain("visits/log_commitment_for_department", id=c.id, department=c.department),
            recipients=dept, message_for=lambda r: (render("visits/commitment_department", c=c, stage="new",
                                                           today=self.today(now)), None),
            now=now, ref=f"janji:{c.id}:opd", dedup_prefix=f"janji:{c.id}:new:opd")

    def can_answer(self, person: Person, commitment: Commitment) -> bool:
        if person.role in (Role.ADMIN, Role.PIMPINAN):
            return True
        return person.role is Role.PEJABAT and (person.department or "").lower() == commitment.department.lower()

    async def record_outcome(self, commitment_id: int, person: Person, outcome: str, note: str = "") -> Commitment:
        """The department's answer: terlaksana, berjalan or tidak_terlaksana, with an optional note. The villages
        and leadership are told."""
        status = OUTCOMES.get(outcome, outcome)
        if status not in STATUS_LABELS or status == "terbuka":
            raise DomainError("visits/jawaban_tidak_dikenal")
        commitment = await self.get(commitment_id)
        if not self.can_answer(person, commitment):
            raise NotAllowed("visits/janji_bukan_tanggung_jawab")
        if not commitment.is_open:
            raise DomainError("visits/janji_ditutup", status_label=commitment.status_label)
        now = self.clock.now()
        stamp = to_iso(now)
        text = clean_text(note)[:1000] or None
        async with self.db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE commitments SET status = ?, outcome = ?, outcome_at = ?, outcome_by = ?, updated_at = ?"
                " WHERE id = ? AND status IN ('terbuka', 'berjalan')",
                (status, text, stamp, person.id, stamp, commitment_id))
            if not changed:
                raise DomainError("visits/janji_ditutup_2")
            seq = await tx.execute("INSERT INTO commitment_history(commitment_id, at, actor_id, status, note)"
                                   " VALUES (?, ?, ?, ?, ?)", (commitment_id, stamp, person.id, status, text))
            updated = await self.get(commitment_id, tx)
            heads = await self._village_heads(tx, updated)
            leaders = await broadcast.people(tx, "p.role = 'pimpinan'")
            await broadcast.fan_out(
                tx, kind="janji", audience=plain("visits/log_audience_heads", desa=updated.desa_names, leaders=True),
                text=plain("visits/log_commitment_outcome", id=commitment_id, status=updated.status_label),
                recipients=[*heads, *leaders],
                message_for=lambda r: (render("visits/commitment_outcome", c=updated, by=person,
                                              leadership=r.role == Role.PIMPINAN.value), None),
                now=now, ref=f"janji:{commitment_id}:hasil", dedup_prefix=f"janji:{commitment_id}:hasil:{seq}")
        return updated

    # -- what is due -----------------------------------------------------------------------------------------

    async def run_due(self, now: datetime) -> None:
        """Reminders before the due date; on it (and weekly after, while open) ask the department."""
        today = self.today(now)
        items = await self._many("c.status IN ('terbuka', 'berjalan') AND c.due_date <= ?",
                                 [(today + timedelta(days=8)).isoformat()])
        for c in items:
            for stage, days in REMINDERS:
                due = self.at(c.due_date - timedelta(days=days), REMINDER_TIME)
                nxt = [d for s, d in REMINDERS if d < days]
                cutoff = self.at(c.due_date - timedelta(days=nxt[0]), REMINDER_TIME) if nxt else \
                    self.at(c.due_date, REMINDER_TIME)
                if due <= now < cutoff:
                    await self._send_department(c, stage, f"remind:{c.id}:{stage}", now)
            if c.due_date <= today:
                weeks = (today - c.due_date).days // ASK_EVERY_DAYS
                period_day = c.due_date + timedelta(days=weeks * ASK_EVERY_DAYS)
                if self.at(period_day, REMINDER_TIME) <= now:
                    await self._send_department(c, "ask", f"ask:{c.id}:{period_day.isoformat()}", now)

    async def _send_department(self, c: Commitment, stage: str, period: str, now: datetime) -> None:
        today = self.today(now)
        async with claiming(self.db, JOB, period, now) as tx:
            if tx is None:
                return
            current = await self.get(c.id, tx)
            if not current.is_open:
                return
            recipients = await self.department_people(tx, current.department)
            markup = None
            if stage == "ask":
                buttons = phrases("visits/buttons")
                markup = outbox.inline_keyboard([
                    [(buttons["commitment_done"], callbacks.build("jnj", c.id, "ok"))],
                    [(buttons["commitment_running"], callbacks.build("jnj", c.id, "run"))],
                    [(buttons["commitment_not_done"], callbacks.build("jnj", c.id, "no"))],
                ])
            await broadcast.fan_out(
                tx, kind="janji", audience=f"OPD {current.department}", text=f"Janji #{c.id}: {stage}",
                recipients=recipients,
                message_for=lambda r: (render("visits/commitment_department", c=current, stage=stage, today=today),
                                       markup),
                now=now, ref=f"janji:{c.id}:opd", dedup_prefix=f"janji:{period}")
