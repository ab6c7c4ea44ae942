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
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

from bot.messaging.outbox import RateWindow

JSONDict = dict[str, Any]

#: ``rate_limit_args`` of a request whose sender already holds its place in the window (the outbox).
PLACE_HELD = "place-held"


class SlidingWindowRateLimiter(AIORateLimiter):
    """AIORateLimiter for groups and ``retry_after``; a sliding window of ``overall_rate`` for the overall limit."""

    def __init__(self, overall_rate: float, *, max_retries: int = 0) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self.window = RateWindow(overall_rate)

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
        if self.window.delay() > 0:
            self.window.waiting += 1
            try:
                while (delay := self.window.delay()) > 0:  # noqa: ASYNC110 (places free by time and by answers)
                    await asyncio.sleep(min(delay, 0.02))  # an answer may free a place sooner than the window says
            finally:
                self.window.waiting -= 1
        place = self.window.take()
        try:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        finally:
            place.release()
