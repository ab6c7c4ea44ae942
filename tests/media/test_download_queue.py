"""The download queue and worker on their own (a stand-in for Telegram's edge: what it answers is the subject)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.clock import FakeClock, from_iso
from bot.media import queue
from bot.media.fetch import Fetched, FetchLater, FileGone
from bot.media.store import MediaStore
from bot.media.worker import RETRY_DELAYS, DownloadWorker
from bot.storage.database import Database


class Answers:
    """Answers getFile + download would give, per file_id, in order; then the bytes."""

    def __init__(self, data: dict[str, bytes], failures: dict[str, list[Exception]] | None = None) -> None:
        self.data = data
        self.failures = failures or {}
        self.asked: list[str] = []

    async def __call__(self, file_id: str) -> Fetched:
        self.asked.append(file_id)
        pending = self.failures.get(file_id)
        if pending:
            raise pending.pop(0)
        return Fetched(self.data[file_id], f"photos/{file_id}.jpg")


async def _queue(db: Database, clock: FakeClock, *refs: queue.MediaRef, owner: str = "asp:1") -> int:
    async with db.transaction() as tx:
        return await queue.enqueue(tx, refs, owner=owner, now=clock.now())


async def test_a_file_is_queued_once_and_a_failed_one_again_with_its_new_file_id(db: Database,
                                                                                 clock: FakeClock) -> None:
    photo = queue.MediaRef("photo", "id-1", "uniq-1")
    assert await _queue(db, clock, photo, queue.MediaRef("location", "", "")) == 1
    assert await _queue(db, clock, photo, owner="asp:2") == 0  # the same Telegram file: not downloaded twice
    await db.execute("UPDATE media_downloads SET status = 'failed'")
    assert await _queue(db, clock, queue.MediaRef("photo", "id-2", "uniq-1"), owner="asp:3") == 1
    row = await db.fetchone("SELECT * FROM media_downloads")
    assert row is not None and (row["status"], row["file_id"], row["owner"]) == ("pending", "id-2", "asp:1")


async def test_retries_wait_longer_each_time_and_honour_retry_after(db: Database, clock: FakeClock,
                                                                    tmp_path: Path) -> None:
    answers = Answers({"id-1": b"jpeg"}, {"id-1": [FetchLater("502"), FetchLater("timeout"),
                                                   FetchLater("429", retry_after=40.0)]})
    worker = DownloadWorker(db, clock, MediaStore(tmp_path / "media"), answers)
    await _queue(db, clock, queue.MediaRef("photo", "id-1", "uniq-1"))
    for wait in (RETRY_DELAYS[0], RETRY_DELAYS[1], 40.0):
        assert await worker.run_due() == 1
        row = await db.fetchone("SELECT next_try_at, status FROM media_downloads")
        assert row is not None and row["status"] == "pending"
        assert from_iso(row["next_try_at"]) == clock.now() + timedelta(seconds=wait)
        assert await worker.run_due() == 0  # not before its time
        clock.advance(seconds=wait)
    assert await worker.run_due() == 1
    assert await db.fetchval("SELECT status FROM media_downloads") == "done"


async def test_gone_three_times_is_failed_and_the_same_bytes_are_stored_once(db: Database, clock: FakeClock,
                                                                             tmp_path: Path) -> None:
    gone = [FileGone("invalid file_id") for _ in range(3)]
    answers = Answers({"a": b"same bytes", "b": b"same bytes"}, {"c": gone})
    worker = DownloadWorker(db, clock, MediaStore(tmp_path / "media"), answers)
    await _queue(db, clock, queue.MediaRef("photo", "a", "ua"), queue.MediaRef("document", "b", "ub", "x.pdf"),
                 queue.MediaRef("photo", "c", "uc"))
    for _ in range(3):
        await worker.run_due()
        clock.advance(hours=1)
    rows = {r["file_id"]: r for r in await db.fetchall("SELECT * FROM media_downloads")}
    assert rows["c"]["status"] == "failed" and rows["c"]["attempts"] == 3
    assert rows["a"]["status"] == rows["b"]["status"] == "done" and rows["a"]["sha256"] == rows["b"]["sha256"]
    assert await db.fetchval("SELECT COUNT(*) FROM media_files") == 1
    assert len([p for p in (tmp_path / "media").rglob("*") if p.is_file()]) == 1
    assert answers.asked.count("c") == 3


async def test_a_disk_that_cannot_take_the_file_is_tried_again_later(db: Database, clock: FakeClock,
                                                                     tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")  # the archive folder cannot be created: like a full or read-only disk
    worker = DownloadWorker(db, clock, MediaStore(blocker / "media"), Answers({"id-1": b"jpeg"}))
    await _queue(db, clock, queue.MediaRef("photo", "id-1", "uniq-1"))
    assert await worker.run_due() == 1
    row = await db.fetchone("SELECT status, attempts, next_try_at FROM media_downloads")
    assert row is not None and (row["status"], row["attempts"]) == ("pending", 1)
    assert from_iso(row["next_try_at"]) == clock.now() + timedelta(seconds=RETRY_DELAYS[0])
