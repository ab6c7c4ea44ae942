"""Ngantor di Kecamatan: the Bupati's visits — schedule, announcements, briefings and feedback requests.

A visit belongs to one kecamatan, on a local date and start time, at a place (by default "Kantor Kecamatan
<name>"), with an agenda and the departments whose heads attend. Moving a visit bumps its ``revision``: the
announcements of the new date are new messages (their dedup keys carry the revision), and everyone who already
heard about the old date gets a correction. Everything that is due at a given moment is worked out from the
database by ``run_due`` (called by the scheduler), and each piece is claimed in ``job_runs`` in the same
transaction that queues its messages, so it goes out once even across restarts, and late if the bot was down.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.clock import Clock, from_iso, to_iso
from bot.core.dates import BULAN
from bot.core.domain import DomainError, NotFound, Role
from bot.core.imports import ImportReport as BaseImportReport
from bot.core.text import clean_line
from bot.core.wording import Notice, phrases, plain
from bot.messaging import callbacks, outbox
from bot.messaging.templates import render
from bot.people.regions import find_kecamatan, get_kecamatan
from bot.storage import audit
from bot.storage.database import Database, Row, Transaction
from bot.storage.jobs import claim, claiming
from bot.visits import broadcast
from bot.visits.planner import PlannedVisit, check_visit_date

ACTIVE = "terjadwal"
CANCELLED = "dibatalkan"
DEFAULT_START = dt.time(8, 0)
#: How long a visit lasts, for calendars.
VISIT_DURATION = timedelta(hours=4)
MAX_AGENDA = 1000
MAX_PLACE = 200

#: Announcements to every kepala desa and the camat: (stage, days before the visit, local time).
ANNOUNCEMENTS: tuple[tuple[str, int, dt.time], ...] = (
    ("h-7", 7, dt.time(9, 0)),
    ("h-1", 1, dt.time(19, 0)),
    ("h0", 0, dt.time(6, 0)),
)
#: The briefing for leadership and attending department heads: two days before, at 16:00.
BRIEFING_DAYS, BRIEFING_TIME = 2, dt.time(16, 0)
#: Feedback is asked the day after the visit at 09:00; leadership get the summary three days after at 09:00.
FEEDBACK_DAYS, FEEDBACK_TIME = 1, dt.time(9, 0)
FEEDBACK_SUMMARY_DAYS, FEEDBACK_SUMMARY_TIME = 3, dt.time(9, 0)
#: Ratings are accepted until this many days after the visit.
FEEDBACK_OPEN_DAYS = 7



@dataclass(frozen=True)
class VisitTimes:
    """The local times of what goes out around a visit (settings: SAMBANG_ANNOUNCE_TIME, SAMBANG_BRIEFING_TIME,
    SAMBANG_FEEDBACK_TIME); the days stay those above."""

    #: H-7, H-1 and the day of the visit.
    announce: tuple[dt.time, dt.time, dt.time] = (ANNOUNCEMENTS[0][2], ANNOUNCEMENTS[1][2], ANNOUNCEMENTS[2][2])
    briefing: dt.time = BRIEFING_TIME
    feedback: dt.time = FEEDBACK_TIME


JOB = "visits"
ZONES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


class VisitError(DomainError):
    pass


class VisitOver(VisitError):
    """An aspiration can no longer be tagged to this visit: it was cancelled, or it is over."""

    def __init__(self, visit: Visit) -> None:
        super().__init__("visits/visit_over")
        self.visit = visit


@dataclass(frozen=True)
class Visit:
    id: int
    kecamatan_code: str
    kecamatan_name: str
    date: dt.date
    start_time: dt.time
    starts_at: datetime
    place: str
    agenda: str
    departments: tuple[str, ...]
    status: str
    revision: int
    cancel_reason: str | None = None
    zone: str = "WIB"

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED

    @property
    def jam(self) -> str:
        """'08.00' as Indonesians write times."""
        return f"{self.start_time:%H.%M}"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + VISIT_DURATION


@dataclass
class ImportReport(BaseImportReport):
    moved: int = 0
    cancelled: int = 0
    warnings: list[str] = field(default_factory=list)


def default_place(kecamatan_name: str) -> str:
    return plain("visits/default_place", kecamatan=kecamatan_name)


# -- parsing what admins type -----------------------------------------------------------------------------------

_MONTHS = {name.lower(): i for i, name in enumerate(BULAN, start=1)}
_MONTHS.update({name.lower()[:3]: i for i, name in enumerate(BULAN, start=1)})
_MONTHS.update({"agu": 8, "agt": 8, "ags": 8, "nop": 11, "peb": 2, "jan": 1})


def parse_date(text: str) -> dt.date:
    """'2026-03-12', '12-03-2026', '12/3/2026', '12 Maret 2026', '12 Mar 2026' → date; DomainError otherwise."""
    t = text.strip().lower().replace(",", " ")
    t = re.sub(r"^(senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu)\s+", "", t)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", t):
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{1,2})\s+([a-z]+)\s+(\d{4})", t):
            month = _MONTHS.get(m[2]) or _MONTHS.get(m[2][:3])
            if month:
                return dt.date(int(m[3]), month, int(m[1]))
    except ValueError:
        pass
    raise VisitError("visits/tanggal_tidak_dikenali_contoh", text=text.strip()[:40])


def parse_time(text: str) -> dt.time:
    """'08:00', '8.30', '0800', '8' → time; DomainError otherwise."""
    t = text.strip().lower().removesuffix("wib").strip()
    m = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?", t) or re.fullmatch(r"(\d{2})(\d{2})", t)
    if m:
        hour, minute = int(m[1]), int(m[2] or 0)
        if hour <= 23 and minute <= 59:
            return dt.time(hour, minute)
    raise VisitError("visits/jam_tidak_dikenali_contoh", text=text.strip()[:20])


def split_codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;/]+", text.strip()) if c]


async def canonical_department(db: Database | Transaction, code: str) -> str | None:
    """The department code as the ``departments`` table spells it; None for an unknown one."""
    row = await db.fetchone("SELECT code FROM departments WHERE lower(code) = lower(?)", (code.strip(),))
    return row["code"] if row else None


async def known_departments(db: Database) -> list[str]:
    """Department codes to offer, from the ``departments`` table."""
    rows = await db.fetchall("SELECT code FROM departments ORDER BY code")
    return [r["code"] for r in rows]


async def validate_departments(db: Database | Transaction, codes: Iterable[str]) -> tuple[str, ...]:
    result: list[str] = []
    unknown: list[str] = []
    for code in codes:
        canonical = await canonical_department(db, code)
        if canonical is None:
            unknown.append(code)
        elif canonical not in result:
            result.append(canonical)
    if unknown:
        raise VisitError("visits/opd_tidak_dikenal", unknown=', '.join(unknown))
    return tuple(result)


# -- the service ------------------------------------------------------------------------------------------------

_SELECT = "SELECT v.*, k.name AS kecamatan_name FROM visits v JOIN kecamatan k ON k.code = v.kecamatan_code"


class VisitService:
    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo, times: VisitTimes | None = None) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.times = times or VisitTimes()

    # -- time ------------------------------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def today(self, now: datetime | None = None) -> dt.date:
        return self.local(now or self.clock.now()).date()

    def at(self, day: dt.date, time: dt.time) -> datetime:
        """A local date and time as an aware UTC moment."""
        return datetime.combine(day, time, tzinfo=self.tz).astimezone(dt.UTC)

    # -- reads -----------------------------------------------------------------------------------------------

    async def _visit(self, conn: Database | Transaction, row: Row) -> Visit:
        deps = await conn.fetchall("SELECT department FROM visit_departments WHERE visit_id = ? ORDER BY rowid",
                                   (row["id"],))
        return Visit(
            id=row["id"], kecamatan_code=row["kecamatan_code"], kecamatan_name=row["kecamatan_name"],
            date=dt.date.fromisoformat(row["date"]), start_time=dt.time.fromisoformat(row["start_time"]),
            starts_at=from_iso(row["starts_at"]), place=row["place"], agenda=row["agenda"],
            departments=tuple(d["department"] for d in deps), status=row["status"], revision=row["revision"],
            cancel_reason=row["cancel_reason"], zone=ZONES.get(str(self.tz), ""),
        )

    async def find(self, visit_id: int, conn: Database | Transaction | None = None) -> Visit | None:
        """A visit, cancelled or not."""
        c = conn or self.db
        row = await c.fetchone(_SELECT + " WHERE v.id = ?", (visit_id,))
        return await self._visit(c, row) if row else None

    async def get(self, visit_id: int) -> Visit:
        """A visit that still takes place (the aspiration button uses this); NotFound otherwise."""
        visit = await self.find(visit_id)
        if visit is None or visit.cancelled:
            raise NotFound("visits/kunjungan_tidak_ditemukan_dibatalkan")
        return visit

    async def for_aspiration(self, visit_id: int, desa_code: str | None) -> Visit:
        """The visit a kepala desa of ``desa_code`` may tag an aspiration to. NotFound for a visit that does not
        exist or goes to another kecamatan (a forged button); VisitOver once it was cancelled or is over."""
        visit = await self.find(visit_id)
        if visit is None or not (desa_code or "").startswith(f"{visit.kecamatan_code}."):
            raise NotFound("visits/kunjungan_tidak_ditemukan_dibatalkan")
        if visit.cancelled or self.clock.now() >= visit.ends_at:
            raise VisitOver(visit)
        return visit

    async def _many(self, where: str, params: Sequence[Any], order: str = "v.starts_at, v.id") -> list[Visit]:
        rows = await self.db.fetchall(f"{_SELECT} WHERE {where} ORDER BY {order}", params)
        return [await self._visit(self.db, r) for r in rows]

    async def upcoming(self, *, kecamatan_code: str | None = None, today: dt.date | None = None,
                       limit: int = 100) -> list[Visit]:
        """Visits still to come (today's included), soonest first."""
        day = (today or self.today()).isoformat()
        order = f"v.starts_at, v.id LIMIT {int(limit)}"
        if kecamatan_code:
            return await self._many("v.status = ? AND v.date >= ? AND v.kecamatan_code = ?",
                                    (ACTIVE, day, kecamatan_code), order=order)
        return await self._many("v.status = ? AND v.date >= ?", (ACTIVE, day), order=order)

    async def all_visits(self, *, include_cancelled: bool = True) -> list[Visit]:
        if include_cancelled:
            return await self._many("1 = 1", ())
        return await self._many("v.status = ?", (ACTIVE,))

    async def recent(self, *, days_back: int = 30, days_ahead: int = 1) -> list[Visit]:
        """Visits that took place lately (or today), newest first — what a commitment is usually made at."""
        today = self.today()
        return await self._many(
            "v.status = ? AND v.date BETWEEN ? AND ?",
            (ACTIVE, (today - timedelta(days=days_back)).isoformat(), (today + timedelta(days=days_ahead)).isoformat()),
            order="v.starts_at DESC, v.id DESC",
        )

    async def last_and_next(self, kecamatan_code: str) -> tuple[Visit | None, Visit | None]:
        today = self.today().isoformat()
        last = await self._many("v.status = ? AND v.kecamatan_code = ? AND v.date < ?", (ACTIVE, kecamatan_code,
                                today), order="v.starts_at DESC LIMIT 1")
        nxt = await self._many("v.status = ? AND v.kecamatan_code = ? AND v.date >= ?", (ACTIVE, kecamatan_code,
                               today), order="v.starts_at LIMIT 1")
        return (last[0] if last else None), (nxt[0] if nxt else None)

    # -- checks ----------------------------------------------------------------------------------------------

    async def warnings_for(self, kecamatan_code: str, day: dt.date, *, exclude_id: int | None = None,
                           conn: Database | Transaction | None = None,
                           start_time: dt.time | None = None) -> list[Notice]:
        """Indonesian warnings about a visit date: weekend, holiday, another visit that day, in the past (with
        ``start_time``: also earlier today), and another visit already planned for the same kecamatan."""
        c = conn or self.db
        rows = await c.fetchall("SELECT id, date, kecamatan_code FROM visits WHERE status = ? AND id != ?",
                                (ACTIVE, exclude_id or 0))
        warnings = check_visit_date(day, [dt.date.fromisoformat(r["date"]) for r in rows])
        if day < self.today():
            warnings.append(Notice("visits/warning_date_past"))
        elif day == self.today() and start_time is not None and self.at(day, start_time) <= self.clock.now():
            warnings.append(Notice("visits/warning_time_past", time=f"{start_time:%H.%M}"))
        today = self.today().isoformat()
        same = [r for r in rows if r["kecamatan_code"] == kecamatan_code and r["date"] >= today
                and r["date"] != day.isoformat()]
        if same:
            from bot.messaging.templates import tanggal

            dates = ", ".join(tanggal(dt.date.fromisoformat(r["date"])) for r in same[:3])
            warnings.append(Notice("visits/warning_kecamatan_planned", dates=dates))
        return warnings

    async def resolve_kecamatan(self, text: str) -> tuple[str, str]:
        found = await find_kecamatan(self.db, text)
        if not found:
            raise VisitError("visits/kecamatan_tidak_ditemukan", text=text.strip()[:60])
        if len(found) > 1:
            names = ", ".join(k.name for k in found[:8])
            raise VisitError("visits/cocok_beberapa_kecamatan_tulis", text=text.strip()[:60], names=names)
        return found[0].code, found[0].name

    # -- changes ---------------------------------------------------------------------------------------------

    async def create(
        self,
        kecamatan: str,
        day: dt.date,
        start_time: dt.time = DEFAULT_START,
        *,
        place: str | None = None,
        agenda: str = "",
        departments: Iterable[str] = (),
        created_by: int | None = None,
    ) -> tuple[Visit, list[Notice]]:
        """Schedule a visit; returns it with the warnings about its date (weekend, holiday, double-booked)."""
        async with self.db.transaction() as tx:
            visit_id, warnings = await self._create_in(tx, kecamatan, day, start_time, place=place, agenda=agenda,
                                                       departments=departments, created_by=created_by)
        visit = await self.find(visit_id)
        assert visit is not None
        return visit, warnings

    async def _create_in(self, tx: Transaction, kecamatan: str, day: dt.date, start_time: dt.time, *,
                         place: str | None, agenda: str, departments: Iterable[str],
                         created_by: int | None) -> tuple[int, list[Notice]]:
        kec = await get_kecamatan(self.db, kecamatan)
        if kec is None:
            code, name = await self.resolve_kecamatan(kecamatan)
        else:
            code, name = kec.code, kec.name
        deps = await validate_departments(tx, departments)
        warnings = await self.warnings_for(code, day, conn=tx, start_time=start_time)
        now = self.clock.now()
        stamp = to_iso(now)
        visit_id = await tx.execute(
            "INSERT INTO visits(kecamatan_code, date, start_time, starts_at, place, agenda, created_by, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (code, day.isoformat(), f"{start_time:%H:%M}", to_iso(self.at(day, start_time)),
             clean_line(place, MAX_PLACE) or default_place(name), clean_line(agenda, MAX_AGENDA), created_by,
             stamp, stamp),
        )
        await tx.executemany("INSERT INTO visit_departments(visit_id, department) VALUES (?, ?)",
                             [(visit_id, d) for d in deps])
        await _audit(tx, now, created_by, "visit:create", f"{visit_id} {code} {day.isoformat()} {start_time:%H:%M}")
        return visit_id, warnings

    async def move(self, visit_id: int, day: dt.date, start_time: dt.time | None = None, *,
                   place: str | None = None, actor: int | None = None) -> tuple[Visit, list[Notice]]:
        """Move a visit to another date/time/place. Everyone who heard about it gets a correction, and the
        announcements for the new date follow at their usual times."""
        async with self.db.transaction() as tx:
            warnings = await self._move_in(tx, visit_id, day, start_time, place=place, actor=actor)
        visit = await self.find(visit_id)
        assert visit is not None
        return visit, warnings

    async def _move_in(self, tx: Transaction, visit_id: int, day: dt.date, start_time: dt.time | None, *,
                       place: str | None, actor: int | None) -> list[Notice]:
        old = await self.find(visit_id, tx)
        if old is None:
            raise NotFound("visits/kunjungan_tidak_ditemukan")
        if old.cancelled:
            raise VisitError("visits/kunjungan_dibatalkan_tidak_dipindah")
        new_time = start_time or old.start_time
        new_place = clean_line(place, MAX_PLACE) if place else old.place
        if (day, new_time, new_place) == (old.date, old.start_time, old.place):
            raise VisitError("visits/tanggal_jam_tempatnya_sama")
        warnings = await self.warnings_for(old.kecamatan_code, day, exclude_id=visit_id, conn=tx,
                                           start_time=new_time)
        now = self.clock.now()
        await tx.execute(
            "UPDATE visits SET date = ?, start_time = ?, starts_at = ?, place = ?, revision = revision + 1,"
            " updated_at = ? WHERE id = ?",
            (day.isoformat(), f"{new_time:%H:%M}", to_iso(self.at(day, new_time)), new_place, to_iso(now), visit_id),
        )
        new = await self.find(visit_id, tx)
        assert new is not None
        await self._correct(tx, old, new, now)
        await _audit(tx, now, actor, "visit:move", f"{visit_id} {old.date} {old.jam} -> {new.date} {new.jam}")
        return warnings

    async def cancel(self, visit_id: int, reason: str = "", *, actor: int | None = None) -> Visit:
        async with self.db.transaction() as tx:
            await self._cancel_in(tx, visit_id, reason, actor=actor)
        visit = await self.find(visit_id)
        assert visit is not None
        return visit

    async def _cancel_in(self, tx: Transaction, visit_id: int, reason: str, *, actor: int | None) -> None:
        old = await self.find(visit_id, tx)
        if old is None:
            raise NotFound("visits/kunjungan_tidak_ditemukan")
        if old.cancelled:
            raise VisitError("visits/kunjungan_dibatalkan")
        now = self.clock.now()
        await tx.execute("UPDATE visits SET status = ?, cancel_reason = ?, updated_at = ? WHERE id = ?",
                         (CANCELLED, clean_line(reason, 300) or None, to_iso(now), visit_id))
        new = await self.find(visit_id, tx)
        assert new is not None
        await self._correct(tx, old, new, now)
        await _audit(tx, now, actor, "visit:cancel", f"{visit_id} {old.kecamatan_code} {old.date}")

    async def update_details(self, visit_id: int, *, agenda: str | None = None,
                             departments: Iterable[str] | None = None, actor: int | None = None) -> Visit:
        """Change the agenda or the attending departments (no correction is sent for these)."""
        async with self.db.transaction() as tx:
            await self._update_details_in(tx, visit_id, agenda=agenda, departments=departments, actor=actor)
        visit = await self.find(visit_id)
        assert visit is not None
        return visit

    async def _update_details_in(self, tx: Transaction, visit_id: int, *, agenda: str | None,
                                 departments: Iterable[str] | None, actor: int | None) -> bool:
        visit = await self.find(visit_id, tx)
        if visit is None:
            raise NotFound("visits/kunjungan_tidak_ditemukan")
        changed = False
        now = self.clock.now()
        if agenda is not None and clean_line(agenda, MAX_AGENDA) != visit.agenda:
            await tx.execute("UPDATE visits SET agenda = ?, updated_at = ? WHERE id = ?",
                             (clean_line(agenda, MAX_AGENDA), to_iso(now), visit_id))
            changed = True
        if departments is not None:
            deps = await validate_departments(tx, departments)
            if deps != visit.departments:
                await tx.execute("DELETE FROM visit_departments WHERE visit_id = ?", (visit_id,))
                await tx.executemany("INSERT INTO visit_departments(visit_id, department) VALUES (?, ?)",
                                     [(visit_id, d) for d in deps])
                changed = True
        if changed:
            await _audit(tx, now, actor, "visit:update", str(visit_id))
        return changed

    # -- corrections -----------------------------------------------------------------------------------------

    async def _correct(self, tx: Transaction, old: Visit, new: Visit, now: datetime) -> None:
        """Tell everyone who already heard about ``old`` what changed; withdraw what was not sent yet."""
        prior = await tx.fetchall(
            "SELECT DISTINCT chat_id, ref FROM outbox WHERE ref LIKE ? AND status IN ('sent', 'sending')",
            (f"visit:{old.id}:%",),
        )
        announced = {r["chat_id"] for r in prior if ":ann:" in r["ref"] or ":fix:" in r["ref"]}
        briefed = {r["chat_id"] for r in prior if r["ref"].endswith(":brief")}
        await tx.execute("DELETE FROM outbox WHERE ref LIKE ? AND status = 'pending'", (f"visit:{old.id}:%",))
        chats = set(announced) | briefed
        if announced:
            chats |= {r.telegram_id for r in await broadcast.kecamatan_audience(tx, old.kecamatan_code)}
        if chats:
            placeholders = ",".join("?" * len(chats))
            recipients = await broadcast.people(tx, f"p.telegram_id IN ({placeholders})", sorted(chats))
            known = {r.telegram_id for r in recipients}
            recipients += [broadcast.Recipient(None, c, "") for c in sorted(chats - known)]
            kind = "koreksi"
            audience = plain("visits/log_audience_announced", kecamatan=old.kecamatan_name)

            def message(r: broadcast.Recipient) -> broadcast.Message:
                text = render("visits/visit_correction", old=old, new=new)
                markup = None
                if not new.cancelled and r.role == Role.KEPALA_DESA.value:
                    markup = outbox.inline_keyboard([[(phrases("visits/buttons")["aspiration"],
                                                       callbacks.build("asp", "new", new.id))]])
                return text, markup

            await broadcast.fan_out(
                tx, kind=kind, audience=audience, recipients=recipients,
                text=plain("visits/log_visit_changed", id=old.id, cancelled=new.cancelled, day=new.date.isoformat(),
                           jam=new.jam),
                message_for=message, now=now, ref=f"visit:{old.id}:fix:{new.revision}:{new.status}",
                dedup_prefix=f"visit:{old.id}:fix:{new.revision}:{new.status}",
            )
        if new.cancelled:
            return
        # The correction stands in for announcements of the new date that are already due; the rest follow.
        for stage, due, _cutoff in self._announcement_times(new):
            if due <= now and announced:
                await claim(tx, JOB, f"announce:{new.id}:r{new.revision}:{stage}", now)
        if briefed and self._briefing_due(new) <= now:
            await claim(tx, JOB, f"briefing:{new.id}:r{new.revision}", now)

    # -- what is due -----------------------------------------------------------------------------------------

    def _announcement_times(self, visit: Visit) -> list[tuple[str, datetime, datetime]]:
        """(stage, due, cutoff) of each announcement: a stage not sent by its cutoff is skipped."""
        dues = []
        for (stage, days, _), time in zip(ANNOUNCEMENTS, self.times.announce, strict=True):
            due = self.at(visit.date - timedelta(days=days), time)
            if days == 0:
                due = min(due, visit.starts_at - timedelta(minutes=30))
            dues.append((stage, due))
        result = []
        for i, (stage, due) in enumerate(dues):
            cutoff = dues[i + 1][1] if i + 1 < len(dues) else visit.starts_at
            result.append((stage, due, cutoff))
        return result

    def _briefing_due(self, visit: Visit) -> datetime:
        return self.at(visit.date - timedelta(days=BRIEFING_DAYS), self.times.briefing)

    def feedback_due(self, visit: Visit) -> datetime:
        return self.at(visit.date + timedelta(days=FEEDBACK_DAYS), self.times.feedback)

    def feedback_closes(self, visit: Visit) -> datetime:
        return self.at(visit.date + timedelta(days=FEEDBACK_OPEN_DAYS), dt.time(23, 59))

    def feedback_summary_due(self, visit: Visit) -> datetime:
        return self.at(visit.date + timedelta(days=FEEDBACK_SUMMARY_DAYS), FEEDBACK_SUMMARY_TIME)

    async def run_due(self, now: datetime, *, briefing: Any = None, feedback: Any = None) -> None:
        """Queue every announcement, briefing and feedback request that is due at ``now`` and not yet sent."""
        today = self.today(now)
        visits = await self._many("v.status = ? AND v.date BETWEEN ? AND ?",
                                  (ACTIVE, (today - timedelta(days=FEEDBACK_OPEN_DAYS + 1)).isoformat(),
                                   (today + timedelta(days=8)).isoformat()))
        for visit in visits:
            for stage, due, cutoff in self._announcement_times(visit):
                if due <= now < cutoff:
                    await self._announce(visit, stage, now)
            if briefing is not None and self._briefing_due(visit) <= now < visit.starts_at:
                await briefing.send_scheduled(visit, now)
            if feedback is not None:
                if self.feedback_due(visit) <= now < self.feedback_due(visit) + timedelta(days=1):
                    await feedback.request(visit, now)
                summary_due = self.feedback_summary_due(visit)
                if summary_due <= now < summary_due + timedelta(days=7):
                    await feedback.send_summary(visit, now)

    async def _announce(self, visit: Visit, stage: str, now: datetime) -> bool:
        async with claiming(self.db, JOB, f"announce:{visit.id}:r{visit.revision}:{stage}", now) as tx:
            if tx is None:
                return False
            current = await self.find(visit.id, tx)
            if current is None or current.cancelled or current.revision != visit.revision:
                return False
            recipients = await broadcast.kecamatan_audience(tx, visit.kecamatan_code)
            days_left = (current.date - self.today(now)).days

            def message(r: broadcast.Recipient) -> broadcast.Message:
                text = render("visits/visit_announcement", visit=current, stage=stage, role=r.role, days_left=days_left)
                markup = None
                if r.role == Role.KEPALA_DESA.value:
                    markup = outbox.inline_keyboard([[(phrases("visits/buttons")["aspiration"],
                                                       callbacks.build("asp", "new", current.id))]])
                return text, markup

            await broadcast.fan_out(
                tx, kind="pengumuman", audience=plain("visits/log_audience_kecamatan", kecamatan=visit.kecamatan_name),
                text=plain("visits/log_announcement", stage=stage, id=visit.id), recipients=recipients,
                message_for=message,
                now=now, ref=f"visit:{visit.id}:ann:{stage}",
                dedup_prefix=f"visit:{visit.id}:r{visit.revision}:{stage}",
            )
        return True

    # -- CSV and the planner ---------------------------------------------------------------------------------

    async def export_csv(self, *, include_cancelled: bool = False) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "kecamatan_kode", "kecamatan", "tanggal", "jam", "tempat", "agenda", "opd", "status"])
        for v in await self.all_visits(include_cancelled=include_cancelled):
            writer.writerow([v.id, v.kecamatan_code, v.kecamatan_name, v.date.isoformat(), f"{v.start_time:%H:%M}",
                             v.place, v.agenda, ";".join(v.departments), v.status])
        return out.getvalue()

    async def import_csv(self, text: str, *, actor: int | None = None) -> ImportReport:
        """Create, move, update or cancel visits from a CSV (as ``export_csv`` writes it). All rows or none:
        any bad row stores nothing. Rows with an ``id`` change that visit; rows without one match an active
        visit of the same kecamatan on the same date, or create a new visit."""
        report = ImportReport()
        try:
            dialect: Any = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), dialect=dialect)
        if not reader.fieldnames:
            report.errors.append(Notice("common/import_empty"))
            return report
        reader.fieldnames = [f.strip().lower().replace(" ", "_") for f in reader.fieldnames]
        names = set(reader.fieldnames)
        if not names & {"kecamatan", "kecamatan_kode", "kode_kecamatan", "id"}:
            report.errors.append(Notice("visits/import_no_kecamatan_column"))
        if not names & {"tanggal", "date"}:
            report.errors.append(Notice("visits/import_no_date_column"))
        if report.errors:
            return report
        planned: list[dict[str, Any]] = []
        for line, row in enumerate(reader, start=2):
            r = {k: (v or "").strip() for k, v in row.items() if k}
            try:
                planned.append(await self._import_row(r))
            except DomainError as exc:
                report.errors.append(Notice("common/import_row", line=line, text=exc.message))
        if report.errors:
            return report
        async with self.db.transaction() as tx:
            for line, item in enumerate(planned, start=2):
                await self._apply_import(tx, item, line, report, actor)
        return report

    async def _import_row(self, r: dict[str, str]) -> dict[str, Any]:
        visit = None
        if r.get("id"):
            if not r["id"].isdigit():
                raise VisitError("visits/id_bukan_angka", r=r['id'])
            visit = await self.find(int(r["id"]))
            if visit is None:
                raise VisitError("visits/kunjungan_id_tidak", r=r['id'])
        kec_text = r.get("kecamatan_kode") or r.get("kode_kecamatan") or r.get("kecamatan") or ""
        if kec_text:
            code, name = await self.resolve_kecamatan(kec_text)
        elif visit is not None:
            code, name = visit.kecamatan_code, visit.kecamatan_name
        else:
            raise VisitError("visits/kecamatan_kosong")
        if visit is not None and code != visit.kecamatan_code:
            raise VisitError("visits/kecamatan_sebuah_kunjungan_tidak")
        day = parse_date(r.get("tanggal") or r.get("date") or "")
        start = parse_time(r["jam"]) if r.get("jam") else (visit.start_time if visit else DEFAULT_START)
        deps = await validate_departments(self.db, split_codes(r.get("opd") or r.get("departments") or ""))
        status = (r.get("status") or ACTIVE).lower()
        if status not in (ACTIVE, CANCELLED, "batal"):
            raise VisitError("visits/status_tidak_dikenal_terjadwal", status=status)
        return {"visit": visit, "code": code, "name": name, "date": day, "time": start, "place": r.get("tempat"),
                "agenda": r.get("agenda"), "departments": deps, "cancel": status != ACTIVE,
                "has_opd": "opd" in r or "departments" in r}

    async def _apply_import(self, tx: Transaction, item: dict[str, Any], line: int, report: ImportReport,
                            actor: int | None) -> None:
        visit: Visit | None = item["visit"]
        if visit is None:
            row = await tx.fetchone("SELECT id FROM visits WHERE status = ? AND kecamatan_code = ? AND date = ?",
                                    (ACTIVE, item["code"], item["date"].isoformat()))
            visit = await self.find(row["id"], tx) if row else None
        if visit is None:
            if item["cancel"]:
                report.unchanged += 1
                return
            _, warnings = await self._create_in(tx, item["code"], item["date"], item["time"], place=item["place"],
                                                agenda=item["agenda"] or "", departments=item["departments"],
                                                created_by=actor)
            report.created += 1
            report.warnings += [Notice("visits/import_row_warning", line=line, name=item["name"],
                                          day=item["date"].isoformat(), text=w) for w in warnings]
            return
        if item["cancel"]:
            if visit.cancelled:
                report.unchanged += 1
            else:
                await self._cancel_in(tx, visit.id, "", actor=actor)
                report.cancelled += 1
            return
        if visit.cancelled:
            raise VisitError("visits/baris_kunjungan_id_dibatalkan", line=line, id=visit.id)
        place = item["place"] or visit.place
        touched = False
        if (item["date"], item["time"], place) != (visit.date, visit.start_time, visit.place):
            warnings = await self._move_in(tx, visit.id, item["date"], item["time"], place=place, actor=actor)
            report.moved += 1
            touched = True
            report.warnings += [Notice("visits/import_row_warning", line=line, name=item["name"],
                                          day=item["date"].isoformat(), text=w) for w in warnings]
        details = await self._update_details_in(
            tx, visit.id, agenda=item["agenda"] if item["agenda"] is not None else None,
            departments=item["departments"] if item["has_opd"] else None, actor=actor)
        if details and not touched:
            report.updated += 1
        elif not touched:
            report.unchanged += 1

    async def apply_plan(self, plan: Sequence[PlannedVisit], start_time: dt.time = DEFAULT_START, *,
                         actor: int | None = None) -> tuple[int, int, list[str]]:
        """Store a plan from the planner: (created, skipped because already scheduled, warnings)."""
        created = skipped = 0
        warnings: list[str] = []
        async with self.db.transaction() as tx:
            for item in plan:
                exists = await tx.fetchval(
                    "SELECT 1 FROM visits WHERE status = ? AND kecamatan_code = ? AND date = ?",
                    (ACTIVE, item.kecamatan_code, item.date.isoformat()))
                if exists:
                    skipped += 1
                    continue
                _, w = await self._create_in(tx, item.kecamatan_code, item.date, start_time, place=None, agenda="",
                                             departments=(), created_by=actor)
                warnings += [f"{item.kecamatan_name} {item.date.isoformat()}: {x}" for x in w]
                created += 1
        return created, skipped, warnings




async def _audit(tx: Transaction, now: datetime, actor: int | None, action: str, detail: str) -> None:
    await audit.record(tx, actor, action, detail, now=now)
