"""The institutional series on a calendar: an RRULE event per series, or one event
per year for a lunar one, in the office's own zone."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from crm_core.calendar.ics_base import CATEGORY_SERIES, CalendarRange, _alarm, _stamp, _uid
from crm_core.calendar.series import calendar_series, lunar_occurrences
from crm_core.calendar.settings import office_timezone, reminder_settings
from crm_core.i18n import _
from crm_core.models import (
    Interaction,
    Series,
)
from crm_core.unit import Unit


def _series_description(s: Series, extra: str | None = None) -> str:
    lines = [s.title, _(CATEGORY_SERIES)]
    if extra:
        lines.append(extra)
    if s.location:
        lines.append(_("Place: {place}").format(place=s.location))
    return "\n".join(lines)


def _series_common(
    ev: icalendar.Event, s: Series, alarms: tuple[int, ...], all_day_at: time
) -> None:
    _stamp(ev, s.created_at, s.updated_at)
    ev.add("sequence", max(s.version - 1, 0))
    ev.add("summary", s.title)
    if s.location:
        ev.add("location", s.location)
    ev.add("categories", [_(CATEGORY_SERIES)])
    ev.add("status", "CONFIRMED")
    if s.all_day:
        offset = timedelta(hours=all_day_at.hour, minutes=all_day_at.minute)
        ev.add_component(_alarm(offset, s.title))
    else:
        for minutes in alarms:
            ev.add_component(_alarm(timedelta(minutes=-minutes), s.title))


def _rrule_event(
    s: Series,
    tz: ZoneInfo,
    exdates: list[date],
    alarms: tuple[int, ...],
    all_day_at: time,
) -> icalendar.Event | None:
    if s.start_at is None or not s.rrule:
        return None
    ev = icalendar.Event()
    ev.add("uid", _uid("series", s.code or s.id))
    local = s.start_at.astimezone(tz)
    minutes = s.duration_minutes or (24 * 60 if s.all_day else 60)
    if s.all_day:
        ev.add("dtstart", local.date())
        ev.add("dtend", local.date() + timedelta(days=max(1, minutes // (24 * 60))))
    else:
        ev.add("dtstart", local)
        ev.add("dtend", local + timedelta(minutes=minutes))
    ev.add("rrule", icalendar.vRecur.from_ical(s.rrule))
    for d in exdates:
        ev.add("exdate", d if s.all_day else datetime.combine(d, local.time(), tz))
    ev.add("description", _series_description(s))
    _series_common(ev, s, alarms, all_day_at)
    return ev


def _lunar_event(
    s: Series, day: date, text: str, tz: ZoneInfo, alarms: tuple[int, ...], all_day_at: time
) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", _uid("series", f"{s.code or s.id}-{day.year}"))
    minutes = s.duration_minutes
    if s.all_day or not s.local_time:
        ev.add("dtstart", day)
        ev.add("dtend", day + timedelta(days=max(1, (minutes or 0) // (24 * 60))))
    else:
        start = datetime.combine(day, time.fromisoformat(s.local_time), tz)
        ev.add("dtstart", start)
        ev.add("dtend", start + timedelta(minutes=minutes or 120))
    ev.add(
        "description",
        _series_description(s, _("Lunar date: {text}").format(text=text)),
    )
    _series_common(ev, s, alarms, all_day_at)
    return ev


def _series_events(
    unit: Unit, rng: CalendarRange, items: list[Interaction]
) -> list[icalendar.Event]:
    settings = reminder_settings(unit.config)
    # The series keep the office's own zone (a 09:00 Yangzhou meeting stays 09:00
    # Yangzhou time whatever the display zone is).
    otz = office_timezone(unit.config)
    # An occurrence the calendar already holds as an interaction linked to the series
    # (the 2026 中秋联谊会 being organised) is shown once, as that interaction.
    linked: dict[uuid.UUID, set[date]] = defaultdict(set)
    for i in items:
        if i.series_id is not None:
            linked[i.series_id].add(i.start_at.astimezone(otz).date())
    out: list[icalendar.Event] = []
    for s in calendar_series(unit):
        taken = linked.get(s.id, set())
        if s.lunar_month is not None:
            years = {d.year for d in taken}
            for occ in lunar_occurrences(s, rng.start, rng.end):
                if occ.day.year in years:
                    continue
                out.append(
                    _lunar_event(
                        s,
                        occ.day,
                        occ.lunar_text,
                        otz,
                        settings.series_minutes,
                        settings.all_day_time,
                    )
                )
        else:
            ev = _rrule_event(s, otz, sorted(taken), settings.series_minutes, settings.all_day_time)
            if ev is not None:
                out.append(ev)
    return out
