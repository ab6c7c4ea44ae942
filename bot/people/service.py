"""Who keeps access: list people, deactivate and reactivate them, move them to another role or place, and hand a
desa over to a successor once an admin confirms.

Every change is written to the audit log in the transaction that makes it. A deactivated person keeps their row
(history, aspirations and audit entries point to it) with ``active = 0`` and ``deactivated_at`` set; their queued
messages are withdrawn and every update from them is refused (``bot.telegram.guards.refuse_inactive``).

A successor is a new kepala desa for a desa whose head is registered: the row has ``successor_of`` (the
predecessor) and stays inactive until an admin confirms; the confirmation deactivates the predecessor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import Clock, to_iso
from bot.core.domain import ROLE_LABELS, DomainError, Role, parse_role
from bot.core.wording import plain
from bot.messaging import callbacks, outbox
from bot.messaging.menu import Menu
from bot.messaging.templates import render
from bot.people.regions import find_desa, find_kecamatan
from bot.people.roster import Person, person_from_row
from bot.storage import audit
from bot.storage.database import Database, Row, Transaction


class PeopleError(DomainError):
    """A refused change to a person (unknown id, unknown place, a role without its place): nothing was stored."""


#: Roles and the place each one needs.
PLACE_OF_ROLE = {Role.KEPALA_DESA: "desa", Role.CAMAT: "kecamatan", Role.PEJABAT: "department"}

_SELECT = (
    "SELECT p.*, d.name AS desa_name, COALESCE(k.name, kd.name) AS kecamatan_name,"
    " COALESCE(p.kecamatan_code, d.kecamatan_code) AS kec_code"
    " FROM people p"
    " LEFT JOIN desa d ON d.code = p.desa_code"
    " LEFT JOIN kecamatan kd ON kd.code = d.kecamatan_code"
    " LEFT JOIN kecamatan k ON k.code = p.kecamatan_code"
)

#: The condition of a successor still waiting for an admin's confirmation (on the ``people`` alias ``p``).
WAITING = "p.successor_of IS NOT NULL AND p.active = 0 AND p.deactivated_at IS NULL"


@dataclass(frozen=True)
class Entry:
    """One person as admins see them in a list."""

    id: int
    telegram_id: int | None
    name: str
    role: Role
    desa_code: str | None
    desa_name: str | None
    kecamatan_code: str | None
    kecamatan_name: str | None
    department: str | None
    title: str | None
    phone: str | None
    active: bool
    deactivated_at: str | None
    successor_of: int | None
    admin_from_env: bool

    @property
    def waiting(self) -> bool:
        """A successor waiting for an admin's confirmation."""
        return self.successor_of is not None and not self.active and self.deactivated_at is None

    @property
    def state(self) -> str:
        if self.active:
            return "aktif"
        return "menunggu konfirmasi" if self.waiting else "nonaktif"

    @property
    def place(self) -> str:
        if self.role is Role.KEPALA_DESA and self.desa_code:
            return f"{self.desa_code} {self.desa_name or ''} (Kec. {self.kecamatan_name or '-'})".strip()
        if self.role is Role.CAMAT and self.kecamatan_code:
            return f"{self.kecamatan_code} Kec. {self.kecamatan_name or '-'}"
        return self.title or ""

    @property
    def label(self) -> str:
        """Who, in one line: name, id and role."""
        return plain("people/entry_label", name=self.name, telegram_id=self.telegram_id, role=ROLE_LABELS[self.role])


def _entry(row: Row) -> Entry:
    return Entry(
        id=row["id"], telegram_id=row["telegram_id"], name=row["name"], role=Role(row["role"]),
        desa_code=row["desa_code"], desa_name=row["desa_name"], kecamatan_code=row["kec_code"],
        kecamatan_name=row["kecamatan_name"], department=row["department"], title=row["title"], phone=row["phone"],
        active=bool(row["active"]), deactivated_at=row["deactivated_at"], successor_of=row["successor_of"],
        admin_from_env=bool(row["admin_from_env"]),
    )


# -- reading ----------------------------------------------------------------------------------------------------


async def list_people(db: Database | Transaction, *, role: Role | None = None, desa: str | None = None,
                      kecamatan: str | None = None, text: str | None = None) -> list[Entry]:
    """Everyone (active or not) matching the filters, registered people first, by role and place."""
    where: list[str] = []
    params: list[Any] = []
    if role is not None:
        where.append("p.role = ?")
        params.append(role.value)
    if desa is not None:
        where.append("p.desa_code = ?")
        params.append(desa)
    if kecamatan is not None:
        where.append("COALESCE(p.kecamatan_code, d.kecamatan_code) = ?")
        params.append(kecamatan)
    if text:
        where.append("(lower(p.name) LIKE ? ESCAPE '\\' OR CAST(p.telegram_id AS TEXT) = ? OR p.department = ?)")
        like = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += [f"%{like}%", text, text.upper()]
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY p.active DESC, p.role, COALESCE(p.desa_code, p.kecamatan_code, p.department, ''), p.id"
    return [_entry(r) for r in await db.fetchall(sql, params)]


async def get(db: Database | Transaction, telegram_id: int) -> Entry | None:
    row = await db.fetchone(_SELECT + " WHERE p.telegram_id = ?", (telegram_id,))
    return _entry(row) if row else None


async def get_by_id(db: Database | Transaction, person_id: int) -> Entry | None:
    row = await db.fetchone(_SELECT + " WHERE p.id = ?", (person_id,))
    return _entry(row) if row else None


async def caller_state(db: Database, telegram_id: int) -> tuple[Person | None, Entry | None]:
    """Who writes to the bot, in one read: ``(person, None)`` for an active person, ``(None, entry)`` for one known
    but not allowed to use Sambang (deactivated, or a successor waiting: ``Entry.waiting`` says which), and
    ``(None, None)`` for a stranger. A Telegram id belongs to one row at most."""
    row = await db.lookup_one(_SELECT + " WHERE p.telegram_id = ?", (telegram_id,))
    if row is None:
        return None, None
    return (person_from_row(row), None) if row["active"] else (None, _entry(row))


async def _require(tx: Transaction, telegram_id: int) -> Entry:
    entry = await get(tx, telegram_id)
    if entry is None:
        raise PeopleError("people/tidak_orang_telegram_id", telegram_id=telegram_id)
    return entry


def parse_telegram_id(text: str) -> int:
    value = text.strip()
    if not value.lstrip("-").isdigit() or len(value) > 16:
        raise PeopleError("people/telegram_id_angka_bukan", value=value[:30])
    return int(value)


# -- shared steps -------------------------------------------------------------------------------------------------


async def _withdraw(tx: Transaction, chat_id: int, now: datetime) -> int:
    """Withdraw what is still queued for a deactivated person (digests, notices, cards) and drop their command
    menu. Returns how many queued messages were withdrawn."""
    withdrawn = await tx.execute_rowcount(
        "UPDATE outbox SET status = 'failed', last_error = 'recipient deactivated'"
        " WHERE chat_id = ? AND status = 'pending'", (chat_id,))
    await tx.execute("DELETE FROM pending_inputs WHERE telegram_id = ?", (chat_id,))
    await outbox.enqueue(tx, chat_id, "deleteMyCommands", {"scope": {"type": "chat", "chat_id": chat_id}}, now=now)
    return withdrawn


async def _give_menu(tx: Transaction, menu: Menu, chat_id: int, role: Role, now: datetime) -> None:
    """The command menu of the person's (new) role."""
    await outbox.enqueue(tx, chat_id, "setMyCommands",
                         {"commands": menu.telegram(role), "scope": {"type": "chat", "chat_id": chat_id}}, now=now)


async def _tell(tx: Transaction, chat_id: int | None, template: str, now: datetime, **values: Any) -> None:
    if chat_id is not None:
        await outbox.enqueue_text(tx, chat_id, render(template, **values), now=now)


async def deactivate_in(tx: Transaction, entry: Entry, now: datetime, *, actor: int | None, why: str,
                        tell: bool = True) -> int:
    """Deactivate ``entry`` inside ``tx``: no access, nothing more queued for them, an audit entry."""
    await tx.execute(
        "UPDATE people SET active = 0, deactivated_at = ?, updated_at = ? WHERE id = ?",
        (to_iso(now), to_iso(now), entry.id))
    withdrawn = 0
    if entry.telegram_id is not None:
        withdrawn = await _withdraw(tx, entry.telegram_id, now)
        if tell:
            await _tell(tx, entry.telegram_id, "people/people_deactivated_notice", now, reason=why)
    await audit.record(tx, actor, "nonaktifkan",
                       f"orang {entry.id} tg {entry.telegram_id or '-'} {entry.role.value}: {why};"
                       f" {withdrawn} pesan antre ditarik", now=now)
    return withdrawn


# -- deactivate, activate -------------------------------------------------------------------------------------


async def deactivate(db: Database, clock: Clock, telegram_id: int, *, actor: int | None) -> tuple[Entry, int]:
    """Take access away. Returns the person and how many queued messages to them were withdrawn."""
    now = clock.now()
    async with db.transaction() as tx:
        entry = await _require(tx, telegram_id)
        if not entry.active and not entry.waiting:
            raise PeopleError("people/nonaktif", label=entry.label)
        if actor is not None and actor == telegram_id:
            raise PeopleError("people/tidak_menonaktifkan_akun_sendiri")
        withdrawn = await deactivate_in(tx, entry, now, actor=actor, why="dinonaktifkan admin")
        # an explicit deactivation stands even if the id is still listed in SAMBANG_ADMINS
        await tx.execute("UPDATE people SET admin_from_env = 0 WHERE id = ?", (entry.id,))
    after = await get(db, telegram_id)
    assert after is not None
    return after, withdrawn


async def _active_head(tx: Transaction, desa_code: str, *, other_than: int) -> Entry | None:
    row = await tx.fetchone(
        _SELECT + " WHERE p.role = 'kepala_desa' AND p.desa_code = ? AND p.active = 1 AND p.telegram_id IS NOT NULL"
        " AND p.id <> ? ORDER BY p.id LIMIT 1", (desa_code, other_than))
    return _entry(row) if row else None


async def activate(db: Database, clock: Clock, telegram_id: int, *, actor: int | None,
                   menu: Menu) -> tuple[Entry, Entry | None]:
    """Give access back; a waiting successor is confirmed (their predecessor is deactivated). Returns the person and
    the predecessor deactivated with it, if any."""
    async with db.transaction() as tx:
        entry = await _require(tx, telegram_id)
    if entry.waiting:
        return await confirm_successor(db, clock, entry.id, actor=actor, menu=menu)
    now = clock.now()
    async with db.transaction() as tx:
        entry = await _require(tx, telegram_id)
        if entry.active:
            raise PeopleError("people/aktif", label=entry.label)
        if entry.role is Role.KEPALA_DESA and entry.desa_code:
            head = await _active_head(tx, entry.desa_code, other_than=entry.id)
            if head is not None:
                raise PeopleError("people/desa_punya_kepala_desa", desa_name=entry.desa_name or entry.desa_code,
                                  label=head.label)
        # given back by an admin: no longer tied to SAMBANG_ADMINS (a restart does not take it away again)
        await tx.execute("UPDATE people SET active = 1, deactivated_at = NULL, admin_from_env = 0, updated_at = ?"
                         " WHERE id = ?", (to_iso(now), entry.id))
        await _give_menu(tx, menu, telegram_id, entry.role, now)
        await _tell(tx, telegram_id, "people/people_activated_notice", now, role=ROLE_LABELS[entry.role])
        await audit.record(tx, actor, "aktifkan", f"orang {entry.id} tg {telegram_id} {entry.role.value}", now=now)
    after = await get(db, telegram_id)
    assert after is not None
    return after, None


# -- move -------------------------------------------------------------------------------------------------------


async def _desa_code(db: Database | Transaction, text: str) -> str:
    matches = await find_desa(db, text)
    if len(matches) != 1:
        if not matches:
            raise PeopleError("people/desa_tidak_ditemukan_wilayah", text=text[:60])
        options = "; ".join(f"{d.code} {d.label}" for d in matches[:5])
        raise PeopleError("people/desa_cocok_beberapa_desa", text=text[:60], options=options)
    return matches[0].code


async def _kecamatan_code(db: Database | Transaction, text: str) -> str:
    matches = await find_kecamatan(db, text)
    if len(matches) != 1:
        raise PeopleError("people/kecamatan_tidak_ditemukan_wilayah", text=text[:60])
    return matches[0].code


async def _department_code(tx: Transaction, text: str) -> str:
    row = await tx.fetchone("SELECT code FROM departments WHERE lower(code) = lower(?) AND active = 1",
                            (text.strip(),))
    if row is None:
        raise PeopleError("people/opd_tidak_dikenal_daftar", text=text[:40])
    return str(row["code"])


async def move(db: Database, clock: Clock, telegram_id: int, *, role: str | None = None,
               department: str | None = None, desa: str | None = None, kecamatan: str | None = None,
               actor: int | None, menu: Menu) -> tuple[Entry, list[str]]:
    """Change a person's role, department, desa or kecamatan. Returns the person after and the changes, one line
    each ("peran: Camat → Pejabat OPD"). The role keeps only the place it needs."""
    if role is None and department is None and desa is None and kecamatan is None:
        raise PeopleError("people/sebutkan_diubah_peran_opd")
    new_role = None
    if role is not None:
        new_role = parse_role(role)
        if new_role is None:
            raise PeopleError("people/peran_tidak_dikenal_pilih", role=role[:30])
    now = clock.now()
    async with db.transaction() as tx:
        entry = await _require(tx, telegram_id)
        target = new_role or entry.role
        desa_code = await _desa_code(tx, desa) if desa else None
        kec_code = await _kecamatan_code(tx, kecamatan) if kecamatan else None
        dept = await _department_code(tx, department) if department else None
        place = PLACE_OF_ROLE.get(target)
        given = {"desa": desa_code, "kecamatan": kec_code, "department": dept}
        for name, value in given.items():
            if value is not None and name != place:
                raise PeopleError("people/role_place_mismatch", role=ROLE_LABELS[target], given=_PLACE_WORD[name],
                                  needed=_PLACE_WORD[place] if place else None)
        new_desa = new_kec = new_dept = None
        if place == "desa":
            new_desa = desa_code or (entry.desa_code if entry.role is Role.KEPALA_DESA else None)
            if new_desa is None:
                raise PeopleError("people/kepala_desa_memerlukan_desa")
            if entry.active:
                head = await _active_head(tx, new_desa, other_than=entry.id)
                if head is not None:
                    raise PeopleError("people/desa_punya_kepala_desa_2", new_desa=new_desa, label=head.label)
        elif place == "kecamatan":
            new_kec = kec_code or (entry.kecamatan_code if entry.role is Role.CAMAT else None)
            if new_kec is None:
                raise PeopleError("people/camat_memerlukan_kecamatan_sebutkan")
        elif place == "department":
            new_dept = dept or (entry.department if entry.role is Role.PEJABAT else None)
            if new_dept is None:
                raise PeopleError("people/pejabat_memerlukan_opd_sebutkan")
        old_desa = entry.desa_code if entry.role is Role.KEPALA_DESA else None
        old_kec = entry.kecamatan_code if entry.role is Role.CAMAT else None
        old_dept = entry.department if entry.role is Role.PEJABAT else None
        changes = []
        if target is not entry.role:
            changes.append(plain("people/change", field="role", old=ROLE_LABELS[entry.role], new=ROLE_LABELS[target]))
        if new_desa != old_desa:
            changes.append(plain("people/change", field="desa", old=old_desa, new=new_desa))
        if new_kec != old_kec:
            changes.append(plain("people/change", field="kecamatan", old=old_kec, new=new_kec))
        if new_dept != old_dept:
            changes.append(plain("people/change", field="department", old=old_dept, new=new_dept))
        if not changes:
            raise PeopleError("people/tidak_berubah_situ", label=entry.label)
        await tx.execute(
            "UPDATE people SET role = ?, desa_code = ?, kecamatan_code = ?, department = ?, updated_at = ?,"
            " admin_from_env = CASE WHEN ? = 'admin' THEN admin_from_env ELSE 0 END,"
            " role_before_env = CASE WHEN ? = 'admin' THEN role_before_env ELSE NULL END WHERE id = ?",
            (target.value, new_desa, new_kec, new_dept, to_iso(now), target.value, target.value, entry.id))
        if entry.telegram_id is not None:
            # a typed answer begun under the old role or department is not finished under the new one
            await tx.execute("DELETE FROM pending_inputs WHERE telegram_id = ?", (entry.telegram_id,))
            if entry.active:
                await _give_menu(tx, menu, entry.telegram_id, target, now)
                await _tell(tx, entry.telegram_id, "people/people_moved_notice", now, changes=changes)
        await audit.record(tx, actor, "pindah", f"orang {entry.id} tg {entry.telegram_id or '-'}: "
                           + "; ".join(changes), now=now)
    after = await get_by_id(db, entry.id)
    assert after is not None
    return after, changes


_PLACE_WORD = {"desa": "desa", "kecamatan": "kecamatan", "department": "OPD"}


# -- successors -------------------------------------------------------------------------------------------------


async def registered_head(tx: Database | Transaction, desa_code: str) -> Entry | None:
    """The registered, active kepala desa of a desa (the one a new head would succeed)."""
    row = await tx.fetchone(
        _SELECT + " WHERE p.role = 'kepala_desa' AND p.desa_code = ? AND p.active = 1 AND p.telegram_id IS NOT NULL"
        " ORDER BY p.id LIMIT 1", (desa_code,))
    return _entry(row) if row else None


async def ask_admins(tx: Transaction, successor_id: int, now: datetime) -> int:
    """A successor registered: ask every active admin to confirm the handover (buttons). Returns how many asked."""
    successor = await get_by_id(tx, successor_id)
    assert successor is not None and successor.successor_of is not None
    predecessor = await get_by_id(tx, successor.successor_of)
    admins = await tx.fetchall(
        "SELECT telegram_id FROM people WHERE role = 'admin' AND active = 1 AND telegram_id IS NOT NULL ORDER BY id")
    text = render("people/people_successor_request", successor=successor, predecessor=predecessor)
    keyboard = outbox.inline_keyboard([[("✅ Konfirmasi pergantian", callbacks.build("ppl", "ok", successor_id)),
                                        ("❌ Tolak", callbacks.build("ppl", "no", successor_id))]])
    for row in admins:
        await outbox.enqueue_text(tx, row["telegram_id"], text, now=now, reply_markup=keyboard,
                                  dedup_key=f"succession:{successor_id}:{row['telegram_id']}")
    await audit.record(tx, successor.telegram_id, "pengganti_menunggu",
                       f"orang {successor_id} menggantikan orang {successor.successor_of}"
                       f" desa {successor.desa_code}", now=now)
    return len(admins)


async def confirm_successor(db: Database, clock: Clock, person_id: int, *,
                            actor: int | None, menu: Menu) -> tuple[Entry, Entry | None]:
    """Hand the desa over: the successor becomes active, the predecessor is deactivated. Returns both."""
    now = clock.now()
    async with db.transaction() as tx:
        successor = await get_by_id(tx, person_id)
        if successor is None or not successor.waiting:
            raise PeopleError("people/pergantian_diputuskan_tidak")
        if successor.telegram_id is None:
            raise PeopleError("people/belum_mendaftar_bot_konfirmasi", label=successor.label)
        predecessor = await get_by_id(tx, successor.successor_of) if successor.successor_of else None
        if predecessor is not None and predecessor.active:
            await deactivate_in(tx, predecessor, now, actor=actor,
                                why=f"digantikan {successor.name or successor.telegram_id} sebagai kepala desa")
        else:
            predecessor = None
        await tx.execute("UPDATE people SET active = 1, updated_at = ? WHERE id = ?", (to_iso(now), person_id))
        await _give_menu(tx, menu, successor.telegram_id, successor.role, now)
        await _tell(tx, successor.telegram_id, "people/people_successor_confirmed", now, successor=successor)
        await audit.record(tx, actor, "pengganti_dikonfirmasi",
                           f"orang {person_id} tg {successor.telegram_id} desa {successor.desa_code};"
                           f" orang {successor.successor_of} dinonaktifkan", now=now)
    after = await get_by_id(db, person_id)
    assert after is not None
    return after, (await get_by_id(db, predecessor.id)) if predecessor else None


async def reject_successor(db: Database, clock: Clock, person_id: int, *, actor: int | None) -> Entry:
    """The admin refuses the handover: the successor's registration ends, the predecessor keeps access."""
    now = clock.now()
    async with db.transaction() as tx:
        successor = await get_by_id(tx, person_id)
        if successor is None or not successor.waiting:
            raise PeopleError("people/pergantian_diputuskan_tidak")
        await tx.execute("UPDATE people SET deactivated_at = ?, updated_at = ? WHERE id = ?",
                         (to_iso(now), to_iso(now), person_id))
        await _tell(tx, successor.telegram_id, "people/people_successor_rejected", now, successor=successor)
        await audit.record(tx, actor, "pengganti_ditolak",
                           f"orang {person_id} tg {successor.telegram_id or '-'} desa {successor.desa_code}", now=now)
    after = await get_by_id(db, person_id)
    assert after is not None
    return after
