"""Planner for "Ngantor di Kecamatan": the Bupati works one day from each kecamatan in turn.

Pure functions only: no I/O, no Telegram, no database. Working days, libur nasional and cuti bersama come from
lokal-id, which only has data for the years in ``lokal.HOLIDAY_YEARS``; any other year raises ``PlanError``
instead of silently assuming there are no holidays.

Rules of ``plan_visits``:

* Order. ``order="code"`` sorts the kecamatan by Kemendagri code; ``order="input"`` keeps the order given. If
  ``first`` is set, the list is rotated so that kecamatan comes first and the rest follow in that order, wrapping
  around: with code order and ``first="Sumber"`` (35.13.02) the plan is Sumber, Kuripan, …, Lumbang, Sukapura.
* Dates. Only working days as ``is_working_day(d, cuti_bersama=True)`` sees them (no weekends, no libur
  nasional, no cuti bersama), never before ``start``, never two visits on one day.
* Visits per month. Every full month gets exactly ``per_month`` visits. The first month only has the working days
  from ``start`` on, so it gets ``per_month`` scaled by the share of the month's working days that are left,
  rounded up: starting on 12 January 2026 leaves 14 of 20 working days, 3 × 14 / 20 = 2.1, so 3 visits; starting
  on 28 January leaves 3 of 20, so 1 visit. The last month has only the kecamatan that are left.
* Spread. The month's available working days are split into ``n`` equal consecutive segments (``n`` = the visits
  planned for that month) and the middle working day of each segment is chosen (the earlier of the two middle days
  when a segment has an even length). In the last month the kecamatan that are left take the first of the
  regular ``per_month`` slots, so the rhythm stays the same and the plan simply ends earlier.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lokal import HOLIDAY_YEARS, holidays_on, is_working_day

from bot.core.dates import HARI, format_tanggal
from bot.core.domain import DomainError
from bot.core.wording import Notice, plain

__all__ = [
    "MAX_PER_MONTH",
    "ORDERS",
    "PlanError",
    "PlannedVisit",
    "check_visit_date",
    "format_plan_table",
    "plan_visits",
    "working_days_in_month",
]

#: Upper bound for ``per_month``.
MAX_PER_MONTH = 10

#: Accepted values of ``plan_visits(order=...)``.
ORDERS: tuple[str, ...] = ("code", "input")


class PlanError(DomainError, ValueError):
    """A plan that cannot be made. The message is in Bahasa Indonesia and can be shown to the user as is."""


@dataclass(frozen=True)
class PlannedVisit:
    kecamatan_code: str
    kecamatan_name: str
    date: dt.date


def _as_date(value: dt.date, what: str) -> dt.date:
    # A datetime is a date subclass but does not compare with one; use the calendar date it shows.
    if isinstance(value, dt.datetime):
        return value.date()
    if not isinstance(value, dt.date):
        raise PlanError("visits/berupa_tanggal_bukan", what=what, value=value)
    return value


def _available_years() -> str:
    return ", ".join(str(y) for y in HOLIDAY_YEARS)


def _require_holiday_data(year: int) -> None:
    if year not in HOLIDAY_YEARS:
        raise PlanError("visits/no_holiday_data", year=year, available=_available_years())


def working_days_in_month(year: int, month: int, from_date: dt.date | None = None) -> list[dt.date]:
    """Working days (no weekend, libur nasional or cuti bersama) of a month, on or after ``from_date`` if given.

    Raises ``PlanError`` for a month outside 1..12 or a year without holiday data in lokal-id.
    """
    if not 1 <= month <= 12:
        raise PlanError("visits/bulan_sampai_bukan", month=month)
    _require_holiday_data(year)
    day = dt.date(year, month, 1)
    if from_date is not None:
        day = max(day, _as_date(from_date, "from"))
    days: list[dt.date] = []
    while day.month == month and day.year == year:
        if is_working_day(day, cuti_bersama=True):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _spread(days: Sequence[dt.date], n: int) -> list[dt.date]:
    """``n`` dates from ``days``: the middle day of each of ``n`` equal segments (all days if there are ≤ n)."""
    if len(days) <= n:
        return list(days)
    picked = []
    for i in range(n):
        lo = i * len(days) // n
        hi = (i + 1) * len(days) // n
        picked.append(days[lo + (hi - lo - 1) // 2])
    return picked


def _code_key(code: str) -> tuple[tuple[int, int | str], ...]:
    # "35.13.02" → numeric parts, so codes sort right even if a segment is not zero-padded.
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in code.split("."))


_IGNORED = re.compile(r"[\s.]+")


def _match_key(s: str) -> str:
    # Case-, space- and dot-insensitive: "kota anyar" finds Kotaanyar, "351302" finds 35.13.02.
    return _IGNORED.sub("", s).casefold()


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def plan_visits(
    kecamatan: Sequence[tuple[str, str]],
    start: dt.date,
    per_month: int = 3,
    first: str | None = None,
    order: str = "code",
) -> list[PlannedVisit]:
    """Propose one working day in each kecamatan, ``per_month`` visits a month, from ``start`` on.

    ``kecamatan`` is a sequence of ``(code, name)``, e.g. from ``lokal.wilayah.list_wilayah("35.13")``.
    ``first`` is a kecamatan name or code (case- and space-insensitive). See the module docstring for the rules.
    Raises ``PlanError`` with an Indonesian message when no plan can be made.
    """
    start = _as_date(start, "start")
    if isinstance(per_month, bool) or not isinstance(per_month, int) or not 1 <= per_month <= MAX_PER_MONTH:
        raise PlanError(
            "visits/jumlah_kunjungan_per_bulan", max_per_month=MAX_PER_MONTH, per_month=per_month
        )
    if order not in ORDERS:
        raise PlanError("visits/urutan_tidak_dikenal_pilihan", order=order, orders=", ".join(ORDERS))

    items = [(str(code).strip(), str(name).strip()) for code, name in kecamatan]
    if not items:
        raise PlanError("visits/daftar_kecamatan_kosong")
    seen: set[str] = set()
    for code, name in items:
        if not code:
            raise PlanError("visits/kecamatan_tidak_punya_kode", name=name)
        if code in seen:
            raise PlanError("visits/kode_kecamatan_muncul_lebih", code=code)
        seen.add(code)
    if order == "code":
        items.sort(key=lambda item: _code_key(item[0]))

    if first is not None:
        key = _match_key(first)
        matches = [i for i, (code, name) in enumerate(items) if key and key in (_match_key(code), _match_key(name))]
        if not matches:
            raise PlanError("visits/kecamatan_tidak_ditemukan_3", first=first.strip())
        if len(matches) > 1:
            found = ", ".join(f"{items[i][1]} ({items[i][0]})" for i in matches)
            raise PlanError("visits/cocok_lebih_satu_kecamatan", first=first.strip(), found=found)
        items = items[matches[0] :] + items[: matches[0]]

    _require_holiday_data(start.year)
    plan: list[PlannedVisit] = []
    year, month = start.year, start.month
    first_month = True
    while len(plan) < len(items):
        if year not in HOLIDAY_YEARS:
            raise PlanError(
                "visits/jadwal_kecamatan_kunjungan_per", available=_available_years(), length=len(items),
                per_month=per_month, planned=len(plan), year=year
            )
        if first_month:
            days = working_days_in_month(year, month, from_date=start)
            full = len(working_days_in_month(year, month))
            # Ceiling of per_month × share of the month's working days still ahead.
            n = min(per_month, -(-per_month * len(days) // full)) if full else 0
            first_month = False
        else:
            days = working_days_in_month(year, month)
            n = per_month
        for day in _spread(days, n)[: len(items) - len(plan)]:
            code, name = items[len(plan)]
            plan.append(PlannedVisit(code, name, day))
        year, month = _next_month(year, month)
    return plan


def format_plan_table(plan: Iterable[PlannedVisit]) -> str:
    """A plain-text table (No, Tanggal, Kecamatan) for a terminal or a monospaced Telegram message."""
    rows = [(str(i), format_tanggal(v.date), v.kecamatan_name) for i, v in enumerate(plan, start=1)]
    return plain("visits/plan_table", rows=rows)


def check_visit_date(d: dt.date, existing_dates: Iterable[dt.date]) -> list[Notice]:
    """Indonesian warnings about a proposed visit date; an empty list when the date is fine.

    Warns about a weekend, a libur nasional or cuti bersama (by name), and another visit already on that day. Pass
    ``existing_dates`` without the date of the visit being moved, or it will warn about itself. For a year without
    holiday data the holidays cannot be checked, which is a warning too, not an error.
    """
    d = _as_date(d, "visit")
    warnings: list[Notice] = []
    if d.weekday() >= 5:
        warnings.append(Notice("visits/warning_weekend", day=HARI[d.weekday()]))
    if d.year in HOLIDAY_YEARS:
        seen: set[tuple[str, str]] = set()
        for holiday in holidays_on(d):
            if (holiday.type, holiday.name) in seen:
                continue
            seen.add((holiday.type, holiday.name))
            warnings.append(Notice("visits/warning_holiday", national=holiday.type == "libur_nasional",
                                   name=holiday.name))
    else:
        warnings.append(Notice("visits/warning_no_holiday_data", year=d.year))
    others = sum(1 for e in existing_dates if _as_date(e, "visit") == d)
    if others:
        warnings.append(Notice("visits/warning_other_visits", others=others))
    return warnings
