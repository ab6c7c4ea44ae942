"""Scheduled digests, in SAMBANG_TZ.

- Daily (``config.daily_digest_time``, 07:00, working days only unless SAMBANG_DAILY_DIGEST_DAYS=setiap): each
  official gets the new and still-open aspirations of their department, grouped by kecamatan and desa, oldest first.
- Weekly (``config.weekly_digest_weekday`` at ``config.weekly_digest_time``, Monday 07:30): leadership and admins
  get what came in per category and kecamatan, what was resolved (and, counted apart, what could not be followed up
  or was refused), the open load per department, and what is overdue. The body is a list of section providers
  (``WeeklySection``, listed by the composition root) so other features add their own sections — text blocks and
  photos (charts). Lists are capped at ``config.digest_max_items`` (SAMBANG_DIGEST_MAX_ITEMS): the kecamatan of the
  week's intake (the busiest; the others summed in one line) and the overdue aspirations (the oldest; the others
  counted).

No digest is ever empty. Long digests are split between items (never inside an HTML tag), measured in UTF-16 code
units like Telegram's 4,096-character limit. Each period is claimed in ``job_runs`` in the same transaction that
queues its messages, so a restart neither repeats nor loses a digest, and one that fell due while the bot was
down is sent once when it comes back (periods before the feature's first run are not sent).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.aspirations import audience as audiences
from bot.core.clock import from_iso, to_iso
from bot.core.domain import CATEGORIES, Role
from bot.core.workdays import add_working_days, is_working_day, working_days_between
from bot.messaging import outbox
from bot.messaging.templates import LIMIT, Block, render, split_blocks
from bot.officials.service import HISTORY_LABELS
from bot.people.roster import people_with_role
from bot.storage.database import Database, Row
from bot.storage.jobs import claim, period_done

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

DAILY_JOB = "digest:daily"
WEEKLY_JOB = "digest:weekly"
_OPEN_WORK = ("baru", "diterima", "diproses")


# -- periods ----------------------------------------------------------------------------------------------------


def latest_daily_period(local_now: datetime, at: time, working_days_only: bool = False) -> date:
    """The day of the most recent daily digest due at or before ``local_now`` (with ``working_days_only``: the
    most recent working day, weekends, national holidays and cuti bersama skipped)."""
    today = local_now.date()
    day = today if local_now.time() >= at else today - timedelta(days=1)
    while working_days_only and not is_working_day(day):
        day -= timedelta(days=1)
    return day


def previous_daily_period(day: date, working_days_only: bool = False) -> date:
    """The day of the daily digest before the one of ``day``: what is "new" in a digest came in since then."""
    day -= timedelta(days=1)
    while working_days_only and not is_working_day(day):
        day -= timedelta(days=1)
    return day


def latest_weekly_period(local_now: datetime, at: time, weekday: int) -> date:
    today = local_now.date()
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    if day == today and local_now.time() < at:
        day -= timedelta(days=7)
    return day


async def first_run(db: Database, job: str, now: datetime) -> datetime:
    """When this job first looked at the clock: periods due before that are not sent (a new install does not
    deliver last Monday's digest), periods due after it are sent even if the bot was down at the time."""
    key = f"schedule_epoch:{job}"
    stored = await db.fetchval("SELECT value FROM app_state WHERE key = ?", (key,))
    if stored:
        return from_iso(str(stored))
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO app_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                         (key, to_iso(now)))
        stored = await tx.fetchval("SELECT value FROM app_state WHERE key = ?", (key,))
    return from_iso(str(stored))


# -- the daily digest -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    id: int
    ticket: str
    category: str
    status: str
    description: str
    created_at: str
    desa: str
    kecamatan: str
    new: bool
    late: tuple[str, ...]
    #: Codes of the departments that handle it now.
    departments: tuple[str, ...] = ()
    #: Deadlines not yet met that fall today or on the next working day: (kind, ISO date, "today" | "next"),
    #: kind "terima" or "tanggapan".
    due: tuple[tuple[str, str, str], ...] = ()

    #: The department asked the village for information ("Minta info") and waits for the answer.
    waiting: bool = False


def next_working_day(today: date) -> date:
    """The day after ``today`` that is a working day: what "besok" means for a deadline in working days."""
    return add_working_days(today, 1)


def deadlines_due(accept_due: str | None, respond_due: str | None, accepted_at: str | None,
                  responded_at: str | None, today: date) -> tuple[tuple[str, str, str], ...]:
    """The deadlines of an open aspiration not yet met that fall today or on the next working day, as
    (kind, ISO date, "today" | "next")."""
    last = next_working_day(today).isoformat()
    first = today.isoformat()
    due = []
    for kind, deadline, met in (("terima", accept_due, accepted_at), ("tanggapan", respond_due, responded_at)):
        if deadline and met is None and first <= deadline <= last:
            due.append((kind, deadline, "today" if deadline == first else "next"))
    return tuple(due)


def overdue(accept_due: str | None, respond_due: str | None, accepted_at: str | None, responded_at: str | None,
            today: date) -> tuple[str, ...]:
    """The service levels an open aspiration has missed by ``today``: "terima" and/or "tanggapan"."""
    iso = today.isoformat()
    return tuple(kind for kind, deadline, met in (("terima", accept_due, accepted_at),
                                                  ("tanggapan", respond_due, responded_at))
                 if deadline and met is None and deadline < iso)


def _late(r: Row, today: str) -> tuple[str, ...]:
    if r["info_requested_at"]:  # the clock stands still while the department waits for the village
        return ()
    late = []
    if r["accept_due"] and r["accepted_at"] is None and r["accept_due"] < today:
        late.append("terima")
    if r["respond_due"] and r["responded_at"] is None and r["respond_due"] < today:
        late.append("tanggapan")
    return tuple(late)


def _department_open(department: str, joins: str = "") -> tuple[str, list[Any]]:
    """The open work of one department, as the daily digest lists it: of what the department's officials may read
    (bot/aspirations/audience.py), what is assigned to it now and not finished. ``joins`` go before the WHERE."""
    share, params = audiences.for_department(department).where()
    return (" FROM aspiration_departments ad JOIN aspirations a ON a.id = ad.aspiration_id" + joins
            + f" WHERE ad.department = ? AND ad.active = 1 AND ({share})"
            " AND a.status IN ('baru', 'diterima', 'diproses')", [department, *params])

#: How a digest names the kecamatan ``k``: its name, and its kabupaten when another kecamatan of the installation
#: (a whole province) has the same name. Digests count per kecamatan code, never per name.
KECAMATAN_LABEL = (
    "CASE WHEN EXISTS (SELECT 1 FROM kecamatan k2 WHERE k2.name = k.name AND k2.code <> k.code)"
    " THEN k.name || ' (' || k.kabupaten_name || ')' ELSE k.name END"
)

#: Most kecamatan named in a "not listed" summary; the others are counted together.
SUMMARY_KECAMATAN = 15


@dataclass(frozen=True)
class Backlog:
    """What a capped daily digest counts instead of listing: the totals of all of the department's open work
    (``new``: assigned since the previous digest; ``late``: past a service level) and, per kecamatan, how many open
    items the digest leaves out, the kecamatan with the most first."""

    total: int
    new: int
    late: int
    left_out: tuple[tuple[str, int], ...]
    #: Open items with a deadline not yet met today or on the next working day.
    due: int = 0

    @property
    def left_out_total(self) -> int:
        return sum(n for _, n in self.left_out)


@dataclass(frozen=True)
class DepartmentDigest:
    """The items a daily digest lists, oldest first (when capped: the new ones, then the oldest of the others),
    and the ``backlog`` it counts instead when there are more than the cap (None: everything is listed)."""

    items: list[DigestItem]
    backlog: Backlog | None = None


def _ranked(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(((name, n) for name, n in counts.items() if n > 0), key=lambda p: (-p[1], p[0])))


async def _department_rows(db: Database, department: str, stamp: str, today: str, *, new: bool | None,
                           limit: int) -> list[DigestItem]:
    condition = "" if new is None else (" AND ad.assigned_at >= ?" if new else " AND ad.assigned_at < ?")
    source, params = _department_open(department, " JOIN desa d ON d.code = a.desa_code"
                                      " JOIN kecamatan k ON k.code = a.kecamatan_code"
                                      " LEFT JOIN aspiration_sla s ON s.aspiration_id = a.id")
    rows = await db.fetchall(
        "SELECT a.id, a.ticket, a.category, a.status, a.description, a.created_at, d.name AS desa,"
        f" {KECAMATAN_LABEL} AS kecamatan, ad.assigned_at, s.accept_due, s.respond_due, s.accepted_at, s.responded_at,"
        " (SELECT group_concat(department, ',') FROM aspiration_departments WHERE aspiration_id = a.id"
        "  AND active = 1) AS departments, s.info_requested_at"
        + source + condition + " ORDER BY a.created_at, a.id LIMIT ?",
        (*params, *(() if new is None else (stamp,)), limit))
    day = date.fromisoformat(today)
    return [DigestItem(r["id"], r["ticket"], r["category"], r["status"], r["description"], r["created_at"],
                       r["desa"], r["kecamatan"], r["assigned_at"] >= stamp, _late(r, today),
                       tuple((r["departments"] or "").split(",")) if r["departments"] else (),
                       # while the department waits for the village nothing falls due
                       () if r["info_requested_at"] else deadlines_due(r["accept_due"], r["respond_due"],
                                                                       r["accepted_at"], r["responded_at"], day),
                       waiting=r["info_requested_at"] is not None)
            for r in rows]


async def department_digest(db: Database, department: str, today: date, since: datetime,
                            max_items: int) -> DepartmentDigest:
    """What the daily digest of a department lists: its open work (not yet finished) oldest first, ``new`` =
    assigned since ``since``. With more than ``max_items`` open items it lists the new ones first (the oldest of
    them, up to ``max_items``), then the oldest of the others in the room left, and counts the rest per kecamatan.
    Only the listed rows are read; everything else is counted in SQL."""
    stamp, iso_today, next_day = to_iso(since), today.isoformat(), next_working_day(today).isoformat()
    source, params = _department_open(department, " JOIN kecamatan k ON k.code = a.kecamatan_code"
                                      " LEFT JOIN aspiration_sla s ON s.aspiration_id = a.id")
    rows = await db.fetchall(
        f"SELECT {KECAMATAN_LABEL} AS kecamatan, COUNT(*) AS n, SUM(ad.assigned_at >= ?) AS new,"
        " SUM(CASE WHEN s.info_requested_at IS NULL AND ((s.accepted_at IS NULL AND s.accept_due < ?)"
        "  OR (s.responded_at IS NULL AND s.respond_due < ?)) THEN 1 ELSE 0 END) AS late,"
        " SUM(CASE WHEN s.info_requested_at IS NULL AND ((s.accepted_at IS NULL AND s.accept_due BETWEEN ? AND ?)"
        "  OR (s.responded_at IS NULL AND s.respond_due BETWEEN ? AND ?)) THEN 1 ELSE 0 END) AS due"
        + source + " GROUP BY k.code",
        (stamp, iso_today, iso_today, *(iso_today, next_day) * 2, *params))
    total = sum(r["n"] for r in rows)
    if total <= max_items:
        return DepartmentDigest(await _department_rows(db, department, stamp, iso_today, new=None, limit=total)
                                if total else [])
    items = await _department_rows(db, department, stamp, iso_today, new=True, limit=max_items)
    if len(items) < max_items:
        items += await _department_rows(db, department, stamp, iso_today, new=False, limit=max_items - len(items))
    left_out = {r["kecamatan"]: r["n"] for r in rows}
    for item in items:  # (.get: an aspiration may have come in between the two reads)
        left_out[item.kecamatan] = left_out.get(item.kecamatan, 0) - 1
    backlog = Backlog(total, sum(r["new"] or 0 for r in rows), sum(r["late"] or 0 for r in rows), _ranked(left_out),
                      sum(r["due"] or 0 for r in rows))
    return DepartmentDigest(items, backlog)


def _grouped_blocks(items: list[DigestItem], section: str | None = None) -> list[Block]:
    """Items grouped by kecamatan then desa, each group where its oldest item is (items come oldest first).
    ``section``: a heading kept together with the first item."""
    groups: dict[str, dict[str, list[DigestItem]]] = {}
    for item in items:
        groups.setdefault(item.kecamatan, {}).setdefault(item.desa, []).append(item)
    blocks = []
    for kecamatan, desas in groups.items():
        first_in_kecamatan = True
        for desa, desa_items in desas.items():
            # the heading a message split inside this village starts with: rendered once per village
            continued = render("officials/digest_group_heading", kecamatan=kecamatan, desa=desa, continued=True)
            for index, item in enumerate(desa_items):
                heading = render("officials/digest_group_heading", kecamatan=kecamatan if first_in_kecamatan else None,
                                 desa=desa, continued=False) if index == 0 else None
                text = render("officials/digest_daily_item", item=item)
                if heading:
                    text = f"\n{heading}\n{text}"
                if section:
                    text, section = f"\n{section}{text}", None
                blocks.append(Block(text, continued=continued))
                first_in_kecamatan = False
    return blocks


def summary_lines(counts: tuple[tuple[str, int], ...], most: int = SUMMARY_KECAMATAN) -> dict[str, object]:
    """The first ``most`` (name, count) pairs, and how many names and items the rest are."""
    shown, rest = counts[:most], counts[most:]
    return {"lines": list(shown), "others": len(rest), "others_total": sum(n for _, n in rest)}


def render_daily(department_name: str, items: list[DigestItem], day: date, limit: int = LIMIT, *,
                 backlog: Backlog | None = None) -> list[str]:
    """The daily digest of one department: grouped by kecamatan then desa, oldest first at every level. With a
    ``backlog`` (more open items than the cap) the listed new items and the listed oldest others are two sections,
    and a summary of what is not listed closes the digest."""
    if not items:
        return []
    if backlog is None:
        # what waits on the department first; what waits on a village's answer ("Minta info") apart, after it
        waiting = [i for i in items if i.waiting]
        own = [i for i in items if not i.waiting]
        blocks = [Block(render("officials/digest_daily_header", department=department_name, day=day, total=len(items),
                               due=sum(1 for i in items if i.due), tomorrow=next_working_day(day),
                               new=sum(1 for i in items if i.new), late=sum(1 for i in items if i.late),
                               waiting=len(waiting)))]
        blocks += _grouped_blocks(own)
        if waiting:
            blocks += _grouped_blocks(waiting, render("officials/digest_daily_section", kind="waiting",
                                                      listed=len(waiting), count=len(waiting)))
        blocks.append(Block("\n" + render("officials/digest_daily_footer")))
        return split_blocks(blocks, limit)
    new = [i for i in items if i.new and not i.waiting]
    older = [i for i in items if not i.new and not i.waiting]
    waiting = [i for i in items if i.waiting]  # listed apart, after the department's own work
    blocks = [Block(render("officials/digest_daily_header", department=department_name, day=day, total=backlog.total,
                           due=backlog.due, tomorrow=next_working_day(day),
                           new=backlog.new, late=backlog.late, listed=len(items), listed_new=len(new),
                           listed_older=len(older)))]
    if new:
        blocks += _grouped_blocks(new, render("officials/digest_daily_section", kind="new", listed=len(new),
                                              count=backlog.new))
    if older:
        blocks += _grouped_blocks(older, render("officials/digest_daily_section", kind="older", listed=len(older),
                                                count=backlog.total - backlog.new) if new else None)
    if waiting:
        blocks += _grouped_blocks(waiting, render("officials/digest_daily_section", kind="waiting",
                                                  listed=len(waiting), count=len(waiting)))
    blocks.append(Block("\n" + render("officials/digest_daily_footer")))
    blocks.append(Block("\n" + render("officials/digest_daily_rest", total=backlog.left_out_total, listed=len(items),
                                       new=backlog.new - len(new), **summary_lines(backlog.left_out))))
    return split_blocks(blocks, limit)


async def _pending_period(db: Database, job: str, due: datetime, now: datetime) -> str | None:
    """The period (the ISO date of `due`, local) a digest job still has to send, or None: it fell due before the
    job's first run, or it was sent already."""
    if due < await first_run(db, job, now):
        return None
    period = due.date().isoformat()
    if await period_done(db, job, period):
        return None
    return period


async def run_daily(services: Services, now: datetime) -> int:
    """Queue today's daily digest for every official, once per day. Returns how many messages were queued."""
    config = services.config
    tz = config.tz
    working_only = config.daily_digest_working_days_only
    day = latest_daily_period(now.astimezone(tz), config.daily_digest_time, working_only)
    due = datetime.combine(day, config.daily_digest_time, tz)
    since = datetime.combine(previous_daily_period(day, working_only), config.daily_digest_time, tz)
    period = await _pending_period(services.db, DAILY_JOB, due, now)
    if period is None:
        return 0
    departments = services.departments
    names = await departments.names() if departments else {}
    officials = await people_with_role(services.db, Role.PEJABAT)
    by_department: dict[str, list[str]] = {}
    for official in officials:
        code = official.department
        if code and code not in by_department:
            digest = await department_digest(services.db, code, now.astimezone(tz).date(), since,
                                             config.digest_max_items)
            by_department[code] = render_daily(names.get(code, code), digest.items, day, backlog=digest.backlog)
    queued = 0
    async with services.db.transaction() as tx:
        if not await claim(tx, DAILY_JOB, period, now):
            return 0
        for official in officials:
            assert official.telegram_id is not None
            for i, text in enumerate(by_department.get(official.department or "", [])):
                await outbox.enqueue_text(tx, official.telegram_id, text, now=now, ref=f"digest:daily:{period}",
                                          dedup_key=f"digest:daily:{period}:{official.telegram_id}:{i}")
                queued += 1
    log.info("daily digest %s: %s messages to %s officials", period, queued, len(officials))
    return queued


# -- the weekly digest ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestPhoto:
    """A picture in a digest (e.g. a chart), uploaded with the digest."""

    data: bytes
    filename: str = "grafik.png"
    caption: str = ""


@dataclass
class DigestSection:
    """What one provider adds to the weekly digest: text blocks (closed HTML; the digest is split only between
    them) and photos sent after the text."""

    blocks: list[str] = field(default_factory=list)
    photos: list[DigestPhoto] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.blocks and not self.photos


@dataclass(frozen=True)
class WeeklyContext:
    """The week being reported: local days ``first_day``..``last_day``, i.e. [start, end) in UTC."""

    period: date
    first_day: date
    last_day: date
    start: datetime
    end: datetime
    today: date
    now: datetime
    tz: ZoneInfo
    #: Figures several sections need, computed once per digest (see ``overdue_by_department``).
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def start_iso(self) -> str:
        return to_iso(self.start)

    @property
    def end_iso(self) -> str:
        return to_iso(self.end)


WeeklySectionProvider = Callable[["Services", WeeklyContext], Awaitable[DigestSection | None]]
#: (name, provider): one section of the weekly digest. The composition root (``bot.app``) lists them in order in
#: ``Services.weekly_sections``; a provider returns None or an empty section when there is nothing to say, and a
#: digest whose sections are all empty is not sent.
WeeklySection = tuple[str, WeeklySectionProvider]


def weekly_context(now: datetime, tz: ZoneInfo, period: date) -> WeeklyContext:
    first = period - timedelta(days=7)
    last = period - timedelta(days=1)
    start = datetime.combine(first, time(0, 0), tz)
    end = datetime.combine(period, time(0, 0), tz)
    return WeeklyContext(period, first, last, start, end, now.astimezone(tz).date(), now, tz)


async def weekly_intake(services: Services, ctx: WeeklyContext) -> DigestSection | None:
    db = services.db
    window = (ctx.start_iso, ctx.end_iso)
    total = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE created_at >= ? AND created_at < ?", window)
    if not total:
        return None
    by_category = {r["category"]: r["n"] for r in await db.fetchall(
        "SELECT category, COUNT(*) AS n FROM aspirations WHERE created_at >= ? AND created_at < ? GROUP BY category",
        window)}
    categories = [(c.code, by_category[c.code]) for c in CATEGORIES if by_category.get(c.code)]
    kecamatan = tuple((r["name"], r["n"]) for r in await db.fetchall(
        f"SELECT {KECAMATAN_LABEL} AS name, COUNT(*) AS n FROM aspirations a"
        " JOIN kecamatan k ON k.code = a.kecamatan_code"
        " WHERE a.created_at >= ? AND a.created_at < ? GROUP BY k.code ORDER BY n DESC, name", window))
    # every kecamatan while they fit under the cap (a kabupaten's 24 are all listed); over it, the busiest and
    # the others summed in one line, with where to read them all
    return DigestSection([
        render("officials/digest_weekly_categories", total=total, categories=categories),
        "\n" + render("officials/digest_weekly_kecamatan", since=ctx.first_day,
                       **summary_lines(kecamatan, services.config.digest_max_items)),
    ])


#: Aspirations closed in [?, ?) per status (index aspirations_closed, migration 008).
_CLOSED_IN_WEEK = "SELECT status, COUNT(*) AS n FROM aspirations WHERE closed_at >= ? AND closed_at < ? GROUP BY status"
#: Automatic closings (action = ?, the label) in [?, ?) (partial index aspiration_history_auto_closed, migration 008).
_AUTO_CLOSED_IN_WEEK = "SELECT COUNT(*) FROM aspiration_history WHERE action = ? AND at >= ? AND at < ?"


async def weekly_outcomes(services: Services, ctx: WeeklyContext) -> DigestSection | None:
    db = services.db
    rows = await db.fetchall(_CLOSED_IN_WEEK, (ctx.start_iso, ctx.end_iso))
    closed = {r["status"]: r["n"] for r in rows}
    automatic = await db.fetchval(_AUTO_CLOSED_IN_WEEK, (HISTORY_LABELS["tutup_otomatis"], ctx.start_iso, ctx.end_iso))
    waiting = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE status = 'selesai'")
    resolved = closed.get("ditutup", 0)
    not_possible = closed.get("tidak_dapat", 0)
    refused = closed.get("ditolak", 0)
    decided = resolved + not_possible + refused
    if not decided and not waiting and not closed.get("dibatalkan"):
        return None
    # closed as resolved: confirmed by the village, or closed by its silence — shown apart, never one figure
    automatic = min(automatic or 0, resolved)
    confirmed = resolved - automatic
    rate = round(100 * confirmed / decided) if decided else None
    rate_with_automatic = round(100 * resolved / decided) if decided else None
    return DigestSection([render("officials/digest_weekly_outcomes", confirmed=confirmed, automatic=automatic,
                                 not_possible=not_possible, refused=refused, withdrawn=closed.get("dibatalkan", 0),
                                 waiting=waiting, rate=rate, rate_with_automatic=rate_with_automatic)])


#: Past a service level on ``?`` (today, twice); ``s`` the service levels of an aspiration.
_LATE = ("s.info_requested_at IS NULL AND ((s.accepted_at IS NULL AND s.accept_due < ?)"
         " OR (s.responded_at IS NULL AND s.respond_due < ?))")
#: Open aspirations past a service level on ``?`` (today, twice); ``a`` aspirations, ``s`` their service levels.
_OVERDUE = (
    " FROM aspirations a JOIN aspiration_sla s ON s.aspiration_id = a.id"
    " WHERE a.status IN ('baru', 'diterima', 'diproses') AND " + _LATE
)
#: Who an overdue aspiration waits for: each of its active departments, else leadership (confidential) or admins.
_OVERDUE_WHO = "COALESCE(ad.department, CASE WHEN a.confidential THEN 'Pimpinan' ELSE 'Admin' END)"


async def overdue_by_department(db: Database, today: date, shared: dict[str, Any] | None = None) -> dict[str, int]:
    """Overdue aspirations per department code (one aspiration counts for each of its active departments);
    those with no department are counted under "Pimpinan" (confidential) or "Admin". With ``shared`` (a weekly
    digest's ``WeeklyContext.shared``) the figures are read once per digest; callers get their own copy."""
    key = f"overdue_by_department:{today.isoformat()}"
    if shared is not None and key in shared:
        return dict(shared[key])
    iso = today.isoformat()
    rows = await db.fetchall(
        f"SELECT {_OVERDUE_WHO} AS who, COUNT(*) AS n"
        + _OVERDUE.replace(" WHERE", " LEFT JOIN aspiration_departments ad ON ad.aspiration_id = a.id"
                           " AND ad.active = 1 WHERE") + " GROUP BY who", (iso, iso))
    counts = {r["who"]: r["n"] for r in rows}
    if shared is not None:
        shared[key] = dict(counts)
    return counts


@dataclass(frozen=True)
class DepartmentLoad:
    code: str
    name: str
    #: Open work assigned to the department now (baru, diterima, diproses), and how much of it is past a level.
    open: int
    overdue: int


async def department_load(db: Database, where: str, params: list[Any], today: date) -> list[DepartmentLoad]:
    """Open work and overdue items per department among the aspirations ``a`` matching ``where`` (an audience's
    share and filters), the busiest first. One aspiration counts for each of its active departments."""
    iso = today.isoformat()
    rows = await db.fetchall(
        "SELECT ad.department AS code, COALESCE(dp.name, ad.department) AS name, COUNT(*) AS n,"
        f" SUM(CASE WHEN {_LATE} THEN 1 ELSE 0 END) AS late"
        " FROM aspirations a JOIN aspiration_departments ad ON ad.aspiration_id = a.id AND ad.active = 1"
        " LEFT JOIN departments dp ON dp.code = ad.department"
        " LEFT JOIN aspiration_sla s ON s.aspiration_id = a.id"
        f" WHERE a.status IN ('baru', 'diterima', 'diproses') AND ({where})"
        " GROUP BY ad.department ORDER BY n DESC, ad.department", [iso, iso, *params])
    return [DepartmentLoad(r["code"], r["name"], r["n"], r["late"] or 0) for r in rows]


async def overdue_by_kecamatan(db: Database, today: date) -> dict[str, int]:
    """Overdue aspirations per kecamatan (counted by code, named by ``KECAMATAN_LABEL``); their sum is the number
    of overdue aspirations."""
    iso = today.isoformat()
    rows = await db.fetchall(
        f"SELECT {KECAMATAN_LABEL} AS name, COUNT(*) AS n"
        + _OVERDUE.replace(" WHERE", " JOIN kecamatan k ON k.code = a.kecamatan_code WHERE") + " GROUP BY k.code",
        (iso, iso))
    return {r["name"]: r["n"] for r in rows}


async def overdue_rows(db: Database, today: date, limit: int) -> list[dict[str, object]]:
    """The ``limit`` oldest overdue aspirations, with what is late and for how many working days."""
    iso = today.isoformat()
    # Each open status walks aspirations_status (status, created_at, id) from its oldest entry and stops at its
    # ``limit`` oldest overdue ones; the oldest ``limit`` of all are among those. Sorting every overdue aspiration
    # instead took 26 ms on the province-sized bench database (17,000 overdue), this 0.1 ms. (CROSS JOIN: the
    # aspirations are the outer loop, whatever statistics the planner may find.)
    oldest = " UNION ALL ".join([
        "SELECT * FROM (SELECT a.id FROM aspirations a CROSS JOIN aspiration_sla s ON s.aspiration_id = a.id"
        " WHERE a.status = ? AND " + _LATE + " ORDER BY a.created_at, a.id LIMIT ?)"] * len(_OPEN_WORK))
    rows = await db.fetchall(
        "SELECT a.id, a.ticket, a.category, a.status, a.created_at, a.confidential, d.name AS desa,"
        f" {KECAMATAN_LABEL} AS kecamatan, s.audience, s.accept_due, s.respond_due, s.accepted_at, s.responded_at,"
        " s.info_requested_at, (SELECT group_concat(department, ', ') FROM aspiration_departments"
        "   WHERE aspiration_id = a.id AND active = 1) AS departments"
        f" FROM ({oldest}) o JOIN aspirations a ON a.id = o.id JOIN aspiration_sla s ON s.aspiration_id = a.id"
        " JOIN desa d ON d.code = a.desa_code JOIN kecamatan k ON k.code = a.kecamatan_code"
        " ORDER BY a.created_at, a.id LIMIT ?",
        (*(value for status in _OPEN_WORK for value in (status, iso, iso, limit)), limit))
    result = []
    for r in rows:
        late = _late(r, iso)
        due = r["accept_due"] if "terima" in late else r["respond_due"]
        result.append({
            "ticket": r["ticket"], "category": r["category"], "status": r["status"], "desa": r["desa"],
            "kecamatan": r["kecamatan"], "late": late, "created_at": r["created_at"],
            "departments": r["departments"] or ("Pimpinan" if r["confidential"] else "Admin"),
            "days": working_days_between(date.fromisoformat(due), today),
        })
    return result


async def weekly_departments(services: Services, ctx: WeeklyContext) -> DigestSection | None:
    db = services.db
    rows = await db.fetchall(
        "SELECT ad.department AS code, COUNT(*) AS n FROM aspiration_departments ad"
        " JOIN aspirations a ON a.id = ad.aspiration_id WHERE ad.active = 1"
        " AND a.status IN ('baru', 'diterima', 'diproses') GROUP BY ad.department ORDER BY n DESC, code")
    if not rows:
        return None
    late = await overdue_by_department(db, ctx.today, ctx.shared)
    names = await services.departments.names() if services.departments else {}
    lines = [{"code": r["code"], "name": names.get(r["code"], r["code"]), "open": r["n"],
              "late": late.get(r["code"], 0)} for r in rows]
    return DigestSection([render("officials/digest_weekly_departments", departments=lines)])


async def weekly_overdue(services: Services, ctx: WeeklyContext) -> DigestSection | None:
    """The oldest overdue aspirations one by one (at most ``config.digest_max_items``), the rest counted per
    department and per kecamatan."""
    db = services.db
    by_kecamatan = await overdue_by_kecamatan(db, ctx.today)
    total = sum(by_kecamatan.values())
    if not total:
        return None
    items = await overdue_rows(db, ctx.today, services.config.digest_max_items)
    blocks = [render("officials/digest_weekly_overdue_title", count=total, listed=len(items))]
    blocks += [render("officials/digest_weekly_overdue_item", item=item) for item in items]
    if total > len(items):
        by_department = await overdue_by_department(db, ctx.today, ctx.shared)
        for item in items:  # (.get: the figures may have moved between the reads)
            for code in str(item["departments"]).split(", "):
                by_department[code] = by_department.get(code, 0) - 1
            by_kecamatan[str(item["kecamatan"])] = by_kecamatan.get(str(item["kecamatan"]), 0) - 1
        blocks.append("\n" + render("officials/digest_weekly_overdue_rest", total=total - len(items), listed=len(items),
                                     departments=summary_lines(_ranked(by_department)),
                                     kecamatan=summary_lines(_ranked(by_kecamatan))))
    return DigestSection(blocks)


async def build_weekly(services: Services, ctx: WeeklyContext) -> tuple[list[str], list[DigestPhoto]]:
    """The weekly digest's messages and photos; ([], []) when there is nothing to report."""
    sections: list[DigestSection] = []
    for name, provider in list(services.weekly_sections):
        try:
            section = await provider(services, ctx)
        except Exception:  # one broken section must not cost leadership the whole digest
            log.exception("weekly digest section %s failed", name)
            continue
        if section is not None and not section.empty:
            sections.append(section)
    if not sections:
        return [], []
    blocks = [Block(render("officials/digest_weekly_header", ctx=ctx))]
    photos: list[DigestPhoto] = []
    for section in sections:
        blocks += [Block("\n" + b) if i == 0 else Block(b) for i, b in enumerate(section.blocks)]
        photos += section.photos
    return split_blocks(blocks), photos


async def run_weekly(services: Services, now: datetime) -> int:
    config = services.config
    tz = config.tz
    period_day = latest_weekly_period(now.astimezone(tz), config.weekly_digest_time, config.weekly_digest_weekday)
    due = datetime.combine(period_day, config.weekly_digest_time, tz)
    period = await _pending_period(services.db, WEEKLY_JOB, due, now)
    if period is None:
        return 0
    texts, photos = await build_weekly(services, weekly_context(now, tz, period_day))
    # the digest counts and lists every aspiration, "Kinerja Kecamatan" included: only for those who may read them
    # all (bot/aspirations/audience.py)
    recipients = [p for role in (Role.PIMPINAN, Role.ADMIN) for p in await people_with_role(services.db, role)
                  if audiences.of(p).everything]
    queued = 0
    async with services.db.transaction() as tx:
        if not await claim(tx, WEEKLY_JOB, period, now):
            return 0
        for person in recipients:
            chat = person.telegram_id
            assert chat is not None
            for i, text in enumerate(texts):
                await outbox.enqueue_text(tx, chat, text, now=now, ref=f"digest:weekly:{period}",
                                          dedup_key=f"digest:weekly:{period}:{chat}:{i}")
                queued += 1
            for i, photo in enumerate(photos if texts else []):
                await outbox.enqueue(tx, chat, "sendPhoto", {"chat_id": chat, "caption": photo.caption},
                                     now=now, upload=photo.data, upload_name=photo.filename,
                                     ref=f"digest:weekly:{period}", dedup_key=f"digest:weekly:{period}:{chat}:p{i}")
                queued += 1
    log.info("weekly digest %s: %s messages to %s people", period, queued, len(recipients))
    return queued
