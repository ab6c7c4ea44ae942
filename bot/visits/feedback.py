"""Feedback on a visit: the day after, each kepala desa of the kecamatan rates the visit and the kecamatan's
services (1–5) and may add a comment. Only leadership read the results — never the camat — as a per-kecamatan
summary, pushed three days after the visit and on demand with /umpanbalik.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import Clock, to_iso
from bot.core.domain import DomainError, NotAllowed, Role
from bot.core.text import clean_text
from bot.core.wording import plain
from bot.messaging import callbacks, outbox
from bot.messaging.templates import render
from bot.people.roster import Person
from bot.storage.database import Database
from bot.storage.jobs import claim, claiming, period_done
from bot.visits import broadcast
from bot.visits.service import JOB, Visit, VisitService

ASPECTS = {"v": "visit_rating", "k": "service_rating"}
MAX_COMMENT = 1000


@dataclass(frozen=True)
class FeedbackState:
    visit: Visit
    visit_rating: int | None
    service_rating: int | None
    comment: str | None


@dataclass(frozen=True)
class Summary:
    visit: Visit
    asked: int
    responses: int
    visit_avg: float | None
    service_avg: float | None
    visit_counts: dict[int, int]
    service_counts: dict[int, int]
    comments: list[tuple[str, str]]  # (desa name, comment)


def rating_keyboard(visit_id: int, aspect: str) -> dict[str, Any]:
    return outbox.inline_keyboard([[(str(n), callbacks.build("fb", visit_id, aspect, n)) for n in range(1, 6)]])


class FeedbackService:
    def __init__(self, db: Database, clock: Clock, visits: VisitService) -> None:
        self.db = db
        self.clock = clock
        self.visits = visits

    async def request(self, visit: Visit, now: datetime) -> bool:
        """Ask every kepala desa of the visit's kecamatan (only them: never the camat) for their ratings."""
        async with claiming(self.db, JOB, f"feedback:{visit.id}:r{visit.revision}", now) as tx:
            if tx is None:
                return False
            recipients = await broadcast.people(
                tx, "p.role = 'kepala_desa' AND d.kecamatan_code = ?", (visit.kecamatan_code,))
            await broadcast.fan_out(
                tx, kind="umpan_balik",
                audience=plain("visits/log_audience_heads_of_kecamatan", kecamatan=visit.kecamatan_name),
                text=plain("visits/log_feedback_request", id=visit.id), recipients=recipients,
                message_for=lambda r: (render("visits/feedback_request", visit=visit), rating_keyboard(visit.id, "v")),
                now=now, ref=f"visit:{visit.id}:feedback", dedup_prefix=f"visit:{visit.id}:feedback")
        return True

    async def _check(self, visit_id: int, person: Person) -> Visit:
        visit = await self.visits.find(visit_id)
        if visit is None or visit.cancelled:
            raise DomainError("visits/kunjungan_tidak_ditemukan_dibatalkan_2")
        if person.role is not Role.KEPALA_DESA:
            raise NotAllowed("visits/umpan_balik_kunjungan_hanya")
        desa_kec = await self.db.fetchval("SELECT kecamatan_code FROM desa WHERE code = ?", (person.desa_code,))
        if desa_kec != visit.kecamatan_code:
            raise NotAllowed("visits/kunjungan_bukan_kecamatan")
        now = self.clock.now()
        if now < visit.starts_at:
            raise DomainError("visits/kunjungan_belum_berlangsung")
        if now > self.visits.feedback_closes(visit):
            raise DomainError("visits/masa_pengisian_umpan_balik")
        return visit

    async def rate(self, visit_id: int, person: Person, aspect: str, value: int) -> FeedbackState:
        if aspect not in ASPECTS or not 1 <= value <= 5:
            raise DomainError("visits/nilai_tidak_dikenal")
        visit = await self._check(visit_id, person)
        stamp = to_iso(self.clock.now())
        column = ASPECTS[aspect]
        async with self.db.transaction() as tx:
            sql = (f"INSERT INTO visit_feedback(visit_id, person_id, desa_code, {column}, created_at, updated_at)"
                   f" VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(visit_id, person_id) DO UPDATE SET {column} ="
                   f" excluded.{column}, updated_at = excluded.updated_at")
            await tx.execute(sql, (visit_id, person.id, person.desa_code, value, stamp, stamp))
        return await self.state(visit, person)

    async def comment(self, visit_id: int, person: Person, text: str) -> FeedbackState:
        visit = await self._check(visit_id, person)
        comment = clean_text(text)[:MAX_COMMENT]
        if not comment:
            raise DomainError("visits/komentar_kosong")
        stamp = to_iso(self.clock.now())
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO visit_feedback(visit_id, person_id, desa_code, comment, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(visit_id, person_id) DO UPDATE SET comment ="
                " excluded.comment, updated_at = excluded.updated_at",
                (visit_id, person.id, person.desa_code, comment, stamp, stamp))
        return await self.state(visit, person)

    async def state(self, visit: Visit, person: Person) -> FeedbackState:
        row = await self.db.fetchone("SELECT * FROM visit_feedback WHERE visit_id = ? AND person_id = ?",
                                     (visit.id, person.id))
        if row is None:
            return FeedbackState(visit, None, None, None)
        return FeedbackState(visit, row["visit_rating"], row["service_rating"], row["comment"])

    # -- results, for leadership only ------------------------------------------------------------------------

    async def summary(self, visit: Visit) -> Summary:
        rows = await self.db.fetchall(
            "SELECT f.*, d.name AS desa_name FROM visit_feedback f LEFT JOIN desa d ON d.code = f.desa_code"
            " WHERE f.visit_id = ? ORDER BY d.name", (visit.id,))
        asked = await self.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE ref = ? AND status IN ('pending', 'sending', 'sent')",
            (f"visit:{visit.id}:feedback",))
        v = [r["visit_rating"] for r in rows if r["visit_rating"]]
        s = [r["service_rating"] for r in rows if r["service_rating"]]
        return Summary(
            visit=visit, asked=int(asked or 0), responses=sum(1 for r in rows if r["visit_rating"] or
                                                              r["service_rating"] or r["comment"]),
            visit_avg=sum(v) / len(v) if v else None, service_avg=sum(s) / len(s) if s else None,
            visit_counts=dict(Counter(v)), service_counts=dict(Counter(s)),
            comments=[(r["desa_name"] or "-", r["comment"]) for r in rows if r["comment"]],
        )

    async def summaries(self, kecamatan_code: str | None = None, *, limit: int = 10) -> list[Summary]:
        """The latest visits that asked for feedback (one kecamatan's, or all), newest first."""
        sql = ("SELECT DISTINCT v.id FROM visits v JOIN job_runs j ON j.job = ? AND j.period LIKE 'feedback:' ||"
               " v.id || ':%' WHERE v.status = 'terjadwal'")
        params: list[object] = [JOB]
        if kecamatan_code:
            sql += " AND v.kecamatan_code = ?"
            params.append(kecamatan_code)
        rows = await self.db.fetchall(sql + " ORDER BY v.starts_at DESC LIMIT ?", [*params, limit])
        result = []
        for r in rows:
            visit = await self.visits.find(r["id"])
            if visit is not None:
                result.append(await self.summary(visit))
        return result

    async def send_summary(self, visit: Visit, now: datetime) -> bool:
        """The per-kecamatan summary to leadership (role pimpinan) only."""
        period = f"feedback-summary:{visit.id}"
        if await period_done(self.db, JOB, period):
            return False
        if not await self.db.fetchval("SELECT 1 FROM job_runs WHERE job = ? AND period LIKE ?",
                                      (JOB, f"feedback:{visit.id}:%")):
            return False  # feedback was never asked for this visit
        summary = await self.summary(visit)
        text = render("visits/feedback_summary", summaries=[summary])
        async with self.db.transaction() as tx:
            if not await claim(tx, JOB, period, now):
                return False
            leaders = await broadcast.people(tx, "p.role = 'pimpinan'")
            await broadcast.fan_out(
                tx, kind="umpan_balik", audience="Pimpinan", text=plain("visits/log_feedback_summary", id=visit.id),
                recipients=leaders, message_for=lambda r: (text, None), now=now,
                ref=f"visit:{visit.id}:feedback-summary", dedup_prefix=f"visit:{visit.id}:feedback-summary")
        return True
