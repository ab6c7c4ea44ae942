"""When the outbox sender wakes up: it sleeps until something is due instead of polling, so these check that nothing
due waits for a poll — a message queued while it sleeps, a retry at its time, a chat's next message at its pace
(real, short times against a fake transport)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bot.core.clock import FakeClock
from bot.messaging import outbox
from bot.messaging.outbox import OutboxSender, TransientError
from bot.storage.database import Database


class Transport:
    def __init__(self, failures: Mapping[int, list[Exception]] | None = None) -> None:
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.sent: list[tuple[float, int, str]] = []
        self.refused: list[tuple[float, int]] = []

    async def send(self, chat_id: int, method: str, params: Mapping[str, Any], upload: bytes | None,
                   upload_name: str | None) -> int | None:
        now = asyncio.get_running_loop().time()
        if self.failures.get(chat_id):
            self.refused.append((now, chat_id))
            raise self.failures[chat_id].pop(0)
        self.sent.append((now, chat_id, params.get("text", "")))
        return len(self.sent)


async def _queue(db: Database, clock: FakeClock, rows: list[tuple[int, str]]) -> None:
    async with db.transaction() as tx:
        for chat_id, text in rows:
            await outbox.enqueue_text(tx, chat_id, text, now=clock.now())


async def _until(condition: Any, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_message_queued_while_the_sender_sleeps_goes_out_at_once(db: Database, clock: FakeClock) -> None:
    transport = Transport()
    sender = OutboxSender(db, transport, chat_interval=0.0, rate=1000)
    sender.start()
    try:
        await asyncio.sleep(0.3)  # nothing to send: the sender is asleep (for up to a second)
        queued_at = asyncio.get_running_loop().time()
        await _queue(db, clock, [(5, "aspirasi baru")])
        await _until(lambda: transport.sent)
        assert transport.sent[0][0] - queued_at < 0.4
        # and again after it went back to sleep
        await asyncio.sleep(0.3)
        queued_at = asyncio.get_running_loop().time()
        await _queue(db, clock, [(6, "aspirasi lain")])
        await _until(lambda: len(transport.sent) == 2)
        assert transport.sent[1][0] - queued_at < 0.4
    finally:
        await sender.stop()


async def test_a_retry_goes_out_at_its_time_without_other_traffic(db: Database, clock: FakeClock) -> None:
    transport = Transport({7: [TransientError("502 Bad Gateway")]})  # first backoff: 0.5 s
    sender = OutboxSender(db, transport, chat_interval=0.0, rate=1000)
    await _queue(db, clock, [(7, "bagian 1")])
    sender.start()
    try:
        await _until(lambda: transport.sent)
    finally:
        await sender.stop()
    waited = transport.sent[0][0] - transport.refused[0][0]
    assert 0.5 <= waited < 0.85, waited


async def test_a_chats_next_message_goes_out_at_its_pace(db: Database, clock: FakeClock) -> None:
    transport = Transport()
    sender = OutboxSender(db, transport, chat_interval=0.4, rate=1000)
    await _queue(db, clock, [(9, "satu"), (9, "dua")])
    sender.start()
    try:
        await _until(lambda: len(transport.sent) == 2)
    finally:
        await sender.stop()
    gap = transport.sent[1][0] - transport.sent[0][0]
    assert 0.4 <= gap < 0.75, gap
