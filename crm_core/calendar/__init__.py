"""Calendars of the office's work for phones and calendar programs (docs/calendar.md).

- :mod:`crm_core.calendar.ics`: what a calendar holds and its iCalendar bytes (the one
  function behind ``tongxin export ics``, the phone feed and the CalDAV push), with its
  parts :mod:`~crm_core.calendar.ics_base` (range, UIDs, alarms),
  :mod:`~crm_core.calendar.ics_series` (series events) and
  :mod:`~crm_core.calendar.ics_tz` (VTIMEZONEs; the yearly rules of daylight-saving
  zones in :mod:`~crm_core.calendar.vtimezone_rules`).
- :mod:`crm_core.calendar.series`: the institutional series from config (RRULE ones,
  and lunar ones expanded to one event a year).
- :mod:`crm_core.calendar.feeds`: subscription tokens and the feed's HTTP answers;
  :mod:`crm_core.calendar.server` serves them (``tongxin serve``).
- :mod:`crm_core.calendar.caldav_sync`: two-way sync with a CalDAV server: finding the
  calendar and listing it (:mod:`~crm_core.calendar.caldav_listing`, homes by
  :mod:`crm_core.dav_home`), what the phone changed (:mod:`~crm_core.calendar.caldav_pull`),
  tongxin's changes going out (:mod:`~crm_core.calendar.caldav_push`), their shared
  report and state (:mod:`~crm_core.calendar.caldav_base`).
- :mod:`crm_core.calendar.dav_jobs`: the syncs ``[caldav.accounts]`` configures, run by
  the reminder service and ``tongxin sync all``.
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
