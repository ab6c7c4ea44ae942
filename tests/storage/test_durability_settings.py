"""The database's durability setting and its fast paths: short writes on the event loop's thread never make the loop
wait for another process's lock, lookups see every committed write, and SAMBANG_DB_SYNCHRONOUS picks what a power
cut can cost."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.config import Config, ConfigError
from bot.storage.database import Database
from bot.telegram.inbound import db_synchronous


async def _loop_stalls_while(work: asyncio.Future[object] | asyncio.Task[object]) -> float:
    """The longest the event loop went without running a 10 ms ticker while ``work`` ran."""
    longest = 0.0
    last = time.monotonic()
    while not work.done():
        await asyncio.sleep(0.01)
        now = time.monotonic()
        longest = max(longest, now - last)
        last = now
    return longest


async def _write_while_another_process_holds_the_lock(path: Path,
                                                     write: Callable[[Database], Awaitable[object]]) -> None:
    """``write`` while an operator's session holds the write lock for 0.6 s: it must wait for the lock without the
    event loop standing still, and then be stored."""
    db = await Database.open(path, busy_timeout=5)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        assert db.inline_writes
        other.execute("BEGIN IMMEDIATE")  # an operator's session holding the write lock
        work = asyncio.ensure_future(write(db))
        asyncio.get_running_loop().call_later(0.6, lambda: other.execute("ROLLBACK"))
        stall = await _loop_stalls_while(work)
        await work
        assert stall < 0.3, f"the event loop stood still {stall:.2f} s waiting for the lock"
        assert await db.lookup_one("SELECT value FROM app_state WHERE key = 'k'") is not None
    finally:
        other.close()
        await db.close()


async def test_a_short_write_waits_for_another_process_lock_without_blocking_the_loop(tmp_path: Path) -> None:
    await _write_while_another_process_holds_the_lock(
        tmp_path / "s.db", lambda db: db.execute("INSERT INTO app_state(key, value) VALUES ('k', 'v')"))


async def test_a_failing_batch_on_the_loop_thread_leaves_nothing_half_written(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "f.db")
    try:
        with pytest.raises(sqlite3.IntegrityError):
            await db.write_batch([
                ("INSERT INTO app_state(key, value) VALUES ('a', '1')", ()),
                ("INSERT INTO app_state(key, value) VALUES ('a', '2')", ()),  # the same key: the batch fails
            ])
        assert await db.fetchval("SELECT COUNT(*) FROM app_state WHERE key = 'a'") == 0
        await db.execute("INSERT INTO app_state(key, value) VALUES ('a', '3')")  # the writer is usable again
        row = await db.lookup_one("SELECT value FROM app_state WHERE key = 'a'")
        assert row is not None and row["value"] == "3"
    finally:
        await db.close()


async def test_lookups_see_each_committed_write_at_once(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "l.db")
    try:
        for n in range(20):
            await db.execute("INSERT INTO app_state(key, value) VALUES ('n', ?) ON CONFLICT(key) DO UPDATE SET"
                             " value = excluded.value", (str(n),))
            row = await db.lookup_one("SELECT value FROM app_state WHERE key = 'n'")
            assert row is not None and row["value"] == str(n)
        with pytest.raises(sqlite3.OperationalError):  # the lookup connection only reads
            db.quick_fetchall("DELETE FROM app_state")
    finally:
        await db.close()


@pytest.mark.parametrize(("setting", "pragma", "inline"), [(None, 1, True), ("normal", 1, True), ("FULL", 2, False),
                                                            ("extra", 3, False)])
async def test_synchronous_setting(tmp_path: Path, setting: str | None, pragma: int, inline: bool) -> None:
    extra = {"SAMBANG_DB_SYNCHRONOUS": setting} if setting else {}
    config = Config(token="1:x", db_path=tmp_path / "d.db", extra=extra)
    db = await Database.open(config.db_path, synchronous=db_synchronous(config))
    try:
        assert await db.fetchval("PRAGMA synchronous") == pragma
        assert db.inline_writes is inline  # a commit that waits for the disk never runs on the loop's thread
        assert await db.execute("INSERT INTO app_state(key, value) VALUES ('s', '1')")
        assert await db.fetchval("SELECT value FROM app_state WHERE key = 's'") == "1"
    finally:
        await db.close()


def test_synchronous_off_is_refused(tmp_path: Path) -> None:
    config = Config(token="1:x", db_path=tmp_path / "d.db", extra={"SAMBANG_DB_SYNCHRONOUS": "OFF"})
    with pytest.raises(ConfigError) as caught:
        db_synchronous(config)
    assert "SAMBANG_DB_SYNCHRONOUS" in str(caught.value)


async def test_the_wal_is_copied_into_the_database_file_every_so_many_writes(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Database, "CHECKPOINT_EVERY", 5)
    db = await Database.open(tmp_path / "c.db")
    try:
        for n in range(5):
            await db.execute("INSERT INTO app_state(key, value) VALUES (?, 'v')", (f"k{n}",))
        checkpoint = db._checkpoint
        assert checkpoint is not None  # runs in the writer's thread, not inside a commit on the loop's
        await checkpoint
        # the database file alone (without its WAL) now holds the writes
        (tmp_path / "copy.db").write_bytes((tmp_path / "c.db").read_bytes())
        copy = sqlite3.connect(tmp_path / "copy.db")
        try:
            assert copy.execute("SELECT COUNT(*) FROM app_state WHERE key LIKE 'k%'").fetchone() == (5,)
        finally:
            copy.close()
    finally:
        await db.close()


async def test_an_inline_transaction_commits_whole_or_not_at_all(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "i.db")
    heard: list[str] = []
    db.on_commit(lambda: heard.append("app_state"), tables=["app_state"])
    try:
        async with db.transaction(inline=True) as tx:
            await tx.execute("INSERT INTO app_state(key, value) VALUES ('a', '1')")
            assert await tx.fetchval("SELECT value FROM app_state WHERE key = 'a'") == "1"  # sees its own write
        assert heard == ["app_state"]
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction(inline=True) as tx:
                await tx.execute("INSERT INTO app_state(key, value) VALUES ('b', '1')")
                await tx.execute("INSERT INTO app_state(key, value) VALUES ('a', '2')")  # the same key: it fails
        assert await db.fetchval("SELECT COUNT(*) FROM app_state WHERE key IN ('a', 'b')") == 1
        assert heard == ["app_state"]  # nothing committed, nobody woken
        async with db.transaction(inline=True) as tx:  # the writer is usable again
            assert await tx.execute_rowcount("UPDATE app_state SET value = '3' WHERE key = 'a'") == 1
        row = await db.lookup_one("SELECT value FROM app_state WHERE key = 'a'")
        assert row is not None and row["value"] == "3"
    finally:
        await db.close()


async def test_an_inline_transaction_returns_the_new_rows_id_as_a_threaded_one_does(tmp_path: Path) -> None:
    """Callers store the id an insert returns (an aspiration's, for its history and photos): both paths agree."""
    db = await Database.open(tmp_path / "r.db")
    try:
        async with db.transaction() as tx:
            threaded = await tx.execute("INSERT INTO app_state(key, value) VALUES ('t', '1')")
        async with db.transaction(inline=True) as tx:
            first = await tx.execute("INSERT INTO app_state(key, value) VALUES ('i1', '1')")
            second = await tx.execute("INSERT INTO app_state(key, value) VALUES ('i2', '1')")
            # not an insert: the last inserted row's id, as aiosqlite's execute_insert reports it
            assert await tx.execute("UPDATE app_state SET value = '2' WHERE key = 't'") == second
        assert (first, second) == (threaded + 1, threaded + 2)
        assert await db.fetchval("SELECT rowid FROM app_state WHERE key = 'i2'") == second
    finally:
        await db.close()


async def test_an_inline_transaction_waits_for_another_process_lock_without_blocking_the_loop(tmp_path: Path) -> None:
    async def write(db: Database) -> None:
        async with db.transaction(inline=True) as tx:
            await tx.execute("INSERT INTO app_state(key, value) VALUES ('k', 'v')")

    await _write_while_another_process_holds_the_lock(tmp_path / "w.db", write)


async def test_after_writes_on_the_loop_thread_a_threaded_transaction_still_waits_for_a_lock(tmp_path: Path) -> None:
    """The writer fails at once on the loop's thread (busy timeout 0) but must wait again in its own thread."""
    db = await Database.open(tmp_path / "t.db", busy_timeout=5)
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    try:
        await db.execute("INSERT INTO app_state(key, value) VALUES ('first', 'on the loop')")
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.5, lambda: other.execute("ROLLBACK"))
        async with db.transaction() as tx:  # a long transaction: in the writer's thread, waiting for the lock
            await tx.execute("INSERT INTO app_state(key, value) VALUES ('second', 'waited')")
        assert await db.fetchval("SELECT COUNT(*) FROM app_state WHERE key IN ('first', 'second')") == 2
    finally:
        other.close()
        await db.close()
