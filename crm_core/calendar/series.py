"""Institutional series (二.1, 二.3, 二.7, 二.8, 三.10) from config, kept as ``Series`` rows.

Config is where an office edits its series (``[[series]]`` in ``config/defaults.toml``,
matched by ``code``); the ``Series`` table is where each one gets what a calendar needs
and config cannot give: a change time (DTSTAMP, LAST-MODIFIED) and a version (SEQUENCE)
that move only when the office changes the entry. :func:`sync_series` brings the rows
in step with config and writes nothing when they already are.

Gregorian series carry an RFC 5545 RRULE and stay one recurring event. Lunar ones
(中秋联谊会: 八月十五) become one event per year, because phones do not understand lunar
recurrence.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlmodel import col

from crm_core import lunar
from crm_core.calendar.settings import office_timezone
from crm_core.config import ConfigError
from crm_core.i18n import N_
from crm_core.models import Series
from crm_core.unit import Unit


@dataclass(frozen=True)
class Occurrence:
    """One dated occurrence of a lunar series: its Gregorian day and lunar text."""

    series: Series
    day: date
    lunar_text: str


def _start(entry: dict[str, Any], tz: ZoneInfo) -> tuple[datetime | None, bool]:
    raw = entry.get("start")
    if raw is None or raw == "":
        return None, False
    code = entry["code"]
    if isinstance(raw, datetime):
        value: date | datetime = raw
    elif isinstance(raw, date):
        value = raw
    else:
        try:
            text = str(raw)
            value = (
                datetime.fromisoformat(text)
                if "T" in text or " " in text
                else date.fromisoformat(text)
            )
        except ValueError:
            raise ConfigError.of(
                N_(
                    "[[series]] {code}: start = {raw!r} is not a date (2026-06-08) or a local "
                    "time (2026-01-29T14:30:00)"
                ),
                code=code,
                raw=raw,
            ) from None
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
        return local.astimezone(UTC), False
    return datetime.combine(value, time(0), tz).astimezone(UTC), True


def _local_time(entry: dict[str, Any]) -> str | None:
    raw = entry.get("time")
    if raw is None or raw == "":
        return None
    try:
        return (raw if isinstance(raw, time) else time.fromisoformat(str(raw))).strftime("%H:%M")
    except ValueError:
        raise ConfigError.of(
            N_("[[series]] {code}: time = {raw!r} is not HH:MM"), code=entry["code"], raw=raw
        ) from None


def wanted_fields(entry: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """What the ``Series`` row of a config entry holds (the same values the union-liaison
    plugin gives a lunar series' row, so the two never undo each other's writes)."""
    code = entry["code"]
    fields: dict[str, Any] = {"title": entry.get("zh") or entry.get("en") or code}
    if entry.get("lunar_month") is not None:
        clock_time = _local_time(entry)
        fields.update(
            lunar_month=entry.get("lunar_month"),
            lunar_day=entry.get("lunar_day"),
            local_time=clock_time,
            all_day=clock_time is None,
            duration_minutes=entry.get("duration_minutes"),
            location=entry.get("location"),
        )
        if fields["lunar_day"] is None:
            raise ConfigError.of(N_("[[series]] {code}: lunar_month without lunar_day"), code=code)
        return fields
    if not entry.get("rrule"):
        raise ConfigError.of(
            N_("[[series]] {code}: give an rrule or a lunar_month and lunar_day"), code=code
        )
    start, all_day = _start(entry, tz)
    if start is None:
        raise ConfigError.of(N_("[[series]] {code}: an rrule series needs a start"), code=code)
    minutes = entry.get("duration_minutes")
    if entry.get("duration_days") is not None:
        minutes = int(entry["duration_days"]) * 24 * 60
    fields.update(
        rrule=str(entry["rrule"]).removeprefix("RRULE:"),
        start_at=start,
        all_day=all_day,
        duration_minutes=minutes,
        location=entry.get("location"),
    )
    return fields


def sync_series(unit: Unit) -> list[Series]:
    """Bring the ``Series`` rows of config's series in step with config: create missing
    ones (``source`` "config"), update changed ones (their version and change time move,
    so calendars send a new SEQUENCE), deactivate those config no longer has. Writes
    nothing when everything is in step. Returns the active config series, in config
    order.

    On PostgreSQL only administrators write the series (migration 0005): for anyone
    else nothing is written and the rows are used as an administrator's program
    (``tongxin serve``, ``tongxin remind``, any administrator's command) last synced
    them; a config series no administrator synced yet is not shown."""
    if not may_write_series(unit):
        return _config_rows(unit)
    tz = office_timezone(unit.config)
    rows = {
        r.code: r for r in unit.session.scalars(select(Series).where(col(Series.code).is_not(None)))
    }
    out: list[Series] = []
    seen: set[str] = set()
    changed = False
    for entry in unit.config.series:
        code = entry["code"]
        seen.add(code)
        wanted = wanted_fields(entry, tz)
        row = rows.get(code)
        if row is None:
            row = Series(
                id=config_series_id(code),
                code=code,
                source="config",
                kind=entry.get("kind", "event"),
                **wanted,
            )
            unit.session.add(row)
            changed = True
        elif row.source == "config":
            for name, value in {**wanted, "active": True}.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    changed = True
        out.append(row)
    for code, row in rows.items():
        if code not in seen and row.source == "config" and row.active:
            row.active = False
            changed = True
    if changed:
        unit.session.flush()
    return [r for r in out if r.active]


def may_write_series(unit: Unit) -> bool:
    """Whether ``unit`` may write the ``series`` table: always on SQLite (the file's
    permissions are the boundary), on PostgreSQL administrators and the roles that row
    security does not restrict (the owner, superusers)."""
    if unit.is_admin:
        return True
    conn = unit.session.connection()
    if conn.dialect.name != "postgresql":
        return True
    return not conn.exec_driver_sql("SELECT row_security_active('series')").scalar()


def _config_rows(unit: Unit) -> list[Series]:
    """The active rows of config's series as they are, in config order (no writing)."""
    rows = {
        r.code: r
        for r in unit.session.scalars(
            select(Series).where(col(Series.code).is_not(None), col(Series.source) == "config")
        )
    }
    return [
        rows[e["code"]] for e in unit.config.series if e["code"] in rows and rows[e["code"]].active
    ]


# The change time of a config series no program has written yet: fixed, so two
# exports of the same config give the same bytes.
_NEVER_WRITTEN = datetime(2000, 1, 1, tzinfo=UTC)


def config_series_id(code: str) -> uuid.UUID:
    """The id a config series' row gets when it is first written, and the id a calendar
    shows it under before then: the same either way, so its UID and links do not change
    when :func:`sync_series` writes the row."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"series:{code}")


def config_series(unit: Unit) -> list[Series]:
    """The active series of config as a calendar shows them, without writing anything:
    a row already in step with config is used as it is; an entry whose row differs (or
    has none yet) is shown from a transient copy (never added to the session) with the
    version the next :func:`sync_series` will give it, so its SEQUENCE is already the
    new one. Expanded in ``[settings] office_timezone``, never the display zone."""
    tz = office_timezone(unit.config)
    rows = {
        r.code: r for r in unit.session.scalars(select(Series).where(col(Series.code).is_not(None)))
    }
    out: list[Series] = []
    for entry in unit.config.series:
        code = entry["code"]
        wanted = wanted_fields(entry, tz)
        row = rows.get(code)
        if row is not None and row.source != "config":
            if row.active:
                out.append(row)
            continue
        if row is not None and row.active and all(getattr(row, k) == v for k, v in wanted.items()):
            out.append(row)
            continue
        out.append(
            Series(
                id=row.id if row is not None else config_series_id(code),
                code=code,
                source="config",
                kind=entry.get("kind", "event"),
                created_at=row.created_at if row is not None else _NEVER_WRITTEN,
                updated_at=row.updated_at if row is not None else _NEVER_WRITTEN,
                version=row.version + 1 if row is not None else 1,
                **wanted,
            )
        )
    return out


def calendar_series(unit: Unit) -> list[Series]:
    """Every active series a calendar shows: config's (:func:`config_series`: building a
    calendar never writes) and those added by users or plugins, in config order then
    by code."""
    from_config = config_series(unit)
    known = {r.id for r in from_config}
    others = unit.session.scalars(
        select(Series)
        .where(col(Series.active).is_(True), col(Series.source) != "config")
        .order_by(col(Series.code), col(Series.id))
    )
    return from_config + [
        r for r in others if r.id not in known and (r.rrule or r.lunar_month is not None)
    ]


def lunar_occurrences(series: Series, start: date, end: date) -> list[Occurrence]:
    """The dated occurrences of a lunar series from ``start`` to ``end`` (exclusive)."""
    if series.lunar_month is None or series.lunar_day is None:
        return []
    days = lunar.yearly_lunar_dates(
        series.lunar_month, series.lunar_day, start.year, (end - timedelta(days=1)).year
    )
    text = lunar.lunar_text(series.lunar_month, series.lunar_day)
    return [Occurrence(series, d, text) for d in days if start <= d < end]


@dataclass(frozen=True)
class SeriesOccurrence:
    """One dated occurrence of a series, Gregorian or lunar: when it starts and ends (aware,
    in the office's zone; midnight for an all-day one) and, for a lunar series, the lunar
    date it keeps (八月十五)."""

    series: Series
    start: datetime
    end: datetime
    all_day: bool
    lunar_text: str | None = None


def occurrences_between(
    series: Series, start: date, end: date, tz: ZoneInfo
) -> list[SeriesOccurrence]:
    """The occurrences of ``series`` starting on a local day from ``start`` to ``end``
    (exclusive), earliest first: its RRULE expanded from ``start_at`` on the office's
    wall clock (14:30 stays 14:30 whatever the zone's offset does), or its lunar date put
    on the Gregorian day of each year (at ``local_time``, or all day). A rule that cannot
    be expanded (RFC 5545: a timed series' UNTIL is in UTC, an all-day one's a date)
    raises ConfigError naming the series."""
    name = series.code or str(series.id)
    if series.lunar_month is not None:
        timed = bool(series.local_time) and not series.all_day
        out = []
        for occ in lunar_occurrences(series, start, end):
            if timed:
                begin = datetime.combine(occ.day, time.fromisoformat(str(series.local_time)), tz)
                finish = begin + timedelta(minutes=series.duration_minutes or 120)
            else:
                begin = datetime.combine(occ.day, time(0), tz)
                days = max(1, (series.duration_minutes or 0) // (24 * 60))
                finish = datetime.combine(occ.day + timedelta(days=days), time(0), tz)
            out.append(SeriesOccurrence(series, begin, finish, not timed, occ.lunar_text))
        return out
    if not series.rrule or series.start_at is None or end <= start:
        return []
    local = series.start_at.astimezone(tz)
    minutes = series.duration_minutes or (24 * 60 if series.all_day else 60)
    # All-day: DTSTART is a date, so the rule runs on naive midnights (and UNTIL must be a
    # date); timed: on aware local times (and UNTIL must be UTC), as RFC 5545 says.
    first: datetime = datetime.combine(local.date(), time(0)) if series.all_day else local
    low = datetime.combine(start, time(0))
    high = datetime.combine(end, time(0))
    if not series.all_day:
        low, high = low.replace(tzinfo=tz), high.replace(tzinfo=tz)
    try:
        rule = rrulestr(series.rrule.removeprefix("RRULE:"), dtstart=first)
        starts = [d for d in rule.between(low, high, inc=True) if d < high]
    except (ValueError, TypeError) as exc:
        raise ConfigError.of(
            N_("series {name}: RRULE {rrule!r} cannot be expanded: {error}"),
            name=name,
            rrule=series.rrule,
            error=exc,
        ) from None
    out = []
    for d in starts:
        if series.all_day:
            days = max(1, minutes // (24 * 60))
            begin = datetime.combine(d.date(), time(0), tz)
            finish = datetime.combine(d.date() + timedelta(days=days), time(0), tz)
        else:
            begin = d
            finish = d + timedelta(minutes=minutes)
        out.append(SeriesOccurrence(series, begin, finish, series.all_day))
    return out
