"""The outbox sender's pacing against a fake transport in real (short) time: at most 30 messages in any second,
one a second per private chat, the group interval, a 429's retry_after honoured by everything, a chat's messages in
order even when the first needs a retry, and single messages ahead of a large broadcast."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bot.config import Config
from bot.core.clock import FakeClock
from bot.messaging import outbox
from bot.messaging.outbox import OutboxSender, RetryLater, TransientError
from bot.storage.database import Database


class TimedTransport:
    def __init__(self, script: Mapping[int, list[Exception]] | None = None) -> None:
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.sent: list[tuple[float, int, str]] = []
        self.failed: list[tuple[float, int]] = []

    async def send(self, chat_id: int, method: str, params: Mapping[str, Any], upload: bytes | None,
                   upload_name: str | None) -> int | None:
        now = asyncio.get_running_loop().time()
        failures = self.script.get(chat_id)
        if failures:
            self.failed.append((now, chat_id))
            raise failures.pop(0)
        await asyncio.sleep(0.002)  # a little network latency
        self.sent.append((now, chat_id, params.get("text", "")))
        return len(self.sent)


async def _queue(db: Database, clock: FakeClock, rows: list[tuple[int, str]], broadcast_id: int | None = None
                 ) -> None:
    async with db.transaction() as tx:
        for chat_id, text in rows:
            await outbox.enqueue_text(tx, chat_id, text, now=clock.now(), broadcast_id=broadcast_id)


async def _run(sender: OutboxSender, timeout: float = 15) -> None:
    sender.start()
    try:
        await sender.drain(timeout=timeout)
    finally:
        await sender.stop()


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def test_thirty_a_second_overall_and_one_a_second_per_chat(db: Database, clock: FakeClock) -> None:
    transport = TimedTransport()
    sender = OutboxSender(db, transport, chat_interval=1.0, group_interval=3.0, rate=30.0)
    rows = [(1, f"urut {i}") for i in range(3)] + [(100 + i, "massal") for i in range(69)]
    await _queue(db, clock, rows)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _run(sender)
    elapsed = loop.time() - started
    assert len(transport.sent) == 72
    times = [t for t, _, _ in transport.sent]
    assert _max_in_window(times, 1.0) <= 30  # any sliding second, not just a fixed one
    assert elapsed >= 2.0  # 72 messages cannot go out faster than 30 a second
    own = [t for t, chat, _ in transport.sent if chat == 1]
    assert [text for _, chat, text in transport.sent if chat == 1] == ["urut 0", "urut 1", "urut 2"]
    assert all(b - a >= 1.0 for a, b in zip(own, own[1:], strict=False)), own


async def test_groups_get_their_own_interval(db: Database, clock: FakeClock) -> None:
    transport = TimedTransport()
    sender = OutboxSender(db, transport, chat_interval=0.0, group_interval=0.3, rate=1000)
    await _queue(db, clock, [(-100123, f"grup {i}") for i in range(4)] + [(5, f"pribadi {i}") for i in range(4)])
    await _run(sender)
    group = [t for t, chat, _ in transport.sent if chat < 0]
    assert all(b - a >= 0.3 for a, b in zip(group, group[1:], strict=False)), group
    private = [t for t, chat, _ in transport.sent if chat > 0]
    assert private[-1] - private[0] < 0.3  # no interval for private chats here
    # the configured default keeps a group at Telegram's 20 a minute
    assert 60 / Config(token="1:x").outbox_group_interval <= 20


async def test_429_pauses_everything_for_retry_after(db: Database, clock: FakeClock) -> None:
    transport = TimedTransport({1: [RetryLater(0.6)]})
    sender = OutboxSender(db, transport, chat_interval=0.0, rate=1000, concurrency=1)
    await _queue(db, clock, [(1, "satu"), (2, "dua"), (3, "tiga")])
    await _run(sender)
    refused_at = transport.failed[0][0]
    assert sorted(chat for _, chat, _ in transport.sent) == [1, 2, 3]
    retried = next(t for t, chat, _ in transport.sent if chat == 1)
    assert retried - refused_at >= 0.6
    later = [t for t, chat, _ in transport.sent if t > refused_at]
    assert all(t - refused_at >= 0.6 for t in later), (refused_at, later)


async def test_a_chats_messages_keep_their_order_through_retries(db: Database, clock: FakeClock) -> None:
    transport = TimedTransport({7: [TransientError("502 Bad Gateway")]})
    sender = OutboxSender(db, transport, chat_interval=0.0, rate=1000)
    await _queue(db, clock, [(7, "bagian 1"), (7, "bagian 2"), (7, "bagian 3"), (8, "lain")])
    await _run(sender)
    assert [text for _, chat, text in transport.sent if chat == 7] == ["bagian 1", "bagian 2", "bagian 3"]


async def test_single_messages_go_before_a_large_broadcast(db: Database, clock: FakeClock) -> None:
    transport = TimedTransport()
    sender = OutboxSender(db, transport, chat_interval=0.0, rate=20.0)
    await _queue(db, clock, [(1000 + i, "siaran") for i in range(25)], broadcast_id=1)
    await _queue(db, clock, [(5, "balasan penting")])
    await _run(sender)
    order = [chat for _, chat, _ in transport.sent]
    assert order.index(5) < 20  # in the first second, not after the 25 broadcast messages


async def _answer_cb() -> dict[str, Any]:
    await asyncio.sleep(0.002)
    return {}


async def test_answers_to_people_go_before_queued_background_sends(db: Database, clock: FakeClock) -> None:
    """A broadcast fills the shared window; people mid-conversation still get their answers within about a window,
    and the broadcast keeps a floor of the window meanwhile (it slows down, it does not stop)."""
    from bot.telegram.pacing import SlidingWindowRateLimiter

    limiter = SlidingWindowRateLimiter(20)
    assert limiter.window.background_floor == 3
    transport = TimedTransport()
    sender = OutboxSender(db, transport, chat_interval=0, rate=20, window=limiter.window)
    await _queue(db, clock, [(1000 + i, f"siaran {i}") for i in range(100)], broadcast_id=None)
    loop = asyncio.get_running_loop()
    sender.start()
    try:
        await asyncio.sleep(1.1)  # the broadcast, spread evenly, has taken the whole window
        assert 19 <= len(transport.sent) <= 26

        async def answer(chat_id: int) -> float:
            await limiter.process_request(_answer_cb, (), {}, "sendMessage", {"chat_id": chat_id}, None)
            return loop.time()

        started = loop.time()
        done = await asyncio.gather(*(answer(chat) for chat in range(1, 35)))  # two windows' worth
        background = [t for t, _chat, _text in transport.sent]
    finally:
        await sender.stop()
    answered_in = sorted(t - started for t in done)
    # the answers take every place that frees up but the broadcast's floor: 17 of each window of 20
    assert answered_in[16] < 1.0, answered_in
    assert answered_in[-1] < 2.2, answered_in  # 17 a window: the window less the floor
    during = [t for t in background if started < t < started + answered_in[-1]]
    assert 2 <= len(during) <= 2 * 3 + 1, during  # the broadcast kept its floor, no more, while people waited
    assert _max_in_window(background + list(done), 1.0) <= 20 + 1


async def test_without_people_waiting_the_outbox_has_the_whole_window(db: Database, clock: FakeClock) -> None:
    from bot.telegram.pacing import SlidingWindowRateLimiter

    limiter = SlidingWindowRateLimiter(20)
    transport = TimedTransport()
    sender = OutboxSender(db, transport, chat_interval=0, rate=20, window=limiter.window)
    await _queue(db, clock, [(1000 + i, f"siaran {i}") for i in range(30)], broadcast_id=None)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _run(sender)
    times = [t - started for t, _chat, _text in transport.sent]
    assert len(times) == 30
    assert times[-1] < 1.8, times  # the whole rate: 30 sends at 20 a second, spread evenly
    assert _max_in_window(times, 1.0) <= 20
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 0.25  # no window-long pause


async def test_a_person_being_answered_keeps_room_in_the_window(db: Database, clock: FakeClock) -> None:
    """One person answering at once, step after step, during a broadcast: after the first answer the background
    sends leave room for the next ones, so each step is answered without waiting for a place."""
    from bot.telegram.pacing import SlidingWindowRateLimiter

    limiter = SlidingWindowRateLimiter(20)
    transport = TimedTransport()
    sender = OutboxSender(db, transport, chat_interval=0, rate=20, window=limiter.window)
    await _queue(db, clock, [(1000 + i, f"siaran {i}") for i in range(100)], broadcast_id=None)
    loop = asyncio.get_running_loop()
    sender.start()
    try:
        await asyncio.sleep(1.1)
        await limiter.process_request(_answer_cb, (), {}, "sendMessage", {"chat_id": 1}, None)  # waits one gap
        waits = []
        for _step in range(8):
            await asyncio.sleep(0.05)  # the person reads and answers
            before = loop.time()
            await limiter.process_request(_answer_cb, (), {}, "sendMessage", {"chat_id": 1}, None)
            waits.append(loop.time() - before)
    finally:
        await sender.stop()
    assert max(waits) < 0.03, waits
