"""What reminders are due: per-item reminders before scheduled work, plugins' reminder
rules, and the daily digest. Pure reading: :mod:`crm_core.reminders.service` schedules
and delivers.

What a person is told is computed acting as that person (:func:`crm_core.authz.acting_for`),
whoever runs the service: a digest lists only the contacts, work and follow-ups its
recipient may see (county staff: their region's), and a reminder's title names only the
people its recipient may see (:func:`message_for`).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.calendar.ics import alarm_offsets, event_title
from crm_core.calendar.settings import reminder_settings
from crm_core.i18n import _
from crm_core.models import (
    Account,
    FollowUp,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Role,
)
from crm_core.services import obligations as obligation_service
from crm_core.services import overdue as overdue_service
from crm_core.services.followups import OPEN_STATES
from crm_core.unit import Unit


@dataclass(frozen=True)
class Reminder:
    """A reminder of a plugin's rule (the ``collect_reminders`` hook): a ``key`` stable
    for the same reminder, when (``at``, aware), for whom (``account_id``; None: every
    active administrator), and what to say."""

    key: str
    at: datetime
    account_id: uuid.UUID | None
    title: str
    body: str = ""


@dataclass(frozen=True)
class ReminderWindow:
    """The span plugins are asked about: ``start`` to ``end`` (aware UTC) in zone ``tz``."""

    start: datetime
    end: datetime
    tz: ZoneInfo


@dataclass(frozen=True)
class Planned:
    """A reminder to schedule: a unique ``key``, when, for which accounts, and what to
    say. ``interaction_id``/``start`` (per-item reminders) are checked again when it is
    sent: a reminder of work cancelled or moved meanwhile is not sent."""

    key: str
    at: datetime
    account_ids: tuple[uuid.UUID, ...]
    title: str
    body: str
    interaction_id: uuid.UUID | None = None
    start: datetime | None = None
    minutes: int | None = None  # a per-item reminder: how long before the start

    def payload(self) -> dict[str, Any]:
        """The job's argument as plain strings (the reverse of :meth:`from_payload`)."""
        return {
            "key": self.key,
            "at": self.at.isoformat(),
            "accounts": [str(a) for a in self.account_ids],
            "title": self.title,
            "body": self.body,
            "interaction_id": str(self.interaction_id) if self.interaction_id else None,
            "start": self.start.isoformat() if self.start else None,
            "minutes": self.minutes,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Planned:
        """The reverse of :meth:`payload`."""
        return cls(
            key=data["key"],
            at=datetime.fromisoformat(data["at"]),
            account_ids=tuple(uuid.UUID(a) for a in data["accounts"]),
            title=data["title"],
            body=data["body"],
            interaction_id=uuid.UUID(data["interaction_id"]) if data["interaction_id"] else None,
            start=datetime.fromisoformat(data["start"]) if data["start"] else None,
            minutes=data.get("minutes"),  # absent from jobs stored by older versions
        )


def _when(start: datetime, tz: ZoneInfo, all_day: bool) -> str:
    local = start.astimezone(tz)
    return local.strftime("%Y-%m-%d") if all_day else local.strftime("%Y-%m-%d %H:%M")


def recipients(unit: Unit, interaction_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
    """The active accounts taking part in an interaction: as accounts, or through the
    person they are."""
    ip = InteractionParticipant
    direct = select(col(ip.account_id)).where(
        col(ip.interaction_id) == interaction_id, col(ip.account_id).is_not(None)
    )
    people = select(col(ip.person_id)).where(
        col(ip.interaction_id) == interaction_id, col(ip.person_id).is_not(None)
    )
    rows = unit.session.scalars(
        select(col(Account.id))
        .where(
            col(Account.active).is_(True),
            or_(col(Account.id).in_(direct), col(Account.person_id).in_(people)),
        )
        .order_by(col(Account.username))
    )
    return tuple(rows)


def item_message(
    unit: Unit, i: Interaction, minutes: int, *, sent_at: datetime | None = None
) -> tuple[str, str]:
    """Title and body of the reminder ``minutes`` before interaction ``i`` (negative:
    on the day of an all-day one). Sent at ``sent_at`` more than five minutes off its
    time (late, after the service was stopped), the body gives the real time left, not
    the planned lead: a one-day reminder sent two hours before says two hours."""
    tz = unit.config.tz
    title = _("Reminder: {title}").format(title=event_title(unit, i))
    lines = [_("When: {when}").format(when=_when(i.start_at, tz, i.all_day))]
    if i.location:
        lines.append(_("Place: {place}").format(place=i.location))
    if sent_at is not None and not i.all_day:
        left = math.ceil((i.start_at - sent_at).total_seconds() / 60)
        if abs(left - minutes) > 5:
            lines.append(_lead_left(left))
            return title, "\n".join(lines)
    if minutes >= 60 * 24 and minutes % (60 * 24) == 0:
        lines.append(_("In {n} day(s).").format(n=minutes // (60 * 24)))
    elif minutes >= 60 and minutes % 60 == 0:
        lines.append(_("In {n} hour(s).").format(n=minutes // 60))
    elif minutes:
        lines.append(_("In {n} minute(s).").format(n=minutes))
    return title, "\n".join(lines)


def _lead_left(minutes: int) -> str:
    """The time left before a start, in words: days and hours, hours and minutes, or
    minutes; "already started" once it is past."""
    if minutes <= 0:
        return _("It has already started.")
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    if days:
        if hours:
            return _("In {d} day(s) {h} hour(s).").format(d=days, h=hours)
        return _("In {n} day(s).").format(n=days)
    if hours:
        if mins:
            return _("In {h} hour(s) {m} minute(s).").format(h=hours, m=mins)
        return _("In {n} hour(s).").format(n=hours)
    return _("In {n} minute(s).").format(n=mins)


def item_reminders(
    unit: Unit, now: datetime, until: datetime, *, account: Account | None = None
) -> list[Planned]:
    """A reminder for each alarm (:func:`crm_core.calendar.ics.alarm_offsets`) of each
    planned interaction starting after ``now`` and up to ``until``, for the accounts
    taking part (only the work ``account`` takes part in, when given: one person's open
    app need not plan the whole office's). The key holds the start time, so work
    moved to another time is reminded of again."""
    out: list[Planned] = []
    stmt = select(Interaction).where(
        col(Interaction.status) == InteractionStatus.planned,
        col(Interaction.start_at) > now,
        col(Interaction.start_at) <= until,
    )
    if account is not None:
        ip = InteractionParticipant
        mine = col(ip.account_id) == account.id
        if account.person_id is not None:
            mine = or_(mine, col(ip.person_id) == account.person_id)
        stmt = stmt.where(col(Interaction.id).in_(select(col(ip.interaction_id)).where(mine)))
    rows = unit.session.scalars(stmt.order_by(col(Interaction.start_at), col(Interaction.id)))
    for i in rows:
        who = recipients(unit, i.id)
        if not who:
            continue
        for offset in alarm_offsets(unit, i):
            minutes = -int(offset.total_seconds() // 60)  # before the start; < 0: on the day
            at = i.start_at + offset
            title, body = item_message(unit, i, minutes)
            key = f"item:{i.id}:{minutes}:{i.start_at.astimezone(UTC):%Y%m%dT%H%MZ}"
            out.append(Planned(key, at, who, title, body, i.id, i.start_at, minutes))
    return out


def message_for(
    unit: Unit, p: Planned, account: Account, *, sent_at: datetime | None = None
) -> tuple[str, str] | None:
    """Title and body of reminder ``p`` as ``account`` is told it, computed acting as
    that account: a per-item reminder names only the people it may see, and is not
    sent at all (None) if it may not see the work; a plugin's reminder as planned.
    ``sent_at``: when it goes out, so a late one states the real time left."""
    if p.interaction_id is None:
        return p.title, p.body
    view = authz.acting_for(unit, account)
    i = view.session.get(Interaction, p.interaction_id)
    if i is None or not authz.can_see_interaction(view, i):
        return None
    minutes = p.minutes
    if minutes is None:  # a job stored by an older version: the key holds it
        minutes = int(p.key.split(":")[2])
    return item_message(view, i, minutes, sent_at=sent_at)


def plugin_reminders(unit: Unit, now: datetime, until: datetime) -> list[Planned]:
    """The reminders of the plugins' ``collect_reminders`` rules in ``now``–``until``
    (those already past their time included: they are sent once, late)."""
    window = ReminderWindow(now, until, unit.config.tz)
    admins: tuple[uuid.UUID, ...] | None = None
    out: list[Planned] = []
    for plugin, result in unit.plugins.call_collecting(
        "collect_reminders", unit=unit, window=window
    ):
        for r in result or []:
            if not isinstance(r, Reminder) or r.at.tzinfo is None or not r.key:
                unit.plugins.record_failure(
                    plugin,
                    "collect_reminders",
                    ValueError(f"not a Reminder with a key and an aware time: {r!r:.80}"),
                )
                continue
            if r.account_id is not None:
                who: tuple[uuid.UUID, ...] = (r.account_id,)
            else:
                if admins is None:
                    admins = tuple(
                        unit.session.scalars(
                            select(col(Account.id))
                            .where(col(Account.role) == Role.admin, col(Account.active).is_(True))
                            .order_by(col(Account.username))
                        )
                    )
                who = admins
            out.append(Planned(f"plugin:{plugin}:{r.key}", r.at, who, r.title, r.body))
    return out


@dataclass
class Digest:
    """One account's daily digest."""

    account_id: uuid.UUID
    day: date
    overdue: list[str] = field(default_factory=list)
    agenda: list[str] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    obligations: list[str] = field(default_factory=list)  # the plugins' (collect_obligations)

    @property
    def empty(self) -> bool:
        """Nothing to say."""
        return not (self.overdue or self.agenda or self.follow_ups or self.obligations)

    def title(self) -> str:
        """The subject line."""
        return _("tongxin daily digest {day}").format(day=self.day.isoformat())

    def text(self) -> str:
        """The body: the lists under their headings."""
        parts = []
        if self.agenda:
            parts.append(_("Today's agenda") + "\n" + "\n".join(f"· {x}" for x in self.agenda))
        if self.overdue:
            parts.append(_("Overdue contacts") + "\n" + "\n".join(f"· {x}" for x in self.overdue))
        if self.follow_ups:
            parts.append(_("Follow-ups due") + "\n" + "\n".join(f"· {x}" for x in self.follow_ups))
        if self.obligations:
            parts.append(
                _("Other obligations") + "\n" + "\n".join(f"· {x}" for x in self.obligations)
            )
        return "\n\n".join(parts)


def digest_day(now: datetime, tz: ZoneInfo, at: time) -> date:
    """The day a digest run at ``now`` stands for: today once the digest time has come,
    else yesterday (a digest missed while the service was down and sent late, before
    today's own)."""
    local = now.astimezone(tz)
    return local.date() if local.time() >= at else local.date() - timedelta(days=1)


def digest_for(unit: Unit, account: Account, day: date) -> Digest:
    """``account``'s digest for ``day``: overdue contacts it keeps, its agenda of the
    day, its open follow-ups due by then, and the plugins' obligations it owes (the
    office's too, for an administrator); all of it computed acting as ``account``
    (whatever ``unit`` acts as), so it holds only what that account may see."""
    unit = authz.acting_for(unit, account)
    tz = unit.config.tz
    d = Digest(account.id, day)
    report = overdue_service.overdue(unit, keeper_id=account.id, today=day)
    for item in report.items:
        d.overdue.append(
            _("{contact}: {days} days since the last contact").format(
                contact=item.contact, days=item.days_since
            )
        )
    duties = report.obligations
    d.obligations = [obligation_service.line(o, day) for o in duties.rows]
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = start + timedelta(days=1)
    ip = InteractionParticipant
    mine = [col(ip.account_id) == account.id]
    if account.person_id is not None:
        mine.append(col(ip.person_id) == account.person_id)
    rows = unit.session.scalars(
        select(Interaction)
        .where(
            col(Interaction.status) == InteractionStatus.planned,
            col(Interaction.start_at) >= start,
            col(Interaction.start_at) < end,
            col(Interaction.id).in_(select(col(ip.interaction_id)).where(or_(*mine))),
            *authz.interaction_scope(unit),
        )
        .order_by(col(Interaction.start_at), col(Interaction.id))
    )
    for i in rows:
        when = _("all day") if i.all_day else i.start_at.astimezone(tz).strftime("%H:%M")
        place = f"（{i.location}）" if i.location else ""
        d.agenda.append(f"{when} {event_title(unit, i)}{place}")
    for f in unit.session.scalars(
        select(FollowUp)
        .where(
            col(FollowUp.owner_id) == account.id,
            col(FollowUp.status).in_(OPEN_STATES),
            col(FollowUp.due_on).is_not(None),
            col(FollowUp.due_on) <= day,
            *authz.follow_up_scope(unit),
        )
        .order_by(col(FollowUp.due_on), col(FollowUp.id))
    ):
        assert f.due_on is not None
        d.follow_ups.append(
            _("{title} (due {due})").format(title=f.title, due=f.due_on.isoformat())
        )
    return d


def digests(unit: Unit, day: date) -> list[Digest]:
    """Every active account's digest for ``day`` that has something to say."""
    out = []
    for account in unit.session.scalars(
        select(Account).where(col(Account.active).is_(True)).order_by(col(Account.username))
    ):
        d = digest_for(unit, account, day)
        if not d.empty:
            out.append(d)
    return out


def horizon(unit: Unit, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The planning span: now to ``[reminders] horizon_days`` ahead."""
    now = now or clock.now()
    return now, now + timedelta(days=reminder_settings(unit.config).horizon_days)
