"""Scoped reads for plugins: every query here applies county scope and confidentiality
itself, so a plugin that reads through it cannot forget them.

County staff see the people of their region and the interactions of their region, with
a person of their region, or in which they take part (:mod:`crm_core.authz`); the
summary, notes and fields of a confidential interaction only its participants, whoever
recorded it and administrators read (:func:`crm_core.authz.shown`). The rules live in
:mod:`crm_core.authz`; this module only adds them to each query.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz
from crm_core.models import (
    Account,
    FollowUp,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Membership,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
    Series,
)
from crm_core.services import followups
from crm_core.unit import Unit

_CHUNK = 500  # ids per IN (...): well under every backend's bound-parameter limit


def _chunks(ids: Iterable[uuid.UUID]) -> list[list[uuid.UUID]]:
    wanted = list(dict.fromkeys(ids))
    return [wanted[i : i + _CHUNK] for i in range(0, len(wanted), _CHUNK)]


def _pinyin(people: Iterable[Person]) -> list[Person]:
    return sorted(people, key=lambda p: (p.name_pinyin, str(p.id)))


def people(
    unit: Unit,
    *,
    ids: Iterable[uuid.UUID] | None = None,
    category: str | None = None,
    committees: Collection[str] | None = None,
    memberships: Collection[Membership | str] | None = None,
    active_only: bool = True,
) -> list[Person]:
    """The people the unit may see, in pinyin order: those with ``ids`` (when given), of
    the category code ``category``, on one of the special ``committees``, with one of
    the ``memberships``. With ``active_only`` (the default) only active records; else
    every record but merged ones (their work moved to the record they were merged
    into)."""
    status = (
        [col(Person.status) == PersonStatus.active]
        if active_only
        else [col(Person.status) != PersonStatus.merged]
    )
    stmt = select(Person).where(*status, *authz.person_scope(unit))
    if category is not None:
        stmt = stmt.where(
            col(Person.id).in_(
                select(col(PersonCategory.person_id)).where(
                    col(PersonCategory.category) == category
                )
            )
        )
    if committees is not None:
        stmt = stmt.where(
            col(Person.id).in_(
                select(col(PersonCommittee.person_id)).where(
                    col(PersonCommittee.committee).in_(list(committees))
                )
            )
        )
    if memberships is not None:
        stmt = stmt.where(col(Person.membership).in_(list(memberships)))
    if ids is None:
        return _pinyin(unit.session.scalars(stmt))
    out: list[Person] = []
    for chunk in _chunks(ids):
        out += unit.session.scalars(stmt.where(col(Person.id).in_(chunk)))
    return _pinyin(out)


def find_person(unit: Unit, person_id: uuid.UUID | None) -> Person | None:
    """The person with this id if the unit may see them, else None (no error: a hook
    asks of a participant who may be outside a county's region)."""
    if person_id is None:
        return None
    person = unit.session.get(Person, person_id)
    return person if person is not None and authz.can_see_person(unit, person) else None


def find_account(unit: Unit, account_id: uuid.UUID | None) -> Account | None:
    """The account with this id, or None (accounts are the office's staff: every
    account may see who they are)."""
    return None if account_id is None else unit.session.get(Account, account_id)


def _codes(
    unit: Unit,
    model: type[PersonCategory] | type[PersonCommittee],
    column: str,
    ids: Iterable[uuid.UUID],
) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {}
    code = getattr(model, column)
    for chunk in _chunks(ids):
        rows = unit.session.execute(
            select(col(model.person_id), col(code))
            .join(Person, col(Person.id) == col(model.person_id))
            .where(col(model.person_id).in_(chunk), *authz.person_scope(unit))
            .order_by(col(code))
        )
        for pid, value in rows:
            out.setdefault(pid, []).append(value)
    return out


def categories_of(unit: Unit, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The category codes of each of these people the unit may see, by person id (a
    person of none is missing)."""
    return _codes(unit, PersonCategory, "category", person_ids)


def committees_of(unit: Unit, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The special-committee codes of each of these people the unit may see, by person
    id (a person on none is missing)."""
    return _codes(unit, PersonCommittee, "committee", person_ids)


def interactions(
    unit: Unit,
    kinds: str | Collection[str],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    done_only: bool = False,
    series_id: uuid.UUID | None = None,
    readable_only: bool = False,
) -> list[Interaction]:
    """The interactions of one kind (or of any of ``kinds``) the unit may see, in order
    of start: starting from ``start`` to before ``end`` (aware datetimes; either may be
    left open), only those held (``done_only``), only those of one series.

    Each is what the unit may *see*; its summary, notes and ``data`` of a confidential
    one are for its participants, the recorder and administrators only: read them
    through :func:`shown` / :func:`shown_all`, or ask ``readable_only`` to get only the
    interactions whose fields the unit may read."""
    codes = [kinds] if isinstance(kinds, str) else list(kinds)
    stmt = select(Interaction).where(
        col(Interaction.kind).in_(codes), *authz.interaction_scope(unit)
    )
    if start is not None:
        stmt = stmt.where(col(Interaction.start_at) >= start)
    if end is not None:
        stmt = stmt.where(col(Interaction.start_at) < end)
    if done_only:
        stmt = stmt.where(col(Interaction.status) == InteractionStatus.done)
    if series_id is not None:
        stmt = stmt.where(col(Interaction.series_id) == series_id)
    items = list(
        unit.session.scalars(stmt.order_by(col(Interaction.start_at), col(Interaction.id)))
    )
    if not readable_only:
        return items
    readable = authz.readable_ids(unit, items)
    return [i for i in items if i.id in readable]


@dataclass(frozen=True)
class Attendee:
    """One participant of an interaction: its participation row (``row``: role, rsvp,
    attended) and the person or the account taking part (the other is None)."""

    row: InteractionParticipant
    person: Person | None
    account: Account | None


def participants(
    unit: Unit, interaction_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Attendee]]:
    """Who takes part in each of these interactions, by interaction id: first the
    people in pinyin order, then the office's accounts by name. Only interactions the
    unit may see answer (others get an empty list); people outside the unit's region
    and merged records are left out."""
    out: dict[uuid.UUID, list[Attendee]] = {i: [] for i in interaction_ids}
    for chunk in _chunks(out):
        seen = select(col(Interaction.id)).where(
            col(Interaction.id).in_(chunk), *authz.interaction_scope(unit)
        )
        p = InteractionParticipant
        for part, person in unit.session.execute(
            select(p, Person)
            .join(Person, col(Person.id) == col(p.person_id))
            .where(
                col(p.interaction_id).in_(seen),
                col(Person.status) != PersonStatus.merged,
                *authz.person_scope(unit),
            )
            .order_by(col(Person.name_pinyin), col(Person.id))
        ):
            out[part.interaction_id].append(Attendee(part, person, None))
        for part, account in unit.session.execute(
            select(p, Account)
            .join(Account, col(Account.id) == col(p.account_id))
            .where(col(p.interaction_id).in_(seen))
            .order_by(col(Account.display_name), col(Account.id))
        ):
            out[part.interaction_id].append(Attendee(part, None, account))
    return out


def follow_ups(
    unit: Unit,
    *,
    interaction_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    open_only: bool = False,
) -> list[FollowUp]:
    """The follow-ups the unit may see (county staff: their region's), of one
    interaction or of one person when given, soonest due first (undated last)."""
    return followups.list_follow_ups(
        unit, interaction_id=interaction_id, person_id=person_id, open_only=open_only
    )


def series_by_code(unit: Unit, code: str) -> Series | None:
    """The calendar series with this code, or None (series are the office's calendar:
    not personal data, every account may see them)."""
    return unit.session.scalars(select(Series).where(col(Series.code) == code)).one_or_none()


def config_series_row(unit: Unit, code: str, *, kind: str, **wanted: object) -> Series | None:
    """The ``Series`` row of the config series ``code``: made (``source="config"``, of
    ``kind``, with the ``wanted`` fields) or brought up to date when the unit may write
    series; when it may not (on PostgreSQL only administrators write them), the row as
    an administrator's program last synced it, or None while there is none."""
    from crm_core.calendar.series import may_write_series

    row = series_by_code(unit, code)
    if not may_write_series(unit):
        return row
    if row is None:
        row = Series(code=code, source="config", kind=kind, **wanted)  # type: ignore[arg-type]
        unit.session.add(row)
        unit.session.flush()
    elif row.source == "config":
        for name, value in wanted.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        unit.session.flush()
    return row
