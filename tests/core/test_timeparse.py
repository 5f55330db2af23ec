"""Tests of crm_core.timeparse: dates and times as office staff type them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crm_core import timeparse as tp
from crm_core.errors import TongxinError
from crm_core.timeparse import TimeParseError, When, parse_date, parse_when

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 20, tzinfo=SHANGHAI)  # a Friday
TODAY = NOW.date()


def when(text: str, **kwargs: object) -> When:
    return parse_when(text, now=NOW, tz=SHANGHAI, **kwargs)  # type: ignore[arg-type]


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)


def test_the_fixed_now_is_a_friday() -> None:
    assert NOW.weekday() == 4


# ---------------------------------------------------------------------------------------
# Dates alone: all-day
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("2026/12/1", date(2026, 12, 1)),
        ("2026.12.1", date(2026, 12, 1)),
        ("2027-1-5", date(2027, 1, 5)),
        ("2026年12月1日", date(2026, 12, 1)),
        ("2026年12月1号", date(2026, 12, 1)),
        ("2026 年 12 月 1 日", date(2026, 12, 1)),
        ("二〇二六年十二月一日", date(2026, 12, 1)),
        ("2025年3月15日", date(2025, 3, 15)),
        ("12/1", date(2026, 12, 1)),
        ("12-1", date(2026, 12, 1)),
        ("12月1日", date(2026, 12, 1)),
        ("12月1号", date(2026, 12, 1)),
        ("十二月三十一日", date(2026, 12, 31)),
        ("今天", date(2026, 11, 27)),
        ("今日", date(2026, 11, 27)),
        ("明天", date(2026, 11, 28)),
        ("明日", date(2026, 11, 28)),
        ("后天", date(2026, 11, 29)),
        ("大后天", date(2026, 11, 30)),
        ("昨天", date(2026, 11, 26)),
        ("前天", date(2026, 11, 25)),
        ("大前天", date(2026, 11, 24)),
        ("today", date(2026, 11, 27)),
        ("Tomorrow", date(2026, 11, 28)),
        ("YESTERDAY", date(2026, 11, 26)),
        # Full-width digits, punctuation and spaces; surrounding whitespace.
        ("２０２６－１２－０１", date(2026, 12, 1)),
        ("２０２６／１２／１", date(2026, 12, 1)),
        ("　12月1日　", date(2026, 12, 1)),
        ("\t明天\n", date(2026, 11, 28)),
    ],
)
def test_a_date_alone_is_all_day(text: str, day: date) -> None:
    result = when(text)
    assert result == When(at(day.year, day.month, day.day), all_day=True)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        # Bare weekday: the next one on or after today (Friday 2026-11-27).
        ("周五", date(2026, 11, 27)),
        ("周六", date(2026, 11, 28)),
        ("周日", date(2026, 11, 29)),
        ("周天", date(2026, 11, 29)),
        ("周一", date(2026, 11, 30)),
        ("周三", date(2026, 12, 2)),
        ("周四", date(2026, 12, 3)),
        ("星期一", date(2026, 11, 30)),
        ("星期日", date(2026, 11, 29)),
        ("星期天", date(2026, 11, 29)),
        ("礼拜一", date(2026, 11, 30)),
        ("礼拜天", date(2026, 11, 29)),
        ("周7", date(2026, 11, 29)),
        # This week (Monday 11-23 to Sunday 11-29), next, last.
        ("本周一", date(2026, 11, 23)),
        ("这周五", date(2026, 11, 27)),
        ("本周五", date(2026, 11, 27)),
        ("本周日", date(2026, 11, 29)),
        ("这个星期三", date(2026, 11, 25)),
        ("下周一", date(2026, 11, 30)),
        ("下周三", date(2026, 12, 2)),
        ("下个星期五", date(2026, 12, 4)),
        ("下礼拜天", date(2026, 12, 6)),
        ("上周五", date(2026, 11, 20)),
        ("上个礼拜一", date(2026, 11, 16)),
        ("下下周一", date(2026, 12, 7)),
        ("上上周五", date(2026, 11, 13)),
    ],
)
def test_weekdays(text: str, day: date) -> None:
    assert when(text) == When(at(day.year, day.month, day.day), all_day=True)


def test_bare_weekday_is_today_when_today_is_that_day() -> None:
    wednesday = datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)
    assert parse_when("周三", now=wednesday, tz=SHANGHAI).start.date() == date(2026, 12, 2)
    assert parse_when("周二", now=wednesday, tz=SHANGHAI).start.date() == date(2026, 12, 8)


def test_default_time_applies_to_a_date_alone() -> None:
    assert when("明天", default_time=time(9, 0)) == When(at(2026, 11, 28, 9), all_day=False)
    assert when("2026-12-01", default_time=time(14, 30)) == When(at(2026, 12, 1, 14, 30), False)
    # ...but not when a time or a part of day was typed.
    assert when("明天 15:00", default_time=time(9, 0)).start == at(2026, 11, 28, 15)
    assert when("明天下午", default_time=time(9, 0)).start == at(2026, 11, 28, 14, 30)


# ---------------------------------------------------------------------------------------
# Dates with times, times alone
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("2026-12-01 9:30", at(2026, 12, 1, 9, 30)),
        ("2026-12-01 09:30", at(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30", at(2026, 12, 1, 9, 30)),
        ("2026-12-01t09:30", at(2026, 12, 1, 9, 30)),
        ("2026-12-01 09:30:00", at(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:45", at(2026, 12, 1, 9, 30, 45)),
        ("2026/12/1 15:00", at(2026, 12, 1, 15)),
        ("2026年12月1日 9:30", at(2026, 12, 1, 9, 30)),
        ("2026年12月1日9:30", at(2026, 12, 1, 9, 30)),
        ("2026年12月1日 上午9时30分", at(2026, 12, 1, 9, 30)),
        ("12月1日下午3点", at(2026, 12, 1, 15)),
        ("12/1 14:00", at(2026, 12, 1, 14)),
        ("２０２６－１２－０１　０９：３０", at(2026, 12, 1, 9, 30)),
        ("2026-12-01 ９：３０", at(2026, 12, 1, 9, 30)),
        # ISO with an offset is converted to the office zone.
        ("2026-12-01T09:30+08:00", at(2026, 12, 1, 9, 30)),
        ("2026-12-01T01:30Z", at(2026, 12, 1, 9, 30)),
        ("2026-12-01T01:30z", at(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30+0900", at(2026, 12, 1, 8, 30)),
        ("2026-12-01 00:30-05:00", at(2026, 12, 1, 13, 30)),
        # Relative days and weekdays with a time or a part of day.
        ("今天 15:00", at(2026, 11, 27, 15)),
        ("今天15:00", at(2026, 11, 27, 15)),
        ("明天 9点", at(2026, 11, 28, 9)),
        ("明天，9点", at(2026, 11, 28, 9)),
        ("明天上午", at(2026, 11, 28, 9)),
        ("明天下午", at(2026, 11, 28, 14, 30)),
        ("明天中午", at(2026, 11, 28, 12)),
        ("明天晚上", at(2026, 11, 28, 19)),
        ("明天早上", at(2026, 11, 28, 8)),
        ("明天傍晚", at(2026, 11, 28, 18)),
        ("明天上午10点", at(2026, 11, 28, 10)),
        ("后天下午3点半", at(2026, 11, 29, 15, 30)),
        ("昨天下午3:30", at(2026, 11, 26, 15, 30)),
        ("前天 凌晨2点", at(2026, 11, 25, 2)),
        ("今晚", at(2026, 11, 27, 19)),
        ("今晚7点半", at(2026, 11, 27, 19, 30)),
        ("今晚 20:00", at(2026, 11, 27, 20)),
        ("明晚", at(2026, 11, 28, 19)),
        ("昨晚8点", at(2026, 11, 26, 20)),
        ("明早", at(2026, 11, 28, 8)),
        ("明早7点", at(2026, 11, 28, 7)),
        ("周三下午3点", at(2026, 12, 2, 15)),
        ("下周三 15:00", at(2026, 12, 2, 15)),
        ("本周五下午", at(2026, 11, 27, 14, 30)),
        ("上周五 上午10点", at(2026, 11, 20, 10)),
        ("星期一上午9点", at(2026, 11, 30, 9)),
        ("tomorrow 9:30", at(2026, 11, 28, 9, 30)),
        ("Today 15:00", at(2026, 11, 27, 15)),
        ("yesterday 18:45", at(2026, 11, 26, 18, 45)),
        # A time alone is today.
        ("9:30", at(2026, 11, 27, 9, 30)),
        ("09:30", at(2026, 11, 27, 9, 30)),
        ("15:00", at(2026, 11, 27, 15)),
        ("0:00", at(2026, 11, 27, 0)),
        ("23:59", at(2026, 11, 27, 23, 59)),
        ("９：３０", at(2026, 11, 27, 9, 30)),
        ("9点", at(2026, 11, 27, 9)),
        ("9点钟", at(2026, 11, 27, 9)),
        ("9点整", at(2026, 11, 27, 9)),
        ("9点半", at(2026, 11, 27, 9, 30)),
        ("9点30", at(2026, 11, 27, 9, 30)),
        ("9点30分", at(2026, 11, 27, 9, 30)),
        ("9点05", at(2026, 11, 27, 9, 5)),
        ("9点一刻", at(2026, 11, 27, 9, 15)),
        ("9点三刻", at(2026, 11, 27, 9, 45)),
        ("9时30分", at(2026, 11, 27, 9, 30)),
        ("九点半", at(2026, 11, 27, 9, 30)),
        ("十点零五分", at(2026, 11, 27, 10, 5)),
        ("两点", at(2026, 11, 27, 2)),
        ("下午两点", at(2026, 11, 27, 14)),
        ("下午三点二十", at(2026, 11, 27, 15, 20)),
        ("下午3点", at(2026, 11, 27, 15)),
        ("下午3:30", at(2026, 11, 27, 15, 30)),
        ("下午 3:30", at(2026, 11, 27, 15, 30)),
        ("下午15点", at(2026, 11, 27, 15)),
        ("下午12点", at(2026, 11, 27, 12)),
        ("晚上7点", at(2026, 11, 27, 19)),
        ("晚上19:00", at(2026, 11, 27, 19)),
        ("晚上11点半", at(2026, 11, 27, 23, 30)),
        ("晚上12点", at(2026, 11, 28, 0)),  # midnight ending that evening
        ("明天晚上12点", at(2026, 11, 29, 0)),
        ("上午10点", at(2026, 11, 27, 10)),
        ("上午12点", at(2026, 11, 27, 12)),
        ("中午12点", at(2026, 11, 27, 12)),
        ("中午1点", at(2026, 11, 27, 13)),
        ("凌晨2点", at(2026, 11, 27, 2)),
        ("凌晨12点", at(2026, 11, 27, 0)),
        ("傍晚6点", at(2026, 11, 27, 18)),
        # A part of day alone: today at its default.
        ("上午", at(2026, 11, 27, 9)),
        ("中午", at(2026, 11, 27, 12)),
        ("下午", at(2026, 11, 27, 14, 30)),
        ("晚上", at(2026, 11, 27, 19)),
    ],
)
def test_timed(text: str, start: datetime) -> None:
    result = when(text)
    assert result == When(start, all_day=False)
    assert result.start.tzinfo is SHANGHAI


@pytest.mark.parametrize("text", ["now", "NOW", "Now", "现在", " 现在 "])
def test_now(text: str) -> None:
    assert when(text) == When(NOW, all_day=False)


def test_now_given_in_utc_is_read_in_the_office_zone() -> None:
    # 2026-11-27 17:00Z is 2026-11-28 01:00 in Shanghai: "today" is the 28th there.
    utc_now = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert parse_when("now", now=utc_now, tz=SHANGHAI).start == at(2026, 11, 28, 1)
    assert parse_when("今天", now=utc_now, tz=SHANGHAI).start == at(2026, 11, 28)
    assert parse_when("9:30", now=utc_now, tz=SHANGHAI).start == at(2026, 11, 28, 9, 30)


def test_results_are_aware_and_convert_to_utc() -> None:
    result = when("2026-12-01 09:30")
    assert result.start.tzinfo is not None
    assert result.start.utcoffset() == timedelta(hours=8)
    assert result.start.astimezone(UTC) == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert result.start.astimezone(UTC).isoformat() == "2026-12-01T01:30:00+00:00"
    assert when("明天").start.tzinfo is not None


def test_other_zone() -> None:
    ny = ZoneInfo("America/New_York")
    result = parse_when("2026-12-01T09:30+08:00", now=NOW, tz=ny)
    assert result.start == datetime(2026, 11, 30, 20, 30, tzinfo=ny)
    assert result.start.tzinfo is ny


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("今天", now=datetime(2026, 11, 27, 10, 20), tz=SHANGHAI)


# ---------------------------------------------------------------------------------------
# Year-less dates: the nearest to today (within 183 days)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("1/5", date(2027, 1, 5)),
        ("11/20", date(2026, 11, 20)),
        ("11/27", date(2026, 11, 27)),
        ("6/1", date(2026, 6, 1)),  # 179 days back beats 186 ahead
        ("5/30", date(2026, 5, 30)),  # 181 back vs 184 ahead
        ("5/29", date(2026, 5, 29)),  # 182 back vs 183 ahead
        ("5/28", date(2027, 5, 28)),  # 183 back vs 182 ahead
        ("5/27", date(2027, 5, 27)),  # 184 back vs 181 ahead
        ("12月31日", date(2026, 12, 31)),
        ("3月1号", date(2027, 3, 1)),
        ("8-1", date(2026, 8, 1)),
    ],
)
def test_year_less_dates_are_the_nearest(text: str, day: date) -> None:
    assert parse_date(text, today=TODAY) == day
    assert when(text).start.date() == day


def test_year_less_dates_cross_the_new_year_both_ways() -> None:
    january = date(2027, 1, 3)
    assert parse_date("12/28", today=january) == date(2026, 12, 28)
    assert parse_date("1/10", today=january) == date(2027, 1, 10)
    december = date(2026, 12, 30)
    assert parse_date("1/2", today=december) == date(2027, 1, 2)


def test_a_tie_goes_to_the_future() -> None:
    # 2027-03-01 and 2028-03-01 are both 183 days from 2027-08-31 (2028 is a leap year).
    assert parse_date("3/1", today=date(2027, 8, 31)) == date(2028, 3, 1)


def test_february_29_without_a_year() -> None:
    assert parse_date("2/29", today=date(2027, 12, 1)) == date(2028, 2, 29)
    assert parse_date("2月29日", today=date(2028, 7, 1)) == date(2028, 2, 29)
    with pytest.raises(TimeParseError, match="give the year") as caught:
        parse_date("2/29", today=TODAY)  # none within 183 days of 2026-11-27
    assert "2/29" in str(caught.value)


# ---------------------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("2026/12/1", date(2026, 12, 1)),
        ("2026.12.1", date(2026, 12, 1)),
        ("2026年12月1日", date(2026, 12, 1)),
        ("12/1", date(2026, 12, 1)),
        ("12-1", date(2026, 12, 1)),
        ("12月1号", date(2026, 12, 1)),
        ("明天", date(2026, 11, 28)),
        ("后天", date(2026, 11, 29)),
        ("昨天", date(2026, 11, 26)),
        ("周三", date(2026, 12, 2)),
        ("下周五", date(2026, 12, 4)),
        ("本周日", date(2026, 11, 29)),
        ("tomorrow", date(2026, 11, 28)),
        ("  １２月１日 ", date(2026, 12, 1)),
    ],
)
def test_parse_date(text: str, day: date) -> None:
    assert parse_date(text, today=TODAY) == day


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "明天 9:30",
        "2026-12-01 09:30",
        "2026-12-01T09:30",
        "下午",
        "9:30",
        "今晚",
        "now",
        "现在",
        "2026-02-30",
        "13月1日",
        "下周",
        "下下下周",
        "明天吧",
    ],
)
def test_parse_date_refuses(text: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_date(text, today=TODAY)
    assert repr(text) in str(caught.value)
    assert "2026-12-01" in str(caught.value)  # names the accepted forms


# ---------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # empty
        "",
        "   ",
        "\u3000",
        # impossible dates
        "2026-02-30",
        "2026-13-01",
        "2026-00-10",
        "2026-12-32",
        "2026年2月30日",
        "13月1日",
        "0月1日",
        "2/30",
        "13/1",
        "2026-12-01T",
        # impossible times
        "25:00",
        "24:00",
        "9:75",
        "9:5",
        "12:30:60",
        "25点",
        "9点75分",
        "明天 25:00",
        "2026-12-01 24:00",
        "上午13点",
        "上午15点",
        "下午0点",
        "晚上2点",
        "凌晨8点",
        "中午6点",
        "凌晨",
        "2026-12-01T09:30+25:00",
        "明天 9:30+08:00",  # an offset needs a full date
        "9:30Z",
        # garbage and trailing junk
        "下下下周",
        "下周",
        "周八",
        "星期",
        "明天吧",
        "明天 9:30 左右",
        "2026-12-01 9:30 foo",
        "2026-12-011",
        "12/1/2026",
        "12.1",  # year-less with a dot: could be a time
        "9.30",
        "9",
        "明天 9",
        "十二十点",
        "今晚下午3点",
        "下午晚上",
        "tomorrow tomorrow",
        "next friday",
        "noww",
        "yesterday morning",
        "2026年12月",
    ],
)
def test_refused(text: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        when(text)
    message = str(caught.value)
    assert repr(text) in message
    assert text.strip() in message
    assert "accepted" in message


def test_error_is_a_tongxin_error_with_a_reason() -> None:
    with pytest.raises(TongxinError) as caught:
        when("2026-02-30")
    assert isinstance(caught.value, TimeParseError)
    assert caught.value.typed == "2026-02-30"
    assert "no such date" in str(caught.value)
    with pytest.raises(TimeParseError, match="no such time"):
        when("9:75")
    with pytest.raises(TimeParseError, match="上午 does not go with 13点"):
        when("上午13点")


def test_when_is_frozen() -> None:
    result = when("明天")
    with pytest.raises(AttributeError):
        result.all_day = False  # type: ignore[misc]


# -- every advertised example parses --------------------------------------------------

_EXAMPLE_SPLIT = re.compile(r"[,，、;；]|\s…|…|\(|\)|（|）")
_DATE_HELP = re.compile(r'typer\.Option\("--(?:from|to|since|until|due)"[^)]*help=N_\("([^"]*)"')
_WHEN_HELP = re.compile(r'help=N_\("When: ([^"]*)"')


def _examples(text: str, *, lead: bool = True) -> list[str]:
    """The examples in a help text: ``From this day (2026-07-01, 上月1日 …).``."""
    if lead:
        text = re.sub(r"^[^:(]*[:(]", "", text)  # "From this day (" / "accepted: "
    text = re.sub(r"\(default[^)]*\)", "", text)
    found = []
    for part in _EXAMPLE_SPLIT.split(text.replace("e.g.", "")):
        part = part.strip(" .。")
        if part and re.search(r"[0-9\u4e00-\u9fff]", part):
            found.append(part)
    return found


def test_every_advertised_date_example_parses() -> None:
    root = Path(__file__).resolve().parents[2]
    dates: set[str] = set(_examples(tp.DATE_FORMS, lead=False)) | {"today"}
    whens: set[str] = set()
    for path in [*(root / "cli").glob("*.py"), *(root / "plugins").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        for help_text in _DATE_HELP.findall(source):
            dates |= set(_examples(help_text))
        for help_text in _WHEN_HELP.findall(source):
            whens |= set(_examples(help_text, lead=False))
    assert {"上月1日", "2026-07-01", "上周一"} <= dates and "明天下午3点" in whens
    today = date(2026, 12, 7)
    for text in sorted(dates):
        tp.parse_date(text, today=today)  # raises if an advertised example is refused
    for text in sorted(whens):
        tp.parse_when(text, now=datetime(2026, 12, 7, 10, tzinfo=SHANGHAI), tz=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("上月1日", date(2025, 12, 1)),
        ("本月1日", date(2026, 1, 1)),
        ("这个月15号", date(2026, 1, 15)),
        ("下个月1日", date(2026, 2, 1)),
        ("上月末", date(2025, 12, 31)),
        ("上月底", date(2025, 12, 31)),
        ("上上月初", date(2025, 11, 1)),
        ("下月底", date(2026, 2, 28)),
    ],
)
def test_a_day_of_a_month_said_from_this_one(text: str, day: date) -> None:
    assert tp.parse_date(text, today=date(2026, 1, 7)) == day


def test_a_month_day_that_does_not_exist_is_refused() -> None:
    with pytest.raises(tp.TimeParseError, match="no such date"):
        tp.parse_date("下月31日", today=date(2026, 1, 7))
