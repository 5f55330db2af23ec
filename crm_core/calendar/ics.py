"""iCalendar (RFC 5545) calendars of the office's work, through the icalendar package.

One function, :func:`build_events`, decides what a calendar holds; the file export
(``tongxin export ics``), the phone feed (``tongxin serve``) and the CalDAV push all use
it, so they can never disagree. What it promises:

- Stable: a UID from the database id of each item; DTSTAMP and LAST-MODIFIED from the
  item's own change time (``updated_at``), never "now"; SEQUENCE from the interaction's
  ``sequence`` (bumped by the services on every change of time, place or status) or the
  row's version. Exporting twice with nothing changed gives identical bytes; changing one
  item changes that item's bytes only.
- Times with TZID in the display zone (``TONGXIN_TZ``, ``[settings] timezone``) and a
  compact VTIMEZONE; the institutional series in the office's own zone
  (``[settings] office_timezone``, default Asia/Shanghai) whatever the display zone,
  with that zone's VTIMEZONE too. All-day items as VALUE=DATE with an exclusive DTEND.
- Building a calendar never writes to the database (not even the series' rows:
  :func:`crm_core.calendar.series.config_series`).
- Nothing confidential: a confidential interaction shows its kind ("谈心谈话"), time and
  place, never its summary, fields or notes. No interaction's notes are ever exported.
- UTF-8, CRLF line ends, lines folded at 75 octets between characters (icalendar's
  serialiser does this; the tests check the byte lengths).
- Only what the acting account may see (:mod:`crm_core.authz`): a calendar is built in a
  unit acting as the person it is for (the feed server acts as the token's holder), so
  county staff's calendars hold their region's work and people only.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import and_, or_, select
from sqlmodel import col

from crm_core import authz

# The parts live in sibling modules (issue 17: no module over 600 lines); their names
# stay importable from here.
from crm_core.calendar.ics_base import CATEGORY_FOLLOW_UP as CATEGORY_FOLLOW_UP
from crm_core.calendar.ics_base import CATEGORY_SERIES as CATEGORY_SERIES
from crm_core.calendar.ics_base import PARTSTAT, _alarm, _stamp
from crm_core.calendar.ics_base import PRODID as PRODID
from crm_core.calendar.ics_base import SCOPES as SCOPES
from crm_core.calendar.ics_base import STATUS as STATUS
from crm_core.calendar.ics_base import UID_DOMAIN as UID_DOMAIN
from crm_core.calendar.ics_base import CalendarRange as CalendarRange
from crm_core.calendar.ics_base import calendar_range as calendar_range
from crm_core.calendar.ics_base import interaction_uid as interaction_uid
from crm_core.calendar.ics_series import _series_events
from crm_core.calendar.ics_tasks import follow_up_todo
from crm_core.calendar.ics_tz import vtimezone as vtimezone
from crm_core.calendar.settings import (
    feed_settings,
    office_timezone,
    reminder_settings,
    smtp_settings,
)
from crm_core.i18n import _, language
from crm_core.models import (
    Account,
    FollowUp,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    Rsvp,
)
from crm_core.plugins import restored_on_error
from crm_core.unit import Unit

# -- helpers --------------------------------------------------------------------------


def _all_day_end(start: date, end_at: datetime | None, tz: ZoneInfo) -> date:
    if end_at is None:
        return start + timedelta(days=1)
    local = end_at.astimezone(tz)
    end = local.date() if local.time() == time(0) else local.date() + timedelta(days=1)
    return max(end, start + timedelta(days=1))


def _names(names: list[str]) -> str:
    if len(names) <= 3:
        return "、".join(names)
    return _("{first} and {n} more").format(first="、".join(names[:3]), n=len(names) - 3)


def item_minutes(unit: Unit, interaction: Interaction) -> tuple[int, ...]:
    """Minutes before a planned interaction to remind of it: config's for its kind and
    every plugin's ``reminder_minutes`` proposal together, latest first."""
    base = reminder_settings(unit.config).minutes_for(interaction.kind)
    found = set(base)
    for plugin, result in unit.plugins.call_collecting(
        "reminder_minutes", unit=unit, interaction=interaction, minutes=base
    ):
        if result is None:
            continue
        values = result if isinstance(result, list | tuple | set) else [result]
        good = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v >= 0]
        if len(good) != len(values):
            unit.plugins.record_failure(
                plugin,
                "reminder_minutes",
                TypeError(f"not minutes (whole numbers ≥ 0): {result!r}"),
            )
        found.update(good)
    return tuple(sorted(found, reverse=True))


def alarm_offsets(unit: Unit, interaction: Interaction) -> list[timedelta]:
    """When to remind of a planned interaction, relative to its start: the minutes of
    :func:`item_minutes` before a timed one; ``[reminders] all_day_time`` on the day of
    an all-day one. The calendars' alarms and ``tongxin remind`` both use this."""
    if interaction.all_day:
        at = reminder_settings(unit.config).all_day_time
        return [timedelta(hours=at.hour, minutes=at.minute)]
    return [timedelta(minutes=-m) for m in item_minutes(unit, interaction)]


@dataclass
class _People:
    people: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    # Those invited (an RSVP recorded): person id, name, RSVP.
    invited: list[tuple[uuid.UUID, str, Rsvp]] = field(default_factory=list)


def _participants(unit: Unit, ids: list[uuid.UUID]) -> dict[uuid.UUID, _People]:
    # People the unit may not see are not named (as PostgreSQL's row-level security
    # would not show them either).
    out: dict[uuid.UUID, _People] = defaultdict(_People)
    ip = InteractionParticipant
    for chunk in _chunks(ids, 500):
        rows = unit.session.execute(
            select(
                col(ip.interaction_id),
                col(Person.name),
                col(Account.display_name),
                col(Person.id),
                col(ip.rsvp),
            )
            .outerjoin(Person, and_(col(Person.id) == col(ip.person_id), *authz.person_scope(unit)))
            .outerjoin(Account, col(Account.id) == col(ip.account_id))
            .where(col(ip.interaction_id).in_(chunk))
            .order_by(
                col(ip.interaction_id),
                col(Person.name_pinyin),
                col(Person.name),
                col(Account.display_name),
                col(ip.id),
            )
        )
        for iid, person, account, pid, rsvp in rows:
            if person is not None:
                out[iid].people.append(person)
                if rsvp is not None:
                    out[iid].invited.append((pid, person, rsvp))
            elif account is not None:
                out[iid].accounts.append(account)
    return out


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- what a calendar holds ------------------------------------------------------------


def _interactions(unit: Unit, rng: CalendarRange) -> list[Interaction]:
    if rng.scope == "institutional":
        return []
    stmt = select(Interaction).where(
        col(Interaction.start_at) >= rng.start_utc,
        col(Interaction.start_at) < rng.end_utc,
        *authz.interaction_scope(unit),
    )
    if rng.scope == "user":
        account = rng.account
        assert account is not None
        ip = InteractionParticipant
        mine = [col(ip.account_id) == account.id]
        if account.person_id is not None:
            mine.append(col(ip.person_id) == account.person_id)
        stmt = stmt.where(col(Interaction.id).in_(select(col(ip.interaction_id)).where(or_(*mine))))
    stmt = stmt.order_by(col(Interaction.start_at), col(Interaction.id))
    return list(unit.session.scalars(stmt))


def _follow_ups(unit: Unit, rng: CalendarRange) -> list[FollowUp]:
    if rng.scope == "institutional":
        return []
    stmt = select(FollowUp).where(
        col(FollowUp.due_on).is_not(None),
        col(FollowUp.due_on) >= rng.start,
        col(FollowUp.due_on) < rng.end,
        *authz.follow_up_scope(unit),
    )
    if rng.scope == "user":
        assert rng.account is not None
        stmt = stmt.where(col(FollowUp.owner_id) == rng.account.id)
    return list(unit.session.scalars(stmt.order_by(col(FollowUp.due_on), col(FollowUp.id))))


def _title(i: Interaction, who: _People, kind: str) -> str:
    if i.confidential:
        return kind  # "谈心谈话": never with whom or about what
    # Who, on a phone's one line: the people met; an event for many (a gathering) by
    # its summary instead.
    if who.people and (len(who.people) <= 3 or not i.summary):
        subject = _names(who.people)
    else:
        subject = i.summary or _names(who.accounts)
    return f"{kind}：{subject}" if subject else kind


def event_title(unit: Unit, interaction: Interaction) -> str:
    """The one-line title an interaction has on calendars and in reminders (the kind
    alone for a confidential one)."""
    spec = unit.kinds.get(interaction.kind)
    kind = spec.label(language()) if spec else interaction.kind
    who = _participants(unit, [interaction.id]).get(interaction.id, _People())
    return _title(interaction, who, kind)


def _add_attendees(unit: Unit, ev: icalendar.Event, who: _People) -> None:
    """ORGANIZER (the office's ``[smtp] sender``) and an ATTENDEE per person invited,
    with the RSVP as PARTSTAT. Addressed ``urn:uuid:<person id>``, not by e-mail: a
    calendar feed never hands out the guests' addresses (the e-mailed invitation,
    :mod:`crm_core.calendar.itip`, names each guest's own address to that guest only)."""
    ev.add("organizer", "mailto:" + smtp_settings(unit.config).sender)
    for pid, name, rsvp in who.invited:
        attendee = icalendar.vCalAddress(f"urn:uuid:{pid}")
        attendee.params["CN"] = name
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = PARTSTAT[rsvp]
        attendee.params["CUTYPE"] = "INDIVIDUAL"
        ev.add("attendee", attendee)


def _interaction_event(
    unit: Unit,
    rng: CalendarRange,
    i: Interaction,
    who: _People,
    labels: dict[str, str],
) -> icalendar.Event:
    tz = rng.tz
    kind = labels.get(i.kind, i.kind)
    ev = icalendar.Event()
    ev.add("uid", interaction_uid(i.id))
    _stamp(ev, i.created_at, i.updated_at)
    ev.add("sequence", i.sequence)
    if i.all_day:
        first = i.start_at.astimezone(tz).date()
        ev.add("dtstart", first)
        ev.add("dtend", _all_day_end(first, i.end_at, tz))
    else:
        ev.add("dtstart", i.start_at.astimezone(tz))
        ev.add("dtend", (i.end_at or i.start_at).astimezone(tz))
    status_word = _(i.status.value)
    title = _title(i, who, kind)
    if i.confidential:
        lines = [f"{kind} · {status_word}", _("Confidential: see the details in tongxin.")]
        ev.add("class", "CONFIDENTIAL")
    else:
        lines = [f"{kind} · {status_word}"]
        if who.people:
            lines.append(_("With: {names}").format(names="、".join(who.people)))
        if who.accounts:
            lines.append(_("Taking part: {names}").format(names="、".join(who.accounts)))
        if i.location:
            lines.append(_("Place: {place}").format(place=i.location))
        if i.summary:
            lines.append(_("Summary: {text}").format(text=i.summary))
    if i.status is InteractionStatus.cancelled:
        title = _("[Cancelled] {title}").format(title=title)
        if i.cancel_reason and not i.confidential:
            lines.append(_("Reason for cancelling: {text}").format(text=i.cancel_reason))
    ev.add("summary", title)
    ev.add("description", "\n".join(lines))
    if i.location:
        ev.add("location", i.location)
    categories = [kind]
    if i.region:
        term = unit.config.vocab["regions"].get(i.region)
        categories.append(term.label(language()) if term else i.region)
    ev.add("categories", categories)
    ev.add("status", STATUS[i.status])
    if who.invited and not i.confidential:
        _add_attendees(unit, ev, who)
    if i.status is InteractionStatus.planned:
        for offset in alarm_offsets(unit, i):
            ev.add_component(_alarm(offset, title))
    # A decorator that raises is skipped and its half-made changes undone.
    unit.plugins.call_collecting(
        "decorate_event",
        guard=lambda: restored_on_error(ev),
        unit=unit,
        interaction=i,
        event=ev,
        calendar_range=rng,
    )
    return ev


def _plugin_events(unit: Unit, rng: CalendarRange) -> list[icalendar.Event]:
    out: list[icalendar.Event] = []
    for plugin, result in unit.plugins.call_collecting("add_events", unit=unit, calendar_range=rng):
        for ev in result or []:
            if not isinstance(ev, icalendar.Event) or "UID" not in ev or "DTSTART" not in ev:
                unit.plugins.record_failure(
                    plugin,
                    "add_events",
                    ValueError(f"not an icalendar.Event with UID and DTSTART: {ev!r:.80}"),
                )
                continue
            out.append(ev)
    return out


def build_events(unit: Unit, rng: CalendarRange) -> list[icalendar.Component]:
    """Every item of the calendar ``rng``, in a fixed order: the institutional series,
    the interactions by start (VEVENTs), the follow-ups by due date (VTODOs, done ones
    too, so a task ticked off on a phone stays there ticked off), then the plugins'
    events."""
    return build_items(unit, rng, _interaction_event)


def build_items(unit: Unit, rng: CalendarRange, make: Callable[..., Any]) -> list[Any]:
    """:func:`build_events`, each interaction's item made by ``make(unit, rng,
    interaction, participants, labels)`` (an event, or its serialised bytes)."""
    items = _interactions(unit, rng)
    events: list[Any] = list(_series_events(unit, rng, items))
    labels = {code: spec.label(language()) for code, spec in unit.kinds.items()}
    who = _participants(unit, [i.id for i in items])
    for i in items:
        events.append(make(unit, rng, i, who.get(i.id, _People()), labels))
    follow_ups = _follow_ups(unit, rng)
    if follow_ups:
        settings = reminder_settings(unit.config)
        person_ids = {f.person_id for f in follow_ups if f.person_id}
        names: dict[uuid.UUID, str] = (
            dict(
                unit.session.execute(
                    select(col(Person.id), col(Person.name)).where(
                        col(Person.id).in_(person_ids), *authz.person_scope(unit)
                    )
                ).all()
            )
            if person_ids
            else {}
        )
        iids = {f.interaction_id for f in follow_ups if f.interaction_id}
        # A follow-up raised in a confidential talk, or in work the unit may not see,
        # keeps its detail out of the calendar.
        open_ones = (
            set(
                unit.session.scalars(
                    select(col(Interaction.id)).where(
                        col(Interaction.id).in_(iids),
                        col(Interaction.confidential).is_(False),
                        *authz.interaction_scope(unit),
                    )
                )
            )
            if iids
            else set()
        )
        secret = iids - open_ones
        for f in follow_ups:
            events.append(
                follow_up_todo(
                    f,
                    names.get(f.person_id) if f.person_id else None,
                    f.interaction_id in secret,
                    settings.all_day_time,
                )
            )
    events += _plugin_events(unit, rng)
    return events


def new_calendar(unit: Unit, rng: CalendarRange, *, method: bool = True) -> icalendar.Calendar:
    """An empty VCALENDAR with the calendar's properties and the zone's VTIMEZONE.
    ``method`` adds METHOD:PUBLISH (a feed); a CalDAV resource must not have it."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", "PUBLISH")
    if rng.name:
        cal.add("name", rng.name)
        cal.add("x-wr-calname", rng.name)
    cal.add("x-wr-timezone", unit.config.timezone)
    refresh = timedelta(minutes=feed_settings(unit.config).refresh_minutes)
    cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(refresh))
    cal.add_component(vtimezone(unit.config.timezone))
    office = office_timezone(unit.config).key
    if office != unit.config.timezone:
        cal.add_component(vtimezone(office))  # the institutional series' zone
    return cal


def build_calendar(unit: Unit, rng: CalendarRange) -> icalendar.Calendar:
    """The VCALENDAR of ``rng``: properties, VTIMEZONE and every event."""
    cal = new_calendar(unit, rng)
    for ev in build_events(unit, rng):
        cal.add_component(ev)
    return cal


def export_ics(unit: Unit, rng: CalendarRange) -> bytes:
    """The calendar of ``rng`` as the bytes of an .ics file (UTF-8, CRLF, folded): the
    bytes of ``build_calendar(unit, rng).to_ical()``, each unchanged event's taken from
    the in-process cache of serialised events (:mod:`crm_core.calendar.ics_cache`)."""
    from crm_core.calendar import ics_cache

    if ics_cache.decorated(unit):  # a plugin's decorator: its inputs are unknown
        return bytes(build_calendar(unit, rng).to_ical())
    end = b"END:VCALENDAR\r\n"
    head = bytes(new_calendar(unit, rng).to_ical())
    parts = [head[: -len(end)]]
    for item in build_items(unit, rng, ics_cache.cached_event(_interaction_event, alarm_offsets)):
        parts.append(item if isinstance(item, bytes) else bytes(item.to_ical()))
    parts.append(end)
    return b"".join(parts)


def etag_of(body: bytes) -> str:
    """A strong HTTP ETag of a calendar's bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
