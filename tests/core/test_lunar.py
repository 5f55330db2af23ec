"""Tests of crm_core.lunar: the lunar calendar against dates published in Chinese
calendars, the rules for short months and leap months, and festivals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm_core.errors import ValidationError
from crm_core.lunar import (
    LunarDate,
    lunar_text,
    lunar_to_solar,
    month_days,
    solar_to_lunar,
    yearly_lunar_dates,
)


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        (2026, 8, 15, date(2026, 9, 25)),  # 中秋 2026
        (2027, 8, 15, date(2027, 9, 15)),  # 中秋 2027
        (2025, 8, 15, date(2025, 10, 6)),  # 中秋 2025 (after a leap 六月)
        (2023, 8, 15, date(2023, 9, 29)),
        (2026, 1, 1, date(2026, 2, 17)),  # 春节 2026
        (2025, 1, 1, date(2025, 1, 29)),
        (2024, 1, 1, date(2024, 2, 10)),
        (2026, 1, 15, date(2026, 3, 3)),  # 元宵
        (2026, 5, 5, date(2026, 6, 19)),  # 端午 2026
        (2026, 7, 7, date(2026, 8, 19)),  # 七夕
        (2026, 9, 9, date(2026, 10, 18)),  # 重阳
        (2026, 12, 8, date(2027, 1, 15)),  # 腊八 of lunar 2026 falls in 2027
    ],
)
def test_known_dates(year: int, month: int, day: int, expected: date) -> None:
    assert lunar_to_solar(year, month, day) == expected


def test_leap_months_are_asked_for_and_never_substituted() -> None:
    # 2025 has a leap sixth month; 2023 a leap second month; 2026 none.
    assert lunar_to_solar(2025, 6, 1) == date(2025, 6, 25)
    assert lunar_to_solar(2025, 6, 1, leap=True) == date(2025, 7, 25)
    assert lunar_to_solar(2023, 2, 1, leap=True) == date(2023, 3, 22)
    with pytest.raises(ValidationError) as exc:
        lunar_to_solar(2026, 6, 1, leap=True)
    assert exc.value.errors[0].field == "lunar_month"
    assert exc.value.errors[0].value == 6
    assert "no leap month 6" in str(exc.value)


def test_day_thirty_of_a_short_month_is_its_last_day() -> None:
    assert month_days(2026, 8) == 29
    assert month_days(2026, 9) == 30
    assert lunar_to_solar(2026, 8, 30) == lunar_to_solar(2026, 8, 29) == date(2026, 10, 9)
    assert lunar_to_solar(2026, 9, 30) == date(2026, 11, 8)
    # 除夕 as "腊月三十": 腊月 of lunar 2025 has 29 days, so it is the 29th.
    assert month_days(2025, 12) == 29
    assert lunar_to_solar(2025, 12, 30) == date(2026, 2, 16)
    assert lunar_to_solar(2026, 1, 1) - lunar_to_solar(2025, 12, 30) == timedelta(days=1)


@pytest.mark.parametrize(
    ("args", "field", "value"),
    [
        ((2026, 8, 0), "lunar_day", 0),
        ((2026, 8, 31), "lunar_day", 31),
        ((2026, 13, 1), "lunar_month", 13),
        ((2026, 0, 1), "lunar_month", 0),
        ((2026, True, 1), "lunar_month", True),
        ((0, 8, 15), "lunar_year", 0),
    ],
)
def test_impossible_dates_are_refused_naming_the_field(
    args: tuple[int, int, int], field: str, value: object
) -> None:
    with pytest.raises(ValidationError) as exc:
        lunar_to_solar(*args)
    assert (exc.value.errors[0].field, exc.value.errors[0].value) == (field, value)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 9, 25), LunarDate(2026, 8, 15, False, "八月十五", "中秋")),
        (date(2026, 2, 17), LunarDate(2026, 1, 1, False, "正月初一", "春节")),
        (date(2026, 3, 3), LunarDate(2026, 1, 15, False, "正月十五", "元宵")),
        (date(2026, 6, 19), LunarDate(2026, 5, 5, False, "五月初五", "端午")),
        (date(2026, 8, 19), LunarDate(2026, 7, 7, False, "七月初七", "七夕")),
        (date(2026, 10, 18), LunarDate(2026, 9, 9, False, "九月初九", "重阳")),
        (date(2027, 1, 15), LunarDate(2026, 12, 8, False, "腊月初八", "腊八")),
        # 除夕 is the last day of 腊月, the 29th in a short year.
        (date(2026, 2, 16), LunarDate(2025, 12, 29, False, "腊月廿九", "除夕")),
        (date(2026, 2, 15), LunarDate(2025, 12, 28, False, "腊月廿八", None)),
        # A leap month: no festival, marked 闰.
        (date(2025, 8, 1), LunarDate(2025, 6, 8, True, "闰六月初八", None)),
        # January usually belongs to the previous lunar year.
        (date(2026, 1, 1), LunarDate(2025, 11, 13, False, "冬月十三", None)),
        (date(2026, 10, 9), LunarDate(2026, 8, 29, False, "八月廿九", None)),
        (date(2026, 11, 8), LunarDate(2026, 9, 30, False, "九月三十", None)),
    ],
)
def test_solar_to_lunar(day: date, expected: LunarDate) -> None:
    got = solar_to_lunar(day)
    assert got == expected
    assert str(got) == expected.text


def test_round_trip_over_four_years() -> None:
    day = date(2024, 1, 1)
    while day <= date(2027, 12, 31):
        ld = solar_to_lunar(day)
        assert lunar_to_solar(ld.year, ld.month, ld.day, leap=ld.leap) == day
        day += timedelta(days=1)


def test_lunar_text() -> None:
    assert lunar_text(8, 15) == "八月十五"
    assert lunar_text(1, 1) == "正月初一"
    assert lunar_text(12, 30) == "腊月三十"
    assert lunar_text(6, 21, leap=True) == "闰六月廿一"
    with pytest.raises(ValidationError):
        lunar_text(8, 31)


def test_yearly_dates_are_gregorian_years() -> None:
    assert yearly_lunar_dates(8, 15, 2024, 2028) == [
        date(2024, 9, 17),
        date(2025, 10, 6),
        date(2026, 9, 25),
        date(2027, 9, 15),
        date(2028, 10, 3),
    ]
    assert yearly_lunar_dates(8, 15, 2026, 2026) == [date(2026, 9, 25)]
    # 腊月初一 falls twice in Gregorian 2000 and not at all in 2001.
    assert yearly_lunar_dates(12, 1, 2000, 2000) == [date(2000, 1, 7), date(2000, 12, 26)]
    assert yearly_lunar_dates(12, 1, 2001, 2001) == []
    # 正月初一 of lunar 2026 is in 2026, that of lunar 2025 in January 2025.
    assert yearly_lunar_dates(1, 1, 2025, 2026) == [date(2025, 1, 29), date(2026, 2, 17)]
    # Day 30 in short months gives the month's last day each year.
    assert yearly_lunar_dates(12, 30, 2026, 2027) == [date(2026, 2, 16), date(2027, 2, 5)]


def test_yearly_dates_refuse_a_reversed_range() -> None:
    with pytest.raises(ValidationError) as exc:
        yearly_lunar_dates(8, 15, 2027, 2026)
    assert exc.value.errors[0].field == "end_year"
