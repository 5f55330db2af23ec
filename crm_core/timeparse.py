"""Dates and times as office staff type them: ``2026-12-01 9:30``, ``12月1日``, ``明天下午3点``.

Strict on purpose: a form is either read exactly or refused with a :class:`TimeParseError`
naming what was typed; nothing is guessed from junk. The input is NFKC-normalised first
(full-width digits, colons, slashes and spaces become ASCII), surrounding whitespace is
ignored and Latin letters are case-insensitive.

Grammar: an optional *date* followed by an optional *time of day* (at least one of them),
separated by nothing, spaces or a comma (ISO dates also take ``T``).

Dates
    ``2026-12-01``, ``2026/12/1``, ``2026.12.1``, ``2026年12月1日`` (also ``号``, Chinese
    numerals, ``二〇二六年``); without a year ``12/1``, ``12-1``, ``12月1日``, ``12月1号``;
    ``今天`` ``明天`` ``后天`` ``大后天`` ``昨天`` ``前天`` ``大前天`` (``今日`` ``明日``
    ``昨日``), ``today`` ``tomorrow`` ``yesterday``; ``今晚`` ``明晚`` ``昨晚`` ``今早``
    ``明早`` (a day with its part of day); weekdays ``周三`` ``星期三`` ``礼拜三``
    (``日``/``天``/``7`` for Sunday) after ``本``/``这``/``上``/``下``/``上上``/``下下``
    (optionally with ``个``: ``下个星期三``).
Times of day
    ``9:30``, ``09:30:00``, ``9点``, ``9时``, ``9点钟``, ``9点半``, ``9点整``, ``9点一刻``,
    ``9点30``, ``9点30分``, ``九点半``; preceded or not by a part of day ``凌晨`` ``早上``
    ``早晨`` ``上午`` ``中午`` ``下午`` ``傍晚`` ``晚上``. A part of day alone stands for
    its default time (``上午`` 09:00, ``中午`` 12:00, ``下午`` 14:30, ``晚上`` 19:00, ...).
    After a full ISO date with a colon time, a UTC offset (``+08:00``, ``+0800``, ``Z``)
    may follow; the result is converted to the office zone.
``now`` / ``现在``
    The current moment.

Rules
    * A date without a year is the one nearest to today, i.e. within 183 days either way
      (half a leap year): with today 2026-11-27, ``1/5`` is 2027-01-05, ``11/20`` is
      2026-11-20, ``6/1`` is 2026-06-01, ``5/29`` 2026-05-29 but ``5/28`` 2027-05-28. An
      exact tie (183 days both ways, possible only across a 29 February) goes to the future.
      ``2/29`` with no 29 February within 183 days is refused.
    * A year-less ``12.1`` is refused: ``9.30`` could as well be a time.
    * ``周三`` alone is the next Wednesday on or after today (today if it is Wednesday).
      ``本周三``/``这周三`` is the Wednesday of the current week, ``下周三`` of next week and
      ``上周三`` of last week; weeks run Monday to Sunday, so ``本周日`` is the coming Sunday.
    * a day of a month said from this one: ``上月1日``, ``本月15号``, ``下个月1日``, ``上月初``,
      ``上月底``/``上月末`` (its last day).
    * A time without a date is today; a date without a time is ``all_day`` (unless a
      ``default_time`` is given).
    * Parts of day and hours: ``上午``/``早上``/``早晨`` take hours 0-12 as they are
      (``上午13点`` is refused); ``下午`` adds 12 to 1-11 and takes 12-23 as they are
      (``下午3点`` = ``下午15点`` = 15:00); ``晚上`` adds 12 to 5-11, takes 17-23 as they are
      and reads ``晚上12点`` as midnight ending that day (00:00 the next day); ``中午`` takes
      10-14 and adds 12 to 1-3; ``傍晚`` takes 4-7 (+12) or 16-19; ``凌晨`` takes 0-6
      (``凌晨12点`` = 00:00) and has no default, it needs an hour.
    * Hours run 0-23 (``24:00`` is refused), minutes and seconds 0-59.
    * Dates lie between 1900-01-01 and 2200-12-31 (:mod:`crm_core.validation`); year 0,
      1 or 9999 is refused.
    * A local time the clocks skip (the hour lost when summer time begins: 2026-03-08
      02:30 in America/New_York, 1986-05-04 02:30 in Asia/Shanghai, which kept summer time
      from 1986 to 1991) is refused, naming the time and the gap; it is never moved to
      another time. A local time the clocks show twice (the hour repeated when summer
      time ends) is its first occurrence, still on summer time; to mean the second one,
      type the UTC offset after a full ISO date (``2026-11-01 01:30-05:00``).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from crm_core import validation
from crm_core.errors import FieldError, TongxinError
from crm_core.i18n import N_, _

__all__ = ["TimeParseError", "When", "parse_date", "parse_when"]

WHEN_FORMS = N_(
    "e.g. 2026-12-01 9:30, 12/1, 12月1日 下午3点, 明天上午, 周三 15:00, 今晚, 9点半, now"
)
DATE_FORMS = N_(
    "e.g. 2026-12-01, 2026年12月1日, 12/1, 12月1号, 明天, 周五, 下周三, 上月1日, 本月底, today"
)

# Half a leap year: the farthest a year-less date may lie from today.
NEAREST_DAYS = 183


class _Phrase:
    """A msgid and its values, said in the current language each time it is formatted:
    the reason and the accepted forms inside a refusal are translated with it."""

    def __init__(self, msgid: str, params: Mapping[str, Any]) -> None:
        self.msgid = msgid
        self.params = dict(params)

    def say(self, translate: bool) -> str:
        """The phrase in the user's language, or in English when not ``translate``."""
        template = _(self.msgid) if translate else self.msgid
        return template.format(**self.params) if self.params else template

    def __format__(self, spec: str) -> str:
        return format(self.say(True), spec)

    def __str__(self) -> str:
        return self.say(True)


class TimeParseError(TongxinError):
    """Typed text that is not a date/time this module reads; the message quotes the text.

    ``typed`` is the text; ``reason``, when given, is a msgid (``N_``) formatted with
    ``params``. ``str()`` is English (logs, tests); :attr:`text` is in the user's language.
    """

    def __init__(
        self, typed: str, reason: str | None = None, *, forms: str = WHEN_FORMS, **params: Any
    ) -> None:
        self.typed = typed
        self.reason = reason.format(**params) if reason and params else reason
        self.template = (
            N_("cannot read {typed!r} as a date/time ({reason}); accepted: {forms}")
            if reason
            else N_("cannot read {typed!r} as a date/time; accepted: {forms}")
        )
        self.params: dict[str, Any] = {"typed": typed, "forms": _Phrase(forms, {})}
        if reason:
            self.params["reason"] = _Phrase(reason, params)
        super().__init__(self.template.format(**self._english()))

    def _english(self) -> dict[str, Any]:
        return {k: v.say(False) if isinstance(v, _Phrase) else v for k, v in self.params.items()}

    def field_error(self, field: str) -> FieldError:
        """This refusal as the reason ``field`` was refused (for a ValidationError)."""
        return FieldError(field, self.typed, str(self), self.template, self.params)


@dataclass(frozen=True)
class When:
    """A parsed moment: ``start`` is aware, in the office zone; ``all_day`` if only a date."""

    start: datetime
    all_day: bool


# ---------------------------------------------------------------------------------------
# Numerals
# ---------------------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"(?:[0-9]{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_YEAR = r"(?:[0-9]{4}|[〇零一二三四五六七八九]{4})"


def _number(token: str) -> int | None:
    """``"9"``, ``"09"``, ``"九"``, ``"十二"``, ``"二十"``, ``"三十一"``, ``"零五"`` -> int."""
    if token.isascii():
        return int(token) if token.isdigit() else None
    if "十" in token:
        tens, _, ones = token.partition("十")
        if "十" in ones or len(tens) > 1 or len(ones) > 1:
            return None
        high = _CN_DIGITS.get(tens, -1) if tens else 1
        low = _CN_DIGITS.get(ones, -1) if ones else 0
        return None if high < 1 or low < 0 else high * 10 + low
    if len(token) == 1:
        return _CN_DIGITS.get(token)
    if len(token) == 2 and token[0] in "零〇":
        return _CN_DIGITS.get(token[1])
    return None


def _year(token: str) -> int:
    if token.isascii():
        return int(token)
    return int("".join(str(_CN_DIGITS[c]) for c in token))


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})(?![0-9])")
_CN_DATE = re.compile(rf"(?:({_YEAR})\s*年\s*)?({_NUM})\s*月\s*({_NUM})\s*[日号]")
_SHORT_DATE = re.compile(r"([0-9]{1,2})[-/]([0-9]{1,2})(?![0-9/.-])")
_RELATIVE = {
    "大后天": 3,
    "后天": 2,
    "明天": 1,
    "明日": 1,
    "今天": 0,
    "今日": 0,
    "昨天": -1,
    "昨日": -1,
    "大前天": -3,
    "前天": -2,
    "tomorrow": 1,
    "today": 0,
    "yesterday": -1,
}
# A day together with its part of day.
_DAY_AND_PART = {
    "今晚": (0, "晚上"),
    "明晚": (1, "晚上"),
    "昨晚": (-1, "晚上"),
    "今早": (0, "早上"),
    "明早": (1, "早上"),
}
_RELATIVE_RE = re.compile(
    "|".join(re.escape(w) for w in sorted([*_RELATIVE, *_DAY_AND_PART], key=len, reverse=True))
)
_WEEKDAY_RE = re.compile(r"(?:(上上|下下|上|下|本|这)个?)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
# A day of a month said from this one: 上月1日, 本月15号, 下个月1日, 上月初, 上月底, 本月末.
_MONTH_DAY_RE = re.compile(rf"(上上|下下|上|下|本|这)个?月\s*(?:({_NUM})\s*[日号]|(初|底|末))")
_MONTH_SHIFT = {"上上": -2, "上": -1, "本": 0, "这": 0, "下": 1, "下下": 2}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEK_SHIFT = {"上上": -2, "上": -1, "本": 0, "这": 0, "下": 1, "下下": 2}


@dataclass(frozen=True)
class _DatePart:
    day: date
    end: int  # where the date ends in the normalised text
    part: str | None = None  # part of day carried by the word (今晚)
    iso: bool = False  # full numeric date: may take a T separator and a UTC offset


def _make_date(text: str, year: int, month: int | None, day: int | None, forms: str) -> date:
    try:
        if month is None or day is None:
            raise ValueError
        return date(year, month, day)
    except ValueError:
        raise TimeParseError(text, N_("no such date"), forms=forms) from None


def _nearest(text: str, month: int | None, day: int | None, today: date, forms: str) -> date:
    """The date with this month and day nearest to ``today`` (see the module's rules)."""
    if month is None or day is None or not (1 <= month <= 12 and 1 <= day <= 31):
        raise TimeParseError(text, N_("no such date"), forms=forms)
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    # Nearest first; on a tie the future one (False sorts before True).
    near = sorted(candidates, key=lambda d: (abs((d - today).days), d < today))
    if not near or abs((near[0] - today).days) > NEAREST_DAYS:
        raise TimeParseError(text, N_("no such date near today; give the year"), forms=forms)
    return near[0]


def _match_date(text: str, s: str, today: date, forms: str) -> _DatePart | None:
    """Read a date at the start of the normalised ``s``; None if none starts there."""
    if m := _ISO_DATE.match(s):
        day = _make_date(text, int(m[1]), int(m[3]), int(m[4]), forms)
        return _DatePart(day, m.end(), iso=True)
    if m := _CN_DATE.match(s):
        month, mday = _number(m[2]), _number(m[3])
        if m[1]:
            return _DatePart(_make_date(text, _year(m[1]), month, mday, forms), m.end())
        return _DatePart(_nearest(text, month, mday, today, forms), m.end())
    if m := _SHORT_DATE.match(s):
        return _DatePart(_nearest(text, int(m[1]), int(m[2]), today, forms), m.end())
    if m := _RELATIVE_RE.match(s):
        word = m[0]
        if word in _DAY_AND_PART:
            shift, part = _DAY_AND_PART[word]
            return _DatePart(today + timedelta(days=shift), m.end(), part=part)
        return _DatePart(today + timedelta(days=_RELATIVE[word]), m.end())
    if m := _MONTH_DAY_RE.match(s):
        index = today.year * 12 + today.month - 1 + _MONTH_SHIFT[m[1]]
        year, month = divmod(index, 12)
        month += 1
        if m[3] == "初":
            mday = 1
        elif m[3]:  # 底, 末: the month's last day
            mday = calendar.monthrange(year, month)[1]
        else:
            mday = _number(m[2])
        return _DatePart(_make_date(text, year, month, mday, forms), m.end())
    if m := _WEEKDAY_RE.match(s):
        target = int(m[2]) - 1 if m[2].isdigit() else _WEEKDAYS[m[2]]
        if m[1] is None:  # bare 周三: the next one on or after today
            return _DatePart(today + timedelta(days=(target - today.weekday()) % 7), m.end())
        monday = today - timedelta(days=today.weekday())
        weeks = _WEEK_SHIFT[m[1]]
        return _DatePart(monday + timedelta(weeks=weeks, days=target), m.end())
    return None


# ---------------------------------------------------------------------------------------
# Times of day
# ---------------------------------------------------------------------------------------

_PARTS = ("凌晨", "早上", "早晨", "上午", "中午", "下午", "傍晚", "晚上")
_TIME_RE = re.compile(
    rf"""
    (?P<part>{"|".join(_PARTS)})?
    \s*
    (?:
        (?P<h>[0-9]{{1,2}}):(?P<m>[0-9]{{2}})(?::(?P<s>[0-9]{{2}}))?
        (?P<offset>\s*(?:z|[+-][0-9]{{2}}(?::?[0-9]{{2}})?))?
      | (?P<ch>{_NUM})\s*[点时]钟?
        (?:\s*(?P<cm>半|整|一刻|三刻|{_NUM}\s*分?))?
    )?
    """,
    re.VERBOSE,
)
_PART_DEFAULTS: dict[str, time | None] = {
    "凌晨": None,
    "早上": time(8, 0),
    "早晨": time(8, 0),
    "上午": time(9, 0),
    "中午": time(12, 0),
    "下午": time(14, 30),
    "傍晚": time(18, 0),
    "晚上": time(19, 0),
}


def _hour_in_part(part: str | None, hour: int) -> tuple[int, int] | None:
    """(24-hour hour, days to add) for ``hour`` said with ``part``, or None if they clash."""
    if part is None:
        return (hour, 0) if 0 <= hour <= 23 else None
    if part in ("上午", "早上", "早晨"):
        return (hour, 0) if 0 <= hour <= 12 else None
    if part == "凌晨":
        if hour == 12:
            return (0, 0)
        return (hour, 0) if 0 <= hour <= 6 else None
    if part == "中午":
        if 1 <= hour <= 3:
            return (hour + 12, 0)
        return (hour, 0) if 10 <= hour <= 14 else None
    if part == "下午":
        if 1 <= hour <= 11:
            return (hour + 12, 0)
        return (hour, 0) if 12 <= hour <= 23 else None
    if part == "傍晚":
        if 4 <= hour <= 7:
            return (hour + 12, 0)
        return (hour, 0) if 16 <= hour <= 19 else None
    # 晚上
    if hour == 12:
        return (0, 1)  # midnight at the end of that evening
    if 5 <= hour <= 11:
        return (hour + 12, 0)
    return (hour, 0) if 17 <= hour <= 23 else None


@dataclass(frozen=True)
class _TimePart:
    at: time
    days: int = 0  # 晚上12点 falls on the next day
    offset: timezone | None = None


def _parse_offset(raw: str) -> timezone:
    raw = raw.strip()
    if raw == "z":
        return UTC
    sign = -1 if raw[0] == "-" else 1
    digits = raw[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _match_time(text: str, s: str, part: str | None, forms: str) -> _TimePart | None:
    """Read all of ``s`` as a time of day (``part`` already given by the date word)."""
    m = _TIME_RE.fullmatch(s)
    if m is None or not m[0]:
        return None
    if m["part"]:
        if part is not None:
            return None  # 今晚下午3点
        part = m["part"]
    if m["h"] is not None:
        hour, minute, second = int(m["h"]), int(m["m"]), int(m["s"] or 0)
    elif m["ch"] is not None:
        number = _number(m["ch"])
        if number is None:
            return None
        hour, second = number, 0
        cm = (m["cm"] or "整").rstrip("分").strip()
        special = {"半": 30, "整": 0, "一刻": 15, "三刻": 45}
        minute_or_none = special[cm] if cm in special else _number(cm)
        if minute_or_none is None:
            return None
        minute = minute_or_none
    else:  # a part of day alone
        assert part is not None
        default = _PART_DEFAULTS[part]
        if default is None:
            raise TimeParseError(text, N_("{part} needs an hour"), forms=forms, part=part)
        return _TimePart(default)
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise TimeParseError(text, N_("no such time"), forms=forms)
    shifted = _hour_in_part(part, hour)
    if shifted is None:
        raise TimeParseError(
            text, N_("{part} does not go with {hour}点"), forms=forms, part=part, hour=hour
        )
    offset = None
    if m["offset"]:
        try:
            offset = _parse_offset(m["offset"])
        except ValueError:
            raise TimeParseError(text, N_("no such UTC offset"), forms=forms) from None
    return _TimePart(time(shifted[0], minute, second), shifted[1], offset)


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def parse_when(text: str, *, now: datetime, tz: ZoneInfo, default_time: time | None = None) -> When:
    """Read a moment as typed (forms and rules in the module docstring).

    ``now`` must be aware; the text is read in the zone ``tz`` and ``start`` is in ``tz``.
    With ``default_time``, a date typed alone starts at that time and is not all-day.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    s = _normalise(text)
    if not s:
        raise TimeParseError(text, N_("empty"))
    local_now = now.astimezone(tz)
    if s in ("now", "现在"):
        return When(local_now, all_day=False)
    today = local_now.date()
    dp = _match_date(text, s, today, WHEN_FORMS)
    rest = s if dp is None else s[dp.end :]
    if dp is not None:
        rest = rest.lstrip(" ,")
        if dp.iso and s[dp.end : dp.end + 1] == "t":  # 2026-12-01T09:30, clock time only
            rest = rest[1:]
            if not re.match("[0-9]{1,2}:", rest):
                raise TimeParseError(text)
    if dp is not None and not rest and dp.part is None:
        if default_time is None:
            return When(_local(text, dp.day, time(0, 0), tz), all_day=True)
        return When(_local(text, dp.day, default_time, tz), all_day=False)
    part = dp.part if dp is not None else None
    if not rest:  # 今晚 alone
        assert part is not None
        tp: _TimePart | None = _TimePart(_PART_DEFAULTS[part] or time(0, 0))
    else:
        tp = _match_time(text, rest, part, WHEN_FORMS)
    if tp is None:
        raise TimeParseError(text)
    day = (dp.day if dp is not None else today) + timedelta(days=tp.days)
    if tp.offset is not None:
        if dp is None or not dp.iso:
            raise TimeParseError(text, N_("a UTC offset needs a full date like 2026-12-01"))
        _in_range(text, day, WHEN_FORMS)
        return When(datetime.combine(day, tp.at, tzinfo=tp.offset).astimezone(tz), False)
    return When(_local(text, day, tp.at, tz), all_day=False)


def _in_range(text: str, day: date, forms: str) -> None:
    """Refuse a date outside the range the program keeps (:mod:`crm_core.validation`)."""
    if day_refused := validation.day_problem(day):
        raise TimeParseError(text, day_refused.template, forms=forms, **day_refused.params)


def _local(text: str, day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at ``at`` on the clocks of ``tz``: refused when the date is out of range
    or the clocks skip that time; the first occurrence when they show it twice."""
    _in_range(text, day, WHEN_FORMS)
    try:
        return validation.local_moment(datetime.combine(day, at), tz)
    except validation.Refused as refused:
        raise TimeParseError(text, refused.template, **refused.params) from None


def parse_date(text: str, *, today: date) -> date:
    """Read a date alone (a due date): the date forms of :func:`parse_when`, no time of day."""
    s = _normalise(text)
    if not s:
        raise TimeParseError(text, N_("empty"), forms=DATE_FORMS)
    dp = _match_date(text, s, today, DATE_FORMS)
    if dp is None or dp.end != len(s) or dp.part is not None:
        reason = N_("a date only, no time of day") if dp is not None else None
        raise TimeParseError(text, reason, forms=DATE_FORMS)
    _in_range(text, dp.day, DATE_FORMS)
    return dp.day
