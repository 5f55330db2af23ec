"""The one clock of the program, so tests and snapshots can freeze time."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_frozen: datetime | None = None


def _from_env() -> datetime | None:
    # TONGXIN_NOW freezes the clock of a whole process (CLI tests in subprocesses,
    # reproducible demos). ISO 8601; a naive value is read as UTC.
    raw = os.environ.get("TONGXIN_NOW")
    if not raw:
        return None
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def now() -> datetime:
    """Current time, timezone-aware UTC (frozen when a test or TONGXIN_NOW says so)."""
    if _frozen is not None:
        return _frozen
    env = _from_env()
    return env if env is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at ``at`` (aware; naive means UTC), or unfreeze with None."""
    global _frozen
    _frozen = at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def today(tz: str | ZoneInfo) -> date:
    """Today's date in the zone ``tz`` (the office's zone, not the machine's)."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return now().astimezone(zone).date()
