"""SQLite through aiosqlite: one writer connection serialised by a lock, one reader, numbered migrations.

WAL lets the reader see committed data while the writer works; every change goes through ``transaction()`` so that
a change and the outbox rows announcing it commit together or not at all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple, cast

import aiosqlite

log = logging.getLogger(__name__)

Row = sqlite3.Row
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


#: The database, its -wal/-shm files, backups and exports hold people's names, phone numbers and aspirations: only the
#: bot's own user may read them.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by the bot's user only; an existing folder is left as it is
    (it may be a mounted volume the operator set up)."""
    if not path.exists():
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        os.chmod(path, PRIVATE_DIR)  # mkdir's mode is reduced by the umask; the owner keeps rwx either way


def private_file(path: Path) -> None:
    """Make sure ``path`` exists with mode 0600: created empty if missing, tightened if others could read it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, PRIVATE_FILE)
        except OSError:  # not ours to change: it still works, the operator chose the modes
            log.warning("could not make %s private", path)
        return
    os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 (never readable by others, not even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(fd, PRIVATE_FILE)
        handle.write(data)


def _private_database(path: Path) -> None:
    """The database folder is created 0700; the database and its -wal/-shm files are 0600 (SQLite gives the -wal
    and -shm files it creates the database file's mode)."""
    private_dir(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            private_file(extra)


def migration_files() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every migration shipped in ``bot/migrations``, in order."""
    found = []
    for entry in resources.files("bot.storage.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if len(numbers) != len(set(numbers)):
        raise RuntimeError(f"duplicate migration numbers: {numbers}")
    return found


#: Seconds a write waits for another process's lock (an operator's sqlite3 session, a VACUUM) before it fails.
DEFAULT_BUSY_TIMEOUT = 10.0


#: ``PRAGMA synchronous`` values the bot accepts (SAMBANG_DB_SYNCHRONOUS), weakest first; see ``Database``.
SYNCHRONOUS_LEVELS = ("NORMAL", "FULL", "EXTRA")
DEFAULT_SYNCHRONOUS = "NORMAL"


async def _configure(conn: aiosqlite.Connection, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
                     synchronous: str = DEFAULT_SYNCHRONOUS) -> None:
    if synchronous not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_LEVELS}, not {synchronous!r}")
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute(f"PRAGMA synchronous={synchronous}")
    await conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")


def _configure_quick(conn: sqlite3.Connection) -> None:
    """The connection for ``Database.quick_fetchall``: read-only, never waits for a lock."""
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=0")


class Database:
    """The bot's database. Use ``await Database.open(path)``; close with ``await db.close()``.

    Durability (``synchronous``, SAMBANG_DB_SYNCHRONOUS; the journal is always WAL):

    - ``NORMAL`` (default): a commit is in the WAL file when ``write_batch``/``transaction`` returns, so a crash
      of the process (SIGKILL, an exception, the OOM killer) loses nothing that was committed, and nothing the bot
      acknowledged (an update is stored before Telegram is told it arrived; a change is committed before its reply).
      A power cut or a kernel crash can lose the commits since the WAL was last synced to disk (at most a few
      seconds: the WAL is synced at each checkpoint), never the database's consistency.
    - ``FULL``: the WAL is also synced to disk at every commit, so a power cut loses nothing committed either;
      each commit then waits for the disk (milliseconds on an SSD), and writes run in the writer's thread so the
      wait never blocks the event loop.
    - ``EXTRA``: as ``FULL``, and the folder is synced too when the WAL is reset.

    Short writes (``write_batch``, ``execute``) run at once on the event loop's thread with ``NORMAL``: a commit
    then costs no hand-off to another thread, and the WAL is only written to the OS. When another process holds
    the lock they wait for it in the writer's thread instead, so the loop never waits for a lock.
    """

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection,
                 quick: sqlite3.Connection | None = None, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
                 synchronous: str = DEFAULT_SYNCHRONOUS) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._reads = Queries(reader)
        #: a third connection, used only from the event loop's thread for small indexed reads
        self._quick = quick
        self._busy_ms = int(busy_timeout * 1000)
        #: whether the writer connection waits for another process's lock (its busy timeout) or fails at once (0,
        #: for writes on the loop's thread); switched only when the next write needs the other, under the write lock
        self._writer_waits = True
        self.synchronous = synchronous
        #: writes run on the loop's thread (no thread hand-off) unless each commit waits for the disk
        self.inline_writes = synchronous == "NORMAL"
        #: commits made on the loop's thread since the WAL was last checkpointed (see ``_write_inline``)
        self._inline_commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self._write_lock = PriorityLock()
        self._commit_listeners: list[tuple[Callable[[], None], tuple[str, ...] | None]] = []
        self._change_counts: dict[str, int] = {}
        #: Called before every write with its first statement (None for ``transaction()``); raising there fails the
        #: write as SQLite would. Tests simulate a full or failing disk with it.
        self.write_fault: Callable[[str | None], None] | None = None

    def on_commit(self, listener: Callable[[], None], *, tables: Iterable[str] | None = None) -> None:
        """Call ``listener`` after every commit, or with ``tables`` only after commits whose writes named one of
        them (the outbox sender wakes up this way when messages were queued, not after every write)."""
        self._commit_listeners.append((listener, None if tables is None else tuple(t.lower() for t in tables)))

    def changes(self, table: str) -> int:
        """How many commits of this process wrote ``table`` since it was first asked about: what was read from it
        is still current while the count stays the same (a process of its own, such as a ``sambang`` command, is
        not counted: use it for what one update reads twice, not to keep rows between updates)."""
        table = table.lower()
        if table not in self._change_counts:
            self._change_counts[table] = 0

            def counted() -> None:
                self._change_counts[table] += 1

            self.on_commit(counted, tables=[table])
        return self._change_counts[table]

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
                   synchronous: str = DEFAULT_SYNCHRONOUS) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            _private_database(path)
        # the writer is used from its own thread and, for short writes under the write lock, from the loop's
        writer = await aiosqlite.connect(str(path), isolation_level=None, check_same_thread=False)
        try:
            await _configure(writer, busy_timeout, synchronous)
            reader = await aiosqlite.connect(str(path), isolation_level=None)
        except BaseException:
            await writer.close()
            raise
        db = cls(path, writer, reader, busy_timeout=busy_timeout, synchronous=synchronous)
        try:
            if db.inline_writes:  # its checkpoints run in the writer's thread instead (see ``_write_inline``)
                await writer.execute("PRAGMA wal_autocheckpoint=0")
            await _configure(reader, busy_timeout, synchronous)
            if migrate:
                await db.migrate()
            if str(path) != ":memory:":
                db._quick = sqlite3.connect(str(path), isolation_level=None)
                _configure_quick(db._quick)
        except BaseException:
            # aiosqlite's worker threads would otherwise keep the process alive after the error
            await db.close()
            raise
        return db

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        async with self._write_lock:
            await self._writer.close()
        await self._reader.close()
        if self._quick is not None:
            self._quick.close()
            self._quick = None

    # -- migrations -------------------------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        """Apply the migrations not applied yet, each in its own transaction. Returns the names applied."""
        applied: list[str] = []
        async with self._write_lock:
            self._wait_for_locks(True)
            await self._writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
            )
            cur = await self._writer.execute("SELECT number FROM schema_migrations")
            done = {row[0] for row in await cur.fetchall()}
            for number, name, sql in migration_files():
                if number in done:
                    continue
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_sql(sql):
                        await self._writer.execute(statement)
                    await self._writer.execute(
                        "INSERT INTO schema_migrations(number, name) VALUES (?, ?)", (number, name)
                    )
                    await self._writer.execute("COMMIT")
                except BaseException:
                    await self._writer.execute("ROLLBACK")
                    raise
                log.info("applied migration %s", name)
                applied.append(name)
        return applied

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT COALESCE(MAX(number), 0) AS n FROM schema_migrations")
        return int(row["n"]) if row else 0

    # -- reads ------------------------------------------------------------------------------------------------

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        return await self._reads.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        return await self._reads.fetchall(sql, params)

    async def fetchval(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        return await self._reads.fetchval(sql, params)

    def quick_fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        """A small read by an index (a person by Telegram id, a draft by its key) run at once on the loop's thread:
        for the lookups made for every update, where a hand-off to the reader's thread costs more than the query.
        Never for a report or a scan. Raises ``sqlite3.OperationalError`` as SQLite does (it never waits for a
        lock); ``lookup_all`` falls back to the reader's thread then."""
        if self._quick is None:
            raise RuntimeError("the database is closed")
        return self._quick.execute(sql, params).fetchall()

    async def lookup_all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        """``quick_fetchall`` where one can be used, ``fetchall`` otherwise (a busy database, an in-memory one)."""
        if self._quick is not None:
            try:
                return self.quick_fetchall(sql, params)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
        return await self.fetchall(sql, params)

    async def lookup_one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        """The first row of ``lookup_all`` (None if none)."""
        rows = await self.lookup_all(sql, params)
        return rows[0] if rows else None

    async def lookup_val(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """The first column of ``lookup_one`` (None if no row), as ``fetchval`` is to ``fetchone``."""
        row = await self.lookup_one(sql, params)
        return None if row is None else row[0]

    # -- writes -----------------------------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False, inline: bool = False) -> AsyncIterator[Transaction]:
        """A write transaction; commits on success, rolls back on any exception.

        ``urgent`` goes ahead of writes already waiting (the outbox marks a message sent this way, which keeps the
        time between Telegram's answer and the mark — the at-least-once window — as short as it can be).

        ``inline`` runs its statements at once on the event loop's thread (as ``write_batch`` does) instead of one
        trip to the writer's thread each: for the short transactions made while a person waits (an aspiration
        sent, its forwards queued, an outbox mark). Each trip costs some 90 µs of CPU in thread hand-offs, a
        statement on the loop's thread one or two. Only with ``synchronous=NORMAL`` (a commit never waits for the
        disk) and when no other process holds the lock (otherwise it waits for it in the writer's thread). Never
        for a transaction that may run long (an import, a prune, a broadcast): the loop would stand still meanwhile.
        """
        async with self._write_lock.priority(urgent):
            if self.write_fault is not None:
                self.write_fault(None)
            if inline and self.inline_writes and self._begin_inline():
                conn = self._writer._conn
                tx: Transaction = InlineTransaction(self._writer)
                try:
                    yield tx
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                self._inline_committed()
            else:
                self._wait_for_locks(True)
                await self._writer.execute("BEGIN IMMEDIATE")
                tx = Transaction(self._writer)
                try:
                    yield tx
                except BaseException:
                    await self._writer.execute("ROLLBACK")
                    raise
                else:
                    await self._writer.execute("COMMIT")
        self._committed(tx.writes)

    def _begin_inline(self) -> bool:
        """BEGIN IMMEDIATE on the loop's thread; False (nothing begun) when another process holds the lock."""
        self._wait_for_locks(False)
        try:
            self._writer._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc) and not self._writer._conn.in_transaction:
                return False
            raise
        return True

    def _committed(self, writes: Iterable[str]) -> None:
        """Call the commit listeners whose tables these statements wrote (all listeners without tables)."""
        written = [sql.lower() for sql in writes]
        for listener, tables in self._commit_listeners:
            if tables is None or any(table in sql for sql in written for table in tables):
                listener()

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *, urgent: bool = False) -> int:
        """One statement in its own transaction; returns lastrowid."""
        return (await self.write_batch([(sql, params)], urgent=urgent))[0].lastrowid

    async def write_batch(self, statements: Sequence[tuple[str, Sequence[Any] | dict[str, Any]]], *,
                          urgent: bool = False, notify: bool = True) -> list[WriteResult]:
        """Several writes in one transaction, in one trip to the writer's thread: BEGIN, the statements, COMMIT.

        For the writes made for every update (the update stored on arrival, marked handled, the conversation's
        state): a ``transaction()`` costs a trip per statement plus two, and each trip is a thread hand-off.
        ``notify=False`` skips the commit listeners (a write no listener needs to hear of, such as the outbox
        sender claiming a row it is about to send).
        """
        async with self._write_lock.priority(urgent):
            if self.write_fault is not None and statements:
                self.write_fault(statements[0][0])
            results = self._write_inline(statements) if self.inline_writes else None
            if results is None:
                self._wait_for_locks(True)
                # aiosqlite's own queue, through which all its calls go (private in 0.20-0.22, covered by the
                # tests): the function runs in the writer's thread
                execute = cast(Callable[..., Awaitable[list[WriteResult]]], self._writer._execute)  # untyped there
                results = await execute(_write_batch, self._writer._conn, statements)
        if notify:
            self._committed(sql for sql, _params in statements)
        return results

    def _write_inline(self, statements: Sequence[tuple[str, Any]]) -> list[WriteResult] | None:
        """``_write_batch`` on the loop's thread, called with the write lock held (so the writer's thread is idle).
        None when another process holds the database's lock: the caller then waits for it in the writer's thread
        (with the busy timeout), never on the loop."""
        conn = self._writer._conn
        self._wait_for_locks(False)
        try:
            results = _write_batch(conn, statements)
        except sqlite3.OperationalError as exc:
            if _is_busy(exc) and not conn.in_transaction:
                return None
            raise
        self._inline_committed()
        return results

    def _inline_committed(self) -> None:
        """Count a commit made on the loop's thread. SQLite's automatic checkpoint would copy the WAL into the
        database (and sync both) inside such a commit, on the loop's thread: it is off for the writer, and done
        every so many commits in the writer's thread instead."""
        self._inline_commits += 1
        if self._inline_commits >= self.CHECKPOINT_EVERY and self._checkpoint is None:
            self._checkpoint = asyncio.get_running_loop().create_task(self._run_checkpoint())

    def _wait_for_locks(self, wait: bool) -> None:
        """Set the writer's busy timeout for the next write: waiting in the writer's thread, or failing at once on
        the loop's thread (which must never wait). Called with the write lock held, so the writer's thread is idle;
        a PRAGMA only when it changes (most writes take the same path as the one before)."""
        if self._writer_waits is wait:
            return
        self._writer._conn.execute(f"PRAGMA busy_timeout={self._busy_ms if wait else 0}")
        self._writer_waits = wait

    #: inline commits between two checkpoints (a few pages each: about SQLite's default of 1,000 pages)
    CHECKPOINT_EVERY = 300

    async def _run_checkpoint(self) -> None:
        try:
            async with self._write_lock:
                self._inline_commits = 0
                self._wait_for_locks(True)
                await self._writer.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:  # a failed checkpoint is tried again after the next commits; the WAL just grows
            log.warning("WAL checkpoint failed (%s: %s)", type(exc).__name__, exc)
        finally:
            self._checkpoint = None

    async def backup_to(self, target: Path) -> None:
        """Online copy of the live database (SQLite backup API), safe while the bot runs."""
        private_dir(target.parent)
        private_file(target)
        async with self._write_lock:
            self._wait_for_locks(True)
            dest = await aiosqlite.connect(str(target))
            try:
                await self._writer.backup(dest)
            finally:
                await dest.close()


#: Retried writes: the waits between tries (the last repeats); from this try on each failure is an ERROR.
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
RETRY_ERROR_AFTER = 4


async def retry_write(what: str, write: Callable[[], Awaitable[Any]], *,
                      failing: Callable[[bool], None] | None = None) -> Any:
    """Run ``write`` until it succeeds (another process's lock, a full disk): a WARNING for each failed try, an
    ERROR once it keeps failing. Only a cancellation (a stop) ends it otherwise. ``failing`` hears True at each
    failure and False at the success after one."""
    attempt = 0
    while True:
        try:
            result = await write()
        except Exception as exc:
            attempt += 1
            delay = RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)]
            if failing is not None:
                failing(True)
            level = logging.ERROR if attempt >= RETRY_ERROR_AFTER else logging.WARNING
            log.log(level, "could not %s (try %s): %s: %s; trying again in %.1f s", what, attempt,
                    type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)
            continue
        if attempt:
            log.warning("%s succeeded after %s failed tries", what, attempt)
            if failing is not None:
                failing(False)
        return result


class PriorityLock:
    """An asyncio lock with two queues: urgent waiters are served before normal ones, each queue in order."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())

    def locked(self) -> bool:
        return self._locked

    async def acquire(self, urgent: bool = False) -> None:
        if not self._locked and not self._waiters[0] and not self._waiters[1]:
            self._locked = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiters[0 if urgent else 1]
        queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._wake_next()  # the lock was handed to us as we were cancelled: pass it on
            elif future in queue:
                queue.remove(future)
            raise

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("PriorityLock is not acquired")
        self._wake_next()

    def _wake_next(self) -> None:
        for queue in self._waiters:
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)  # ownership passes straight to this waiter
                    return
        self._locked = False

    @asynccontextmanager
    async def priority(self, urgent: bool = False) -> AsyncIterator[None]:
        await self.acquire(urgent)
        try:
            yield
        finally:
            self.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class WriteResult(NamedTuple):
    rowcount: int
    lastrowid: int
    #: rows the statement returned (a SELECT, or RETURNING)
    rows: list[Row]


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY: another connection holds the lock this one needs."""
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(error).lower()


def _write_batch(conn: sqlite3.Connection, statements: Sequence[tuple[str, Any]]) -> list[WriteResult]:
    """Runs in the writer connection's thread, or on the loop's thread with the write lock held (see
    ``Database.write_batch``)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        results = []
        for sql, params in statements:
            cur = conn.execute(sql, params)
            rows = cur.fetchall()
            results.append(WriteResult(cur.rowcount, cur.lastrowid or 0, rows))
            cur.close()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return results


class Queries:
    """Parameterised reads on one connection.

    Each read runs and finishes in one step of aiosqlite's worker thread (``execute_fetchall``): a statement left
    open across an ``await`` would keep the connection's read snapshot, and another coroutine reading meanwhile on
    the shared reader would not see what was committed since (a flaky, stale read).
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Transaction(Queries):
    """The writer connection inside ``Database.transaction()``; reads here see this transaction's writes."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        #: the write statements of this transaction (which tables it wrote, for the commit listeners)
        self.writes: list[str] = []

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        self.writes.append(sql)
        # one trip to the connection's thread; last_insert_rowid() is what cursor.lastrowid reports
        row = await self._conn.execute_insert(sql, params)
        return (row[0] if row else 0) or 0

    async def execute_rowcount(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        self.writes.append(sql)
        cur = await self._conn.execute(sql, params)
        try:
            return cur.rowcount
        finally:
            await cur.close()

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.writes.append(sql)
        await self._conn.executemany(sql, rows)


class InlineTransaction(Transaction):
    """``Transaction`` run on the event loop's thread (``Database.transaction(inline=True)``): each statement is a
    direct call on the writer's connection, whose thread is idle while the write lock is held."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        self._raw = conn._conn

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        return self._raw.execute(sql, params).fetchall()

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        self.writes.append(sql)
        # as aiosqlite's execute_insert: the connection's last inserted rowid, which the cursor reports without a
        # second statement
        return self._raw.execute(sql, params).lastrowid or 0

    async def execute_rowcount(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        self.writes.append(sql)
        return self._raw.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.writes.append(sql)
        self._raw.executemany(sql, rows)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement keeps triggers and strings intact)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if not buffer and line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()):
        raise ValueError(f"incomplete SQL statement in migration: {buffer[:80]!r}")
    return statements
