"""``sambang media verify``: re-hash every archived file and report those changed or missing (exit code 1)."""

from __future__ import annotations

import argparse
import asyncio
from html import unescape
from typing import TYPE_CHECKING, Any

from bot.media.archive import verify_archive
from bot.media.settings import media_dir
from bot.messaging.templates import render

if TYPE_CHECKING:
    from bot.config import Config


def plain(template: str, **context: Any) -> str:
    """A template's words for the terminal (the templates are Telegram HTML; these hold no tags)."""
    return unescape(render(template, **context)).strip()


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="media_command", required=True)
    verify = sub.add_parser("verify", help="hitung ulang SHA-256 setiap berkas arsip media; laporkan yang berubah"
                                           " atau hilang (kode keluar 1)")
    verify.set_defaults(func=cmd_verify, needs_token=False)


async def cmd_verify(config: Config, args: argparse.Namespace) -> int:
    root = media_dir(config)
    report = await asyncio.to_thread(verify_archive, config.db_path, root)
    print(plain("media/verify_report", report=report, root=str(root)))
    return 0 if report.ok else 1


MEDIA_COMMAND: tuple[str, str, Any, Any] = (
    "media", "arsip media (foto, dokumen, pesan suara, video): periksa keutuhannya", _configure, cmd_verify,
)
