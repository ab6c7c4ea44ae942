"""An aspiration's files go to the media archive: their downloads are queued in the submission's transaction."""

from __future__ import annotations

from datetime import datetime

from bot.aspirations.service import Aspiration
from bot.media import queue
from bot.storage.database import Transaction


async def queue_downloads(tx: Transaction, aspiration: Aspiration, now: datetime) -> None:
    """A submission hook: every photo, document, voice note and video of ``aspiration`` is queued for the archive."""
    files = [queue.MediaRef(a.kind, a.file_id, a.file_unique_id, a.file_name, a.mime_type)
             for a in aspiration.attachments if a.file_id and a.file_unique_id]
    await queue.enqueue(tx, files, owner=f"asp:{aspiration.id}", now=now)
