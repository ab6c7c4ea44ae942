"""The background worker that archives queued files: one at a time, oldest due first, never in anyone's way.

Nothing is marked while a download runs: a crash or a SIGKILL leaves the row pending and the next start takes it
again. Transient failures (429, 5xx, the network) are retried for ever with growing waits; a file Telegram says is
gone is given up after ``GONE_LIMIT`` such answers and marked failed (``sambang health`` counts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.core.clock import Clock, from_iso, to_iso
from bot.media.fetch import Fetch, FetchLater, FileGone, NotConnected
from bot.media.store import MediaStore, extension, mime_of, relative_path, sha256_of
from bot.storage.database import Database

log = logging.getLogger(__name__)

#: Seconds to wait after the n-th failed try (the last repeats).
RETRY_DELAYS = (5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
#: Answers saying "no such file" before a download is given up.
GONE_LIMIT = 3
#: The longest the worker sleeps between two looks at the queue (real seconds).
POLL_SECONDS = 30.0
BATCH = 20


def retry_delay(attempts: int) -> float:
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


#: Files up to this size are hashed on the event loop's thread (about a millisecond per megabyte).
INLINE_HASH_BYTES = 1 << 20


@dataclass(frozen=True)
class _Due:
    id: int
    file_id: str
    kind: str
    file_name: str | None
    mime_type: str | None
    attempts: int
    gone_answers: int


class DownloadWorker:
    """Start with ``start()`` once connected (``connect``); ``stop()`` ends it (a download in flight is redone)."""

    def __init__(self, db: Database, clock: Clock, store: MediaStore, fetch: Fetch | None = None) -> None:
        self.db = db
        self.clock = clock
        self.store = store
        self.fetch: Fetch = fetch or NotConnected()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        db.on_commit(self.wake, tables=("media_downloads",))  # a queued file is looked at at once

    def connect(self, fetch: Fetch) -> None:
        self.fetch = fetch

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="media-downloads")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_due()
                wait = await self._until_next()
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker outlives any one bad row or database hiccup
                log.exception("media downloads: a pass over the queue failed")
                wait = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _until_next(self) -> float:
        # this read and the next two go by an index (media_downloads_due, the primary key of media_files) and run at
        # once on the loop's thread: the worker makes them for every file it archives
        nxt = await self.db.lookup_val("SELECT MIN(next_try_at) FROM media_downloads WHERE status = 'pending'")
        if nxt is None:
            return POLL_SECONDS
        seconds = (from_iso(nxt) - self.clock.now()).total_seconds()
        return min(max(seconds, 0.05), POLL_SECONDS)

    async def run_due(self) -> int:
        """Try every download due now, one at a time; how many were tried."""
        tried = 0
        while True:
            rows = await self.db.lookup_all(
                "SELECT id, file_id, kind, file_name, mime_type, attempts, gone_answers FROM media_downloads"
                " WHERE status = 'pending' AND next_try_at <= ? ORDER BY next_try_at, id LIMIT ?",
                (to_iso(self.clock.now()), BATCH),
            )
            if not rows:
                return tried
            for row in rows:
                await self._download(_Due(row["id"], row["file_id"], row["kind"], row["file_name"],
                                          row["mime_type"], row["attempts"], row["gone_answers"]))
                tried += 1

    async def _download(self, due: _Due) -> None:
        try:
            fetched = await self.fetch(due.file_id)
        except FileGone as exc:
            await self._failed(due, exc, gone=True)
            return
        except FetchLater as exc:
            await self._failed(due, exc, gone=False, retry_after=exc.retry_after)
            return
        except Exception as exc:  # anything unforeseen is retried like a network error, and logged
            log.exception("media download %s: unexpected failure", due.id)
            await self._failed(due, exc, gone=False)
            return
        data = fetched.data
        # a large file (a 20 MB document) is hashed off the event loop, so people are answered meanwhile; a photo's
        # hash takes less than the hand-off to another thread would
        sha = sha256_of(data) if len(data) <= INLINE_HASH_BYTES else await asyncio.to_thread(sha256_of, data)
        known = await self.db.lookup_val("SELECT path FROM media_files WHERE sha256 = ?", (sha,))
        ext = str(known).rsplit(".", 1)[1] if known else extension(due.kind, due.file_name, due.mime_type,
                                                                  fetched.path)
        mime = mime_of(due.kind, due.mime_type, ext)
        try:
            stored = await asyncio.to_thread(self.store.put, data, ext=ext, mime_type=mime, sha256=sha)
        except OSError as exc:  # a full or read-only disk: tried again later, like a network error
            log.error("media download %s: could not write the file: %s", due.id, exc)
            await self._failed(due, exc, gone=False)
            return
        assert stored.path == (known or relative_path(sha, ext))
        stamp = to_iso(self.clock.now())
        async with self.db.transaction(inline=True) as tx:
            await tx.execute(
                "INSERT INTO media_files(sha256, size, mime_type, path, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(sha256) DO NOTHING",
                (stored.sha256, stored.size, stored.mime_type, stored.path, stamp),
            )
            await tx.execute(
                "UPDATE media_downloads SET status = 'done', sha256 = ?, attempts = attempts + 1, last_error = NULL,"
                " updated_at = ? WHERE id = ?",
                (stored.sha256, stamp, due.id),
            )
        log.info("media download %s archived as %s (%s bytes)", due.id, stored.path, stored.size)

    async def _failed(self, due: _Due, exc: BaseException, *, gone: bool, retry_after: float | None = None) -> None:
        now = self.clock.now()
        attempts = due.attempts + 1
        gone_answers = due.gone_answers + (1 if gone else 0)
        give_up = gone and (gone_answers >= GONE_LIMIT or (isinstance(exc, FileGone) and exc.final))
        wait = retry_after if retry_after is not None else retry_delay(attempts)
        error = f"{type(exc).__name__}: {exc}"[:500]
        await self.db.execute(
            "UPDATE media_downloads SET status = ?, attempts = ?, gone_answers = ?, next_try_at = ?, last_error = ?,"
            " updated_at = ? WHERE id = ?",
            ("failed" if give_up else "pending", attempts, gone_answers, to_iso(now + timedelta(seconds=wait)),
             error, to_iso(now), due.id),
        )
        if give_up:
            log.warning("media download %s given up after %s answers that the file is gone: %s", due.id,
                        gone_answers, error)
        else:
            log.info("media download %s failed (try %s), next try in %.0f s: %s", due.id, attempts, wait, error)


