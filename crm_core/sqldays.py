"""Day arithmetic in SQL on SQLite and PostgreSQL: the local day of a UTC instant, and
the number of days between two days, as expressions a grouped report can use.

PostgreSQL has both (``AT TIME ZONE``, ``date - date``). SQLite keeps instants as naive
UTC text (:class:`crm_core.types.UTCDateTime`) and days as ``YYYY-MM-DD`` text: the
local day is ``date(instant, '+N minutes')`` when the office's zone has one offset over
the years a report can reach (Asia/Shanghai, UTC), else a deterministic Python function
registered on the connection does the conversion row by row (a zone with summer time);
the difference is ``julianday(a) - julianday(b)``, a whole number for two days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Date, Integer, cast, func, literal_column, type_coerce
from sqlalchemy.sql import ColumnElement

_LOCAL_DAY_FN = "tongxin_local_day"


@lru_cache(maxsize=16)
def fixed_offset_minutes(tz: tzinfo) -> int | None:
    """The zone's offset from UTC in minutes if it is the same on every day from 2000
    to 2100 (no summer time in that span); None otherwise."""
    seen = set()
    day = datetime(2000, 1, 1, tzinfo=UTC)
    while day.year < 2100:
        offset = day.astimezone(tz).utcoffset()
        seen.add(offset)
        if len(seen) > 1:
            return None
        day += timedelta(days=61)
    (only,) = seen
    return int(only.total_seconds() // 60) if only is not None else 0


def _register_local_day(conn: Connection, tz: tzinfo) -> None:
    """Register the SQLite function that gives the local day of a stored instant."""

    def local_day(value: str | None) -> str | None:
        if value is None:
            return None
        instant = datetime.fromisoformat(value).replace(tzinfo=UTC)
        return instant.astimezone(tz).date().isoformat()

    raw: Any = conn.connection.driver_connection
    raw.create_function(_LOCAL_DAY_FN, 1, local_day, deterministic=True)


def local_day(conn: Connection, instant: Any, tz: tzinfo) -> ColumnElement[date]:
    """The day ``instant`` (a UTC timestamp column) falls on in ``tz``, as a date."""
    if conn.dialect.name == "postgresql":
        name = getattr(tz, "key", None) or str(tz)
        return cast(func.timezone(name, instant), Date)
    minutes = fixed_offset_minutes(tz)
    if minutes is None:
        _register_local_day(conn, tz)
        return type_coerce(getattr(func, _LOCAL_DAY_FN)(instant), Date)
    return type_coerce(func.date(instant, f"{minutes:+d} minutes"), Date)


def days_between(conn: Connection, later: Any, earlier: Any) -> ColumnElement[int]:
    """``later - earlier`` in whole days, for two date expressions (or date values)."""
    if conn.dialect.name == "postgresql":
        return type_coerce(cast(later, Date) - cast(earlier, Date), Integer)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def day_literal(conn: Connection, day: date) -> ColumnElement[date]:
    """A date constant as both backends compare it with stored days."""
    if conn.dialect.name == "postgresql":
        return cast(literal_column(f"'{day.isoformat()}'"), Date)
    return type_coerce(literal_column(f"'{day.isoformat()}'"), Date)


__all__ = ["day_literal", "days_between", "fixed_offset_minutes", "local_day"]
