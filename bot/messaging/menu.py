"""Which commands each role sees: one table serves /bantuan and Telegram's command menu (setMyCommands)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from bot.core.domain import Role
from bot.messaging import outbox
from bot.storage.database import Database, Transaction


@dataclass(frozen=True)
class Command:
    command: str
    description: str
    roles: frozenset[Role] | None  # None: everyone, registered or not


ALL = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.PIMPINAN})

#: Feature modules add their commands here at import time through ``add_command``.
COMMANDS: list[Command] = [
    Command("start", "Mulai / lihat data pendaftaran Anda", None),
    Command("aspirasi", "Sampaikan aspirasi atau masalah desa", frozenset({Role.KEPALA_DESA})),
    Command("status", "Lihat status aspirasi", ALL),
    Command("batal", "Batalkan langkah yang sedang berjalan", ALL),
    Command("undang", "Buat kode undangan pendaftaran", frozenset({Role.ADMIN})),
    Command("bantuan", "Daftar perintah dan cara memakai Sambang", None),
]


def add_command(command: str, description: str, roles: frozenset[Role] | None) -> None:
    if any(c.command == command for c in COMMANDS):
        return
    # keep /bantuan last, it closes the menu
    COMMANDS.insert(len(COMMANDS) - 1, Command(command, description, roles))


def commands_for(role: Role | None) -> list[Command]:
    if role is None:
        return [c for c in COMMANDS if c.roles is None]
    return [c for c in COMMANDS if c.roles is None or role in c.roles]


def _menu(role: Role | None) -> list[dict[str, str]]:
    return [{"command": c.command, "description": c.description} for c in commands_for(role)]


def menu_version() -> str:
    """A short fingerprint of the whole command table: when it changes, every menu is set again."""
    table = json.dumps([(c.command, c.description, sorted(c.roles) if c.roles else None) for c in COMMANDS])
    return hashlib.sha256(table.encode()).hexdigest()[:12]


async def queue_menu_for(tx: Transaction, chat_id: int, role: Role, now: datetime) -> None:
    """Set a registered user's command menu to their role's commands (through the outbox, so it is retried)."""
    await outbox.enqueue(
        tx, chat_id, "setMyCommands",
        {"commands": _menu(role), "scope": {"type": "chat", "chat_id": chat_id}},
        now=now, dedup_key=f"menu:{menu_version()}:{role.value}:{chat_id}",
    )


async def sync_menus(db: Database, now: datetime) -> None:
    """At start: give every registered user the menu of their role, once per version of the command table."""
    rows = await db.fetchall("SELECT telegram_id, role FROM people WHERE telegram_id IS NOT NULL AND active = 1")
    async with db.transaction() as tx:
        for row in rows:
            await queue_menu_for(tx, row["telegram_id"], Role(row["role"]), now)


def default_menu() -> list[dict[str, str]]:
    return _menu(None)


# -- officials ----------------------------------------------------------------------------------------------------
add_command("tangani", "Kartu tindak lanjut satu aspirasi: /tangani ASP-…",
            frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN}))
add_command("inbox", "Jadikan grup kotak masuk OPD (ketik di grup)", frozenset({Role.PEJABAT, Role.ADMIN}))
add_command("opd", "Daftar OPD, pembagian kategori, batas layanan", frozenset({Role.ADMIN, Role.PIMPINAN}))

# -- Ngantor di Kecamatan ---------------------------------------------------------------------------------------
add_command("jadwal", "Jadwal kunjungan Bupati (Ngantor di Kecamatan)", ALL)
add_command("kunjungan", "Tambah, pindah, batalkan kunjungan", frozenset({Role.ADMIN}))
add_command("briefing", "Briefing kecamatan sebelum kunjungan", frozenset({Role.PIMPINAN, Role.ADMIN, Role.PEJABAT}))
add_command("janji", "Catat janji kunjungan; /janji daftar", STAFF)
add_command("umpanbalik", "Ringkasan umpan balik kunjungan", frozenset({Role.PIMPINAN}))
add_command("siaran", "Kirim siaran; /siaran laporan", frozenset({Role.ADMIN}))
