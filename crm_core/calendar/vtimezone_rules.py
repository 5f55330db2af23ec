"""RRULE-based VTIMEZONEs for zones with daylight saving (RFC 5545 3.6.5).

A zone such as America/New_York or Europe/Berlin changes its clocks by a yearly rule
("the second Sunday of March at 02:00"). Written as one STANDARD and one DAYLIGHT block
with that RRULE, the VTIMEZONE is a few lines, is right for every future year, and is
the form calendar programs themselves write (ical.js, vobject and the phones read it).
icalendar's own ``Timezone.from_tzid`` lists every transition instead (two hundred
blocks for 2000-2100), which some readers handle slowly or not past their last entry.

The rule is read off the zone's own transitions (zoneinfo): the years from which every
year has the same two transitions, each on the same month, weekday, week of the month
(1st-4th or last) and wall-clock time. The transitions before those years (back to
2000, the oldest a calendar of today is expected to hold) are written one by one, so
old items keep their offsets. A zone whose changes follow no such rule gets ``None``:
the caller writes the list form instead.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

FIRST_YEAR = 2000
LAST_YEAR = 2100  # rules are checked up to here; RRULEs carry them on unbounded


@dataclass(frozen=True)
class Transition:
    """One change of a zone's offset: when (UTC) and the wall clock just before it."""

    at: datetime
    local: datetime  # naive, on the offset in force before the change
    offset_from: timedelta
    offset_to: timedelta
    daylight: bool  # the offset after it is daylight saving time
    name: str


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    off = instant.astimezone(zone).utcoffset()
    assert off is not None
    return off


def _transitions(zone: ZoneInfo, year: int) -> list[Transition]:
    """The offset changes of ``zone`` in ``year``, found day by day and then to the
    second by bisection."""
    out: list[Transition] = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    before = _offset(zone, day)
    while day < end:
        nxt = day + timedelta(days=1)
        after = _offset(zone, nxt)
        if after != before:
            lo, hi = day, nxt  # the offset is ``before`` at lo and ``after`` at hi
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if _offset(zone, mid) == before:
                    lo = mid
                else:
                    hi = mid
            at = hi.replace(microsecond=0)
            local = (at + before).replace(tzinfo=None)
            dst = at.astimezone(zone).dst()
            out.append(
                Transition(at, local, before, after, bool(dst), at.astimezone(zone).tzname() or "")
            )
            before = after
        day = nxt
    return out


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _week(local: datetime) -> tuple[int, bool]:
    """The week of the month of ``local``'s day (1-5) and whether it is the last."""
    last_day = calendar.monthrange(local.year, local.month)[1]
    return (local.day - 1) // 7 + 1, local.day + 7 > last_day


def _shape(t: Transition, ordinal: int) -> tuple[object, ...]:
    """What a yearly rule keeps of a transition: all but the year."""
    return (
        t.daylight, t.local.month, t.local.weekday(), ordinal, t.local.time(),
        t.offset_from, t.offset_to, t.name,
    )  # fmt: skip


def _ordinal(years: list[list[Transition]], index: int) -> int | None:
    """The week ordinal (1-4, or -1 for the last) shared by transition ``index`` of
    every year in ``years``, if there is one."""
    weeks = [_week(ts[index].local) for ts in years]
    if len({n for n, _ in weeks}) == 1 and weeks[0][0] <= 4:
        return weeks[0][0]
    if all(last for _, last in weeks):
        return -1
    return None


def _ruled_from(per_year: dict[int, list[Transition]]) -> tuple[int, list[int]] | None:
    """The first year from which every year to LAST_YEAR follows one rule, and the
    ordinal of each of its two transitions; None if the last years follow none."""
    years = sorted(per_year)
    start = years[-1]
    ords: list[int] | None = None
    for first in reversed(years):
        run = [per_year[y] for y in years if y >= first]
        if any(len(ts) != 2 for ts in run):
            break
        a, b = _ordinal(run, 0), _ordinal(run, 1)
        if a is None or b is None:
            break
        if len({(_shape(ts[0], a), _shape(ts[1], b)) for ts in run}) != 1:
            break
        start, ords = first, [a, b]
    if ords is None or LAST_YEAR - start < 10:
        return None
    return start, ords


def _block(t: Transition) -> icalendar.cal.Component:
    block = icalendar.TimezoneDaylight() if t.daylight else icalendar.TimezoneStandard()
    block.add("dtstart", t.local)
    block.add("tzoffsetfrom", t.offset_from)
    block.add("tzoffsetto", t.offset_to)
    if t.name:
        block.add("tzname", t.name)
    return block


@lru_cache(maxsize=16)
def rrule_vtimezone_bytes(tzid: str) -> bytes | None:
    """The VTIMEZONE of ``tzid`` with yearly RRULEs, as bytes, or None when the zone's
    changes follow no yearly weekday rule (or it has none)."""
    zone = ZoneInfo(tzid)
    per_year = {y: _transitions(zone, y) for y in range(FIRST_YEAR, LAST_YEAR)}
    ruled = _ruled_from(per_year)
    if ruled is None:
        return None
    start, ords = ruled
    tz = icalendar.Timezone()
    tz.add("tzid", tzid)
    # What holds before the first change written: readers give a time before every
    # block no offset at all (ical.js treats it as UTC).
    first = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).astimezone(zone)
    settled = _offset(zone, first)
    tz.add_component(
        _block(Transition(first, datetime(1970, 1, 1), settled, settled, bool(first.dst()),
                          first.tzname() or ""))
    )  # fmt: skip
    for year in range(FIRST_YEAR, start):
        for t in per_year[year]:
            tz.add_component(_block(t))
    for t, ordinal in zip(per_year[start], ords, strict=True):
        block = _block(t)
        block.add(
            "rrule",
            {
                "freq": "yearly",
                "bymonth": t.local.month,
                "byday": f"{ordinal}{_DAYS[t.local.weekday()]}",
            },
        )
        tz.add_component(block)
    body: bytes = tz.to_ical()
    return body
