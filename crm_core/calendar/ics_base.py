"""What every part of a calendar shares: the calendar's constants, whose calendar and
which span (:class:`CalendarRange`), UIDs, stamps and alarms of events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from crm_core import clock
from crm_core.calendar.settings import feed_settings
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Account,
    InteractionStatus,
    Rsvp,
)
from crm_core.unit import Unit

PRODID = "-//tongxin//tongxin calendar//ZH"
UID_DOMAIN = "tongxin"
SCOPES = ("user", "office", "institutional")
# How an interaction's status shows on a calendar.
STATUS = {
    InteractionStatus.planned: "CONFIRMED",
    InteractionStatus.done: "CONFIRMED",
    InteractionStatus.cancelled: "CANCELLED",
}
# An invitee's RSVP as an ATTENDEE's PARTSTAT (no RSVP yet: needs action).
PARTSTAT = {None: "NEEDS-ACTION", Rsvp.invited: "NEEDS-ACTION", Rsvp.accepted: "ACCEPTED",
            Rsvp.declined: "DECLINED"}  # fmt: skip
CATEGORY_FOLLOW_UP = N_("Follow-up")
CATEGORY_SERIES = N_("Institutional calendar")


@dataclass(frozen=True)
class CalendarRange:
    """Whose calendar and which span: ``scope`` "user" (the interactions ``account``
    takes part in, its follow-ups, the institutional series), "office" (every
    interaction and open follow-up, and the series) or "institutional" (the series only);
    ``start`` and ``end`` are dates in the office's zone, ``end`` exclusive."""

    scope: str
    account: Account | None
    start: date
    end: date
    tz: ZoneInfo
    name: str = field(default="", compare=False)

    @property
    def start_utc(self) -> datetime:
        """The first instant of the span."""
        return datetime.combine(self.start, time(0), self.tz).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        """The instant the span ends (exclusive)."""
        return datetime.combine(self.end, time(0), self.tz).astimezone(UTC)


def calendar_range(
    unit: Unit,
    *,
    account: Account | None = None,
    scope: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> CalendarRange:
    """The calendar of ``account`` (scope "user"), or of ``scope`` "office" or
    "institutional", from ``start`` to ``end`` (inclusive dates; by default
    ``[feed] past_days`` before today to ``future_days`` after)."""
    scope = scope or ("user" if account is not None else "office")
    if scope not in SCOPES:
        raise ValidationError.one("scope", scope, N_("one of {scopes}"), scopes=", ".join(SCOPES))
    if scope == "user" and account is None:
        raise ValidationError.one("user", None, N_("a personal calendar needs an account"))
    if scope != "user":
        account = None
    feed = feed_settings(unit.config)
    tz = unit.config.tz
    today = clock.today(tz)
    first = start or today - timedelta(days=feed.past_days)
    last = end or today + timedelta(days=feed.future_days)
    if last < first:
        raise ValidationError.one(
            "to", last.isoformat(), N_("is before {first}"), first=first.isoformat()
        )
    if scope == "user":
        assert account is not None
        name = feed.calendar_name.format(name=account.display_name)
    elif scope == "office":
        name = feed.office_calendar_name
    else:
        name = feed.institutional_calendar_name
    return CalendarRange(scope, account, first, last + timedelta(days=1), tz, name)


def _uid(kind: str, ident: object) -> str:
    return f"{kind}-{ident}@{UID_DOMAIN}"


def interaction_uid(interaction_id: uuid.UUID) -> str:
    """The UID of an interaction's event."""
    return _uid("interaction", interaction_id)


def _stamp(event: icalendar.Component, created: datetime | None, updated: datetime) -> None:
    stamp = updated.astimezone(UTC).replace(microsecond=0)
    event.add("dtstamp", stamp)
    if created is not None:
        event.add("created", created.astimezone(UTC).replace(microsecond=0))
    event.add("last-modified", stamp)


def _alarm(trigger: timedelta, text: str, *, related_start: bool = True) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", trigger)
    return alarm


def add_categories(event: icalendar.Event, names: list[str]) -> None:
    """Add ``names`` to ``event``'s CATEGORIES: one property with the old and the new
    names, each once, in order (``event.add("categories", …)`` would write a second
    CATEGORIES line, which some calendars show as one odd category or drop)."""
    present = event.get("categories")
    props = present if isinstance(present, list) else [present] if present is not None else []
    merged: list[str] = []
    for prop in props:
        merged.extend(str(c) for c in getattr(prop, "cats", []))
    merged.extend(names)
    event.pop("categories", None)
    event.add("categories", list(dict.fromkeys(merged)))
