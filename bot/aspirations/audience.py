"""Who sees which aspiration, and which of its fields: the one audience rule behind every read path.

``of(person)`` is a person's ``Audience``; ``Audience.where()`` is the rule as an SQL condition on ``aspirations``
and ``Audience.sees()`` the same rule for one aspiration in Python. ``/status`` (list and detail), ``/desa``,
``/briefing`` (on demand and scheduled), the daily and weekly digests, ``/rekap``, ``/ekspor``, ``sambang export``
and the copies sent to the camat all take their aspirations through it; a path may narrow it further (the daily
digest lists a department's open work, a briefing one kecamatan's open aspirations), never widen it.

===========  ==========================================  ===========================  ====================  ========
audience     aspirations                                 "Kinerja Kecamatan" items    who acted (history)   feedback
===========  ==========================================  ===========================  ====================  ========
pimpinan     all                                         yes                          yes                   yes
admin        all                                         in the bot (as /status);     yes                   in the
                                                         never in exports                                   bot only
pejabat      routed to the official's department, now    never                        yes                   never
             or before a redirect
camat        the copies kepala desa chose to send, of    never (no copy is made)      no                    never
             the camat's kecamatan
kepala desa  their desa's, and their own wherever they   only those they submitted    no                    never
             were; the main aspiration one of theirs     themselves
             was merged into (a duplicate)
===========  ==========================================  ===========================  ====================  ========

The thread of an aspiration (what the kepala desa and the departments write to each other: replies, questions,
answers, with photos, voice notes and documents) is narrower (``sees_thread``): the kepala desa of the aspiration
(and of its desa, as above, but not a kepala desa who only follows it through a duplicate), the departments
responsible now (not one it was redirected away from), leadership and admins (in the bot), and the camat only when
the kepala desa chose the copy — never for "Kinerja Kecamatan".

Before "Kirim" a kepala desa is shown possible duplicates (``sees_duplicate_hint``): the ticket, desa, status and
the start of the description of open, non-confidential aspirations of the same category in their kecamatan (the
"neighbouring villages"); never their thread, history or anything else.

A second kepala desa of the same desa (a successor registered while the predecessor still is) sees the desa's
non-confidential aspirations, never the predecessor's "Kinerja Kecamatan" reports, and the other way round. A
deactivated person, and an official without a department, see nothing. Exports are files that travel (e-mail, flash
disks), so "Kinerja Kecamatan" items and feedback go only into leadership's, although admins may read those items
one by one in the bot. Profiles, recaps and exports are for pimpinan, admins and officials (``for_person``); the
kepala desa and the camat follow their aspirations with /status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.core.domain import CLOSED_STATUSES, NotAllowed, Role, Status
from bot.people.roster import Person
from bot.storage.database import Database

if TYPE_CHECKING:
    from bot.aspirations.service import Aspiration

PIMPINAN = "pimpinan"
ADMIN = "admin"
PEJABAT = "pejabat"
CAMAT = "camat"
KEPALA_DESA = "kepala_desa"
#: A deactivated person, an official without a department, a role without a rule: nothing.
NOBODY = "nobody"


@dataclass(frozen=True)
class Audience:
    kind: str  # pimpinan | admin | pejabat | camat | kepala_desa | nobody
    #: May see every "Kinerja Kecamatan" (confidential) aspiration (a kepala desa sees only their own).
    confidential: bool
    #: May see the feedback villages gave (ratings of visits and answers).
    feedback: bool
    #: The official's department (pejabat only).
    department: str | None = None
    #: Kept for older callers; the rule itself uses the fields below.
    person: Person | None = None
    #: May see who acted on an aspiration (the names in its history).
    actors: bool = True
    #: The kepala desa's people id and desa, or the camat's kecamatan.
    person_id: int | None = None
    desa_code: str | None = None
    kecamatan_code: str | None = None

    @property
    def label(self) -> str:
        if self.kind == PEJABAT:
            return f"OPD {self.department}"
        return {PIMPINAN: "Pimpinan", ADMIN: "Admin", CAMAT: "Camat", KEPALA_DESA: "Kepala desa"}.get(
            self.kind, "-")

    @property
    def is_department(self) -> bool:
        return self.kind == PEJABAT

    @property
    def everything(self) -> bool:
        """Sees every aspiration (leadership; admins in the bot)."""
        return self.kind in (PIMPINAN, ADMIN) and self.confidential

    def where(self, aspirations: Any = None, alias: str = "a") -> tuple[str, list[Any]]:
        """The rule as an SQL condition on ``aspirations`` aliased ``alias``, with its parameters.

        (``aspirations`` is accepted for older callers and not used.)"""
        a = alias
        if self.kind in (PIMPINAN, ADMIN):
            return ("1 = 1", []) if self.confidential else (f"{a}.confidential = 0", [])
        if self.kind == PEJABAT:
            return (f"{a}.confidential = 0 AND EXISTS (SELECT 1 FROM aspiration_departments routed"
                    f" WHERE routed.aspiration_id = {a}.id AND routed.department = ?)", [self.department])
        if self.kind == CAMAT:
            return (f"{a}.kecamatan_code = ? AND {a}.copy_to_camat = 1 AND {a}.confidential = 0",
                    [self.kecamatan_code])
        if self.kind == KEPALA_DESA:
            # (an IN list, not EXISTS: SQLite then still reads the three by index, never the whole table)
            return (f"({a}.submitter_id = ? OR ({a}.desa_code = ? AND {a}.confidential = 0) OR {a}.id IN (SELECT"
                    " followed.duplicate_of FROM aspirations followed WHERE followed.submitter_id = ?"
                    " AND followed.duplicate_of IS NOT NULL))",
                    [self.person_id, self.desa_code, self.person_id])
        return "0 = 1", []

    def scan(self, alias: str = "a") -> tuple[str, list[Any]]:
        """The same rule as ``where``, written for a query that reads the whole share (counts, maps): an
        official's share starts from the department's routing rows instead of probing every aspiration (on the
        province-sized bench database about twice as fast for a department with a third of all aspirations)."""
        if self.kind == PEJABAT:
            return (f"{alias}.confidential = 0 AND {alias}.id IN (SELECT routed.aspiration_id FROM"
                    " aspiration_departments routed WHERE routed.department = ?)", [self.department])
        return self.where(alias=alias)

    def sees(self, aspiration: Aspiration) -> bool:
        """The same rule as ``where`` for one aspiration."""
        if self.kind in (PIMPINAN, ADMIN):
            return self.confidential or not aspiration.confidential
        if self.kind == PEJABAT:
            return not aspiration.confidential and self.department in (
                *aspiration.departments, *aspiration.former_departments)
        if self.kind == CAMAT:
            return (aspiration.kecamatan_code == self.kecamatan_code and aspiration.copy_to_camat
                    and not aspiration.confidential)
        if self.kind == KEPALA_DESA:
            return self._own_village(aspiration) or self.person_id in aspiration.follower_ids
        return False

    def _own_village(self, aspiration: Aspiration) -> bool:
        return aspiration.submitter_id == self.person_id or (
            aspiration.desa_code == self.desa_code and not aspiration.confidential)

    def sees_thread(self, aspiration: Aspiration) -> bool:
        """Whether the thread of the aspiration (replies, questions, answers, their files) is theirs to read."""
        if self.kind in (PIMPINAN, ADMIN, CAMAT):
            return self.sees(aspiration)
        if self.kind == PEJABAT:
            return not aspiration.confidential and self.department in aspiration.departments
        if self.kind == KEPALA_DESA:
            return self._own_village(aspiration)
        return False

    def sees_duplicate_hint(self, aspiration: Aspiration) -> bool:
        """Whether a kepala desa writing a new aspiration may be shown this one as a possible duplicate."""
        return (self.kind == KEPALA_DESA and not aspiration.confidential and not aspiration.is_closed
                and aspiration.kecamatan_code == self.kecamatan_code)

    def duplicate_hints_where(self, alias: str = "a") -> tuple[str, list[Any]]:
        """``sees_duplicate_hint`` as an SQL condition on ``aspirations`` aliased ``alias``."""
        a = alias
        if self.kind != KEPALA_DESA or not self.kecamatan_code:
            return "0 = 1", []
        open_ = [s.value for s in Status if s not in CLOSED_STATUSES]
        return (f"{a}.kecamatan_code = ? AND {a}.confidential = 0 AND {a}.status IN ({', '.join('?' * len(open_))})",
                [self.kecamatan_code, *open_])


_NOBODY = Audience(NOBODY, confidential=False, feedback=False, actors=False)


def of(person: Person | None, *, export: bool = False) -> Audience:
    """The audience of any person: what they may read in the bot (``export``: in a file they take away)."""
    if person is None or not person.active:
        return _NOBODY
    if person.role is Role.PIMPINAN:
        return Audience(PIMPINAN, confidential=True, feedback=True)
    if person.role is Role.ADMIN:
        return Audience(ADMIN, confidential=not export, feedback=not export)
    if person.role is Role.PEJABAT:
        if not person.department:
            return _NOBODY
        return for_department(person.department)
    if person.role is Role.CAMAT and person.kecamatan_code:
        return Audience(CAMAT, confidential=False, feedback=False, actors=False,
                        kecamatan_code=person.kecamatan_code)
    if person.role is Role.KEPALA_DESA:
        return Audience(KEPALA_DESA, confidential=False, feedback=False, actors=False,
                        person_id=person.id, desa_code=person.desa_code,
                        # a desa's Kemendagri code begins with its kecamatan's: 35.13.02.2001 is in 35.13.02
                        kecamatan_code=person.kecamatan_code or (
                            person.desa_code.rsplit(".", 1)[0] if person.desa_code else None))
    return _NOBODY


def for_person(person: Person, *, export: bool = False) -> Audience:
    """The audience of a village profile, a recap or an export: pimpinan, admins and officials; kepala desa and
    camat are refused (NotAllowed, in Indonesian), as is an official without a department."""
    if person.role is Role.PEJABAT and not person.department:
        raise NotAllowed("aspirations/akun_belum_terhubung_opd")
    if person.role not in (Role.PIMPINAN, Role.ADMIN, Role.PEJABAT):
        raise NotAllowed("aspirations/data_hanya_pimpinan_daerah")
    return of(person, export=export)


def for_department(department: str) -> Audience:
    """The audience of a department's officials (their daily digest, the briefing of a visit they attend)."""
    return Audience(PEJABAT, confidential=False, feedback=False, department=department)


def for_export(kind: str, department: str | None = None) -> Audience:
    """The audience of a command-line export (``--audience``)."""
    if kind == PIMPINAN:
        return Audience(PIMPINAN, confidential=True, feedback=True)
    if kind == ADMIN:
        return Audience(ADMIN, confidential=False, feedback=False)
    if kind == PEJABAT and department:
        return for_department(department)
    raise ValueError(f"unknown audience {kind!r}")


async def known_department(db: Database, code: str) -> str | None:
    """The canonical department code; any code is accepted until the departments table exists."""
    code = code.strip()
    if not code:
        return None
    row = await db.fetchone("SELECT code FROM departments WHERE lower(code) = lower(?)", (code,))
    return row["code"] if row else None


async def parse_audience(db: Database, text: str) -> Audience:
    """``pimpinan``, ``admin`` or ``pejabat:<DEPT>`` as given on the command line."""
    kind, _, dept = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind in (PIMPINAN, ADMIN) and not dept:
        return for_export(kind)
    if kind == PEJABAT:
        code = await known_department(db, dept)
        if code is None:
            if dept.strip():
                raise NotAllowed("aspirations/audience_department_unknown", department=dept.strip())
            raise NotAllowed("aspirations/audience_department_missing")
        return for_export(PEJABAT, code)
    raise NotAllowed("aspirations/audiens_tidak_dikenal_pilih", text=text)
