"""A per-user token bucket: a burst of messages is fine (an album of photos arrives as several at once), a
sustained flood is not. Real time, not the domain clock: this is about how fast people type."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned_until: float = 0.0


class FloodGuard:
    def __init__(self, burst: int, per_minute: float, *, clock: Callable[[], float] = time.monotonic,
                 max_users: int = 20_000) -> None:
        self.capacity = float(burst)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}

    def _bucket(self, user_id: int, now: float) -> _Bucket:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self.max_users:
                full = [u for u, b in self._buckets.items()
                        if b.tokens + (now - b.updated) * self.rate >= self.capacity]
                for u in full:
                    del self._buckets[u]
            bucket = self._buckets[user_id] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        return bucket

    def allow(self, user_id: int) -> bool:
        """Take one token for this user's message; False when they are over the limit."""
        now = self.clock()
        bucket = self._bucket(user_id, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def wait_seconds(self, user_id: int) -> float:
        """How long until this user may send one message again."""
        bucket = self._buckets.get(user_id)
        if bucket is None or bucket.tokens >= 1.0:
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def should_warn(self, user_id: int) -> bool:
        """True once per flood: the slow-down message is not itself a flood."""
        now = self.clock()
        bucket = self._bucket(user_id, now)
        if now < bucket.warned_until:
            return False
        bucket.warned_until = now + max(self.wait_seconds(user_id), 10.0)
        return True
