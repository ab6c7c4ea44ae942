"""``sambang departments``: list and change departments (OPD) and which categories they handle.

Changes are stored in SQLite and survive restarts; the routing file is applied again only when its content changes
or with ``sambang departments reload``.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import Config
from bot.core.domain import CATEGORIES, CATEGORY_BY_CODE
from bot.core.wording import phrases, plain


def configure(parser: argparse.ArgumentParser) -> None:
    help_texts = phrases("officials/cli_help")
    sub = parser.add_subparsers(dest="departments_command")
    sub.add_parser("list", help=help_texts["list"])
    add = sub.add_parser("add", help=help_texts["add"])
    add.add_argument("code")
    add.add_argument("name", nargs="+")
    rename = sub.add_parser("rename", help=help_texts["rename"])
    rename.add_argument("code")
    rename.add_argument("name", nargs="+")
    remove = sub.add_parser("remove", help=help_texts["remove"])
    remove.add_argument("code")
    route = sub.add_parser("route", help=help_texts["route"])
    route.add_argument("category")
    route.add_argument("code")
    unroute = sub.add_parser("unroute", help=help_texts["unroute"])
    unroute.add_argument("category")
    unroute.add_argument("code")
    sub.add_parser("reload",
                   help=help_texts["reload"])
    parser.set_defaults(func=run, needs_token=False)


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
        print(plain("officials/cli_list", departments=await departments.list(include_inactive=True),
                    categories=CATEGORIES, routes=await departments.routes(),
                    level=departments.routing.default_level, confirm_days=departments.confirm_days,
                    levels=sorted(departments.routing.levels.items())))
        return 0
    if command == "add":
        d = await departments.add(args.code, " ".join(args.name))
        print(plain("officials/cli_added", code=d.code, name=d.name))
        return 0
    if command == "rename":
        d = await departments.rename(args.code, " ".join(args.name))
        print(plain("officials/cli_renamed", code=d.code, name=d.name))
        return 0
    if command == "remove":
        still_open = await departments.remove(args.code)
        print(plain("officials/cli_removed", code=args.code.upper(), still_open=still_open))
        return 0
    if command in ("route", "unroute"):
        method = departments.route if command == "route" else departments.unroute
        codes = await method(args.category, args.code)
        print(plain("officials/cli_routed", label=CATEGORY_BY_CODE[args.category.strip().lower()].label,
                    codes=codes))
        return 0
    if command == "reload":
        await departments.load_defaults(force=True)
        print(plain("officials/cli_reloaded", categories=CATEGORIES, routes=await departments.routes()))
        return 0
    print(plain("officials/cli_unknown", command=command))
    return 2


DEPARTMENTS_COMMAND = ("departments", "officials/cli_help", configure, run)
