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
from bot.visits.planner import ORDERS, PlanError, format_plan_table, plan_visits
from bot.visits.service import DEFAULT_START, parse_date, parse_time


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="schedule_command", required=True)
    plan = sub.add_parser("plan", help="usulkan jadwal: setiap kecamatan sekali, hanya hari kerja")
    plan.add_argument("--start", required=True, help="tanggal mulai, mis. 2026-01-12")
    plan.add_argument("--per-month", type=int, default=3, help="kunjungan per bulan (bawaan 3)")
    plan.add_argument("--first", help="kecamatan pertama (nama atau kode), mis. Sumber")
    plan.add_argument("--order", choices=ORDERS, default="code", help="urutan kecamatan (bawaan: kode)")
    plan.add_argument("--time", default=f"{DEFAULT_START:%H:%M}", help="jam mulai kunjungan (bawaan 08:00)")
    plan.add_argument("--kabupaten", help="kode kabupaten bila SAMBANG_WILAYAH berisi lebih dari satu")
    plan.add_argument("--apply", action="store_true", help="simpan jadwal ini ke database")
    imp = sub.add_parser("import", help="impor kunjungan dari CSV (tambah, pindah, batalkan)")
    imp.add_argument("file")
    exp = sub.add_parser("export", help="ekspor kunjungan ke CSV")
    exp.add_argument("--output", "-o", help="berkas tujuan (bawaan: layar)")
    exp.add_argument("--all", action="store_true", help="sertakan kunjungan yang dibatalkan")
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
        print(f"Gagal: {exc.message}", file=sys.stderr)
        return 1

    async def work(services: Any) -> int:
        kecamatan = await list_kecamatan(services.db)
        kabupaten = sorted({k.kabupaten_code for k in kecamatan})
        if args.kabupaten:
            kecamatan = [k for k in kecamatan if k.kabupaten_code == args.kabupaten]
            if not kecamatan:
                print(f"Gagal: kabupaten {args.kabupaten} tidak ada di wilayah {config.wilayah}.", file=sys.stderr)
                return 1
        elif len(kabupaten) > 1:
            print(f"Gagal: wilayah {config.wilayah} berisi {len(kabupaten)} kabupaten/kota; pilih satu dengan"
                  " --kabupaten, mis. --kabupaten 35.13.", file=sys.stderr)
            return 1
        try:
            plan = plan_visits([(k.code, k.name) for k in kecamatan], start, per_month=args.per_month,
                               first=args.first, order=args.order)
        except PlanError as exc:
            print(f"Gagal: {exc}", file=sys.stderr)
            return 1
        print(format_plan_table(plan))
        print()
        print(f"{len(plan)} kunjungan, {plan[0].date.isoformat()} sampai {plan[-1].date.isoformat()},"
              f" jam {start_time:%H:%M}.")
        today = services.ngantor.visits.today()
        past = [item for item in plan if item.date < today]
        if past:
            print(f"⚠ {len(past)} kunjungan jatuh sebelum hari ini ({today.isoformat()}): tanggalnya sudah lewat."
                  " Pilih --start hari ini atau sesudahnya.")
        if not args.apply:
            print("Belum disimpan. Jalankan lagi dengan --apply untuk menyimpan jadwal ini.")
            return 0
        created, skipped, warnings = await services.ngantor.visits.apply_plan(plan, start_time)
        print(f"Disimpan: {created} kunjungan baru" + (f", {skipped} sudah ada sebelumnya." if skipped else "."))
        for w in warnings:
            print(f"  ⚠ {w}")
        return 0

    return await _with_services(config, args, work)


def _read_text(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"Tidak dapat membaca {path}: {exc.strerror}", file=sys.stderr)
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
            print("Impor dibatalkan, tidak ada data yang disimpan:", file=sys.stderr)
            for error in report.errors:
                print(f"  - {error}", file=sys.stderr)
            return 1
        print(f"Impor selesai: {report.created} baru, {report.moved} dipindah, {report.updated} diubah,"
              f" {report.cancelled} dibatalkan, {report.unchanged} tidak berubah.")
        for w in report.warnings:
            print(f"  ⚠ {w}")
        return 0

    return await _with_services(config, args, work)


async def cmd_export(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Any) -> int:
        data = await services.ngantor.visits.export_csv(include_cancelled=args.all)
        if args.output:
            await asyncio.to_thread(Path(args.output).write_text, data, encoding="utf-8")
            rows = data.count("\n") - 1
            print(f"{rows} kunjungan diekspor ke {args.output}.")
        else:
            sys.stdout.write(data)
        return 0

    return await _with_services(config, args, work)


SCHEDULE_COMMAND = ("schedule", "jadwal kunjungan Ngantor di Kecamatan: plan, import, export", configure, run)
