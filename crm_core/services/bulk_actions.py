"""Bulk actions on a set of people (issue 18, item 3): a search result or a group.

Each action is one transaction (the caller's unit): every person is changed, or, when
one of them is refused, none is, and the error names that person and the field. Each
person changed gets one audit entry (the flush listener's: ``update`` of the person for
a field, ``create``/``delete`` of the ``person_category`` row for a category,
``create`` of the assignment for a keeper, ``create`` of the participant row for a
scheduled interaction). With ``dry_run`` the same work runs inside a savepoint that is
rolled back, so the changes shown are exactly those a real run would make (and the
same errors are raised); nothing is written.

The people are found with the reader's rights (:func:`target_people`): a county clerk's
bulk action never reaches anyone outside their region.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz
from crm_core.errors import FieldError, PermissionDenied, TongxinError, ValidationError
from crm_core.i18n import N_
from crm_core.models import Account, Assignment, Person, PersonCategory
from crm_core.services import assignments, contacts, groups
from crm_core.services._common import code_of
from crm_core.services.contacts_bulk import people_by_ids
from crm_core.services.contacts_search import search_people
from crm_core.unit import Unit, jsonable

# The fields one value may be set for everyone (name, phones, birth are one's own).
SETTABLE = ("party", "sector", "region", "membership", "status", "employer", "title", "ethnicity")
ACTIONS = ("add-category", "remove-category", "set-field", "assign", "schedule")


@dataclass
class Change:
    """What an action changes (or would) for one person."""

    person_id: uuid.UUID
    name: str
    field: str
    before: Any
    after: Any

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (docs/cli-json.md)."""
        return {
            "person_id": str(self.person_id),
            "name": self.name,
            "field": self.field,
            "before": jsonable(self.before),
            "after": jsonable(self.after),
        }


@dataclass
class BulkResult:
    """The outcome of one bulk action: the people it covered, what changed for whom,
    and how many were left as they were (already so)."""

    action: str
    dry_run: bool
    people: int
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    created_id: uuid.UUID | None = None  # the interaction a schedule made

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (docs/cli-json.md)."""
        return {
            "action": self.action,
            "dry_run": self.dry_run,
            "people": self.people,
            "changed": len(self.changes),
            "unchanged": self.unchanged,
            "changes": [c.as_json() for c in self.changes],
            "created_id": str(self.created_id) if self.created_id else None,
        }


def target_people(
    unit: Unit,
    *,
    group: str | None = None,
    query: str | None = None,
    filters: dict[str, str] | None = None,
    people: Sequence[uuid.UUID] | None = None,
) -> list[uuid.UUID]:
    """The ids a bulk action works on, as the reader sees them: a group's members
    (:func:`crm_core.services.groups.people_of`), narrowed by a search (``query`` and
    ``filters`` as codes, as ``contacts search`` takes them) and by ``people``; no
    group, no query, no filter and no people is a ValidationError (never "everyone"
    by accident)."""
    if group is None and not query and not filters and people is None:
        raise ValidationError.one(
            "people", "", N_("say who: a group (--group), a search query or a filter")
        )
    within = groups.people_of(unit, group) if group is not None else None
    if people is not None:
        within = list(people) if within is None else [p for p in within if p in set(people)]
    with authz.narrowed_to(unit, within):
        page = search_people(
            unit, query or "", limit=groups.ALL, offset=0, also=(), **(filters or {})
        )
    return [p.id for p in page.items]


@contextmanager
def _maybe_rolled_back(unit: Unit, dry_run: bool) -> Iterator[None]:
    if not dry_run:
        yield
        return
    nested = unit.session.begin_nested()
    try:
        yield
        unit.session.flush()  # every error a real run would meet, met here
    finally:
        nested.rollback()


def _named(person: Person, name: str, exc: TongxinError) -> TongxinError:
    """``exc`` naming the person it is about (``张三 [1a2b3c4d].field``)."""
    who = contacts.describe(person)
    if isinstance(exc, ValidationError):
        return ValidationError(
            [FieldError(f"{who}.{e.field or name}", e.value, e.message) for e in exc.errors]
        )
    if isinstance(exc, PermissionDenied):
        return PermissionDenied(f"{who} · {name}: {exc}")
    return exc


def _each(
    unit: Unit,
    ids: Sequence[uuid.UUID],
    action: str,
    dry_run: bool,
    one: Callable[[Person, list[str]], Change | None],
) -> BulkResult:
    result = BulkResult(action, dry_run, len(ids))
    people, cats, _comms = people_by_ids(unit, list(ids))
    with _maybe_rolled_back(unit, dry_run):
        for pid in ids:
            person = people.get(pid)
            if person is None:
                continue  # not visible to the reader: never touched
            try:
                change = one(person, cats.get(pid, []))
            except TongxinError as exc:
                raise _named(person, action, exc) from None
            if change is None:
                result.unchanged += 1
            else:
                result.changes.append(change)
    return result


def add_category(
    unit: Unit, ids: Sequence[uuid.UUID], category: str, *, dry_run: bool = False
) -> BulkResult:
    """Give everyone of ``ids`` the category (code or label)."""
    code = code_of(unit.app.categories, "category", category)

    def one(person: Person, have: list[str]) -> Change | None:
        if code in have:
            return None
        unit.session.add(PersonCategory(person_id=person.id, category=str(code)))
        return Change(person.id, person.name, "categories", have, sorted([*have, str(code)]))

    return _each(unit, ids, "add-category", dry_run, one)


def remove_category(
    unit: Unit, ids: Sequence[uuid.UUID], category: str, *, dry_run: bool = False
) -> BulkResult:
    """Take the category (code or label) from everyone of ``ids`` who has it."""
    code = code_of(unit.app.categories, "category", category)

    def one(person: Person, have: list[str]) -> Change | None:
        if code not in have:
            return None
        row = unit.session.get(PersonCategory, (person.id, code))
        if row is not None:
            unit.session.delete(row)
        return Change(person.id, person.name, "categories", have, [c for c in have if c != code])

    return _each(unit, ids, "remove-category", dry_run, one)


def set_field(
    unit: Unit, ids: Sequence[uuid.UUID], name: str, value: str | None, *, dry_run: bool = False
) -> BulkResult:
    """Set one field (:data:`SETTABLE`) to the same value for everyone of ``ids``,
    checked as :func:`crm_core.services.contacts.update_person` checks it (a county
    clerk cannot move anyone out of their region)."""
    if name not in SETTABLE:
        raise ValidationError.one(
            "field", name, N_("not a field set in bulk ({fields})"), fields=", ".join(SETTABLE)
        )

    def one(person: Person, _have: list[str]) -> Change | None:
        before = getattr(person, name)
        before = before.value if hasattr(before, "value") else before
        contacts.update_person(unit, person.id, **{name: value})  # type: ignore[arg-type]
        after = getattr(person, name)
        after = after.value if hasattr(after, "value") else after
        return None if after == before else Change(person.id, person.name, name, before, after)

    return _each(unit, ids, "set-field", dry_run, one)


def assign_keeper(
    unit: Unit,
    ids: Sequence[uuid.UUID],
    keeper_id: uuid.UUID,
    *,
    every_days: int | None = None,
    dry_run: bool = False,
) -> BulkResult:
    """Make ``keeper_id`` (an account) the keeper of everyone of ``ids`` not assigned
    to them yet; ``every_days`` (90: quarterly) sets the cadence, so the overdue list
    and the reminders remind the keeper of whoever they have not met that long."""
    keeper = unit.session.get(Account, keeper_id)
    current = set(
        unit.session.scalars(
            select(col(Assignment.contact_id)).where(
                col(Assignment.keeper_id) == keeper_id, col(Assignment.end_on).is_(None)
            )
        )
    )
    label = keeper.display_name if keeper is not None else str(keeper_id)

    def one(person: Person, _have: list[str]) -> Change | None:
        if person.id in current:
            return None
        assignments.assign(
            unit,
            keeper_id=keeper_id,
            contact_id=person.id,
            ideal_days=every_days,
            max_days=every_days,
        )
        return Change(person.id, person.name, "keeper", None, label)

    return _each(unit, ids, "assign", dry_run, one)


def schedule_with_all(
    unit: Unit,
    ids: Sequence[uuid.UUID],
    *,
    kind: str,
    start: datetime,
    accounts: Sequence[uuid.UUID] = (),
    location: str | None = None,
    summary: str | None = None,
    dry_run: bool = False,
) -> BulkResult:
    """Schedule one interaction (planned) with everyone of ``ids`` taking part."""
    from crm_core.services import interactions

    result = BulkResult("schedule", dry_run, len(ids))
    people, _cats, _comms = people_by_ids(unit, list(ids))
    shown = [people[i] for i in ids if i in people]
    for p in shown:
        result.changes.append(Change(p.id, p.name, "participant", None, kind))
    with _maybe_rolled_back(unit, dry_run):
        made = interactions.schedule_interaction(
            unit,
            kind=kind,
            start=start,
            people=[p.id for p in shown],
            accounts=list(accounts),
            location=location,
            summary=summary,
        )
        if not dry_run:
            result.created_id = made.id
    return result
