"""Who may use Sambang: people, their roles and places, invitations, and the imported roster of kepala desa."""

from __future__ import annotations

import csv
import io
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from lokal import normalize_phone

from bot.core.clock import Clock, from_iso, to_iso
from bot.core.domain import DomainError, Role, parse_role
from bot.core.imports import ImportReport as BaseImportReport
from bot.core.wording import Notice, plain
from bot.people.regions import find_desa, find_kecamatan, get_desa, get_kecamatan, normalise_code
from bot.storage import audit
from bot.storage.database import Database, Row, Transaction

log = logging.getLogger(__name__)

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed on phones
CODE_LENGTH = 8
MAX_FAILED_ATTEMPTS = 5  # per user per hour, to make guessing codes pointless


class RegistrationError(DomainError):
    pass


@dataclass(frozen=True)
class Person:
    id: int
    telegram_id: int | None
    name: str
    role: Role
    desa_code: str | None
    kecamatan_code: str | None
    department: str | None
    title: str | None
    phone: str | None
    active: bool
    desa_name: str | None = None
    kecamatan_name: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_leadership(self) -> bool:
        return self.role is Role.PIMPINAN

    @property
    def place(self) -> str:
        """Where this person works, as people say it."""
        if self.role is Role.KEPALA_DESA and self.desa_name:
            return plain("people/person_place", kepala_desa=True, desa=self.desa_name, kecamatan=self.kecamatan_name)
        if self.role is Role.CAMAT and self.kecamatan_name:
            return plain("people/person_place", kepala_desa=False, kecamatan=self.kecamatan_name)
        if self.role is Role.PEJABAT and self.department:
            return self.department
        return self.title or ""


@dataclass(frozen=True)
class Invitation:
    code: str
    role: Role
    desa_code: str | None
    kecamatan_code: str | None
    department: str | None
    title: str | None
    expires_at: datetime
    used_by: int | None

    def link(self, bot_username: str) -> str:
        return f"https://t.me/{bot_username or '<bot>'}?start={self.code}"


_PERSON_SELECT = (
    "SELECT p.*, d.name AS desa_name, COALESCE(k.name, kd.name) AS kecamatan_name"
    " FROM people p"
    " LEFT JOIN desa d ON d.code = p.desa_code"
    " LEFT JOIN kecamatan kd ON kd.code = d.kecamatan_code"
    " LEFT JOIN kecamatan k ON k.code = p.kecamatan_code"
)


#: The columns of ``PERSON_SELECT`` that become ``Person`` fields as they are.
_PERSON_COLUMNS = ("id", "telegram_id", "name", "desa_code", "kecamatan_code", "department", "title", "phone",
                   "desa_name", "kecamatan_name")


def person_from_row(row: Row) -> Person:
    return Person(**{column: row[column] for column in _PERSON_COLUMNS}, role=Role(row["role"]),
                  active=bool(row["active"]))


async def get_person(db: Database, telegram_id: int) -> Person | None:
    row = await db.lookup_one(_PERSON_SELECT + " WHERE p.telegram_id = ? AND p.active = 1", (telegram_id,))
    return person_from_row(row) if row else None


async def get_person_by_id(db: Database, person_id: int) -> Person | None:
    row = await db.fetchone(_PERSON_SELECT + " WHERE p.id = ?", (person_id,))
    return person_from_row(row) if row else None


async def people_with_role(db: Database, role: Role, *, registered_only: bool = True) -> list[Person]:
    sql = _PERSON_SELECT + " WHERE p.role = ? AND p.active = 1"
    if registered_only:
        sql += " AND p.telegram_id IS NOT NULL"
    return [person_from_row(r) for r in await db.fetchall(sql + " ORDER BY p.id", (role.value,))]


async def _registered_in_kecamatan(db: Database, role: Role, kecamatan_column: str, order_by: str,
                                   kecamatan_code: str) -> list[Person]:
    """Active, registered people of `role` whose `kecamatan_column` (a fixed column name, never user input) is
    the kecamatan."""
    rows = await db.fetchall(
        _PERSON_SELECT + " WHERE p.role = ? AND p.active = 1 AND p.telegram_id IS NOT NULL"
        f" AND {kecamatan_column} = ? ORDER BY {order_by}",
        (role.value, kecamatan_code),
    )
    return [person_from_row(r) for r in rows]


async def kepala_desa_of_kecamatan(db: Database, kecamatan_code: str) -> list[Person]:
    return await _registered_in_kecamatan(db, Role.KEPALA_DESA, "d.kecamatan_code", "p.desa_code", kecamatan_code)


async def camat_of_kecamatan(db: Database, kecamatan_code: str) -> list[Person]:
    return await _registered_in_kecamatan(db, Role.CAMAT, "p.kecamatan_code", "p.id", kecamatan_code)


async def ensure_admins(db: Database, clock: Clock, telegram_ids: frozenset[int]) -> int:
    """Make each id from SAMBANG_ADMINS an admin, remembering that the role came from there (``admin_from_env``):
    a new account is created; a registered person with another role is promoted (their role is kept in
    ``role_before_env``); an id deactivated on its removal from the list is active again. An admin made otherwise
    (an invitation, ``sambang people move``) is left as is, and so is an explicit deactivation. Returns how many
    accounts were created."""
    created = 0
    now = clock.now()
    stamp = to_iso(now)
    async with db.transaction() as tx:
        for tg in sorted(telegram_ids):
            row = await tx.fetchone("SELECT id, role, active, admin_from_env, successor_of FROM people"
                                    " WHERE telegram_id = ?", (tg,))
            if row is None:
                person_id = await tx.execute(
                    "INSERT INTO people(telegram_id, name, role, admin_from_env, created_at, updated_at)"
                    " VALUES (?, '', 'admin', 1, ?, ?)",
                    (tg, stamp, stamp),
                )
                await audit.record(tx, None, "admin_dari_env", f"orang {person_id} tg {tg} dibuat", now=now)
                created += 1
            elif not row["active"]:
                if row["admin_from_env"] and row["role"] == "admin":
                    await tx.execute("UPDATE people SET active = 1, deactivated_at = NULL, updated_at = ?"
                                     " WHERE id = ?", (stamp, row["id"]))
                    await audit.record(tx, None, "admin_dari_env", f"orang {row['id']} tg {tg} aktif lagi", now=now)
                else:
                    log.warning("SAMBANG_ADMINS lists %s, who is deactivated: left deactivated (use"
                                " `sambang people activate %s`)", tg, tg)
            elif row["role"] != "admin":
                await tx.execute("UPDATE people SET role = 'admin', admin_from_env = 1, role_before_env = ?,"
                                 " updated_at = ? WHERE id = ?", (row["role"], stamp, row["id"]))
                await audit.record(tx, None, "admin_dari_env",
                                   f"orang {row['id']} tg {tg} dari peran {row['role']}", now=now)
    return created


async def revoke_removed_admins(db: Database, clock: Clock, telegram_ids: frozenset[int]) -> int:
    """At start: an admin whose role came from SAMBANG_ADMINS and whose id is no longer listed loses it. A person
    promoted from another role gets that role back; an account created as admin is deactivated. Returns how many."""
    from bot.people import service as people

    now = clock.now()
    rows = await db.fetchall("SELECT id, telegram_id, role_before_env FROM people WHERE admin_from_env = 1"
                             " AND role = 'admin' AND active = 1 AND telegram_id IS NOT NULL")
    removed = [r for r in rows if r["telegram_id"] not in telegram_ids]
    if not removed:
        return 0
    async with db.transaction() as tx:
        for row in removed:
            if row["role_before_env"]:
                await tx.execute("UPDATE people SET role = role_before_env, role_before_env = NULL,"
                                 " admin_from_env = 0, updated_at = ? WHERE id = ?", (to_iso(now), row["id"]))
                await audit.record(tx, None, "admin_env_dicabut",
                                   f"orang {row['id']} tg {row['telegram_id']} kembali ke {row['role_before_env']}",
                                   now=now)
            else:
                entry = await people.get_by_id(tx, row["id"])
                assert entry is not None
                await people.deactivate_in(tx, entry, now, actor=None, why="dihapus dari SAMBANG_ADMINS")
                await audit.record(tx, None, "admin_env_dicabut", f"orang {row['id']} tg {row['telegram_id']}"
                                   " dinonaktifkan", now=now)
            log.warning("telegram id %s is no longer in SAMBANG_ADMINS: admin role taken away", row["telegram_id"])
    return len(removed)


async def update_name(db: Database, clock: Clock, telegram_id: int, name: str) -> None:
    await db.execute(
        "UPDATE people SET name = ?, updated_at = ? WHERE telegram_id = ? AND name = ''",
        (name[:128], to_iso(clock.now()), telegram_id),
    )


async def mark_blocked(tx: Transaction, chat_id: int, at: datetime) -> None:
    await tx.execute("UPDATE people SET blocked_bot_at = ? WHERE telegram_id = ?", (to_iso(at), chat_id))


async def mark_reachable(tx: Transaction, chat_id: int) -> None:
    await tx.execute("UPDATE people SET blocked_bot_at = NULL WHERE telegram_id = ? AND blocked_bot_at IS NOT NULL",
                     (chat_id,))


# -- invitations ----------------------------------------------------------------------------------------------


def _shown(value: object) -> str:
    """User input quoted in a refusal, cut short: a refusal must never outgrow a Telegram message."""
    text = str(value)
    return repr(text if len(text) <= 60 else text[:60] + "…")


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def _department_exists(db: Database, code: str) -> str | None:
    """The canonical department code; None for an unknown one."""
    row = await db.fetchone("SELECT code FROM departments WHERE lower(code) = lower(?)", (code,))
    return row["code"] if row else None


async def create_invitation(
    db: Database,
    clock: Clock,
    *,
    role: Role | str,
    desa: str | None = None,
    kecamatan: str | None = None,
    department: str | None = None,
    title: str | None = None,
    created_by: int | None = None,
    ttl_hours: int = 72,
) -> Invitation:
    """An invitation for one person to one role and place. Raises RegistrationError with the reason in Indonesian."""
    if ttl_hours < 1:
        raise RegistrationError("people/masa_berlaku_undangan_lebih", ttl_hours=ttl_hours)
    parsed = parse_role(role) if isinstance(role, str) else role
    if parsed is None:
        raise RegistrationError(
            "people/peran_tidak_dikenal_pilih_2", shown=_shown(role)
        )
    desa_code = kecamatan_code = dept = None
    if parsed is Role.KEPALA_DESA:
        if not desa:
            raise RegistrationError("people/undangan_kepala_desa_memerlukan")
        matches = await find_desa(db, desa)
        if len(matches) != 1:
            if not matches:
                raise RegistrationError("people/desa_tidak_ditemukan_wilayah_2", shown=_shown(desa))
            options = "; ".join(f"{d.code} {d.label}" for d in matches[:5])
            raise RegistrationError(
                "people/nama_desa_cocok_beberapa", shown=_shown(desa), options=options)
        desa_code = matches[0].code
    elif parsed is Role.CAMAT:
        if not kecamatan:
            raise RegistrationError("people/undangan_camat_memerlukan_kecamatan")
        kec = await find_kecamatan(db, kecamatan)
        if len(kec) != 1:
            raise RegistrationError("people/kecamatan_tidak_ditemukan_wilayah_2", shown=_shown(kecamatan))
        kecamatan_code = kec[0].code
    elif parsed is Role.PEJABAT:
        if not department:
            raise RegistrationError("people/undangan_pejabat_memerlukan_kode")
        dept = await _department_exists(db, department.strip())
        if dept is None:
            raise RegistrationError(
                "people/opd_tidak_dikenal_lihat", shown=_shown(department))
    now = clock.now()
    expires = now + timedelta(hours=ttl_hours)
    async with db.transaction() as tx:
        for _ in range(5):
            code = new_code()
            if not await tx.fetchval("SELECT 1 FROM invitations WHERE code = ?", (code,)):
                break
        await tx.execute(
            "INSERT INTO invitations(code, role, desa_code, kecamatan_code, department, title, created_by,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (code, parsed.value, desa_code, kecamatan_code, dept, title, created_by, to_iso(now), to_iso(expires)),
        )
        await audit.record(tx, created_by, "invite",
                           f"{parsed.value} {desa_code or kecamatan_code or dept or title or ''}".strip(), now=now)
    return Invitation(code, parsed, desa_code, kecamatan_code, dept, title, expires, None)


async def redeem_invitation(db: Database, clock: Clock, code: str, telegram_id: int, name: str) -> Person:
    """Register ``telegram_id`` with the invitation's role and place. The code works once and only until it expires."""
    now = clock.now()
    code = code.strip().upper()
    async with db.transaction() as tx:
        hour_ago = to_iso(now - timedelta(hours=1))
        failures = await tx.fetchval(
            "SELECT COUNT(*) FROM invitation_attempts WHERE telegram_id = ? AND at > ?", (telegram_id, hour_ago)
        )
        if failures >= MAX_FAILED_ATTEMPTS:
            raise RegistrationError(
                "people/terlalu_banyak_kode_undangan"
            )
        existing = await tx.fetchone("SELECT id, role, active FROM people WHERE telegram_id = ?", (telegram_id,))
        row = await tx.fetchone("SELECT * FROM invitations WHERE code = ?", (code,))
        problem = None
        if row is None:
            problem = "people/invitation_unknown"
        elif row["used_by"] is not None:
            problem = "people/invitation_used"
        elif from_iso(row["expires_at"]) <= now:
            problem = "people/invitation_expired"
        elif existing is not None:
            problem = "people/already_registered" if existing["active"] else "people/inactive"
        if problem is not None:
            # Recorded in its own transaction below, so the refusal itself stores nothing else.
            pass
        else:
            assert row is not None
            stamp = to_iso(now)
            person_id = await tx.execute(
                "INSERT INTO people(telegram_id, name, role, desa_code, kecamatan_code, department, title,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (telegram_id, name[:128], row["role"], row["desa_code"], row["kecamatan_code"], row["department"],
                 row["title"], stamp, stamp),
            )
            await tx.execute("UPDATE invitations SET used_by = ?, used_at = ? WHERE code = ?",
                             (telegram_id, stamp, code))
            await audit.record(tx, telegram_id, "register_invite", f"person {person_id} {row['role']}", now=now)
            await _successor_check(tx, person_id, Role(row["role"]), row["desa_code"], now)
    if problem is not None:
        if row is None:
            await db.execute("INSERT INTO invitation_attempts(telegram_id, at) VALUES (?, ?)",
                             (telegram_id, to_iso(now)))
        raise RegistrationError(problem)
    person = await get_person_by_id(db, person_id)
    assert person is not None
    return person


async def list_invitations(db: Database, clock: Clock, *, open_only: bool = True) -> list[Invitation]:
    sql = "SELECT * FROM invitations"
    params: list[object] = []
    if open_only:
        sql += " WHERE used_by IS NULL AND expires_at > ?"
        params.append(to_iso(clock.now()))
    rows = await db.fetchall(sql + " ORDER BY created_at DESC LIMIT 100", params)
    return [
        Invitation(r["code"], Role(r["role"]), r["desa_code"], r["kecamatan_code"], r["department"], r["title"],
                   from_iso(r["expires_at"]), r["used_by"])
        for r in rows
    ]


# -- roster import and contact sharing ----------------------------------------------------------------------


@dataclass
class ImportReport(BaseImportReport):
    """`unchanged` counts registered people listed again with the same number (their name and phone are never
    changed)."""

    #: new heads of a desa whose kepala desa is registered: waiting for their registration and an admin's yes
    successors: int = 0


_HEADERS = {
    "desa": ("kode_desa", "desa_code", "kode", "kode_wilayah", "desa"),
    "kecamatan": ("kecamatan", "kode_kecamatan", "kec"),
    "name": ("nama", "name", "nama_kepala_desa"),
    "phone": ("telepon", "phone", "hp", "no_hp", "nomor_hp", "telp", "whatsapp", "wa"),
    "role": ("jabatan", "role", "peran"),
}


def _pick(row: dict[str, str], key: str) -> str:
    for header in _HEADERS[key]:
        value = row.get(header)
        if value and value.strip():
            return value.strip()
    return ""


async def import_roster(db: Database, clock: Clock, csv_text: str) -> ImportReport:
    """Import kepala desa (and camat) with phone numbers. All rows or none: any bad row stores nothing."""
    sample = csv_text[:2048]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")), dialect=dialect)
    if not reader.fieldnames:
        return ImportReport(errors=[Notice("common/import_empty")])
    reader.fieldnames = [f.strip().lower().replace(" ", "_") for f in reader.fieldnames]
    if not any(h in reader.fieldnames for h in _HEADERS["phone"]):
        return ImportReport(errors=[Notice("people/import_no_phone_column")])
    if not any(h in reader.fieldnames for h in _HEADERS["desa"] + _HEADERS["kecamatan"]):
        return ImportReport(errors=[Notice("people/import_no_desa_column")])
    errors: list[str] = []
    planned: list[tuple[Role, str | None, str | None, str, str]] = []
    seen_phones: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        role = parse_role(_pick(row, "role") or "kepala_desa")
        name = _pick(row, "name")
        phone_raw = _pick(row, "phone")
        phone = normalize_phone(phone_raw) if phone_raw else None
        if role not in (Role.KEPALA_DESA, Role.CAMAT):
            errors.append(Notice("people/import_role_invalid", line=line_no))
            continue
        if not phone:
            errors.append(Notice("people/import_phone_invalid", line=line_no, phone=phone_raw))
            continue
        if phone in seen_phones:
            errors.append(Notice("people/import_phone_repeated", line=line_no, phone=phone, first=seen_phones[phone]))
            continue
        seen_phones[phone] = line_no
        desa_code = kec_code = None
        if role is Role.KEPALA_DESA:
            desa_text = _pick(row, "desa")
            kec_text = _pick(row, "kecamatan")
            desa = await get_desa(db, normalise_code(desa_text)) if desa_text else None
            if desa is None and desa_text:
                found = await find_desa(db, f"{desa_text},{kec_text}" if kec_text else desa_text)
                desa = found[0] if len(found) == 1 else None
            if desa is None:
                errors.append(Notice("people/import_desa_unknown", line=line_no, desa=desa_text))
                continue
            desa_code = desa.code
        else:
            kec_text = _pick(row, "kecamatan") or _pick(row, "desa")
            kec = await get_kecamatan(db, kec_text) if kec_text else None
            if kec is None and kec_text:
                found_k = await find_kecamatan(db, kec_text)
                kec = found_k[0] if len(found_k) == 1 else None
            if kec is None:
                errors.append(Notice("people/import_kecamatan_unknown", line=line_no, kecamatan=kec_text))
                continue
            kec_code = kec.code
        planned.append((role, desa_code, kec_code, name, phone))
    if errors:
        return ImportReport(errors=errors)
    if not planned:
        return ImportReport(errors=[Notice("common/import_no_rows")])
    report = ImportReport()
    now = clock.now()
    stamp = to_iso(now)
    async with db.transaction() as tx:
        for role, desa_code, kec_code, name, phone in planned:
            # A phone number moves to this row only from rows nobody registered with: a registered person's
            # identity (name, phone) is never changed by an import.
            other = await tx.fetchone(
                "SELECT id FROM people WHERE phone = ? AND telegram_id IS NULL AND NOT (role = ?"
                " AND COALESCE(desa_code, '') = ? AND COALESCE(kecamatan_code, '') = ?)",
                (phone, role.value, desa_code or "", kec_code or ""),
            )
            if other is not None:
                await tx.execute("UPDATE people SET phone = NULL, updated_at = ? WHERE id = ?", (stamp, other["id"]))
            place = ("role = ? AND COALESCE(desa_code, '') = ? AND COALESCE(kecamatan_code, '') = ?",
                     (role.value, desa_code or "", kec_code or ""))
            registered = await tx.fetchone(
                f"SELECT id, phone FROM people WHERE {place[0]} AND active = 1 AND telegram_id IS NOT NULL"
                " ORDER BY id LIMIT 1", place[1])
            if registered is not None and registered["phone"] == phone:
                report.unchanged += 1  # the registered head, listed again
                continue
            # An entry nobody registered with yet: the head listed before (active), or a successor still waiting.
            waiting = registered is not None and role is Role.KEPALA_DESA
            unregistered = await tx.fetchone(
                f"SELECT id FROM people WHERE {place[0]} AND telegram_id IS NULL AND deactivated_at IS NULL"
                + (" AND active = 0 AND successor_of IS NOT NULL" if waiting else " AND active = 1")
                + " ORDER BY id LIMIT 1", place[1])
            if unregistered is not None:
                await tx.execute(
                    "UPDATE people SET phone = ?, name = CASE WHEN ? <> '' THEN ? ELSE name END, updated_at = ?"
                    " WHERE id = ?",
                    (phone, name, name, stamp, unregistered["id"]),
                )
                report.updated += 1
            elif waiting:
                assert registered is not None
                # A new head for a desa whose kepala desa is registered: a successor, active only once an admin
                # confirms after they registered.
                successor_id = await tx.execute(
                    "INSERT INTO people(name, role, desa_code, kecamatan_code, phone, active, successor_of,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
                    (name, role.value, desa_code, kec_code, phone, registered["id"], stamp, stamp),
                )
                await audit.record(tx, None, "pengganti_impor",
                                   f"orang {successor_id} menggantikan orang {registered['id']} desa {desa_code}",
                                   now=now)
                report.successors += 1
            else:
                await tx.execute(
                    "INSERT INTO people(name, role, desa_code, kecamatan_code, phone, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (name, role.value, desa_code, kec_code, phone, stamp, stamp),
                )
                report.created += 1
        detail = f"{report.created} baru, {report.updated} diperbarui"
        if report.successors:
            detail += f", {report.successors} pengganti menunggu konfirmasi"
        await audit.record(tx, None, "roster_import", detail, now=now)
    return report


async def register_by_contact(
    db: Database, clock: Clock, *, telegram_id: int, contact_user_id: int | None, phone: str, name: str
) -> Person:
    """Bind a shared contact to the imported roster entry with the same phone number."""
    if contact_user_id is not None and contact_user_id != telegram_id:
        raise RegistrationError("people/dibagikan_nomor_sendiri_tombol")
    if contact_user_id is None:
        raise RegistrationError("people/gunakan_tombol_bagikan_nomor")
    normal = normalize_phone(phone)
    if not normal:
        raise RegistrationError("people/nomor_telepon_tidak_dikenali")
    stamp = to_iso(clock.now())
    async with db.transaction() as tx:
        mine = await tx.fetchone("SELECT id, active FROM people WHERE telegram_id = ?", (telegram_id,))
        if mine is not None:
            raise RegistrationError("people/already_registered" if mine["active"] else "people/inactive")
        row = await tx.fetchone(
            "SELECT id, telegram_id, role, desa_code, successor_of FROM people WHERE phone = ? AND (active = 1"
            " OR (successor_of IS NOT NULL AND deactivated_at IS NULL)) ORDER BY telegram_id IS NOT NULL, id"
            " LIMIT 1",
            (normal,),
        )
        if row is None:
            raise RegistrationError(
                "people/nomor_belum_daftar_kepala"
            )
        if row["telegram_id"] is not None:
            raise RegistrationError(
                "people/nomor_terhubung_akun_telegram"
            )
        await tx.execute(
            "UPDATE people SET telegram_id = ?, name = CASE WHEN name = '' THEN ? ELSE name END, updated_at = ?"
            " WHERE id = ?",
            (telegram_id, name[:128], stamp, row["id"]),
        )
        await audit.record(tx, telegram_id, "register_contact", f"person {row['id']}", now=clock.now())
        await _successor_check(tx, row["id"], Role(row["role"]), row["desa_code"], clock.now())
    person = await get_person_by_id(db, row["id"])
    assert person is not None
    return person


async def _successor_check(tx: Transaction, person_id: int, role: Role, desa_code: str | None,
                           now: datetime) -> bool:
    """Just registered: a kepala desa of a desa whose head is registered and active is that head's successor; they
    wait (inactive) until an admin confirms, and the admins are asked. True when they wait."""
    from bot.people import service as people

    if role is not Role.KEPALA_DESA or not desa_code:
        return False
    head = await tx.fetchone(
        "SELECT id FROM people WHERE role = 'kepala_desa' AND desa_code = ? AND active = 1 AND telegram_id IS NOT NULL"
        " AND id <> ? ORDER BY id LIMIT 1", (desa_code, person_id))
    waiting = await tx.fetchval(f"SELECT 1 FROM people p WHERE p.id = ? AND {people.WAITING}", (person_id,))
    if head is None and not waiting:
        return False
    if head is None:
        # the predecessor lost access meanwhile: nothing to hand over, the new head starts right away
        await tx.execute("UPDATE people SET active = 1 WHERE id = ?", (person_id,))
        await audit.record(tx, None, "pengganti_langsung_aktif", f"orang {person_id} desa {desa_code}", now=now)
        return False
    await tx.execute("UPDATE people SET active = 0, successor_of = ?, deactivated_at = NULL WHERE id = ?",
                     (head["id"], person_id))
    await people.ask_admins(tx, person_id, now)
    return True
