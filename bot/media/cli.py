"""``sambang media verify``: re-hash every archived file and report those changed or missing (exit code 1)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from bot.core.wording import phrases, plain
from bot.media.archive import verify_archive
from bot.media.settings import media_dir

if TYPE_CHECKING:
    from bot.config import Config


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="media_command", required=True)
    verify = sub.add_parser("verify", help=phrases("media/cli_help")["verify"])
    verify.set_defaults(func=cmd_verify, needs_token=False)


async def cmd_verify(config: Config, args: argparse.Namespace) -> int:
    root = media_dir(config)
    report = await asyncio.to_thread(verify_archive, config.db_path, root)
    print(plain("media/verify_report", report=report, root=str(root)))
    return 0 if report.ok else 1


MEDIA_COMMAND: tuple[str, str, Any, Any] = ("media", "media/cli_help", _configure, cmd_verify)
