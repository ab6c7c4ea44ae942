"""Working days (Indonesian weekends, national holidays and cuti bersama skipped) from lokal-id.

lokal-id knows the holidays of a limited set of years (2026-2027 at the time of writing). Outside them the bot
must keep running: weekends are still skipped and a warning is logged once, so an admin knows to update lokal-id.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import lru_cache

from lokal import add_working_days as _add
from lokal import count_working_days as _count
from lokal import is_working_day as _is_working

log = logging.getLogger(__name__)
_warned: set[str] = set()


def _fallback(exc: Exception) -> None:
    if str(exc) not in _warned:
        _warned.add(str(exc))
        log.warning("holiday data missing (%s); counting weekends only — update lokal-id", exc)


def is_working_day(day: date) -> bool:
    try:
        return bool(_is_working(day))
    except (ValueError, KeyError, LookupError) as exc:
        _fallback(exc)
        return day.weekday() < 5


def add_working_days(day: date, n: int) -> date:
    """The date ``n`` working days after ``day`` (``day`` itself not counted)."""
    try:
        result = _add(day, n)
        return result if isinstance(result, date) else date.fromisoformat(str(result))
    except (ValueError, KeyError, LookupError) as exc:
        _fallback(exc)
    step = 1 if n >= 0 else -1
    current, left = day, abs(n)
    while left:
        current += timedelta(days=step)
        if is_working_day(current):
            left -= 1
    return current


@lru_cache(maxsize=4096)
def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` <= ``start``)."""
    if end <= start:
        return 0
    try:
        total = int(_count(start + timedelta(days=1), end))
        return total
    except (ValueError, KeyError, LookupError) as exc:
        _fallback(exc)
    return sum(1 for i in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=i)))
