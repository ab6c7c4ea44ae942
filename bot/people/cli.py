"""``sambang people``: list people, deactivate and reactivate them, move them to another role or place.

A refused change (unknown id, unknown place, a role without its place) prints one line and exits 2; nothing is
stored. Every change is in the audit log (actor: the command line).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.config import Config
from bot.core.domain import ROLE_LABELS, Role, parse_role


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="people_command", required=True)
    ls = sub.add_parser("list", help="daftar orang: telegram id, nama, peran, desa/kecamatan, OPD, aktif")
    ls.add_argument("--role", help="kepala_desa, camat, pejabat, pimpinan, admin")
    ls.add_argument("--desa", help="kode desa, mis. 35.13.02.2001")
    ls.add_argument("--kecamatan", help="kode kecamatan, mis. 35.13.02")
    off = sub.add_parser("deactivate", help="cabut akses seseorang (pesan antre untuknya ditarik)")
    off.add_argument("telegram_id")
    on = sub.add_parser("activate", help="kembalikan akses; untuk kepala desa pengganti: konfirmasi pergantian")
    on.add_argument("telegram_id")
    mv = sub.add_parser("move", help="ubah peran, OPD, desa atau kecamatan seseorang")
    mv.add_argument("telegram_id")
    mv.add_argument("--role", help="peran baru: kepala_desa, camat, pejabat, pimpinan, admin")
    mv.add_argument("--department", "--opd", dest="department", help="kode OPD (pejabat), mis. PUPR")
    mv.add_argument("--desa", help="kode desa (kepala desa)")
    mv.add_argument("--kecamatan", help="kode kecamatan (camat)")
    parser.set_defaults(func=run, needs_token=False)


def _refuse(message: str) -> int:
    print(f"Gagal: {message}", file=sys.stderr)
    return 2


def _place(entry: Any) -> str:
    if entry.role is Role.KEPALA_DESA and entry.desa_code:
        return f"{entry.desa_code} {entry.desa_name or ''}".strip()
    if entry.role is Role.CAMAT and entry.kecamatan_code:
        return f"{entry.kecamatan_code} {entry.kecamatan_name or ''}".strip()
    return entry.title or "-"


def _table(entries: list[Any]) -> str:
    header = ("TELEGRAM ID", "NAMA", "PERAN", "DESA/KECAMATAN", "OPD", "AKTIF")
    rows = [(str(e.telegram_id) if e.telegram_id is not None else "-", e.name or "-", e.role.value, _place(e),
             e.department if e.role is Role.PEJABAT and e.department else "-",
             "ya" if e.active else ("menunggu konfirmasi" if e.waiting else "tidak")) for e in entries]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    return "\n".join(lines)


async def run(config: Config, args: argparse.Namespace) -> int:
    from bot.people import service as people
    from bot.people.regions import get_desa, get_kecamatan
    from bot.people.service import PeopleError

    services = await args.open_services(config)
    db, clock = services.db, services.clock
    try:
        command = args.people_command
        try:
            if command == "list":
                role = None
                if args.role:
                    role = parse_role(args.role)
                    if role is None:
                        return _refuse(f"peran {args.role[:30]!r} tidak dikenal; pilih kepala_desa, camat, pejabat,"
                                       " pimpinan atau admin.")
                desa = kec = None
                if args.desa:
                    found = await get_desa(db, args.desa)
                    if found is None:
                        return _refuse(f"desa {args.desa[:30]!r} tidak dikenal; gunakan kode, mis. 35.13.02.2001.")
                    desa = found.code
                if args.kecamatan:
                    found_k = await get_kecamatan(db, args.kecamatan)
                    if found_k is None:
                        return _refuse(f"kecamatan {args.kecamatan[:30]!r} tidak dikenal; gunakan kode, mis."
                                       " 35.13.02.")
                    kec = found_k.code
                entries = await people.list_people(db, role=role, desa=desa, kecamatan=kec)
                if not entries:
                    print("Tidak ada orang yang cocok.")
                    return 0
                print(_table(entries))
                active = sum(1 for e in entries if e.active)
                print(f"\n{len(entries)} orang, {active} aktif.")
                return 0
            target = people.parse_telegram_id(args.telegram_id)
            if command == "deactivate":
                entry, withdrawn = await people.deactivate(db, clock, target, actor=None)
                print(f"Dinonaktifkan: {entry.label}. {withdrawn} pesan antre untuknya ditarik.")
                if target in config.admins:
                    print("Catatan: ID ini masih ada di SAMBANG_ADMINS; hapus dari sana juga. Penonaktifan ini tetap"
                          " berlaku.")
                return 0
            if command == "activate":
                entry, predecessor = await people.activate(db, clock, target, actor=None, menu=services.menu)
                print(f"Diaktifkan: {entry.label}.")
                if predecessor is not None:
                    print(f"Pergantian kepala desa dikonfirmasi; pendahulu dinonaktifkan: {predecessor.label}.")
                return 0
            entry, changes = await people.move(db, clock, target, role=args.role, department=args.department,
                                               desa=args.desa, kecamatan=args.kecamatan, actor=None,
                                               menu=services.menu)
            print(f"Diubah: {entry.name or '(tanpa nama)'} ({target})")
            for line in changes:
                print(f"  {line}")
            if target in config.admins and entry.role is not Role.ADMIN:
                print(f"Catatan: ID ini masih ada di SAMBANG_ADMINS; hapus dari sana, kalau tidak ia menjadi"
                      f" {ROLE_LABELS[Role.ADMIN]} lagi saat bot mulai.")
            return 0
        except PeopleError as exc:
            return _refuse(exc.message)
    finally:
        await db.close()


PEOPLE_COMMAND = ("people", "orang: daftar, nonaktifkan, aktifkan, pindahkan peran/OPD/desa", configure, run)
