"""``sambang departments``: list and change departments (OPD) and which categories they handle.

Changes are stored in SQLite and survive restarts; the routing file is applied again only when its content changes
or with ``sambang departments reload``.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import Config
from bot.core.domain import CATEGORIES, CATEGORY_BY_CODE


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="departments_command")
    sub.add_parser("list", help="daftar OPD, kategori yang ditangani, pejabat dan grup terdaftar (bawaan)")
    add = sub.add_parser("add", help="tambah OPD: sambang departments add DISHUB \"Dinas Perhubungan\"")
    add.add_argument("code")
    add.add_argument("name", nargs="+")
    rename = sub.add_parser("rename", help="ganti nama OPD")
    rename.add_argument("code")
    rename.add_argument("name", nargs="+")
    remove = sub.add_parser("remove", help="nonaktifkan OPD dan lepas semua kategorinya")
    remove.add_argument("code")
    route = sub.add_parser("route", help="teruskan kategori ke OPD: sambang departments route infrastruktur PUPR")
    route.add_argument("category")
    route.add_argument("code")
    unroute = sub.add_parser("unroute", help="berhenti meneruskan kategori ke OPD")
    unroute.add_argument("category")
    unroute.add_argument("code")
    sub.add_parser("reload",
                   help="terapkan lagi berkas routing (bot/officials/departments.toml atau SAMBANG_DEPARTMENTS_FILE)")
    parser.set_defaults(func=run, needs_token=False)


def _print_routes(routes: dict[str, list[str]]) -> None:
    print("Kategori → OPD:")
    for cat in CATEGORIES:
        codes = routes.get(cat.code, [])
        target = ", ".join(codes) if codes else ("pimpinan saja (rahasia)" if cat.confidential
                                                 else "admin (diteruskan manual)")
        print(f"  {cat.code:<18} {cat.label:<28} → {target}")


async def run(config: Config, args: argparse.Namespace) -> int:
    services = await args.open_services(config)
    try:
        return await _run(services, args)
    finally:
        await services.db.close()


async def _run(services: Any, args: argparse.Namespace) -> int:
    departments = services.departments
    command = args.departments_command or "list"
    if command == "list":
        print(f"{'KODE':<16} {'PEJABAT':>7}  NAMA / KATEGORI / GRUP")
        for d in await departments.list(include_inactive=True):
            state = "" if d.active else " (nonaktif)"
            print(f"{d.code:<16} {d.officials:>7}  {d.name}{state}")
            if d.categories:
                print(f"{'':<26}kategori: {', '.join(CATEGORY_BY_CODE[c].label for c in d.categories)}")
            if d.inbox_chat_id is not None:
                print(f"{'':<26}grup kotak masuk: {d.inbox_title or ''} ({d.inbox_chat_id})")
        print()
        _print_routes(await departments.routes())
        level = departments.routing.default_level
        print(f"\nBatas layanan (hari kerja): terima/alihkan {level.accept}, tanggapan {level.respond},"
              f" konfirmasi desa {departments.confirm_days}")
        for code, lvl in sorted(departments.routing.levels.items()):
            print(f"  {code}: terima {lvl.accept}, tanggapan {lvl.respond}")
        return 0
    if command == "add":
        d = await departments.add(args.code, " ".join(args.name))
        print(f"OPD {d.code} ditambahkan: {d.name}. Teruskan kategori ke sana dengan:"
              f" sambang departments route KATEGORI {d.code}")
        return 0
    if command == "rename":
        d = await departments.rename(args.code, " ".join(args.name))
        print(f"OPD {d.code} kini bernama: {d.name}")
        return 0
    if command == "remove":
        still_open = await departments.remove(args.code)
        print(f"OPD {args.code.upper()} dinonaktifkan; kategorinya dilepas.")
        if still_open:
            print(f"Perhatian: {still_open} aspirasi terbuka masih di OPD ini; alihkan lewat tombol Alihkan.")
        return 0
    if command in ("route", "unroute"):
        method = departments.route if command == "route" else departments.unroute
        codes = await method(args.category, args.code)
        cat = CATEGORY_BY_CODE[args.category.strip().lower()]
        print(f"{cat.label} → {', '.join(codes) if codes else 'admin (diteruskan manual)'}")
        return 0
    if command == "reload":
        await departments.load_defaults(force=True)
        print("Berkas routing diterapkan lagi.")
        _print_routes(await departments.routes())
        return 0
    print(f"Perintah tidak dikenal: {command}")
    return 2


DEPARTMENTS_COMMAND = ("departments", "OPD dan pembagian kategori aspirasi (list, add, route, unroute, ...)",
                       configure, run)
