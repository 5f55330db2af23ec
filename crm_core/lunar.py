"""The Chinese lunisolar calendar (农历): lunar dates to Gregorian ones and back.

Yearly lunar events (中秋联谊会 on 八月十五, 春节团拜会 on 正月初一) must be expanded to
concrete Gregorian dates, since calendars on phones do not understand lunar recurrence.
The astronomy is done by ``lunar_python``; this module is the one place the program
touches it, with the rules the office expects:

- Months are 1–12; a leap month (闰月) is asked for with ``leap=True`` and exists only in
  some years (2025 has 闰六月, 2026 has none): asking for a missing leap month is an
  error, never a silent shift to another month.
- A lunar month has 29 or 30 days. Day 30 of a 29-day month is read as the last day of
  that month (the 29th), the way 除夕 is "the last day of 腊月": a yearly event on 三十
  then falls on the month's last day in short years rather than disappearing or moving
  into the next month. Days outside 1–30 are errors.
- Festivals (春节, 元宵, 端午, 七夕, 中秋, 重阳, 腊八, 除夕, …) fall on ordinary months
  only, never on a leap month of the same number.

Errors are :class:`crm_core.errors.ValidationError` naming the field and value, since
the values usually come from an office's config (``lunar_month``, ``lunar_day``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lunar_python import Lunar, LunarMonth, Solar

from crm_core.errors import ValidationError
from crm_core.i18n import N_

__all__ = [
    "FESTIVALS",
    "LunarDate",
    "lunar_text",
    "lunar_to_solar",
    "month_days",
    "solar_term",
    "solar_to_lunar",
    "yearly_lunar_dates",
]

_MONTHS = ("正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊")
_DAYS = (
    "初一", "初二", "初三", "初四", "初五", "初六", "初七", "初八", "初九", "初十",
    "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九", "二十",
    "廿一", "廿二", "廿三", "廿四", "廿五", "廿六", "廿七", "廿八", "廿九", "三十",
)  # fmt: skip

# Traditional festivals on a fixed lunar month and day. 除夕 (the last day of 腊月, the
# 29th or the 30th) is not in this table: see solar_to_lunar.
FESTIVALS: dict[tuple[int, int], str] = {
    (1, 1): "春节",
    (1, 15): "元宵",
    (2, 2): "龙抬头",
    (5, 5): "端午",
    (7, 7): "七夕",
    (7, 15): "中元",
    (8, 15): "中秋",
    (9, 9): "重阳",
    (12, 8): "腊八",
    (12, 23): "小年",
}
NEW_YEARS_EVE = "除夕"


@dataclass(frozen=True)
class LunarDate:
    """A day of the lunar calendar.

    ``year`` is the lunar year (which begins at 春节, so January days usually belong to
    the previous one), ``month`` 1–12 with ``leap`` for a leap month, ``day`` 1–30.
    ``text`` is the usual Chinese form ("八月十五", "闰六月初八", "腊月廿九") and
    ``festival`` the traditional festival of the day ("中秋", "除夕") or None.
    """

    year: int
    month: int
    day: int
    leap: bool
    text: str
    festival: str | None

    def __str__(self) -> str:
        return self.text


def _check(field: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError.one(
            field, value, N_("must be a whole number from {low} to {high}"), low=low, high=high
        )


def _month(year: int, month: int, leap: bool) -> LunarMonth:
    found = LunarMonth.fromYm(year, -month if leap else month)
    if found is None:
        if leap:
            raise ValidationError.one(
                "lunar_month",
                month,
                N_("lunar year {year} has no leap month {month} (闰{month}月)"),
                year=year,
                month=month,
            )
        raise ValidationError.one(
            "lunar_month",
            month,
            N_("lunar year {year} has no month {month}"),
            year=year,
            month=month,
        )
    return found


def month_days(year: int, month: int, *, leap: bool = False) -> int:
    """How many days (29 or 30) the lunar month has in lunar year ``year``."""
    _check("lunar_year", year, 1, 9999)
    _check("lunar_month", month, 1, 12)
    return int(_month(year, month, leap).getDayCount())


def lunar_to_solar(year: int, month: int, day: int, *, leap: bool = False) -> date:
    """The Gregorian date of lunar ``year``/``month``/``day`` (``leap`` for 闰月).

    Day 30 of a 29-day month gives the month's last day (see the module's docstring).
    ``lunar_to_solar(2026, 8, 15)`` is 2026-09-25 (中秋);
    ``lunar_to_solar(2025, 12, 30)`` is 2026-02-16 (除夕, 腊月 of 2025 has 29 days).
    """
    _check("lunar_year", year, 1, 9999)
    _check("lunar_month", month, 1, 12)
    _check("lunar_day", day, 1, 30)
    days = _month(year, month, leap).getDayCount()
    lunar = Lunar.fromYmd(year, -month if leap else month, min(day, days))
    solar = lunar.getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def solar_to_lunar(d: date) -> LunarDate:
    """The lunar date of the Gregorian date ``d``, with its Chinese text and festival."""
    lunar = Solar.fromYmd(d.year, d.month, d.day).getLunar()
    raw_month = lunar.getMonth()
    month, leap, day = abs(raw_month), raw_month < 0, lunar.getDay()
    text = ("闰" if leap else "") + _MONTHS[month - 1] + "月" + _DAYS[day - 1]
    festival = None
    if not leap:
        festival = FESTIVALS.get((month, day))
        if month == 12 and day == _month(lunar.getYear(), 12, False).getDayCount():
            festival = NEW_YEARS_EVE
    return LunarDate(lunar.getYear(), month, day, leap, text, festival)


def solar_term(d: date) -> str | None:
    """The solar term (节气: 冬至, 立春 …) that falls on ``d``, or None."""
    term = Solar.fromYmd(d.year, d.month, d.day).getLunar().getJieQi()
    return str(term) if term else None


def lunar_text(month: int, day: int, *, leap: bool = False) -> str:
    """The Chinese form of a lunar month and day, e.g. ``lunar_text(8, 15)`` → "八月十五"."""
    _check("lunar_month", month, 1, 12)
    _check("lunar_day", day, 1, 30)
    return ("闰" if leap else "") + _MONTHS[month - 1] + "月" + _DAYS[day - 1]


def yearly_lunar_dates(month: int, day: int, start_year: int, end_year: int) -> list[date]:
    """Every Gregorian date from 1 January ``start_year`` to 31 December ``end_year``
    (inclusive) that is lunar ``month``/``day`` of an ordinary (not leap) month, in order.

    The years are Gregorian, as a calendar feed needs them. For most dates that is one a
    year (中秋: ``yearly_lunar_dates(8, 15, 2026, 2027)`` → 2026-09-25, 2027-09-15); a
    date in 腊月 may fall twice in one Gregorian year or not at all. Day 30 of a 29-day
    month gives the month's last day.
    """
    _check("start_year", start_year, 2, 9998)
    _check("end_year", end_year, 2, 9998)
    if end_year < start_year:
        raise ValidationError.one(
            "end_year", end_year, N_("is before start_year {start_year}"), start_year=start_year
        )
    first, last = date(start_year, 1, 1), date(end_year, 12, 31)
    out = []
    # A lunar year starts between 21 January and 20 February: the lunar year before
    # start_year can still reach into it.
    for year in range(start_year - 1, end_year + 1):
        d = lunar_to_solar(year, month, day)
        if first <= d <= last:
            out.append(d)
    return out
