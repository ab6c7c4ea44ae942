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
from bot.core.wording import phrases, plain


def configure(parser: argparse.ArgumentParser) -> None:
    help_texts = phrases("people/cli_help")
    sub = parser.add_subparsers(dest="people_command", required=True)
    ls = sub.add_parser("list", help=help_texts["list"])
    ls.add_argument("--role", help=help_texts["list_role"])
    ls.add_argument("--desa", help=help_texts["list_desa"])
    ls.add_argument("--kecamatan", help=help_texts["list_kecamatan"])
    off = sub.add_parser("deactivate", help=help_texts["deactivate"])
    off.add_argument("telegram_id")
    on = sub.add_parser("activate", help=help_texts["activate"])
    on.add_argument("telegram_id")
    mv = sub.add_parser("move", help=help_texts["move"])
    mv.add_argument("telegram_id")
    mv.add_argument("--role", help=help_texts["move_role"])
    mv.add_argument("--department", "--opd", dest="department", help=help_texts["move_department"])
    mv.add_argument("--desa", help=help_texts["move_desa"])
    mv.add_argument("--kecamatan", help=help_texts["move_kecamatan"])
    parser.set_defaults(func=run, needs_token=False)


def _refuse(message: str) -> int:
    print(plain("cli/failed", text=message), file=sys.stderr)
    return 2


def _place(entry: Any) -> str:
    if entry.role is Role.KEPALA_DESA and entry.desa_code:
        return f"{entry.desa_code} {entry.desa_name or ''}".strip()
    if entry.role is Role.CAMAT and entry.kecamatan_code:
        return f"{entry.kecamatan_code} {entry.kecamatan_name or ''}".strip()
    return entry.title or "-"


def _list(entries: list[Any]) -> str:
    rows = [(str(e.telegram_id) if e.telegram_id is not None else "-", e.name or "-", e.role.value, _place(e),
             e.department if e.role is Role.PEJABAT and e.department else "-",
             "yes" if e.active else ("waiting" if e.waiting else "no")) for e in entries]
    return plain("people/cli_list", rows=rows, active=sum(1 for e in entries if e.active))


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
                        return _refuse(plain("people/cli_role_unknown", value=args.role[:30]))
                desa = kec = None
                if args.desa:
                    found = await get_desa(db, args.desa)
                    if found is None:
                        return _refuse(plain("people/cli_desa_unknown", value=args.desa[:30]))
                    desa = found.code
                if args.kecamatan:
                    found_k = await get_kecamatan(db, args.kecamatan)
                    if found_k is None:
                        return _refuse(plain("people/cli_kecamatan_unknown", value=args.kecamatan[:30]))
                    kec = found_k.code
                entries = await people.list_people(db, role=role, desa=desa, kecamatan=kec)
                print(_list(entries))
                return 0
            target = people.parse_telegram_id(args.telegram_id)
            if command == "deactivate":
                entry, withdrawn = await people.deactivate(db, clock, target, actor=None)
                print(plain("people/cli_deactivated", label=entry.label, withdrawn=withdrawn,
                            admin=target in config.admins))
                return 0
            if command == "activate":
                entry, predecessor = await people.activate(db, clock, target, actor=None, menu=services.menu)
                print(plain("people/cli_activated", label=entry.label,
                            predecessor=predecessor.label if predecessor is not None else None))
                return 0
            entry, changes = await people.move(db, clock, target, role=args.role, department=args.department,
                                               desa=args.desa, kecamatan=args.kecamatan, actor=None,
                                               menu=services.menu)
            still_admin = target in config.admins and entry.role is not Role.ADMIN
            print(plain("people/cli_moved", name=entry.name, telegram_id=target, changes=changes,
                        admin_label=ROLE_LABELS[Role.ADMIN] if still_admin else None))
            return 0
        except PeopleError as exc:
            return _refuse(exc.message)
    finally:
        await db.close()


PEOPLE_COMMAND = ("people", "people/cli_help", configure, run)
