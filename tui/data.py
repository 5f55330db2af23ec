"""What the screens show, read through the services (never SQL) into plain rows.

Each loader takes a unit and returns dataclasses the screens render; they run in worker
threads, so they touch no widget.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm_tui import extensions

from crm_core import clock
from crm_core.kinds import Obligation
from crm_core.models import FollowUp, Interaction, InteractionStatus
from crm_core.services import accounts, agenda, assignments, contacts, followups, overdue
from crm_core.services import interactions as interaction_service
from crm_core.services.overdue import Gap
from crm_core.unit import Unit

DASHBOARD_LINES = 12  # lines per dashboard section before "… N more"


def day_start(d: date, tz: ZoneInfo) -> datetime:
    """Midnight at the start of ``d`` in the office's zone."""
    return datetime.combine(d, time(0, 0), tzinfo=tz)


def month_bounds(d: date) -> tuple[date, date]:
    """The first day of ``d``'s month and of the next one."""
    first = d.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt


@dataclass
class AgendaLine:
    """One interaction on a list: when, what kind, status, summary, who."""

    id: uuid.UUID
    start: datetime
    all_day: bool
    kind: str
    status: InteractionStatus
    summary: str | None
    names: list[str]
    confidential: bool = False


def agenda_lines(unit: Unit, items: list[Interaction]) -> list[AgendaLine]:
    """``items`` with the names of who takes part (three queries in all); a confidential
    one the actor may not read shows its kind marked confidential where the summary
    would be (:func:`crm_core.authz.shown`)."""
    names = agenda.names_of(unit, [i.id for i in items])
    seen = interaction_service.shown_all(unit, items)
    return [
        AgendaLine(
            i.id,
            i.start_at,
            i.all_day,
            i.kind,
            i.status,
            seen[i.id].headline,
            names[i.id],
            i.confidential,
        )
        for i in items
    ]


@dataclass
class FollowUpLine:
    """One follow-up on a list, with the names of who raised and who owns it."""

    id: uuid.UUID
    title: str
    status: str
    due_on: date | None
    person_id: uuid.UUID | None
    person: str
    owner: str
    response: str | None
    version: int
    interaction_id: uuid.UUID | None


def follow_up_lines(unit: Unit, rows: list[FollowUp]) -> list[FollowUpLine]:
    """``rows`` with names (one lookup per distinct person and owner)."""
    people: dict[uuid.UUID, str] = {}
    owners: dict[uuid.UUID, str] = {}
    out = []
    for r in rows:
        if r.person_id and r.person_id not in people:
            people[r.person_id] = contacts.get_person(unit, r.person_id).name
        if r.owner_id and r.owner_id not in owners:
            owners[r.owner_id] = accounts.get_account(unit, r.owner_id).display_name
        out.append(
            FollowUpLine(
                r.id,
                r.title,
                r.status.value,
                r.due_on,
                r.person_id,
                people.get(r.person_id, "") if r.person_id else "",
                owners.get(r.owner_id, "") if r.owner_id else "",
                r.response,
                r.version,
                r.interaction_id,
            )
        )
    return out


@dataclass
class Dashboard:
    """Everything the dashboard shows."""

    today: date
    empty: bool
    today_items: list[AgendaLine] = field(default_factory=list)
    today_total: int = 0
    week_items: list[AgendaLine] = field(default_factory=list)
    week_total: int = 0
    overdue: list[overdue.OverdueItem] = field(default_factory=list)
    overdue_total: int = 0
    # Gap by its own name: in this class body "overdue" is the field above, not the module.
    gaps: list[Gap] = field(default_factory=list)
    obligations: list[Obligation] = field(default_factory=list)
    obligations_failed: list[str] = field(default_factory=list)
    follow_ups: list[FollowUpLine] = field(default_factory=list)
    follow_ups_total: int = 0
    month_counts: dict[str, int] = field(default_factory=dict)
    cards: list[extensions.Rendered] = field(default_factory=list)
    overdue_loaded: bool = False


@dataclass
class Overdue:
    """The overdue part of the dashboard (read after the rest: it is the slowest)."""

    items: list[overdue.OverdueItem]
    total: int
    gaps: list[overdue.Gap]
    obligations: list[Obligation] = field(default_factory=list)
    obligations_failed: list[str] = field(default_factory=list)  # plugins whose hook raised


def load_overdue(unit: Unit) -> Overdue:
    """Who is overdue for the acting account (the whole office's if it keeps no one),
    and the plugins' obligations (``collect_obligations``)."""
    actor = unit.actor
    keeper = actor.id if actor is not None and actor.chair_meeting else None
    report = overdue.overdue(unit, keeper_id=keeper, today=clock.today(unit.config.tz))
    duties = report.obligations
    return Overdue(
        report.items[:DASHBOARD_LINES],
        len(report.items),
        report.gaps[:DASHBOARD_LINES],
        duties.rows,
        duties.failed,
    )


def load_dashboard(unit: Unit, *, with_overdue: bool = False) -> Dashboard:
    """The dashboard: today's and the coming week's agenda, follow-ups due, this month's
    work and the plugins' cards; who is overdue too if ``with_overdue`` (otherwise the
    screen reads it afterwards with :func:`load_overdue`)."""
    tz = unit.config.tz
    today = clock.today(tz)
    if not contacts.has_people(unit):
        return Dashboard(today, empty=True)
    data = Dashboard(today, empty=False)
    start = day_start(today, tz)
    tomorrow = day_start(today + timedelta(days=1), tz)
    page = agenda.between(unit, start, tomorrow, limit=DASHBOARD_LINES)
    data.today_items, data.today_total = agenda_lines(unit, page.items), page.total
    page = agenda.between(
        unit,
        tomorrow,
        day_start(today + timedelta(days=8), tz),
        statuses=[InteractionStatus.planned],
        limit=DASHBOARD_LINES,
    )
    data.week_items, data.week_total = agenda_lines(unit, page.items), page.total
    if with_overdue:
        late = load_overdue(unit)
        data.overdue, data.overdue_total, data.gaps = late.items, late.total, late.gaps
        data.obligations, data.obligations_failed = late.obligations, late.obligations_failed
        data.overdue_loaded = True
    soon = today + timedelta(days=8)
    due = followups.list_follow_ups(unit, limit=DASHBOARD_LINES, open_only=True, due_before=soon)
    data.follow_ups = follow_up_lines(unit, due)
    data.follow_ups_total = followups.count_follow_ups(unit, open_only=True, due_before=soon)
    first, nxt = month_bounds(today)
    data.month_counts = agenda.counts_by_kind(unit, day_start(first, tz), day_start(nxt, tz))
    data.cards = extensions.render_cards(unit.app, unit)
    return data


@dataclass
class AssignmentLine:
    """Who keeps a person, how often, and when they last met."""

    keeper: str
    category: str | None
    ideal_days: int
    max_days: int
    last_contact: datetime | None
    start_on: date


@dataclass
class PersonPage:
    """Everything a person's page shows."""

    person: Any
    profile: dict[str, Any]
    categories: list[str]
    committees: list[str]
    assignments: list[AssignmentLine]
    upcoming: list[AgendaLine]
    timeline: list[AgendaLine]
    readable: dict[uuid.UUID, bool]
    notes: dict[uuid.UUID, str | None]
    follow_ups: list[FollowUpLine]
    panels: list[extensions.Rendered]


def load_person(unit: Unit, person_id: uuid.UUID | str, *, limit: int = 100) -> PersonPage:
    """A person's profile, assignments, timeline (every kind), open follow-ups and the
    plugins' panels. Notes of confidential work the actor may not read are left out."""
    person = contacts.get_person(unit, person_id)
    profile = contacts.person_json(unit, person)
    rows = []
    active = assignments.list_assignments(unit, contact_id=person.id)
    last = assignments.last_contacts(unit) if active else {}
    for a in active:
        cad = assignments.cadence(unit, a, person)
        rows.append(
            AssignmentLine(
                accounts.get_account(unit, a.keeper_id).display_name,
                a.category,
                cad.ideal_days,
                cad.max_days,
                last.get(a.id),
                a.start_on,
            )
        )
    items = interaction_service.timeline(unit, person.id, limit=limit)
    lines = agenda_lines(unit, items)
    now = clock.now()
    upcoming = sorted(
        (x for x in lines if x.status is InteractionStatus.planned and x.start >= now),
        key=lambda x: x.start,
    )
    past = [x for x in lines if x not in upcoming]
    seen = interaction_service.shown_all(unit, items)
    readable = {i.id: not seen[i.id].hidden for i in items}
    notes = {i.id: seen[i.id].notes for i in items}
    fus = follow_up_lines(
        unit, followups.list_follow_ups(unit, person_id=person.id, open_only=True)
    )
    return PersonPage(
        person,
        profile,
        profile["categories"],
        profile["committees"],
        rows,
        upcoming,
        past,
        readable,
        notes,
        fus,
        extensions.render_panels(unit.app, unit, person),
    )
