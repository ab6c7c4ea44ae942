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

#: Every command of the bot, in menu order (/bantuan closes it), and who sees it. The one table: /bantuan, the
#: Telegram command menus and ``menu_version`` read it, so the order is the order people see; a new command is added
#: here, beside its handler's registration in ``bot.app``.
COMMANDS: tuple[Command, ...] = (
    Command("start", "Mulai / lihat data pendaftaran Anda", None),
    Command("aspirasi", "Sampaikan aspirasi atau masalah desa", frozenset({Role.KEPALA_DESA})),
    Command("status", "Lihat status aspirasi", ALL),
    Command("batal", "Batalkan langkah yang sedang berjalan", ALL),
    Command("undang", "Buat kode undangan pendaftaran", frozenset({Role.ADMIN})),
    # officials
    Command("tangani", "Kartu tindak lanjut satu aspirasi: /tangani ASP-…",
            frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    Command("inbox", "Jadikan grup kotak masuk OPD (ketik di grup)", frozenset({Role.PEJABAT, Role.ADMIN})),
    Command("opd", "Daftar OPD, pembagian kategori, batas layanan", STAFF),
    # Ngantor di Kecamatan
    Command("jadwal", "Jadwal kunjungan Bupati (Ngantor di Kecamatan)", ALL),
    Command("kunjungan", "Tambah, pindah, batalkan kunjungan", frozenset({Role.ADMIN})),
    Command("briefing", "Briefing kecamatan sebelum kunjungan", frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    Command("janji", "Catat janji kunjungan; /janji daftar", STAFF),
    Command("umpanbalik", "Ringkasan umpan balik kunjungan", frozenset({Role.PIMPINAN})),
    Command("siaran", "Kirim siaran; /siaran laporan", frozenset({Role.ADMIN})),
    # operations
    Command("audit", "Unduh jejak audit (CSV)", frozenset({Role.ADMIN})),
    Command("gagal", "Pesan yang gagal diproses; /gagal ulang NOMOR", frozenset({Role.ADMIN})),
    # the map of problems and potential; people
    Command("desa", "Profil desa: aspirasi, potensi, kunjungan", frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    Command("orang", "Daftar orang dan perannya; /orang NAMA/ID/DESA", frozenset({Role.ADMIN})),
    Command("nonaktifkan", "Cabut akses seseorang: /nonaktifkan ID", frozenset({Role.ADMIN})),
    Command("aktifkan", "Kembalikan akses: /aktifkan ID", frozenset({Role.ADMIN})),
    Command("pindah", "Ubah peran/OPD/desa: /pindah ID peran=… opd=…", frozenset({Role.ADMIN})),
    Command("potensi", "Catat potensi desa (pertanian, wisata, UMKM, ...)", frozenset({Role.KEPALA_DESA})),
    Command("lokasi", "Kirim lokasi kantor desa untuk peta", frozenset({Role.KEPALA_DESA})),
    Command("rekap", "Rekap dan grafik peta masalah per kecamatan", STAFF),
    Command("ekspor", "Unduh data aspirasi (Excel/CSV)", frozenset({Role.PEJABAT, Role.PIMPINAN, Role.ADMIN})),
    Command("dasbor", "Dasbor: peta, daftar aspirasi, profil desa", STAFF | {Role.PEJABAT}),
    Command("bantuan", "Daftar perintah dan cara memakai Sambang", None),
)


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
