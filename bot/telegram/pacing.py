"""Pacing of everything the bot sends: Telegram's overall limit counted over replies and outbox alike.

PTB's AIORateLimiter paces the overall rate with a leaky bucket, which lets a burst of ``rate`` requests through on
top of the steady rate; together with the outbox (paced on its own) the replies to users and the queued
notifications then exceeded 30 messages in one second at Telegram's end. Here every request to a chat holds a place
in one sliding window (see ``outbox.RateWindow``) from the moment it is sent until a window after Telegram answered
it, so replies and outbox messages together never exceed the limit. Groups keep AIORateLimiter's 20 a minute.

The outbox sender takes its places in the same window itself, as background sends, before it claims a row (so a
row is never held 'sending' while it waits), and marks its requests with ``PLACE_HELD``; answers to people wait
here and go first (see ``RateWindow``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

from bot.messaging.outbox import Place, RateWindow

JSONDict = dict[str, Any]

#: ``rate_limit_args`` of a request whose sender already holds its place in the window (the outbox).
PLACE_HELD = "place-held"


class SlidingWindowRateLimiter(AIORateLimiter):
    """AIORateLimiter for groups and ``retry_after``; a sliding window of ``overall_rate`` for the overall limit."""

    def __init__(self, overall_rate: float, *, max_retries: int = 0) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self.window = RateWindow(overall_rate)
        #: answers waiting for a place, first come first served; only the first is woken when one frees up
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Any,
    ) -> bool | JSONDict | list[JSONDict]:
        if rate_limit_args == PLACE_HELD:
            return await super().process_request(callback, args, kwargs, endpoint, data, None)
        if data.get("chat_id") is None:  # getUpdates, answerCallbackQuery, getMe ...: not messages to a chat
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        place = await self._place()
        try:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        finally:
            place.release()

    async def _place(self) -> Place:
        """A place in the window for an answer to a person, at once if one is free and nobody waits before it.

        Places free up only as time passes (a send holds its place until a window after Telegram answered it), so
        the waiting answers sleep until the window says the next place frees up, and only the first of them is woken
        then: no answer polls the window while it waits (that cost CPU for every second of waiting).
        """
        window = self.window
        if not self._waiters and window.delay() <= 0:
            return window.take()
        window.waiting += 1
        loop = asyncio.get_running_loop()
        again = False
        try:
            while True:
                turn: asyncio.Future[None] = loop.create_future()
                if again:
                    self._waiters.appendleft(turn)  # woken, but the place went to another: still first in line
                else:
                    self._waiters.append(turn)
                self._wake_first()
                try:
                    await turn
                except asyncio.CancelledError:
                    if turn in self._waiters:
                        self._waiters.remove(turn)
                    else:
                        self._wake_first()  # woken as it was cancelled: the next one gets the turn
                    raise
                if window.delay() <= 0:
                    place = window.take()
                    self._wake_first()  # another place may be free as well
                    return place
                again = True
        finally:
            window.waiting -= 1

    def _wake_first(self) -> None:
        """Wake the first waiting answer if a place is free now; otherwise look again when the window says one
        will be (one timer for all of them)."""
        if self._timer is not None:
            return
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()
        if not self._waiters:
            return
        delay = self.window.delay()
        if delay <= 0:
            self._waiters.popleft().set_result(None)
            return
        self._timer = asyncio.get_running_loop().call_later(delay, self._look_again)

    def _look_again(self) -> None:
        self._timer = None
        self._wake_first()
