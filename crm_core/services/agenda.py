"""The agenda (日程): interactions between two moments, the institutional series'
occurrences between two days, and counts of work by kind.

What a calendar view, a dashboard's "today / this week" and a monthly tally read. Every
front end asks these questions the same way, so they live here and not in a screen.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from crm_core import authz
from crm_core.calendar.series import calendar_series, occurrences_between
from crm_core.config import ConfigError
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import Account, Interaction, InteractionParticipant, InteractionStatus, Person
from crm_core.unit import Unit

log = logging.getLogger("tongxin.agenda")

# A gathering linked to a lunar series within this many days of the year's date is that
# year's occurrence, even if it was moved (union_liaison.find_gathering's rule too).
_LUNAR_WINDOW = timedelta(days=90)


@dataclass
class AgendaPage:
    """Interactions in a time range, earliest first, with the count of all that match."""

    items: list[Interaction]
    total: int


def _range(start: datetime, end: datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise ValidationError.one(name, value.isoformat(), N_("the time has no zone"))
    if end < start:
        raise ValidationError.one("end", end.isoformat(), N_("ends before it starts"))


def between(
    unit: Unit,
    start: datetime,
    end: datetime,
    *,
    statuses: Iterable[InteractionStatus | str] | None = None,
    kinds: list[str] | None = None,
    limit: int = 200,
) -> AgendaPage:
    """Interactions starting in ``[start, end)`` (aware datetimes), earliest first: at
    most ``limit`` of them, and how many match in all. ``statuses`` (planned, done,
    cancelled) and ``kinds`` narrow the result; by default cancelled work is left out."""
    _range(start, end)
    wanted = (
        [InteractionStatus(s) for s in statuses]
        if statuses is not None
        else [InteractionStatus.planned, InteractionStatus.done]
    )
    conds = [
        col(Interaction.status).in_(wanted),
        col(Interaction.start_at) >= start,
        col(Interaction.start_at) < end,
        *authz.interaction_scope(unit),  # county staff: their region's work only
    ]
    if kinds:
        conds.append(col(Interaction.kind).in_(kinds))
    total = unit.session.scalar(select(func.count()).select_from(Interaction).where(*conds)) or 0
    stmt = (
        select(Interaction)
        .where(*conds)
        .order_by(col(Interaction.start_at), col(Interaction.id))
        .limit(limit)
    )
    return AgendaPage(list(unit.session.scalars(stmt)), total)


def counts_by_kind(
    unit: Unit,
    start: datetime,
    end: datetime,
    *,
    status: InteractionStatus | str = InteractionStatus.done,
) -> dict[str, int]:
    """How many interactions of each kind started in ``[start, end)`` with ``status``
    (done by default): the "this month's work" tally. Kinds with none are absent."""
    _range(start, end)
    stmt = (
        select(col(Interaction.kind), func.count())
        .where(
            col(Interaction.status) == InteractionStatus(status),
            col(Interaction.start_at) >= start,
            col(Interaction.start_at) < end,
            *authz.interaction_scope(unit),
        )
        .group_by(Interaction.kind)
    )
    return {kind: int(n) for kind, n in unit.session.execute(stmt)}


def names_of(unit: Unit, interaction_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The names of everyone taking part in each of ``interaction_ids`` (people in
    pinyin order, then accounts), in two queries whatever the count: for lists that show
    "who" beside each line."""
    ids = list(dict.fromkeys(interaction_ids))
    out: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    people = (
        select(col(InteractionParticipant.interaction_id), col(Person.name))
        .join(Person, col(Person.id) == col(InteractionParticipant.person_id))
        .where(col(InteractionParticipant.interaction_id).in_(ids))
        .order_by(col(Person.name_pinyin))
    )
    accounts = (
        select(col(InteractionParticipant.interaction_id), col(Account.display_name))
        .join(Account, col(Account.id) == col(InteractionParticipant.account_id))
        .where(col(InteractionParticipant.interaction_id).in_(ids))
        .order_by(col(Account.display_name))
    )
    for stmt in (people, accounts):
        for iid, name in unit.session.execute(stmt):
            out[iid].append(name)
    return out


@dataclass(frozen=True)
class InstitutionalItem:
    """One occurrence of an institutional series (党组理论学习, 中秋联谊会 …) on the agenda:
    ``start`` and ``end`` are aware, in the office's zone (midnight for all-day ones);
    ``lunar_text`` is the lunar date a lunar series keeps (八月十五)."""

    series_id: uuid.UUID
    code: str | None
    title: str
    kind: str
    start: datetime
    end: datetime
    all_day: bool
    location: str | None
    lunar_text: str | None


@dataclass
class InstitutionalPage:
    """Occurrences of the institutional series between two days, earliest first, and one
    message per series that could not be expanded (a bad RRULE), naming the series."""

    items: list[InstitutionalItem]
    errors: list[str] = field(default_factory=list)


def _day(name: str, value: object) -> date:
    # A datetime is a date too: refuse it, or a caller's instant would silently lose its time.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError.one(name, str(value), N_("a day (a date, not a time) is needed"))
    return value


def institutional(
    unit: Unit,
    start: date,
    end: date,
    *,
    kinds: list[str] | None = None,
    limit: int | None = None,
) -> InstitutionalPage:
    """The occurrences of every active institutional series (config's, synced first as
    calendars do, and those users or plugins added) starting on a local day in ``[start,
    end)``, earliest first; at most ``limit`` of them. Gregorian series are expanded
    from their RRULE, lunar ones put on each year's Gregorian day. ``kinds`` keeps the
    series of those kinds (a series' ``kind`` is "event" unless config says otherwise).

    An occurrence the agenda already holds as an interaction linked to the series (the
    2026 中秋联谊会 being organised) is left out, so it shows once, as that interaction:
    for a Gregorian series, one on the same day; for a lunar one, one within 90 days."""
    first, after = _day("start", start), _day("end", end)
    if after < first:
        raise ValidationError.one("end", after.isoformat(), N_("ends before it starts"))
    tz = unit.config.tz
    series = [s for s in calendar_series(unit) if not kinds or s.kind in kinds]
    linked: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    if series:
        low = datetime.combine(first, time(0), tz) - _LUNAR_WINDOW
        high = datetime.combine(after, time(0), tz) + _LUNAR_WINDOW
        rows = unit.session.execute(
            select(col(Interaction.series_id), col(Interaction.start_at)).where(
                col(Interaction.series_id).in_([s.id for s in series]),
                col(Interaction.start_at) >= low,
                col(Interaction.start_at) < high,
                *authz.interaction_scope(unit),  # what this account cannot see is not "held"
            )
        )
        for series_id, at in rows:
            linked[series_id].append(at.astimezone(tz))
    items: list[InstitutionalItem] = []
    errors: list[str] = []
    for s in series:
        try:
            found = occurrences_between(s, first, after, tz)
        except ConfigError as exc:
            log.warning("%s", exc)
            errors.append(str(exc))
            continue
        held = linked.get(s.id, [])
        for occ in found:
            if s.lunar_month is not None:
                if any(abs(at - occ.start) <= _LUNAR_WINDOW for at in held):
                    continue
            elif any(at.date() == occ.start.date() for at in held):
                continue
            items.append(
                InstitutionalItem(
                    s.id,
                    s.code,
                    s.title,
                    s.kind,
                    occ.start,
                    occ.end,
                    occ.all_day,
                    s.location,
                    occ.lunar_text,
                )
            )
    items.sort(key=lambda i: (i.start, i.title))
    return InstitutionalPage(items[:limit] if limit is not None else items, errors)
