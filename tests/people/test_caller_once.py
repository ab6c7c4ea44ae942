"""The person behind an update is read once for it: the guard (may they use Sambang?) and the handler (who are
they?) share the read, and a change to them in between is never missed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.constants import ChatType

from bot.people import service as people
from bot.telegram.context import SambangContext, caller
from tests.harness import BotHarness


def _count_sender_reads(db: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The reads of one person by Telegram id (every such lookup goes through ``lookup_all``)."""
    reads: list[tuple[Any, ...]] = []
    real = db.lookup_all

    async def counted(sql: str, params: Any = ()) -> Any:
        if "FROM people p" in sql and "WHERE p.telegram_id = ?" in sql:
            reads.append(tuple(params))
        return await real(sql, params)

    monkeypatch.setattr(db, "lookup_all", counted)
    return reads


async def test_a_kepala_desa_update_reads_the_sender_once(harness: BotHarness,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    kades = await harness.kepala_desa(31)
    reads = _count_sender_reads(harness.svc.db, monkeypatch)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")  # the guard and the handler both needed them
    await harness.settle()
    assert reads == [(31,)]
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.settle()
    assert reads == [(31,), (31,)]


async def test_a_change_to_the_sender_within_the_update_is_read_again(harness: BotHarness) -> None:
    await harness.kepala_desa(32)
    context = SambangContext(harness.app)
    update = Update(1, message=Message(7, datetime.now(UTC), Chat(32, ChatType.PRIVATE),
                                       from_user=User(32, "Budi", False), text="/status"))
    person, inactive = await caller(update, context)
    assert person is not None and person.telegram_id == 32 and inactive is None
    again = await caller(update, context)
    assert again[0] is person  # the same read: nothing about them changed

    await people.deactivate(harness.svc.db, harness.svc.clock, 32, actor=None)
    person, inactive = await caller(update, context)
    assert person is None and inactive is not None and not inactive.active
