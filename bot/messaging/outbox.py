"""The persistent outbox: every message the bot sends on its own initiative is a row here first.

Rows are written in the same transaction as the change they announce, so a notification is never lost and never
announces something that was rolled back. ``OutboxSender`` delivers them in order per chat, paced within Telegram's
limits (about 1 message a second per private chat, 20 a minute per group, 30 a second overall), retrying on 429
(honouring ``retry_after``), 5xx and network errors with backoff, and marking chats that blocked the bot.

Why no library: a task queue (Celery, arq, RQ) would need a broker beside SQLite and could not commit a message in the
same transaction as the change it announces; PTB's ``AIORateLimiter`` paces calls but forgets them on a restart.
No maintained library offers a transactional outbox on SQLite with Telegram's per-chat and overall pacing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.core.clock import to_iso
from bot.messaging import limits
from bot.storage.database import Database, Transaction, retry_write

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 8
MAX_RATE_LIMITED_ATTEMPTS = 30
BATCH = 300
#: Seconds added to the interval between two sends to one chat, so network jitter never makes them look closer
#: than allowed (the overall rate needs no margin: see RateWindow).
PACE_MARGIN = 0.05


class RetryLater(Exception):
    """Telegram answered 429: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after


class TransientError(Exception):
    """5xx, timeout or network failure: worth retrying with backoff."""


class ChatUnreachable(Exception):
    """The user blocked the bot, or the chat is gone: stop sending to it."""


class PermanentError(Exception):
    """Telegram refused this message (400): retrying will not help."""


class Transport(Protocol):
    async def send(
        self, chat_id: int, method: str, params: Mapping[str, Any], upload: bytes | None, upload_name: str | None
    ) -> int | None:
        """Call a Bot API method; return the sent message's id (the first, for a media group)."""
        ...


class NotConnected:
    """The transport of a sender built before the bot it sends with: ``OutboxSender.connect`` replaces it."""

    async def send(
        self, chat_id: int, method: str, params: Mapping[str, Any], upload: bytes | None, upload_name: str | None
    ) -> int | None:
        raise RuntimeError("the outbox sender is not connected to Telegram yet")


@dataclass(frozen=True)
class OutboxMessage:
    chat_id: int
    method: str
    params: dict[str, Any]


def wall_now() -> datetime:
    """Real time for delivery pacing and retries: the world's clock, not the domain clock tests move."""
    return datetime.now(UTC)


async def enqueue(
    tx: Transaction,
    chat_id: int,
    method: str,
    params: Mapping[str, Any],
    *,
    now: datetime,
    upload: bytes | None = None,
    upload_name: str | None = None,
    dedup_key: str | None = None,
    broadcast_id: int | None = None,
    ref: str | None = None,
) -> int | None:
    """Queue one Bot API call. With ``dedup_key`` the same message is queued at most once; returns the row id.

    A text longer than one Telegram message is queued as one row per part (``limits.fit``: the buttons under the
    last), each sent and retried on its own; the first part's row id is returned."""
    calls = limits.fit(method, params) if method == "sendMessage" else [(method, dict(params))]
    first: int | None = None
    for i, (part_method, part) in enumerate(calls):
        key = dedup_key if i == 0 or dedup_key is None else f"{dedup_key}#{i + 1}"
        cur_id = await tx.execute(
            "INSERT INTO outbox(chat_id, method, params, upload, upload_name, not_before, dedup_key, broadcast_id,"
            " ref, created_at) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?) ON CONFLICT(dedup_key) DO NOTHING",
            (chat_id, part_method, json.dumps(part, ensure_ascii=False), upload if i == 0 else None,
             upload_name if i == 0 else None, key, broadcast_id, ref, to_iso(now)),
        )
        if i == 0:
            first = cur_id or None
    return first


async def enqueue_text(
    tx: Transaction,
    chat_id: int,
    text: str,
    *,
    now: datetime,
    reply_markup: Mapping[str, Any] | None = None,
    dedup_key: str | None = None,
    broadcast_id: int | None = None,
    ref: str | None = None,
) -> int | None:
    params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
                              "link_preview_options": {"is_disabled": True}}
    if reply_markup:
        params["reply_markup"] = dict(reply_markup)
    return await enqueue(tx, chat_id, "sendMessage", params, now=now, dedup_key=dedup_key,
                         broadcast_id=broadcast_id, ref=ref)


def inline_keyboard(rows: list[list[tuple[str, str]]]) -> dict[str, Any]:
    """Bot API reply_markup for rows of (text, callback_data) buttons."""
    return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in row] for row in rows]}


async def message_id_for(db: Database, ref: str, chat_id: int) -> int | None:
    """Telegram's id of the message sent for ``ref`` to ``chat_id``, once it went out (for later edits)."""
    message_id: int | None = await db.fetchval(
        "SELECT message_id FROM outbox WHERE ref = ? AND chat_id = ? AND status = 'sent' AND message_id IS NOT NULL"
        " ORDER BY id LIMIT 1",
        (ref, chat_id),
    )
    return message_id


async def counts(db: Database, broadcast_id: int | None = None) -> dict[str, int]:
    sql = "SELECT status, COUNT(*) AS n FROM outbox"
    params: tuple[Any, ...] = ()
    if broadcast_id is not None:
        sql += " WHERE broadcast_id = ?"
        params = (broadcast_id,)
    rows = await db.fetchall(sql + " GROUP BY status", params)
    result = {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "blocked": 0}
    result.update({r["status"]: r["n"] for r in rows})
    return result


class RateWindow:
    """Overall rate: at most ``size`` sends that Telegram may receive within any window of ``size / rate`` seconds.

    A send holds a place from the moment it is dispatched until a full window after Telegram answered it. Telegram
    received it somewhere in between, so no window at Telegram's end can hold more than ``size`` sends, however late
    a loaded event loop or the network delivers them. (Counting a send only from its dispatch needs a guessed
    margin for that delay, and a busy machine exceeds any margin; a token bucket that starts full even lets twice
    the rate through in one second.)

    Answers to people (replies in a conversation) come before background sends (the outbox: forwards, digests,
    broadcasts). While people are being answered, background sends leave room for them: as many places as answers
    took in the last window plus ``headroom`` (so the answers can grow), and none while an answer waits. Background
    sends always keep ``background_floor`` places, so the outbox never stops; with nobody to answer they have the
    whole window. Background sends are spread evenly (one every ``span / size``) rather than taken in bursts, so
    places keep freeing up for the answers instead of all at once a window later.
    """

    def __init__(self, rate: float, *, background_share: float = 0.15) -> None:
        self.rate = rate
        self.size = max(1, int(rate))
        self.span = self.size / rate
        self.background_floor = max(1, int(self.size * background_share))
        self.headroom = self.background_floor
        self.open = 0  # dispatched, not answered yet
        self.answered: deque[float] = deque()  # when Telegram answered the sends of the last window
        self.background_open = 0
        self.background_answered: deque[float] = deque()
        self.waiting = 0  # answers to people waiting for a place
        self.background_blocked_at = -1.0  # when a background send last found no place (it is waiting)
        self.background_gap = self.span / self.size
        self.next_background = 0.0  # monotonic time of the next background send

    def delay(self, *, background: bool = False) -> float:
        now = time.monotonic()
        while self.answered and self.answered[0] <= now - self.span:
            self.answered.popleft()
        used = self.open + len(self.answered)
        if used < self.size:
            while self.background_answered and self.background_answered[0] <= now - self.span:
                self.background_answered.popleft()
            background_used = self.background_open + len(self.background_answered)
            if background:
                if now < self.next_background:
                    return self.next_background - now
                answers = used - background_used + self.waiting
                if answers and background_used >= self.background_floor:
                    self.background_blocked_at = now
                    if self.waiting:
                        return 0.02  # an answer to a person goes first
                    reserve = min(self.size - self.background_floor, answers + self.headroom)
                    if used >= self.size - reserve:
                        return 0.02  # room kept for the answers of the people being served
            elif now - self.background_blocked_at < 0.25:  # the outbox waits: leave it its floor
                if used + max(0, self.background_floor - background_used) >= self.size:
                    return 0.02
            return 0.0
        if background:
            self.background_blocked_at = now
        if self.answered:
            return max(0.001, self.answered[0] + self.span - now)
        return self.span  # every place is a send in flight: its answer wakes the sender sooner

    def take(self, *, background: bool = False) -> Place:
        self.open += 1
        if background:
            self.background_open += 1
            # a sender woken late may catch up a few gaps (the window still bounds every second)
            slack = self.background_floor * self.background_gap
            self.next_background = max(time.monotonic() - slack, self.next_background) + self.background_gap
        return Place(self, background)


class Place:
    """One send's place in the window; ``release()`` when Telegram answered (or the send ended), once."""

    __slots__ = ("background", "window")

    def __init__(self, window: RateWindow | None, background: bool = False) -> None:
        self.window = window
        self.background = background

    def release(self) -> None:
        if self.window is not None:
            at = time.monotonic()
            self.window.open -= 1
            self.window.answered.append(at)
            if self.background:
                self.window.background_open -= 1
                self.window.background_answered.append(at)
            self.window = None


class OutboxSender:
    """Delivers pending outbox rows. Start with ``start()``; ``stop()`` lets in-flight sends finish."""

    def __init__(
        self,
        db: Database,
        transport: Transport,
        *,
        chat_interval: float = 1.0,
        group_interval: float = 3.0,
        rate: float = 30.0,
        concurrency: int = 32,
        window: RateWindow | None = None,
    ) -> None:
        self.db = db
        self.transport = transport
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        # The application passes its rate limiter's window, shared with the answers to people; sends then go out
        # as background sends (see RateWindow).
        self.bucket = window if window is not None else RateWindow(rate)
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # chat_id -> send task
        self._next_ok: dict[int, float] = {}  # chat_id -> monotonic time of the next allowed send
        self._paused_until = 0.0  # after a 429, everything waits
        self._marks: list[tuple[int, int | None, str, asyncio.Future[None]]] = []
        self._mark_task: asyncio.Task[None] | None = None
        db.on_commit(self.wake, tables=("outbox",))  # only commits that queued or changed messages

    def connect(self, transport: Transport, window: RateWindow | None = None) -> None:
        """Send through ``transport`` from now on (before ``start``), sharing ``window`` when given."""
        self.transport = transport
        if window is not None:
            self.bucket = window

    def wake(self) -> None:
        self._wake.set()

    async def recover(self) -> int:
        """After a crash, rows caught mid-send go back to pending. Returns how many."""
        async with self.db.transaction() as tx:
            return await tx.execute_rowcount("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self.wake()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every pending row, retries included, has been delivered or given up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            due = await self.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")
            if not due and not self._in_flight:
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("outbox did not drain")

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before looking, not after: a send finishing (or a commit) while we look must wake us again.
            self._wake.clear()
            try:
                wait = await self._dispatch_due()
            except Exception:  # the sender must outlive any one bad row or database hiccup
                log.exception("outbox dispatch failed")
                wait = 1.0
            if self._stopping:
                break
            await self._sleep(wait)
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _sleep(self, wait: float) -> None:
        """Sleep until ``wake()`` or ``wait`` seconds, whichever comes first. A timer handle rather than
        ``asyncio.wait_for``, which builds a task for every sleep (the sender sleeps many times a second while
        forwards wait for their chat's pace)."""
        if self._wake.is_set():
            return
        timer = asyncio.get_running_loop().call_later(max(wait, 0.0), self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()

    async def _dispatch_due(self) -> float:
        """Start sends for due rows, first row per free chat; returns how long to sleep before looking again."""
        now_wall = wall_now()
        paused = self._paused_until - time.monotonic()
        if paused > 0:
            return paused
        if len(self._in_flight) < self.concurrency and (delay := self.bucket.delay(background=True)) > 0:
            return delay  # no place for a send yet: don't look for rows (people being answered may hold it)
        # The oldest unsent row of each chat only (a later row never overtakes one waiting for a retry), messages
        # of a single conversation before those of large broadcasts, then oldest first.
        # Both reads go by an index (outbox_chat_head, outbox_due) and run at once on the loop's thread: a hand-off
        # to the reader's thread and back for each look cost more than the queries.
        rows = await self.db.lookup_all(
            "SELECT o.id, o.chat_id, o.method, o.params, o.upload, o.upload_name, o.attempts FROM outbox o"
            " WHERE o.status = 'pending' AND o.not_before <= ? AND o.id = (SELECT MIN(h.id) FROM outbox h"
            " WHERE h.chat_id = o.chat_id AND h.status IN ('pending', 'sending'))"
            " ORDER BY o.broadcast_id IS NOT NULL, o.id LIMIT ?",
            (to_iso(now_wall), BATCH),
        )
        sleep_for = 1.0
        blocked_chats: set[int] = set()
        for row in rows:
            chat_id = row["chat_id"]
            if chat_id in blocked_chats or chat_id in self._in_flight:
                blocked_chats.add(chat_id)  # keep order: later rows of a chat wait for the earlier
                continue
            blocked_chats.add(chat_id)
            wait_chat = self._next_ok.get(chat_id, 0.0) - time.monotonic()
            if wait_chat > 0:
                sleep_for = min(sleep_for, wait_chat)
                continue
            if len(self._in_flight) >= self.concurrency:
                return 0.01
            delay = self.bucket.delay(background=True)
            if delay > 0:
                return delay
            place = self.bucket.take(background=True)
            interval = self.group_interval if chat_id < 0 else self.chat_interval
            self._next_ok[chat_id] = time.monotonic() + (interval + PACE_MARGIN if interval > 0 else 0.0)
            self._in_flight[chat_id] = asyncio.create_task(self._send(row, place))
        if len(rows) == BATCH:
            sleep_for = min(sleep_for, 0.05)
        # earlier scheduled retries
        nxt = await self.db.lookup_val(
            "SELECT MIN(not_before) FROM outbox WHERE status = 'pending' AND not_before > ?", (to_iso(now_wall),)
        )
        if nxt:
            until = (datetime.fromisoformat(nxt.replace("Z", "+00:00")) - now_wall).total_seconds()
            sleep_for = min(sleep_for, max(until, 0.01))
        if len(self._next_ok) > 50_000:  # forget pacing of chats long quiet
            cutoff = time.monotonic()
            self._next_ok = {c: t for c, t in self._next_ok.items() if t > cutoff}
        return sleep_for

    async def _send(self, row: Any, place: Place | None = None) -> None:
        chat_id = row["chat_id"]
        place = place or Place(None)
        try:
            await self._deliver(row, place)
        except Exception as exc:
            log.exception("outbox row %s: unexpected failure", row["id"])
            # never leave a row 'sending' for ever (it would be retried, and fail the same way, at every start)
            with contextlib.suppress(Exception):
                await self.db.execute("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
                                      (f"unexpected: {exc!r}"[:500], row["id"]))
        finally:
            place.release()
            self._in_flight.pop(chat_id, None)
            self.wake()

    async def _deliver(self, row: Any, place: Place) -> None:
        row_id, chat_id = row["id"], row["chat_id"]
        params = json.loads(row["params"])
        # Claim the row on the writer: the row was read on the reader connection, whose snapshot can lag behind a
        # commit by a moment; a row already sent, blocked or claimed must not go out again.
        claim, current = await self.db.write_batch([
            ("UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
             (row_id,)),
            ("SELECT attempts FROM outbox WHERE id = ?", (row_id,)),
        ], urgent=True, notify=False)  # the claim makes nothing due: no need to wake the sender (this task)
        if not claim.rowcount:
            return
        attempts = current.rows[0][0]
        try:
            try:
                message_id = await self.transport.send(chat_id, row["method"], params, row["upload"],
                                                       row["upload_name"])
            finally:
                place.release()  # Telegram has answered (or the request is over): the window counts from now
        except RetryLater as exc:
            self._paused_until = max(self._paused_until, time.monotonic() + exc.retry_after)
            await self._retry(row_id, exc.retry_after, f"429 retry after {exc.retry_after}",
                              give_up=attempts >= MAX_RATE_LIMITED_ATTEMPTS)
            log.warning("outbox: 429 for chat %s, retry after %ss", chat_id, exc.retry_after)
        except TransientError as exc:
            backoff = min(300.0, 0.5 * 2 ** (attempts - 1))
            await self._retry(row_id, backoff, str(exc)[:500], give_up=attempts >= MAX_TRANSIENT_ATTEMPTS)
            log.warning("outbox: transient error for row %s (attempt %s): %s", row_id, attempts, exc)
        except ChatUnreachable as exc:
            async with self.db.transaction(inline=True) as tx:
                await tx.execute("UPDATE outbox SET status = 'blocked', last_error = ? WHERE id = ?",
                                 (str(exc)[:500], row_id))
                await tx.execute(
                    "UPDATE outbox SET status = 'blocked', last_error = 'chat unreachable' WHERE chat_id = ?"
                    " AND status = 'pending'", (chat_id,))
                await tx.execute("UPDATE people SET blocked_bot_at = ? WHERE telegram_id = ?",
                                 (to_iso(wall_now()), chat_id))
            log.info("outbox: chat %s unreachable: %s", chat_id, exc)
        except PermanentError as exc:
            await self.db.execute("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
                                  (str(exc)[:500], row_id))
            log.error("outbox: row %s refused by Telegram: %s", row_id, exc)
        else:
            # it went out: a failing mark (a locked or full database) is retried, or the row would stay 'sending'
            # and hold back every later message to this chat
            await retry_write(f"mark outbox row {row_id} sent", lambda: self._mark_sent(row_id, message_id))

    async def _mark_sent(self, row_id: int, message_id: int | None) -> None:
        """Record a delivered row. Telegram has no idempotency key: a crash between its answer and this commit means
        a second copy after the restart (at-least-once). To keep that window as short as it can be, the marks of
        sends finishing together commit in one transaction that goes ahead of other writes."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((row_id, message_id, to_iso(wall_now()), future))
        if self._mark_task is None or self._mark_task.done():
            self._mark_task = asyncio.create_task(self._flush_marks(), name="outbox-marks")
        await future

    async def _flush_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                async with self.db.transaction(urgent=True, inline=True) as tx:
                    await tx.executemany(
                        "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, last_error = NULL"
                        " WHERE id = ?",
                        [(at, message_id, row_id) for row_id, message_id, at, _ in batch],
                    )
            except BaseException as exc:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for *_, future in batch:
                if not future.done():
                    future.set_result(None)

    async def _retry(self, row_id: int, delay: float, error: str, *, give_up: bool) -> None:
        if give_up:
            await self.db.execute("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?", (error, row_id))
            return
        not_before = to_iso(wall_now() + timedelta(seconds=delay))
        await self.db.execute(
            "UPDATE outbox SET status = 'pending', not_before = ?, last_error = ? WHERE id = ?",
            (not_before, error, row_id),
        )
