"""Updates are written to SQLite before Telegram is told they arrived, so a crash loses none of them.

PTB's polling confirms a batch of updates (the next ``getUpdates`` offset) as soon as they are in the in-memory
``update_queue``; a webhook answers 200 as soon as the update is queued. A process killed at that moment would lose
every update still waiting in memory. Each ``getUpdates`` batch is written to ``inbound_updates`` as Telegram sent it,
in one transaction, before PTB reads it (``PollRecordingRequest`` → ``DurableUpdateQueue.store_received``); an update
queued any other way (a webhook) is written by ``DurableUpdateQueue.put`` before it enters the queue.
``drop_duplicate_updates`` removes it in the same transaction that marks it handled; and ``replay_pending`` puts the
leftovers of a crash back into the queue on the next start.

What is still not covered: the one update being handled at the moment of a crash (with ``concurrent_updates`` off
there is one at a time). It was marked handled when its handling began, so it is not handled twice; whatever it had
committed stays committed, and its reply may be missing. Handlers keep their writes before their replies, and the
aspiration summary answers a stale "Kirim" press with the ticket that was already stored.

Faults: storing an update is retried until it succeeds (another process holding the database's lock, a full disk),
inside PTB's polling loop, which must never see our exception: it only retries Telegram's own errors and would stop
polling for good. While it retries, the batch is not confirmed to Telegram, so nothing acknowledged is lost; a stop
cancels the wait cleanly. An update whose handling fails is retried a few times (``FailedUpdates``) and then set aside
as a dead letter (``bot.operations.deadletters``).
``Liveness`` remembers when ``getUpdates`` last succeeded, for the health check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from telegram import Bot, Update
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.config import Config, ConfigError
from bot.core.clock import Clock, to_iso
from bot.operations import deadletters
from bot.operations.health import Liveness
from bot.storage.database import DEFAULT_BUSY_TIMEOUT, DEFAULT_SYNCHRONOUS, SYNCHRONOUS_LEVELS, Database
from bot.storage.database import retry_write as storage_retry_write
from bot.telegram.http import AiohttpRequest

log = logging.getLogger(__name__)


def wall_now() -> datetime:
    return datetime.now(UTC)


def busy_timeout(config: Config) -> float:
    """SAMBANG_DB_BUSY_TIMEOUT: seconds a write waits for another process's lock before it is retried."""
    raw = (config.extra.get("SAMBANG_DB_BUSY_TIMEOUT") or "").strip()
    if not raw:
        return DEFAULT_BUSY_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError("SAMBANG_DB_BUSY_TIMEOUT", "busy_timeout_not_a_number", raw=raw) from None
    if not 0 < value <= 600:
        raise ConfigError("SAMBANG_DB_BUSY_TIMEOUT", "busy_timeout_range")
    return value


def is_transient(error: BaseException) -> bool:
    """A fault that passes by itself (a lock, a full disk, the network), not a defect of this update."""
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return any(words in text for words in ("locked", "busy", "is full", "disk i/o", "unable to open"))
    if isinstance(error, RetryAfter):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def db_synchronous(config: Config) -> str:
    """SAMBANG_DB_SYNCHRONOUS: NORMAL (default; a process crash loses nothing committed), FULL or EXTRA (a power
    cut neither, each commit waiting for the disk). See ``bot.storage.database.Database``."""
    raw = (config.extra.get("SAMBANG_DB_SYNCHRONOUS") or "").strip().upper()
    if not raw:
        return DEFAULT_SYNCHRONOUS
    if raw not in SYNCHRONOUS_LEVELS:
        raise ConfigError("SAMBANG_DB_SYNCHRONOUS", "synchronous_invalid", choices=SYNCHRONOUS_LEVELS, raw=raw)
    return raw


class PollRecordingRequest(AiohttpRequest):
    """The connection for ``getUpdates`` only: notes when a poll succeeded (PTB's default settings for it) and hands
    the batch, as Telegram sent it, to ``received`` (``DurableUpdateQueue.store_received``) before PTB reads it."""

    def __init__(self, liveness: Liveness,
                 received: Callable[[list[Any]], Awaitable[None]] | None = None,
                 settled: Callable[[], Awaitable[None]] | None = None) -> None:
        super().__init__(connection_pool_size=1)
        self._liveness = liveness
        self._received = received
        self._settled = settled

    async def post(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]  # PTB marks post final; only here is a poll's end seen
        if self._settled is not None:
            await self._settled()  # updates already here come first; Telegram meanwhile gathers the next batch
        self._liveness.poll_started()
        try:
            result = await super().post(*args, **kwargs)
        except BaseException:
            self._liveness.poll_finished(False)
            raise
        self._liveness.poll_finished(True)
        if self._received is not None and isinstance(result, list) and result:
            await self._received(result)
        return result


def _liveness_hook(liveness: Liveness | None) -> Callable[[bool], None] | None:
    if liveness is None:
        return None

    def failing(now_failing: bool) -> None:
        if not now_failing:
            liveness.store_failing_since = None
        elif liveness.store_failing_since is None:
            liveness.store_failing_since = wall_now()

    return failing


async def retry_write(what: str, write: Callable[[], Awaitable[Any]], liveness: Liveness | None = None) -> Any:
    """``storage.retry_write``, noting in ``liveness`` since when storing has been failing."""
    return await storage_retry_write(what, write, failing=_liveness_hook(liveness))


class FairLanes:
    """The waiting updates in one lane per sender, taken in turn: a person's messages keep their order, and one
    sender's backlog (a flood, a script) never makes everyone else wait behind it. Anything that is not an update
    (PTB's stop signal) comes out only when no update waits, so a stop still handles everything queued first."""

    def __init__(self) -> None:
        self._lanes: dict[int, deque[Any]] = {}
        self._turns: deque[int] = deque()
        self._other: deque[Any] = deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def __iter__(self) -> Iterator[Any]:
        for lane in self._lanes.values():
            yield from lane
        yield from self._other

    @staticmethod
    def sender(item: Any) -> int | None:
        if not isinstance(item, Update):
            return None
        user, chat = item.effective_user, item.effective_chat
        return user.id if user is not None else chat.id if chat is not None else 0

    def append(self, item: Any) -> None:
        self._size += 1
        key = self.sender(item)
        if key is None:
            self._other.append(item)
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = deque()
            self._turns.append(key)
        lane.append(item)

    def popleft(self) -> Any:
        if not self._size:
            raise IndexError("pop from an empty queue")
        self._size -= 1
        if not self._turns:
            return self._other.popleft()
        key = self._turns.popleft()
        lane = self._lanes[key]
        item = lane.popleft()
        if lane:
            self._turns.append(key)
        else:
            del self._lanes[key]
        return item


class DurableUpdateQueue(asyncio.Queue[object]):
    """The Application's ``update_queue``: every ``Update`` put here is stored before it is queued.

    ``put`` never raises to PTB (only a cancellation at a stop ends it): a failing write is retried; an update
    that cannot be turned into JSON is set aside as a dead letter instead of being queued. Updates are taken
    fairly, in turn by sender (``FairLanes``).

    The next ``getUpdates`` waits (``settled``) until the updates already queued have been taken, at most
    ``POLL_HOLD``: polling while the bot is still busy with earlier updates would fetch the next one alone, a poll
    per update; waiting lets Telegram gather what arrives meanwhile into one batch. No update waits longer for it
    than it would have waited in the queue, except one that arrives in the last ``POLL_HOLD`` of a long backlog.
    """

    #: Seconds the next poll waits at most for the queued updates to be taken.
    POLL_HOLD = 0.2

    def _init(self, maxsize: int) -> None:
        self._queue = FairLanes()
        self._drained = asyncio.Event()
        self._drained.set()

    def _put(self, item: Any) -> None:
        self._queue.append(item)
        self._drained.clear()

    def _get(self) -> Any:
        item = self._queue.popleft()
        if not self._queue:
            self._drained.set()
        return item

    async def settled(self) -> None:
        """Return once every queued update has been taken (the last may still be in its handler), or after
        ``POLL_HOLD`` seconds."""
        if self._drained.is_set():
            return
        try:
            async with asyncio.timeout(self.POLL_HOLD):
                await self._drained.wait()
        except TimeoutError:
            pass

    #: ids of updates stored with their batch (``store_received``) and not queued yet, at most this many
    STORED_AHEAD = 10_000

    def __init__(self, db: Database, clock: Clock, liveness: Liveness | None = None) -> None:
        super().__init__()
        self.db = db
        self.clock = clock
        self.liveness = liveness or Liveness()
        self._stored_ahead: set[int] = set()
        self._receiving = True

    async def put(self, item: Any) -> None:
        if isinstance(item, Update):
            if item.update_id in self._stored_ahead:
                self._stored_ahead.discard(item.update_id)
            elif not await self._store(item):
                return
        await super().put(item)

    async def store_received(self, batch: list[Any]) -> None:
        """Store a ``getUpdates`` batch as Telegram sent it, in one transaction, before PTB turns it into updates
        and queues them one by one (``put`` then writes nothing more). PTB confirms a batch with the next poll, which
        waits for this: a failing write is retried (as in ``put``), and the batch stays unconfirmed meanwhile."""
        if not self._receiving:
            return
        received, stored = to_iso(self.clock.now()), to_iso(wall_now())
        statements: list[tuple[str, tuple[Any, ...]]] = []
        ids = []
        for raw in batch:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                continue  # not an update PTB could read either; ``put`` never sees it
            statements.append((
                "INSERT INTO inbound_updates(update_id, data, received_at, stored_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(update_id) DO NOTHING",
                (update_id, json.dumps(raw, ensure_ascii=False), received, stored)))
            ids.append(update_id)
        if not statements:
            return
        await retry_write(f"store updates {ids[0]}..{ids[-1]}", lambda: self.db.write_batch(statements),
                          self.liveness)
        if len(self._stored_ahead) > self.STORED_AHEAD:  # ids PTB never queued (it could not read them)
            self._stored_ahead.clear()
        self._stored_ahead.update(ids)

    async def _store(self, update: Update) -> bool:
        try:
            data = json.dumps(update.to_dict(), ensure_ascii=False)
        except Exception as exc:
            log.error("update %s cannot be stored (%s); setting it aside", update.update_id, type(exc).__name__)
            kept, reason = repr(update)[:10_000], deadletters.reason_of(exc)
            await retry_write(f"set aside update {update.update_id}", lambda: deadletters.set_aside(
                self.db, update_id=update.update_id, data=kept, reason=reason, attempts=1, now=self.clock.now()),
                self.liveness)
            return False
        await retry_write(f"store update {update.update_id}", lambda: self.db.execute(
            "INSERT INTO inbound_updates(update_id, data, received_at, stored_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(update_id) DO NOTHING",
            (update.update_id, data, to_iso(self.clock.now()), to_iso(wall_now())),
        ), self.liveness)
        return True

    def stop_receiving(self) -> None:
        """Polling stops: PTB's last ``getUpdates`` confirms the batches it queued and never queues what it returns
        (Telegram keeps those for the next start), so they are not stored, and a stop never waits for a write."""
        self._receiving = False

    async def put_replayed(self, item: Update) -> None:
        """Queue an update that is already stored."""
        await super().put(item)


class FailedUpdates:
    """Updates whose handling raised: tried again after a pause, then set aside as dead letters.

    A fault that passes (a lock, a full disk, the network) gets more tries over a longer time than a defect (a
    handler raising on this update every time). Between tries the update waits in ``inbound_updates`` with its
    count, so a restart tries it too; it is never marked a duplicate when it comes back.
    """

    ATTEMPTS = 3
    TRANSIENT_ATTEMPTS = 8
    DELAYS: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)

    def __init__(self, db: Database, clock: Clock, queue: DurableUpdateQueue) -> None:
        self.db = db
        self.clock = clock
        self.queue = queue
        self.attempts: dict[int, int] = {}
        self._retrying: set[int] = set()
        self._timers: set[asyncio.Task[None]] = set()
        self.stopped = False
        #: the running bot (set at start), to read replayed updates back
        self.bot: Bot | None = None

    def restore(self, update_id: int, attempts: int) -> None:
        """An update replayed at start had already failed ``attempts`` times."""
        if attempts:
            self.attempts[update_id] = attempts
            self._retrying.add(update_id)

    def is_retry(self, update_id: int) -> bool:
        """True once for an update coming back for another try (it is not a duplicate delivery)."""
        if update_id in self._retrying:
            self._retrying.discard(update_id)
            return True
        return False

    def succeeded(self, update_id: int) -> None:
        self.attempts.pop(update_id, None)

    async def failed(self, update: Update, error: BaseException) -> str:
        """Record a failed try: "retry" (it comes back later) or "dead" (set aside, sender and admins told).
        Never raises."""
        update_id = update.update_id
        attempt = self.attempts.get(update_id, 0) + 1
        self.attempts[update_id] = attempt
        limit = self.TRANSIENT_ATTEMPTS if is_transient(error) else self.ATTEMPTS
        try:
            data = json.dumps(update.to_dict(), ensure_ascii=False)
        except Exception:
            data = repr(update)[:10_000]
        if attempt >= limit:
            try:
                await deadletters.set_aside(self.db, update_id=update_id, data=data, reason=error, attempts=attempt,
                                            now=self.clock.now())
            except Exception as exc:
                log.error("update %s failed %s times and could not be set aside either (%s: %s); trying it again"
                          " later", update_id, attempt, type(exc).__name__, exc)
            else:
                self.attempts.pop(update_id, None)
                log.error("update %s failed %s times (%s: %s); set aside as a dead letter, sender and admins told",
                          update_id, attempt, type(error).__name__, error)
                return "dead"
        try:
            await self.db.write_batch([
                ("INSERT INTO inbound_updates(update_id, data, received_at, attempts, stored_at) VALUES (?, ?, ?, ?,"
                 " ?) ON CONFLICT(update_id) DO UPDATE SET attempts = excluded.attempts",
                 (update_id, data, to_iso(self.clock.now()), attempt, to_iso(wall_now()))),
                ("DELETE FROM processed_updates WHERE update_id = ?", (update_id,)),
            ])
        except Exception as exc:
            log.error("could not keep failed update %s for a restart (%s: %s); retrying it from memory", update_id,
                      type(exc).__name__, exc)
        delay = self.DELAYS[min(attempt - 1, len(self.DELAYS) - 1)]
        log.warning("update %s failed (try %s of %s: %s); trying it again in %.1f s", update_id, attempt, limit,
                    type(error).__name__, delay)
        self.later(update, delay)
        return "retry"

    def later(self, update: Update, delay: float) -> None:
        if self.stopped:
            return  # kept in inbound_updates: the next start takes it

        async def again() -> None:
            await asyncio.sleep(delay)
            self._retrying.add(update.update_id)
            await self.queue.put_replayed(update)

        timer = asyncio.create_task(again(), name=f"sambang:retry-update-{update.update_id}")
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def replay_requested(self, bot: Bot | None = None) -> int:
        """Queue the dead letters an admin asked to replay. Returns how many."""
        bot = bot or self.bot
        if bot is None or self.stopped:
            return 0
        taken = await deadletters.take_replays(self.db, now=self.clock.now())
        count = 0
        for update_id, data in taken:
            try:
                update = Update.de_json(json.loads(data), bot)
            except Exception:
                log.exception("dead letter %s cannot be read back; not replayed", update_id)
                continue
            if update is None:
                continue
            self.attempts.pop(update_id, None)
            self._retrying.add(update_id)
            await self.queue.put_replayed(update)
            count += 1
        if count:
            log.warning("replaying %s dead letters on an admin's request", count)
        return count

    async def stop(self) -> None:
        """No more retries from this process (what waits for one stays stored for the next start)."""
        self.stopped = True
        for timer in list(self._timers):
            timer.cancel()
        if self._timers:
            await asyncio.gather(*self._timers, return_exceptions=True)


async def mark_handled(db: Database, update_id: int, private_user_id: int | None, now: str) -> bool:
    """Mark an update handled (False if it already was: a duplicate delivery) in one transaction and one trip to
    the writer: it leaves ``inbound_updates``, the last update time moves on, and a person who writes to the bot
    privately has evidently not blocked it."""
    statements: list[tuple[str, tuple[Any, ...]]] = [
        ("INSERT INTO processed_updates(update_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING", (update_id, now)),
        # Stored on arrival (DurableUpdateQueue); handled from here on, so a restart must not replay it.
        ("DELETE FROM inbound_updates WHERE update_id = ?", (update_id,)),
        ("INSERT INTO app_state(key, value) VALUES ('last_update_at', ?) ON CONFLICT(key) DO UPDATE SET"
         " value = excluded.value", (now,)),
    ]
    if private_user_id is not None:
        statements.append(("UPDATE people SET blocked_bot_at = NULL WHERE telegram_id = ? AND blocked_bot_at IS NOT"
                           " NULL", (private_user_id,)))
    results = await db.write_batch(statements)
    return results[0].rowcount > 0


async def forget_another_bots_updates(db: Database, bot_id: int) -> bool:
    """Telegram numbers the updates of each bot in its own sequence. When the database was used by another bot
    before (a new bot was made for the regency, its token put in place of the old), the old bot's marks in
    ``processed_updates`` would make this one ignore its own first updates whose ids happen to match, as if they
    were redeliveries: they are forgotten. True when that happened. The bot's id is kept in ``app_state``."""
    stored = await db.lookup_val("SELECT value FROM app_state WHERE key = 'bot_id'")
    if stored == str(bot_id):
        return False
    statements: list[tuple[str, tuple[Any, ...]]] = [
        ("INSERT INTO app_state(key, value) VALUES ('bot_id', ?) ON CONFLICT(key) DO UPDATE SET"
         " value = excluded.value", (str(bot_id),)),
    ]
    if stored is not None:
        statements.insert(0, ("DELETE FROM processed_updates", ()))
    await db.write_batch(statements)
    if stored is not None:
        log.warning("this database was used by another bot (id %s, now %s): its handled-update marks are"
                    " forgotten", stored, bot_id)
    return stored is not None


async def mark_dropped(db: Database, update_ids: list[int], now: str) -> None:
    """Mark updates handled that were dropped unread (a flood), in one write however many they are."""
    if not update_ids:
        return
    ids = json.dumps(update_ids)
    await db.write_batch([
        ("INSERT INTO processed_updates(update_id, at) SELECT value, ? FROM json_each(?) WHERE true"
         " ON CONFLICT DO NOTHING", (now, ids)),
        ("DELETE FROM inbound_updates WHERE update_id IN (SELECT value FROM json_each(?))", (ids,)),
        ("INSERT INTO app_state(key, value) VALUES ('last_update_at', ?) ON CONFLICT(key) DO UPDATE SET"
         " value = excluded.value", (now,)),
    ])


async def pending_updates(db: Database, bot: Bot, *, now: datetime | None = None) -> list[tuple[Update, int]]:
    """Stored updates that were never handled, oldest first, with how often their handling failed (ones already
    handled are cleaned up; one that cannot be read back is set aside as a dead letter)."""
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM inbound_updates WHERE update_id IN (SELECT update_id FROM processed_updates) AND attempts = 0"
        )
    rows = await db.fetchall("SELECT update_id, data, attempts FROM inbound_updates ORDER BY update_id")
    updates: list[tuple[Update, int]] = []
    for row in rows:
        try:
            update = Update.de_json(json.loads(row["data"]), bot)
        except Exception as exc:  # a row that cannot be read back must not stop the bot, nor be lost
            log.error("inbound update %s cannot be decoded (%s); setting it aside", row["update_id"],
                      type(exc).__name__)
            await deadletters.set_aside(db, update_id=row["update_id"], data=row["data"], reason=exc,
                                        attempts=row["attempts"] + 1, now=now or wall_now())
            continue
        if update is not None:
            updates.append((update, row["attempts"]))
    return updates


async def replay_pending(queue: asyncio.Queue[object], db: Database, bot: Bot,
                         failures: FailedUpdates | None = None) -> int:
    """Put the updates a crash left unhandled (or that wait for another try) back into the queue. Returns how
    many."""
    updates = await pending_updates(db, bot, now=failures.clock.now() if failures is not None else None)
    for update, attempts in updates:
        if failures is not None:
            failures.restore(update.update_id, attempts)
        if isinstance(queue, DurableUpdateQueue):
            await queue.put_replayed(update)
        else:
            await queue.put(update)
    if updates:
        log.warning("handling %s updates received before the last stop but never handled", len(updates))
    if failures is not None:
        await failures.replay_requested(bot)
    return len(updates)
