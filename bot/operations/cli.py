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
from bot.core.wording import phrases, plain

if TYPE_CHECKING:
    from bot.config import Config


# -- health -----------------------------------------------------------------------------------------------------


def _configure_health(p: argparse.ArgumentParser) -> None:
    help_texts = phrases("operations/cli_help")
    p.add_argument("--max-age", type=float, help=help_texts["health_max_age"])


async def cmd_health(config: Config, args: argparse.Namespace) -> int:
    from bot.operations.health import check_file, heartbeat_limit, poll_limit

    limit = args.max_age if args.max_age else heartbeat_limit(config.tick_seconds)
    ok, line = await asyncio.to_thread(check_file, config.db_path, max_heartbeat_age=limit,
                                       max_poll_age=poll_limit(config.tick_seconds))
    print(line if ok else plain("operations/cli_unhealthy", line=line), file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


# -- backup and restore ---------------------------------------------------------------------------------------


def _configure_backup(p: argparse.ArgumentParser) -> None:
    help_texts = phrases("operations/cli_help")
    p.add_argument("path", nargs="?", help=help_texts["backup_path"])


async def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    from bot.media.archive import backup_archive, backup_folder
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
    print(plain("operations/cli_backup_done", info=info))
    # the media archive beside it, incrementally (a file already backed up is not copied again)
    media = await asyncio.to_thread(backup_archive, media_dir(config), target)
    print(plain("media/backup_report", report=media, folder=str(backup_folder(target))))
    return 1 if media.damaged else 0


def _configure_restore(p: argparse.ArgumentParser) -> None:
    help_texts = phrases("operations/cli_help")
    p.add_argument("path", help=help_texts["restore_path"])
    p.add_argument("--yes", action="store_true", help=help_texts["restore_yes"])


async def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    from bot.media.archive import restore_archive
    from bot.media.settings import media_dir
    from bot.operations.settings import ops_settings
    from bot.storage.backup import BackupError, inspect, restore_database
    from bot.storage.runlock import AlreadyRunning, RunLock

    ops = ops_settings(config)
    backup = Path(args.path)
    try:
        lock = RunLock(config.db_path).acquire()
    except AlreadyRunning:
        print(plain("cli/failed", text=plain("operations/cli_restore_running")), file=sys.stderr)
        return 1
    try:
        info = await asyncio.to_thread(inspect, backup)
        print(plain("operations/cli_restore_checked", backup=backup, info=info, confirmed=args.yes,
                    db_path=config.db_path))
        if not args.yes:
            return 1
        report = await asyncio.to_thread(restore_database, backup, config.db_path, ops.backup_dir,
                                         SystemClock().now(), config.tz)
        # the media archive saved beside the backup: the files the database names come back (those there stay)
        media = await asyncio.to_thread(restore_archive, backup, media_dir(config))
    except BackupError as exc:
        print(plain("cli/failed", text=exc.message), file=sys.stderr)
        return 1
    finally:
        lock.release()
    print(plain("operations/cli_restored", previous=report.previous_copy, db_path=config.db_path, backup=backup))
    print(plain("media/restore_report", report=media, folder=str(media_dir(config))))
    return 1 if media is not None and media.damaged else 0


# -- audit export ---------------------------------------------------------------------------------------------


def _configure_audit(p: argparse.ArgumentParser) -> None:
    help_texts = phrases("operations/cli_help")
    sub = p.add_subparsers(dest="audit_command", required=True)
    exp = sub.add_parser("export", help=help_texts["audit_export"])
    exp.add_argument("--since", help=help_texts["audit_since"])
    exp.add_argument("--output", "-o", help=help_texts["audit_output"])
    exp.set_defaults(func=cmd_audit_export, needs_token=False)


async def cmd_audit_export(config: Config, args: argparse.Namespace) -> int:
    from bot.storage import audit
    from bot.storage.database import Database, write_private

    since = None
    if args.since:
        try:
            since = datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=config.tz)
        except ValueError:
            print(plain("cli/failed", text=plain("operations/cli_since_invalid", value=args.since)), file=sys.stderr)
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
        print(plain("operations/cli_audit_written", count=len(items), path=args.output))
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


OPS_COMMANDS = [
    ("health", "operations/cli_help", _configure_health, cmd_health),
    ("backup", "operations/cli_help", _configure_backup, cmd_backup),
    ("restore", "operations/cli_help", _configure_restore, cmd_restore),
    ("audit", "operations/cli_help", _configure_audit, cmd_audit_export),
]
