"""Shared fixtures: a migrated database with the Probolinggo roster, a controllable clock, and (in e2e tests)
the real bot against the fake Bot API server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.people.regions import load_regions
from bot.storage.database import Database
from tests.harness import BotHarness

# 2026-03-02 (Monday) 02:00 UTC = 09:00 WIB
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that runs ``sambang …`` in-process configures logging for the whole process; put it back, so a later
    test reading the log (caplog) does not depend on which tests ran before it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "test.db")
    await load_regions(database, "35.13")
    yield database
    await database.close()


@pytest.fixture
async def harness(tmp_path: Path, clock: FakeClock) -> AsyncIterator[BotHarness]:
    h = BotHarness(tmp_path, clock)
    await h.start()
    try:
        yield h
    finally:
        await h.close()
