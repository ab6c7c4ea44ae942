"""The per-user flood limit, judged by when a message was written (Telegram's ``message.date``), not by when the
bot got round to it: a bot that falls behind must not mistake a flood for a trickle, nor a trickle after an outage
for a flood.

Two token buckets per user: the configured sustained rate with its burst, and Telegram's own pace for one chat
(one message a second after a short burst of ``PACE_BURST``, or the sustained rate when that is faster), so the
answers to one person never outrun what Telegram lets the bot send to them. An album (one ``media_group_id``, up
to ten items) counts as one message. The update queue takes senders in turn
(``bot.telegram.inbound.FairLanes``), so what a flooder is still answered never holds up anyone else.
Button presses carry no date: they are judged by the bot's clock, on buckets of their own (so a server clock that
is off never makes a person's messages look like a flood), and not paced per second (a multi-select is pressed
quickly), only by the sustained bucket.

A user past the limit starts a flood episode: one answer asking them to wait, then silence. Every message during
the episode is dropped and starts the pause again, so a script that keeps sending hears nothing more, while a person
who waits as asked is answered again.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Telegram delivers an album as up to ten messages sharing a ``media_group_id``.
ALBUM_ITEMS = 10
#: The shortest pause asked of a flooding user (``message.date`` counts whole seconds).
MIN_PAUSE = 2.0
#: One slow-down answer per user within this time, however often they flood again.
WARN_INTERVAL = 30.0
#: Telegram's pace for one private chat: the slow-down answer goes this long after the answer before it.
CHAT_PACE = 1.0
#: Messages a person may write within one second before the pace of one a second applies: a photo and its text
#: sent quickly, a few messages forwarded at once. Telegram itself allows such short bursts in a chat.
PACE_BURST = 3
#: Dropped updates are marked handled together, this long after the first of them.
DROPPED_FLUSH_DELAY = 0.2


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"  # dropped; the first of a flood episode, answered once
    DROP = "drop"  # dropped silently


@dataclass
class _Bucket:
    tokens: float
    pace: float
    updated: float
    quiet_until: float = 0.0
    pause: float = 0.0
    warned_until: float = 0.0
    album: str | None = None
    album_items: int = 0


class FloodGuard:
    def __init__(self, burst: int, per_minute: float, *, clock: Callable[[], float] = time.time,
                 max_users: int = 20_000) -> None:
        self.capacity = float(burst)
        self.rate = per_minute / 60.0
        self.pace_rate = max(1.0, self.rate)
        self.pace_capacity = max(float(PACE_BURST), math.floor(self.pace_rate))
        self.clock = clock
        self.max_users = max_users
        self._buckets: dict[tuple[int, bool], _Bucket] = {}

    def _bucket(self, key: tuple[int, bool], at: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_users:
                rested = [u for u, b in self._buckets.items()
                          if at >= b.quiet_until and b.tokens + (at - b.updated) * self.rate >= self.capacity]
                for u in rested:
                    del self._buckets[u]
            bucket = self._buckets[key] = _Bucket(self.capacity, self.pace_capacity, at)
        elif at > bucket.updated:  # dates are whole seconds and clocks differ: time never runs backwards here
            elapsed = at - bucket.updated
            bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
            bucket.pace = min(self.pace_capacity, bucket.pace + elapsed * self.pace_rate)
            bucket.updated = at
        return bucket

    def check(self, user_id: int, at: float | None = None, *, paced: bool = True,
              album: str | None = None) -> Verdict:
        """Judge one message (``at``: when it was written, Unix seconds; now if unknown) or button press
        (``paced=False``). Whole seconds, as Telegram dates messages: waiting the pause asked always helps."""
        bucket = self._bucket((user_id, paced), math.floor(self.clock() if at is None else at))
        now = bucket.updated
        if now < bucket.quiet_until:
            bucket.quiet_until = now + bucket.pause
            return Verdict.DROP
        if album is not None and album == bucket.album and bucket.album_items < ALBUM_ITEMS:
            bucket.album_items += 1
            return Verdict.ALLOW
        if bucket.tokens >= 1.0 and (not paced or bucket.pace >= 1.0):
            bucket.tokens -= 1.0
            if paced:
                bucket.pace -= 1.0
            bucket.album, bucket.album_items = album, 1
            return Verdict.ALLOW
        wait = (1.0 - bucket.tokens) / self.rate if bucket.tokens < 1.0 else 0.0
        if paced and bucket.pace < 1.0:
            wait = max(wait, (1.0 - bucket.pace) / self.pace_rate)
        bucket.pause = max(MIN_PAUSE, wait)
        bucket.quiet_until = now + bucket.pause
        bucket.album, bucket.album_items = None, 0
        if now < bucket.warned_until:
            return Verdict.DROP
        bucket.warned_until = now + max(bucket.pause, WARN_INTERVAL)
        return Verdict.WARN

    def pause_seconds(self, user_id: int, *, paced: bool = True) -> int:
        """The pause asked of this user in their current flood episode, in whole seconds."""
        bucket = self._buckets.get((user_id, paced))
        return max(1, math.ceil(bucket.pause)) if bucket is not None else 1
