"""The yearly gathering of union_liaison on a lunar date (the 中秋联谊会): its date in a
given year, its series, and finding or making that year's gathering."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crm_core import api
from crm_core.api import (
    N_,
    Interaction,
    InteractionStatus,
    Participant,
    Rsvp,
    Series,
    Unit,
    ValidationError,
)

from .attendance import invite
from .kinds import GATHERING

MID_AUTUMN = "mid_autumn_gathering"  # the code of the 中秋联谊会 series in config
# Occurrences of a yearly lunar date are at least 353 days apart: a gathering of a
# series within this many days of a year's date is that year's gathering, even if it was
# moved by a few days.
_SAME_YEAR_WINDOW = timedelta(days=90)


def _series_entry(unit: Unit, series_code: str) -> dict[str, Any]:
    for entry in unit.config.series:
        if entry.get("code") == series_code:
            return entry
    lunar_codes = [e["code"] for e in unit.config.series if e.get("lunar_month") is not None]
    if not lunar_codes:
        raise ValidationError.one(
            "series_code", series_code, N_("no such series in config (lunar series: none)")
        )
    raise ValidationError.one(
        "series_code",
        series_code,
        N_("no such series in config (lunar series: {codes})"),
        codes=", ".join(lunar_codes),
    )


def _lunar_day(entry: dict[str, Any]) -> tuple[int, int, bool]:
    month, day = entry.get("lunar_month"), entry.get("lunar_day")
    if month is None or day is None:
        raise ValidationError.one(
            f"series.{entry['code']}.lunar_month",
            month,
            N_("the series has no lunar date (lunar_month and lunar_day)"),
        )
    return month, day, bool(entry.get("lunar_leap", False))


def _local_time(entry: dict[str, Any]) -> time | None:
    raw = entry.get("time")
    if raw is None or raw == "":
        return None
    if isinstance(raw, time):
        return raw
    try:
        return time.fromisoformat(str(raw))
    except ValueError:
        raise ValidationError.one(
            f"series.{entry['code']}.time", raw, N_("a time of day as HH:MM, e.g. 18:30")
        ) from None


def gathering_date(unit: Unit, year: int, *, series_code: str = MID_AUTUMN) -> date:
    """The Gregorian date of lunar year ``year``'s occurrence of the lunar series
    ``series_code`` in config (its ``lunar_month`` and ``lunar_day``, ``lunar_leap`` for a
    leap month), so a county that moves the date in its config is honoured."""
    month, day, leap = _lunar_day(_series_entry(unit, series_code))
    return api.lunar_to_solar(year, month, day, leap=leap)


def mid_autumn_date(unit: Unit, year: int) -> date:
    """The date of ``year``'s 中秋联谊会: lunar 八月十五 unless the office's config moves
    the ``mid_autumn_gathering`` series (2026-09-25 in 2026, 2027-09-15 in 2027)."""
    return gathering_date(unit, year, series_code=MID_AUTUMN)


def gathering_series(unit: Unit, series_code: str = MID_AUTUMN) -> Series:
    """The ``Series`` row of a lunar series from config: made (``source`` "config") if
    absent, and kept in step with config (title, lunar date, time, duration, location)
    if it came from there. The values are those the core's calendar gives the same row
    (``crm_core.calendar.series``), so neither ever undoes the other's write. Whoever
    may not write the series (on PostgreSQL all but administrators) gets the row as it
    is, or a clear refusal while no administrator has added it."""
    entry = _series_entry(unit, series_code)
    month, day, _leap = _lunar_day(entry)
    clock_time = _local_time(entry)
    wanted: dict[str, Any] = {
        "title": entry.get("zh") or entry.get("en") or series_code,
        "lunar_month": month,
        "lunar_day": day,
        "local_time": clock_time.strftime("%H:%M") if clock_time else None,
        "all_day": clock_time is None,
        "duration_minutes": entry.get("duration_minutes"),
        "location": entry.get("location"),
    }
    kind = entry.get("kind", "event")
    row = api.config_series_row(unit, series_code, kind=kind, **wanted)
    if row is None:
        # On PostgreSQL only administrators write the series (migration 0005): until an
        # administrator's program has synced it there is no row to use.
        raise ValidationError.one(
            "series",
            series_code,
            N_(
                "this series is not in the calendar yet: an administrator adds it "
                "(any administrator's tongxin command, or tongxin serve / remind)"
            ),
        )
    return row


def find_gathering(unit: Unit, year: int, *, series_code: str = MID_AUTUMN) -> Interaction | None:
    """``year``'s gathering of the series, planned, done or cancelled, if there is one:
    the gathering linked to the series within 90 days of the year's date (so one moved by
    a few days still counts), preferring one not cancelled."""
    series = api.series_by_code(unit, series_code)
    if series is None:
        return None
    day = gathering_date(unit, year, series_code=series_code)
    noon = datetime.combine(day, time(12), unit.config.tz)
    rows = api.interactions(
        unit,
        GATHERING,
        series_id=series.id,
        start=noon - _SAME_YEAR_WINDOW,
        end=noon + _SAME_YEAR_WINDOW + timedelta(microseconds=1),  # the last day included
    )
    if not rows:
        return None
    return min(
        rows,
        key=lambda i: (
            i.status is InteractionStatus.cancelled,
            abs(i.start_at - noon),
            i.created_at,
            str(i.id),
        ),
    )


def ensure_gathering(
    unit: Unit,
    year: int,
    *,
    series_code: str = MID_AUTUMN,
    invitees: Iterable[uuid.UUID | str] = (),
    hosts: Iterable[uuid.UUID | str] = (),
    location: str | None = None,
) -> Interaction:
    """``year``'s gathering of a lunar series in config (the 中秋联谊会 by default):
    the existing one (:func:`find_gathering`, whatever its status) or a new planned one.

    A new one is put on the lunar date's Gregorian day at the series' local ``time``
    in the office's zone (18:30 Asia/Shanghai is 10:30 UTC; a series without a time is
    all day), lasting its ``duration_minutes``, linked to the series' ``Series`` row
    (made from config if absent). ``invitees`` (person ids) are invited, on an existing
    gathering too (those already invited are left as they are); ``hosts`` (account ids)
    host it, by default the acting account. Calling it again changes nothing."""
    people = [api.get_person(unit, p).id for p in invitees]
    existing = find_gathering(unit, year, series_code=series_code)
    if existing is not None:
        if people:
            invite(unit, existing.id, people)
        return existing
    series = gathering_series(unit, series_code)
    day = gathering_date(unit, year, series_code=series_code)
    clock_time = _local_time(_series_entry(unit, series_code))
    tz = unit.config.tz
    if clock_time is None:
        start = datetime.combine(day, time(0), tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    else:
        start = datetime.combine(day, clock_time, tz).astimezone(UTC)
        minutes = series.duration_minutes or unit.kinds[GATHERING].default_duration_minutes
        end = start + timedelta(minutes=minutes)
    accounts = list(hosts) or ([unit.actor.id] if unit.actor is not None else [])
    return api.schedule_interaction(
        unit,
        kind=GATHERING,
        start=start,
        end=end,
        all_day=clock_time is None,
        participants=[Participant(person_id=p, rsvp=Rsvp.invited) for p in people],
        accounts=accounts,
        location=location or series.location,
        summary=f"{year}年{series.title}",
        data={"event": series.title},
        series_id=series.id,
    )
