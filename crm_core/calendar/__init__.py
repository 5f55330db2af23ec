"""Calendars of the office's work for phones and calendar programs (docs/calendar.md).

- :mod:`crm_core.calendar.ics`: what a calendar holds and its iCalendar bytes (the one
  function behind ``tongxin export ics``, the phone feed and the CalDAV push).
- :mod:`crm_core.calendar.series`: the institutional series from config (RRULE ones,
  and lunar ones expanded to one event a year).
- :mod:`crm_core.calendar.feeds`: subscription tokens and the feed's HTTP answers;
  :mod:`crm_core.calendar.server` serves them (``tongxin serve``).
- :mod:`crm_core.calendar.caldav_sync`: the push to an office's CalDAV server.
"""

from crm_core.calendar.ics import (
    CalendarRange,
    alarm_offsets,
    build_calendar,
    build_events,
    calendar_range,
    export_ics,
    item_minutes,
    vtimezone,
)

__all__ = [
    "CalendarRange",
    "alarm_offsets",
    "build_calendar",
    "build_events",
    "calendar_range",
    "export_ics",
    "item_minutes",
    "vtimezone",
]
