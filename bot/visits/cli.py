"""`sambang schedule …`: plan the Ngantor di Kecamatan visits, and import or export them as CSV.

    sambang schedule plan --start 2026-01-12 --per-month 3 --first Sumber [--time 08:00] [--apply]
    sambang schedule import FILE.csv
    sambang schedule export [--output FILE.csv] [--all]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.core.domain import DomainError
from bot.core.wording import phrases, plain
from bot.visits.planner import ORDERS, PlanError, format_plan_table, plan_visits
from bot.visits.service import DEFAULT_START, parse_date, parse_time


def configure(parser: argparse.ArgumentParser) -> None:
    help_texts = phrases("visits/cli_help")
    sub = parser.add_subparsers(dest="schedule_command", required=True)
    plan = sub.add_parser("plan", help=help_texts["plan"])
    plan.add_argument("--start", required=True, help=help_texts["plan_start"])
    plan.add_argument("--per-month", type=int, default=3, help=help_texts["plan_per_month"])
    plan.add_argument("--first", help=help_texts["plan_first"])
    plan.add_argument("--order", choices=ORDERS, default="code", help=help_texts["plan_order"])
    plan.add_argument("--time", default=f"{DEFAULT_START:%H:%M}", help=help_texts["plan_time"])
    plan.add_argument("--kabupaten", help=help_texts["plan_kabupaten"])
    plan.add_argument("--apply", action="store_true", help=help_texts["plan_apply"])
    imp = sub.add_parser("import", help=help_texts["import"])
    imp.add_argument("file")
    exp = sub.add_parser("export", help=help_texts["export"])
    exp.add_argument("--output", "-o", help=help_texts["export_output"])
    exp.add_argument("--all", action="store_true", help=help_texts["export_all"])
    parser.set_defaults(needs_token=False)


async def _with_services(config: Config, args: argparse.Namespace,
                         work: Callable[[Any], Awaitable[int]]) -> int:
    services = await args.open_services(config)
    try:
        return await work(services)
    finally:
        await services.db.close()


async def run(config: Config, args: argparse.Namespace) -> int:
    command = args.schedule_command
    if command == "plan":
        return await cmd_plan(config, args)
    if command == "import":
        return await cmd_import(config, args)
    return await cmd_export(config, args)


async def cmd_plan(config: Config, args: argparse.Namespace) -> int:
    from bot.people.regions import list_kecamatan

    try:
        start = parse_date(args.start)
        start_time = parse_time(args.time)
    except DomainError as exc:
        print(plain("cli/failed", text=exc.message), file=sys.stderr)
        return 1

    async def work(services: Any) -> int:
        kecamatan = await list_kecamatan(services.db)
        kabupaten = sorted({k.kabupaten_code for k in kecamatan})
        if args.kabupaten:
            kecamatan = [k for k in kecamatan if k.kabupaten_code == args.kabupaten]
            if not kecamatan:
                print(plain("cli/failed", text=plain("visits/cli_kabupaten_unknown", kabupaten=args.kabupaten,
                                                     wilayah=config.wilayah)), file=sys.stderr)
                return 1
        elif len(kabupaten) > 1:
            print(plain("cli/failed", text=plain("visits/cli_kabupaten_choose", wilayah=config.wilayah,
                                                 count=len(kabupaten))), file=sys.stderr)
            return 1
        try:
            plan = plan_visits([(k.code, k.name) for k in kecamatan], start, per_month=args.per_month,
                               first=args.first, order=args.order)
        except PlanError as exc:
            print(plain("cli/failed", text=exc), file=sys.stderr)
            return 1
        print(format_plan_table(plan))
        print()
        today = services.ngantor.visits.today()
        past = [item for item in plan if item.date < today]
        print(plain("visits/cli_plan_summary", count=len(plan), first=plan[0].date.isoformat(),
                    last=plan[-1].date.isoformat(), time=f"{start_time:%H:%M}", past=len(past),
                    today=today.isoformat(), apply=args.apply))
        if not args.apply:
            return 0
        created, skipped, warnings = await services.ngantor.visits.apply_plan(plan, start_time)
        print(plain("visits/cli_plan_saved", created=created, skipped=skipped, warnings=warnings))
        return 0

    return await _with_services(config, args, work)


def _read_text(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(plain("cli/cannot_read", path=path, error=exc.strerror), file=sys.stderr)
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


async def cmd_import(config: Config, args: argparse.Namespace) -> int:
    text = await asyncio.to_thread(_read_text, Path(args.file))
    if text is None:
        return 1

    async def work(services: Any) -> int:
        report = await services.ngantor.visits.import_csv(text)
        if not report.ok:
            print(plain("cli/import_failed", errors=report.errors), file=sys.stderr)
            return 1
        print(plain("visits/cli_imported", report=report))
        return 0

    return await _with_services(config, args, work)


async def cmd_export(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Any) -> int:
        data = await services.ngantor.visits.export_csv(include_cancelled=args.all)
        if args.output:
            await asyncio.to_thread(Path(args.output).write_text, data, encoding="utf-8")
            rows = data.count("\n") - 1
            print(plain("visits/cli_exported", rows=rows, path=args.output))
        else:
            sys.stdout.write(data)
        return 0

    return await _with_services(config, args, work)


SCHEDULE_COMMAND = ("schedule", "visits/cli_help", configure, run)
