"""Helpers of the media archive's tests: wait for the download queue, read what the archive holds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.harness import BotHarness


async def wait_downloads(harness: BotHarness, *, status: str = "done", count: int | None = None,
                         timeout: float = 5.0) -> list[Any]:
    """Wait (bounded) until every queued download has ``status`` (and there are ``count`` of them)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await harness.svc.db.fetchall("SELECT * FROM media_downloads ORDER BY id")
        if rows and all(r["status"] == status for r in rows) and (count is None or len(rows) == count):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"downloads not {status}: {[dict(r) for r in rows]}")
        await asyncio.sleep(0.02)


async def archived(harness: BotHarness, file_unique_id: str) -> tuple[Path, str, str | None]:
    """(path on disk, recorded sha256, recorded MIME type) of the archived file of ``file_unique_id``."""
    row = await harness.svc.db.fetchone(
        "SELECT f.path, f.sha256, f.mime_type FROM media_downloads d JOIN media_files f ON f.sha256 = d.sha256"
        " WHERE d.file_unique_id = ?", (file_unique_id,))
    assert row is not None, f"{file_unique_id} not archived"
    return harness.svc.media.root / row["path"], row["sha256"], row["mime_type"]


async def start_aspiration(harness: BotHarness, kades: Any, description: str = "Jembatan bambu di dusun Krajan"
                           " putus terbawa banjir, anak sekolah memutar 5 km.") -> None:
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, description, "Langkah 3 dari 4")


async def send_and_wait(harness: BotHarness, kades: Any, send: Any, expect: str) -> Any:
    mark = harness.server.mark()
    update = send()
    await harness.server.wait_for_text(kades.id, expect, since=mark)
    return update["message"]
