"""Briefing coverage of union_liaison: who was briefed on which document, who was not,
and the events and people a briefing report counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from crm_core import api
from crm_core.api import (
    N_,
    Interaction,
    InteractionParticipant,
    Person,
    Rsvp,
    Unit,
    ValidationError,
)

from .kinds import BRIEFING, GATHERING, document_key

DEFAULT_BRIEFED_CATEGORY = "hk_macao_member"  # 港澳委员


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
    (:func:`crm_core.api.shown`)."""
    return api.interactions(unit, BRIEFING, done_only=True, readable_only=True)


def reached(participant: InteractionParticipant) -> bool:
    """Whether a briefing reached this participant: recorded as present, or not
    recorded either way and not having declined."""
    if participant.attended is not None:
        return participant.attended
    return participant.rsvp != Rsvp.declined


def _briefed_rows(unit: Unit, briefing_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(briefing, person) for everyone a done briefing reached: its people, except those
    recorded as absent, or who declined and were not recorded as present."""
    return [
        (iid, a.person.id)
        for iid, attendees in api.participants(unit, briefing_ids).items()
        for a in attendees
        if a.person is not None and reached(a.row)
    ]


def events_between(
    unit: Unit, kind: str, start: datetime, end: datetime, *, done_only: bool = False
) -> list[Interaction]:
    """The briefings or gatherings (``kind``) starting from ``start`` to before ``end``
    that the unit may see, in order of start; with ``done_only`` only those held."""
    if kind not in (BRIEFING, GATHERING):
        raise ValidationError.one(
            "kind", kind, N_("a {briefing} or {gathering}"), briefing=BRIEFING, gathering=GATHERING
        )
    return api.interactions(unit, kind, start=start, end=end, done_only=done_only)


def people_at(
    unit: Unit, interaction_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[InteractionParticipant, Person]]]:
    """The people on each interaction (invited, briefed, present or not) with their
    participation row, in pinyin order; merged records and people the unit may not see
    are left out. One query for all of them."""
    return {
        iid: [(a.row, a.person) for a in attendees if a.person is not None]
        for iid, attendees in api.participants(unit, interaction_ids).items()
    }


def _briefed_ids(unit: Unit, document: str) -> set[uuid.UUID]:
    key = _key(document)
    ids = [
        i.id for i in _done_briefings(unit) if document_key(str(i.data.get("document", ""))) == key
    ]
    return {pid for _iid, pid in _briefed_rows(unit, ids)}


def _people(unit: Unit, ids: Iterable[uuid.UUID]) -> list[Person]:
    return api.people(unit, ids=ids, active_only=False)  # merged records left out


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
    return api.people(unit, category=category)


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
