"""Who a village profile, a recap or an export is for, and therefore which aspirations it may contain.

One rule for every view, so that profiles, recaps and spreadsheets can never disagree about who sees what:

==========  =====================================  ==========================  ==============================
audience    aspirations                            "Kinerja Kecamatan" items   feedback of the villages
==========  =====================================  ==========================  ==============================
pimpinan    all                                    yes                         yes
admin       all                                    in the bot (as /status);    in the bot; not in exports
                                                   never in exports
pejabat     routed to the official's department    never                       never
==========  =====================================  ==========================  ==============================

Kepala desa and camat have no audience here: they are refused. Exports are files that travel (e-mail, flash
disks), so the issue's rule "Kinerja Kecamatan items and feedback go only to leadership's exports" is applied to
admins too, although admins may read those items one by one in the bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .aspirations import AspirationService
from .domain import NotAllowed, Role
from .roster import Person
from .storage import Database

PIMPINAN = "pimpinan"
ADMIN = "admin"
PEJABAT = "pejabat"


@dataclass(frozen=True)
class Audience:
    kind: str  # pimpinan | admin | pejabat
    #: May see "Kinerja Kecamatan" (confidential) aspirations.
    confidential: bool
    #: May see the feedback villages gave (ratings of visits and answers).
    feedback: bool
    #: The official's department (pejabat only).
    department: str | None = None
    #: The official, for the department filter (routing may widen what a department handles).
    person: Person | None = None

    @property
    def label(self) -> str:
        if self.kind == PEJABAT:
            return f"OPD {self.department}"
        return "Pimpinan" if self.kind == PIMPINAN else "Admin"

    @property
    def is_department(self) -> bool:
        return self.kind == PEJABAT

    def where(self, aspirations: AspirationService, alias: str = "a") -> tuple[str, list[Any]]:
        """SQL condition (on aspirations aliased ``a``) selecting exactly this audience's share."""
        if self.kind == PEJABAT:
            assert self.person is not None
            condition, params = aspirations.department_filter(self.person)
            return f"({condition}) AND {alias}.confidential = 0", list(params)
        if not self.confidential:
            return f"{alias}.confidential = 0", []
        return "1 = 1", []


def for_person(person: Person, *, export: bool = False) -> Audience:
    """The audience of a registered person; kepala desa and camat are refused (NotAllowed, in Indonesian)."""
    if person.role is Role.PIMPINAN:
        return Audience(PIMPINAN, confidential=True, feedback=True)
    if person.role is Role.ADMIN:
        return Audience(ADMIN, confidential=not export, feedback=not export)
    if person.role is Role.PEJABAT:
        if not person.department:
            raise NotAllowed("Akun Anda belum terhubung ke OPD mana pun. Hubungi admin.")
        return Audience(PEJABAT, confidential=False, feedback=False, department=person.department, person=person)
    raise NotAllowed("Data ini hanya untuk Pimpinan Daerah, Admin, dan Pejabat OPD.")


def for_export(kind: str, department: str | None = None) -> Audience:
    """The audience of a command-line export (``--audience``)."""
    if kind == PIMPINAN:
        return Audience(PIMPINAN, confidential=True, feedback=True)
    if kind == ADMIN:
        return Audience(ADMIN, confidential=False, feedback=False)
    if kind == PEJABAT and department:
        official = Person(id=0, telegram_id=None, name="", role=Role.PEJABAT, desa_code=None, kecamatan_code=None,
                          department=department, title=None, phone=None, active=True)
        return Audience(PEJABAT, confidential=False, feedback=False, department=department, person=official)
    raise ValueError(f"unknown audience {kind!r}")


async def known_department(db: Database, code: str) -> str | None:
    """The canonical department code; any code is accepted until the departments table exists."""
    code = code.strip()
    if not code:
        return None
    has_table = await db.fetchval("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'departments'")
    if not has_table:
        return code
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
            raise NotAllowed(
                f"OPD {dept.strip()!r} tidak dikenal." if dept.strip() else "Sebutkan OPD-nya: --audience pejabat:PUPR"
            )
        return for_export(PEJABAT, code)
    raise NotAllowed(f"Audiens {text!r} tidak dikenal. Pilih: pimpinan, admin, atau pejabat:<KODE_OPD>.")
