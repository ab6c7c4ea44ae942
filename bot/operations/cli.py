"""Operations on the command line: ``sambang health``, ``backup``, ``restore`` and ``audit export``.

None of them needs the bot's token, and ``health``, ``backup`` and ``restore`` never migrate or load anything:
they read (or, for restore, replace) the database file with connections of their own, beside a running bot.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.clock import SystemClock

if TYPE_CHECKING:
    from bot.config import Config


# -- health -----------------------------------------------------------------------------------------------------


def _configure_health(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-age", type=float, help="detak penjadwal paling lama (detik); bawaan 3x SAMBANG_TICK_SECONDS")


async def cmd_health(config: Config, args: argparse.Namespace) -> int:
    from bot.operations.health import check_file, heartbeat_limit, poll_limit

    limit = args.max_age if args.max_age else heartbeat_limit(config.tick_seconds)
    ok, line = await asyncio.to_thread(check_file, config.db_path, max_heartbeat_age=limit,
                                       max_poll_age=poll_limit(config.tick_seconds))
    print(line if ok else f"TIDAK SEHAT: {line}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


# -- backup and restore ---------------------------------------------------------------------------------------


def _configure_backup(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", help="berkas atau folder tujuan; bawaan SAMBANG_BACKUP_DIR")


async def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    from bot.media.archive import backup_archive, backup_folder
    from bot.media.cli import plain
    from bot.media.settings import media_dir
    from bot.operations.settings import ops_settings
    from bot.storage.backup import backup_database, backup_name

    ops = ops_settings(config)
    name = backup_name(SystemClock().now(), config.tz)
    if args.path:
        target = Path(args.path)
        if args.path.endswith(("/", "\\")) or await asyncio.to_thread(target.is_dir):
            target = target / name
    else:
        target = ops.backup_dir / name
    info = await asyncio.to_thread(backup_database, config.db_path, target)
    print(f"Cadangan dibuat: {info.path}")
    print(f"Ukuran {info.size / 1024:.0f} KB, skema {info.schema_version}, {info.aspirations} aspirasi,"
          f" {info.people} orang; pemeriksaan integritas: ok.")
    # the media archive beside it, incrementally (a file already backed up is not copied again)
    media = await asyncio.to_thread(backup_archive, media_dir(config), target)
    print(plain("media/backup_report", report=media, folder=str(backup_folder(target))))
    return 1 if media.damaged else 0


def _configure_restore(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="berkas cadangan (.db) yang akan dipulihkan")
    p.add_argument("--yes", action="store_true", help="benar-benar ganti database (tanpa ini hanya diperiksa)")


async def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    from bot.media.archive import restore_archive
    from bot.media.cli import plain
    from bot.media.settings import media_dir
    from bot.operations.settings import ops_settings
    from bot.storage.backup import BackupError, inspect, restore_database
    from bot.storage.runlock import AlreadyRunning, RunLock

    ops = ops_settings(config)
    backup = Path(args.path)
    try:
        lock = RunLock(config.db_path).acquire()
    except AlreadyRunning:
        print("Gagal: bot sedang berjalan dengan database ini. Hentikan bot dulu (mis. `docker stop sambang`),"
              " lalu jalankan restore lagi.", file=sys.stderr)
        return 1
    try:
        info = await asyncio.to_thread(inspect, backup)
        print(f"Cadangan {backup}: utuh, skema {info.schema_version}, {info.aspirations} aspirasi,"
              f" {info.people} orang.")
        if not args.yes:
            print(f"Belum ada yang diubah. Untuk mengganti {config.db_path} dengan cadangan ini, jalankan lagi"
                  " dengan --yes.")
            return 1
        report = await asyncio.to_thread(restore_database, backup, config.db_path, ops.backup_dir,
                                         SystemClock().now(), config.tz)
        # the media archive saved beside the backup: the files the database names come back (those there stay)
        media = await asyncio.to_thread(restore_archive, backup, media_dir(config))
    except BackupError as exc:
        print(f"Gagal: {exc.message}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    if report.previous_copy is not None:
        print(f"Database sebelumnya disimpan di {report.previous_copy}.")
    print(f"Database {config.db_path} dipulihkan dari {backup}. Jalankan bot lagi; migrasi yang belum ada"
          " diterapkan saat mulai.")
    print(plain("media/restore_report", report=media, folder=str(media_dir(config))))
    return 1 if media is not None and media.damaged else 0


# -- audit export ---------------------------------------------------------------------------------------------


def _configure_audit(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="audit_command", required=True)
    exp = sub.add_parser("export", help="ekspor jejak audit sebagai CSV")
    exp.add_argument("--since", help="mulai tanggal (YYYY-MM-DD, zona SAMBANG_TZ)")
    exp.add_argument("--output", "-o", help="berkas CSV; bawaan: layar (stdout)")
    exp.set_defaults(func=cmd_audit_export, needs_token=False)


async def cmd_audit_export(config: Config, args: argparse.Namespace) -> int:
    from bot.storage import audit
    from bot.storage.database import Database, write_private

    since = None
    if args.since:
        try:
            since = datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=config.tz)
        except ValueError:
            print(f"Gagal: tanggal {args.since!r} tidak valid; gunakan YYYY-MM-DD.", file=sys.stderr)
            return 1
    db = await Database.open(config.db_path)
    try:
        items = await audit.entries(db, since=since)
        async with db.transaction() as tx:
            await audit.record(tx, None, "ekspor_audit", f"baris jalur perintah: {len(items)}",
                               now=SystemClock().now())
    finally:
        await db.close()
    data = audit.to_csv(items, config.tz)
    if args.output:
        await asyncio.to_thread(write_private, Path(args.output), data)  # names and actions: 0600
        print(f"{len(items)} baris audit ditulis ke {args.output}.")
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


OPS_COMMANDS = [
    ("health", "periksa kesehatan bot (untuk HEALTHCHECK Docker)", _configure_health, cmd_health),
    ("backup", "cadangkan database selagi bot berjalan", _configure_backup, cmd_backup),
    ("restore", "pulihkan database dari cadangan (hentikan bot dulu)", _configure_restore, cmd_restore),
    ("audit", "jejak audit tindakan istimewa", _configure_audit, cmd_audit_export),
]
