"""The archive as one service: its folder, its store and its download worker."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.core.clock import Clock
from bot.media import queue
from bot.media.store import MediaStore
from bot.media.worker import DownloadWorker
from bot.storage.database import Database


class MediaArchive:
    def __init__(self, db: Database, clock: Clock, root: Path) -> None:
        self.db = db
        self.root = root
        self.store = MediaStore(root)
        #: connected to Telegram and started once the bot is initialised (``bot/app.py``)
        self.worker = DownloadWorker(db, clock, self.store)

    async def counts(self) -> queue.Counts:
        return await queue.counts(self.db)

    async def paths(self, file_unique_ids: Iterable[str]) -> dict[str, str]:
        """file_unique_id -> archive path (relative to the archive folder) of the files archived."""
        return await queue.archive_paths(self.db, file_unique_ids)
