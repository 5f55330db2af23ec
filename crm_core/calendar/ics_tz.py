"""The VTIMEZONE a calendar carries for each zone its times use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo

import icalendar

from crm_core.calendar.vtimezone_rules import rrule_vtimezone_bytes


@lru_cache(maxsize=8)
def _vtimezone_bytes(tzid: str) -> bytes:
    zone = ZoneInfo(tzid)
    # A zone whose offset has not moved for decades (Asia/Shanghai: no daylight saving
    # since 1991) gets one STANDARD block from the year it settled: compact, and right
    # for every date a calendar of today holds.
    probes = [datetime(y, m, 15, 12, tzinfo=UTC) for y in range(1970, 2101) for m in (1, 7)]
    offsets = [p.astimezone(zone).utcoffset() for p in probes]
    last = offsets[-1]
    settled = probes[-1]
    for p, off in zip(reversed(probes), reversed(offsets), strict=True):
        if off != last:
            break
        settled = p
    if settled.year <= 2000:
        tz = icalendar.Timezone()
        tz.add("tzid", tzid)
        std = icalendar.TimezoneStandard()
        # The first January 1st on the settled offset (1992 for Shanghai).
        std.add("dtstart", datetime(settled.year + (settled.month > 1), 1, 1))
        std.add("tzoffsetfrom", last)
        std.add("tzoffsetto", last)
        name = datetime(2026, 1, 15, 12, tzinfo=UTC).astimezone(zone).tzname()
        if name:
            std.add("tzname", name)
        tz.add_component(std)
    else:
        # Daylight saving: its yearly rule as RRULEs where there is one (what calendar
        # programs write and read), else every transition listed.
        ruled = rrule_vtimezone_bytes(tzid)
        if ruled is not None:
            return ruled
        tz = icalendar.Timezone.from_tzid(
            tzid, first_date=date(2000, 1, 1), last_date=date(2100, 1, 1)
        )
    return bytes(tz.to_ical())


def vtimezone(tzid: str) -> icalendar.Timezone:
    """The VTIMEZONE of ``tzid``: compact for a zone without daylight saving, yearly
    RRULEs for one with a weekday rule (:mod:`crm_core.calendar.vtimezone_rules`)."""
    # One VTIMEZONE in the bytes: from_ical gives that Timezone (typed as a Component).
    return cast(icalendar.Timezone, icalendar.Timezone.from_ical(_vtimezone_bytes(tzid)))
