"""Answers to people that wait for a place in the window (Telegram's 30 messages a second): they are sent in the
order they came, never more than the window holds, and while they wait nothing polls the window."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.telegram.pacing import SlidingWindowRateLimiter


async def _answer(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
    return {}


async def test_waiting_answers_go_in_order_within_the_window_without_polling() -> None:
    limiter = SlidingWindowRateLimiter(10)  # 10 sends in any 1 s
    window = limiter.window
    looks = 0
    original = window.delay

    def counted(*, background: bool = False) -> float:
        nonlocal looks
        looks += 1
        return original(background=background)

    window.delay = counted  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    sent: list[tuple[int, float]] = []

    async def answer(chat_id: int) -> None:
        await limiter.process_request(_answer, (), {}, "sendMessage", {"chat_id": chat_id}, None)
        sent.append((chat_id, loop.time()))

    started = loop.time()
    tasks = []
    for chat_id in range(1, 26):  # two and a half windows' worth, arriving one after another
        tasks.append(asyncio.create_task(answer(chat_id)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)

    assert [chat for chat, _at in sent] == list(range(1, 26))  # first come, first served
    times = sorted(at - started for _chat, at in sent)
    assert max(sum(1 for t in times if a <= t < a + 0.999) for a in times) <= 10  # never over the window
    assert times[-1] < 2.6, times  # and no slower than the window allows
    # 25 answers, 15 of which waited up to two windows: with a look every 20 ms that was hundreds of looks
    assert looks < 100, looks


async def test_a_cancelled_waiting_answer_hands_its_turn_on() -> None:
    limiter = SlidingWindowRateLimiter(2)
    for _ in range(2):
        limiter.window.take().release()  # the window is full for the next second
    first = asyncio.create_task(limiter.process_request(_answer, (), {}, "sendMessage", {"chat_id": 1}, None))
    await asyncio.sleep(0)
    second = asyncio.create_task(limiter.process_request(_answer, (), {}, "sendMessage", {"chat_id": 2}, None))
    await asyncio.sleep(0.1)
    first.cancel()  # the person's update was cancelled (a stop): the next answer must not wait for ever
    await asyncio.wait_for(second, 2.0)
    assert limiter.window.waiting == 0
