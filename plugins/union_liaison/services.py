"""The public services of union_liaison: briefing coverage, the yearly gathering on a
lunar date, and invitations, RSVPs and attendance.

Like the core services, each takes a :class:`crm_core.unit.Unit` first and never
commits; errors are :mod:`crm_core.errors` exceptions naming the field and value. Lists
show only what the acting account may see (county staff: the people of their region and
the briefings and gatherings of their region or with its people, :mod:`crm_core.authz`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import col

from crm_core import authz, lunar
from crm_core.calendar.series import may_write_series
from crm_core.errors import Ambiguous, NotFound, ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Organisation,
    Person,
    PersonCategory,
    PersonStatus,
    Rsvp,
    Series,
)
from crm_core.services import contacts, interactions, organisations
from crm_core.services.interactions import Participant, Participation
from crm_core.unit import Unit

from .kinds import BRIEFING, GATHERING, document_key

__all__ = [
    "DEFAULT_BRIEFED_CATEGORY",
    "MID_AUTUMN",
    "AttendanceSummary",
    "BriefedDocument",
    "attendance",
    "attendance_summary",
    "briefed_on",
    "documents",
    "ensure_gathering",
    "events_between",
    "find_gathering",
    "gathering_date",
    "gathering_series",
    "invite",
    "members_of",
    "mid_autumn_date",
    "not_briefed",
    "organisation_of",
    "people_at",
    "reached",
    "rsvp",
]

MID_AUTUMN = "mid_autumn_gathering"  # the code of the 中秋联谊会 series in config
DEFAULT_BRIEFED_CATEGORY = "hk_macao_member"  # 港澳委员
# Occurrences of a yearly lunar date are at least 353 days apart: a gathering of a
# series within this many days of a year's date is that year's gathering, even if it was
# moved by a few days.
_SAME_YEAR_WINDOW = timedelta(days=90)


# -- organisations ---------------------------------------------------------------------


def organisation_of(unit: Unit, ref: str | uuid.UUID) -> Organisation:
    """The organisation ``ref`` (an id or a name) names, or a ValidationError naming
    ``data.organisation`` (the field of a liaison that holds it)."""
    try:
        return organisations.resolve_organisation(unit, ref)
    except NotFound:
        raise ValidationError.one(
            "data.organisation",
            str(ref),
            N_("no such organisation: give its id or its name (e.g. 民盟扬州市委员会)"),
        ) from None
    except Ambiguous as exc:
        raise ValidationError.one(
            "data.organisation",
            str(ref),
            N_("names more than one organisation: {candidates}"),
            candidates="; ".join(exc.candidates),
        ) from None


# -- briefings -------------------------------------------------------------------------


@dataclass(frozen=True)
class BriefedDocument:
    """A document people were briefed on: its title (as the latest briefing wrote it),
    number, how many done briefings covered it, how many people they reached, and the
    local date of the latest one."""

    document: str
    document_no: str | None
    count: int
    people: int
    last: date

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "document": self.document,
            "document_no": self.document_no,
            "briefings": self.count,
            "people": self.people,
            "last": self.last.isoformat(),
        }


def _key(document: str) -> str:
    key = document_key(document or "")
    if not key:
        raise ValidationError.one("document", document, N_("name the document (its title)"))
    return key


def _done_briefings(unit: Unit) -> list[Interaction]:
    """Done briefings the unit may see and whose fields it may read: every question
    asked of them goes by the document briefed on (a field), which of a confidential
    briefing is for its participants, the recorder and administrators only
    (:func:`crm_core.authz.shown`)."""
    items = list(
        unit.session.scalars(
            select(Interaction)
            .where(
                col(Interaction.kind) == BRIEFING,
                col(Interaction.status) == InteractionStatus.done,
                *authz.interaction_scope(unit),
            )
            .order_by(col(Interaction.start_at), col(Interaction.id))
        )
    )
    readable = authz.readable_ids(unit, items)
    return [i for i in items if i.id in readable]


def _reached_clause() -> Any:
    """SQL form of :func:`reached`."""
    p = InteractionParticipant
    return or_(
        col(p.attended).is_(True),
        and_(
            col(p.attended).is_(None),
            or_(col(p.rsvp).is_(None), col(p.rsvp) != Rsvp.declined),
        ),
    )


def reached(participant: InteractionParticipant) -> bool:
    """Whether a briefing reached this participant: recorded as present, or not
    recorded either way and not having declined."""
    if participant.attended is not None:
        return participant.attended
    return participant.rsvp != Rsvp.declined


def _briefed_rows(unit: Unit, briefing_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(briefing, person) for everyone a done briefing reached: its people, except those
    recorded as absent, or who declined and were not recorded as present."""
    if not briefing_ids:
        return []
    p = InteractionParticipant
    rows = unit.session.execute(
        select(col(p.interaction_id), col(p.person_id))
        .join(Person, col(Person.id) == col(p.person_id))
        .where(
            col(p.interaction_id).in_(briefing_ids),
            _reached_clause(),
            col(Person.status) != PersonStatus.merged,
            *authz.person_scope(unit),
        )
    )
    return [(iid, pid) for iid, pid in rows if pid is not None]


def events_between(
    unit: Unit, kind: str, start: datetime, end: datetime, *, done_only: bool = False
) -> list[Interaction]:
    """The briefings or gatherings (``kind``) starting from ``start`` to before ``end``
    that the unit may see, in order of start; with ``done_only`` only those held."""
    if kind not in (BRIEFING, GATHERING):
        raise ValidationError.one(
            "kind", kind, N_("a {briefing} or {gathering}"), briefing=BRIEFING, gathering=GATHERING
        )
    stmt = select(Interaction).where(
        col(Interaction.kind) == kind,
        col(Interaction.start_at) >= start,
        col(Interaction.start_at) < end,
        *authz.interaction_scope(unit),
    )
    if done_only:
        stmt = stmt.where(col(Interaction.status) == InteractionStatus.done)
    return list(unit.session.scalars(stmt.order_by(col(Interaction.start_at), col(Interaction.id))))


def people_at(
    unit: Unit, interaction_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[InteractionParticipant, Person]]]:
    """The people on each interaction (invited, briefed, present or not) with their
    participation row, in pinyin order; merged records and people the unit may not see
    are left out. One query for all of them."""
    ids = list(interaction_ids)
    out: dict[uuid.UUID, list[tuple[InteractionParticipant, Person]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = unit.session.execute(
        select(InteractionParticipant, Person)
        .join(Person, col(Person.id) == col(InteractionParticipant.person_id))
        .where(
            col(InteractionParticipant.interaction_id).in_(ids),
            col(Person.status) != PersonStatus.merged,
            *authz.person_scope(unit),
        )
        .order_by(col(Person.name_pinyin), col(Person.id))
    )
    for part, person in rows:
        out[part.interaction_id].append((part, person))
    return out


def _briefed_ids(unit: Unit, document: str) -> set[uuid.UUID]:
    key = _key(document)
    ids = [
        i.id for i in _done_briefings(unit) if document_key(str(i.data.get("document", ""))) == key
    ]
    return {pid for _iid, pid in _briefed_rows(unit, ids)}


def _people(unit: Unit, ids: Iterable[uuid.UUID]) -> list[Person]:
    wanted = list(ids)
    if not wanted:
        return []
    return list(
        unit.session.scalars(
            select(Person)
            .where(col(Person.id).in_(wanted))
            .order_by(col(Person.name_pinyin), col(Person.id))
        )
    )


def briefed_on(unit: Unit, document: str) -> list[Person]:
    """Everyone briefed on ``document`` by a done briefing, in pinyin order.

    Titles are compared after normalising full-width forms and spaces and dropping the
    book-title marks 《》 (:func:`~crm_plugins.union_liaison.kinds.document_key`);
    planned and cancelled briefings do not count, nor does a person recorded as absent
    (or who declined and was not recorded as present). Merged records are left out:
    their briefings moved to the record they were merged into."""
    return _people(unit, _briefed_ids(unit, document))


def not_briefed(
    unit: Unit, document: str, *, category: str = DEFAULT_BRIEFED_CATEGORY
) -> list[Person]:
    """The active people of ``category`` (a code or label; by default the Hong Kong and
    Macao members, 港澳委员) not yet briefed on ``document`` (see :func:`briefed_on`),
    in pinyin order. Inactive, deceased and merged records are left out."""
    term = unit.app.categories.resolve(category or "")
    if term is None:
        shown = "、".join(t.zh for t in list(unit.app.categories)[:12])
        raise ValidationError.one(
            "category", category, N_("not one of the categories: {shown}…"), shown=shown
        )
    briefed = _briefed_ids(unit, document)
    return [p for p in members_of(unit, term.code) if p.id not in briefed]


def members_of(unit: Unit, category: str) -> list[Person]:
    """The active people of the category code ``category`` the unit may see, in pinyin
    order."""
    stmt = (
        select(Person)
        .join(PersonCategory, col(PersonCategory.person_id) == col(Person.id))
        .where(
            col(PersonCategory.category) == category,
            col(Person.status) == PersonStatus.active,
            *authz.person_scope(unit),
        )
        .order_by(col(Person.name_pinyin), col(Person.id))
    )
    return list(unit.session.scalars(stmt))


def documents(unit: Unit) -> list[BriefedDocument]:
    """Every document people were briefed on by a done briefing, the most recently
    briefed first (titles grouped as :func:`briefed_on` compares them)."""
    groups: dict[str, list[Interaction]] = {}
    for i in _done_briefings(unit):
        title = str(i.data.get("document", ""))
        if document_key(title):
            groups.setdefault(document_key(title), []).append(i)
    ids = [i.id for group in groups.values() for i in group]
    people: dict[uuid.UUID, set[uuid.UUID]] = {}
    for iid, pid in _briefed_rows(unit, ids):
        people.setdefault(iid, set()).add(pid)
    tz = unit.config.tz
    out = []
    for group in groups.values():
        latest = group[-1]  # ordered by start
        numbers = [i.data.get("document_no") for i in group if i.data.get("document_no")]
        reached: set[uuid.UUID] = set().union(*(people.get(i.id, set()) for i in group))
        out.append(
            BriefedDocument(
                document=str(latest.data["document"]),
                document_no=str(numbers[-1]) if numbers else None,
                count=len(group),
                people=len(reached),
                last=latest.start_at.astimezone(tz).date(),
            )
        )
    return sorted(out, key=lambda d: (-d.last.toordinal(), d.document))


# -- the yearly gathering on a lunar date ----------------------------------------------


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
    return lunar.lunar_to_solar(year, month, day, leap=leap)


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
    row = unit.session.scalars(select(Series).where(Series.code == series_code)).one_or_none()
    if not may_write_series(unit):
        # On PostgreSQL only administrators write the series (migration 0005): use the
        # row as an administrator's program last synced it.
        if row is None:
            raise ValidationError.one(
                "series",
                series_code,
                N_(
                    "this series is not in the calendar yet: an administrator adds it "
                    "(any administrator's tongxin command, or tongxin serve / remind)"
                ),
            )
        return row
    if row is None:
        row = Series(code=series_code, source="config", kind=entry.get("kind", "event"), **wanted)
        unit.session.add(row)
        unit.session.flush()
    elif row.source == "config":
        for name, value in wanted.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        unit.session.flush()
    return row


def find_gathering(unit: Unit, year: int, *, series_code: str = MID_AUTUMN) -> Interaction | None:
    """``year``'s gathering of the series, planned, done or cancelled, if there is one:
    the gathering linked to the series within 90 days of the year's date (so one moved by
    a few days still counts), preferring one not cancelled."""
    series = unit.session.scalars(select(Series).where(Series.code == series_code)).one_or_none()
    if series is None:
        return None
    day = gathering_date(unit, year, series_code=series_code)
    noon = datetime.combine(day, time(12), unit.config.tz)
    rows = list(
        unit.session.scalars(
            select(Interaction).where(
                Interaction.series_id == series.id,
                Interaction.kind == GATHERING,
                col(Interaction.start_at) >= noon - _SAME_YEAR_WINDOW,
                col(Interaction.start_at) <= noon + _SAME_YEAR_WINDOW,
            )
        )
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
    people = [contacts.get_person(unit, p).id for p in invitees]
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
    return interactions.schedule_interaction(
        unit,
        kind=GATHERING,
        start=start,
        end=end,
        all_day=clock_time is None,
        participants=[Participant(person_id=p, rsvp=Rsvp.invited) for p in people],
        accounts=accounts,  # type: ignore[arg-type]
        location=location or series.location,
        summary=f"{year}年{series.title}",
        data={"event": series.title},
        series_id=series.id,
    )


# -- invitations, RSVPs and attendance -------------------------------------------------


def _event(unit: Unit, interaction_id: uuid.UUID | str) -> Interaction:
    i = interactions.get_interaction(unit, interaction_id)
    if i.kind not in (GATHERING, BRIEFING):
        raise ValidationError.one(
            "interaction_id", str(i.id), N_("a {kind}, not a gathering or briefing"), kind=i.kind
        )
    return i


def invite(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    people: Iterable[uuid.UUID | str],
    *,
    role: str | None = None,
) -> list[InteractionParticipant]:
    """Invite people to a gathering or briefing (RSVP "invited"); those already on the
    list are left as they are. ``role`` defaults to the kind's (invitee, briefed). The
    gathering's ``sequence`` goes up when anyone is added. Returns the rows added."""
    i = _event(unit, interaction_id)
    ids = [contacts.get_person(unit, p).id for p in people]
    return interactions.add_participants(
        unit,
        i.id,
        people=ids,  # type: ignore[arg-type]
        role=role,
        rsvp=Rsvp.invited,
    )


def rsvp(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    person_id: uuid.UUID | str,
    answer: Rsvp | str,
) -> InteractionParticipant:
    """Record an invitee's answer: "accepted", "declined" (or back to "invited"). It may
    change until the event is cancelled; the person must have been invited."""
    i = _event(unit, interaction_id)
    return interactions.set_participation(unit, i.id, person_id=person_id, rsvp=answer)


def attendance(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    present: Iterable[uuid.UUID | str] = (),
    absent: Iterable[uuid.UUID | str] = (),
) -> list[InteractionParticipant]:
    """Record who came and who did not, once the event has begun (it is done or its
    start has passed). Everyone named must be on the list; nobody may be both present
    and absent. Returns the rows changed."""
    i = _event(unit, interaction_id)
    came = [str(p) for p in present]
    missed = [str(p) for p in absent]
    both = sorted(set(came) & set(missed))
    if both:
        raise ValidationError.one("absent", both, N_("named as present and as absent"))
    rows = [interactions.set_participation(unit, i.id, person_id=p, attended=True) for p in came]
    rows += [
        interactions.set_participation(unit, i.id, person_id=p, attended=False) for p in missed
    ]
    return rows


@dataclass(frozen=True)
class AttendanceSummary:
    """Invitations, answers and attendance of a gathering or briefing (people only; the
    office's hosts are not counted). ``awaiting`` have not answered yet; ``unrecorded``
    have no attendance recorded."""

    interaction_id: uuid.UUID
    status: InteractionStatus
    invited: int
    accepted: int
    declined: int
    awaiting: int
    attended: int
    absent: int
    unrecorded: int
    people: list[Participation]

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "interaction_id": str(self.interaction_id),
            "status": self.status.value,
            "invited": self.invited,
            "accepted": self.accepted,
            "declined": self.declined,
            "awaiting": self.awaiting,
            "attended": self.attended,
            "absent": self.absent,
            "unrecorded": self.unrecorded,
            "people": [p.as_json() for p in self.people],
        }


def attendance_summary(unit: Unit, interaction_id: uuid.UUID | str) -> AttendanceSummary:
    """How many were invited, accepted, declined, have not answered, came and did not
    come, with everyone's row (people in pinyin order)."""
    i = _event(unit, interaction_id)
    people = [p for p in interactions.participation(unit, i.id) if p.person_id is not None]
    return AttendanceSummary(
        interaction_id=i.id,
        status=i.status,
        invited=len(people),
        accepted=sum(p.rsvp == Rsvp.accepted for p in people),
        declined=sum(p.rsvp == Rsvp.declined for p in people),
        awaiting=sum(p.rsvp is None or p.rsvp == Rsvp.invited for p in people),
        attended=sum(p.attended is True for p in people),
        absent=sum(p.attended is False for p in people),
        unrecorded=sum(p.attended is None for p in people),
        people=people,
    )
