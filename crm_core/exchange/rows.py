"""Rows <-> JSON: the portable form of people, interactions, follow-ups and assignments.

A row of a bundle is ``{"entity", "id", "version", "created_at", "updated_at",
"fields"}``. ``fields`` holds what travels: a person's fields as
:class:`~crm_core.services.contacts_fields.PersonFields` takes them, an interaction with
its participants, accounts named by their username (the only key two installations
share). Local-only columns (derived search keys, calendar sequence, series) stay home.
The content hash of a row is the SHA-256 of its canonical ``fields``: the same form is
built from this database's row, so "the same content" is one comparison.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core.exchange.bundle import canonical
from crm_core.models import (
    Account,
    Assignment,
    FollowUp,
    Interaction,
    InteractionParticipant,
    Person,
)
from crm_core.services.contacts_search import person_json
from crm_core.unit import Unit

ENTITIES = ("person", "interaction", "follow_up", "assignment")
MODELS: dict[str, type[Any]] = {
    "person": Person,
    "interaction": Interaction,
    "follow_up": FollowUp,
    "assignment": Assignment,
}
PERSON_FIELDS = (
    "name", "gender", "birth", "ethnicity", "party", "sector", "region", "employer", "title",
    "mobile", "phones", "email", "address", "membership", "status", "notes", "categories",
    "committees",
)  # fmt: skip
INTERACTION_FIELDS = (
    "kind", "status", "start_at", "end_at", "all_day", "location", "region", "summary",
    "notes", "data", "confidential", "cancel_reason",
)  # fmt: skip
FOLLOW_UP_FIELDS = (
    "title", "detail", "due_on", "status", "response", "answered_on", "closed_on",
)  # fmt: skip
ASSIGNMENT_FIELDS = (
    "category", "ideal_days", "max_days", "start_on", "end_on", "snoozed_until",
    "snooze_reason", "notes",
)  # fmt: skip


def content_hash(fields: dict[str, Any]) -> str:
    """The SHA-256 of a row's canonical fields, in hex."""
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


def plain(value: Any) -> Any:
    """A column's value as JSON holds it (enums by value, times and dates ISO 8601)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _usernames(unit: Unit, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = unit.session.execute(
        select(col(Account.id), col(Account.username)).where(col(Account.id).in_(wanted))
    )
    return {i: name for i, name in rows}


def _row(entity: str, obj: Any, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity": entity,
        "id": str(obj.id),
        "version": obj.version,
        "created_at": obj.created_at.isoformat(),
        "updated_at": obj.updated_at.isoformat(),
        "fields": fields,
    }


def person_fields(unit: Unit, person: Person) -> dict[str, Any]:
    """The portable fields of a person."""
    data = person_json(unit, person)
    out = {k: data[k] for k in PERSON_FIELDS}
    out["extra"] = dict(person.extra or {})
    return out


def person_rows(unit: Unit, people: Iterable[Person]) -> list[dict[str, Any]]:
    """The bundle rows of ``people``."""
    return [_row("person", p, person_fields(unit, p)) for p in people]


def participants_by(
    unit: Unit, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[InteractionParticipant]]:
    """The participants of the interactions ``ids``, by interaction."""
    out: dict[uuid.UUID, list[InteractionParticipant]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for p in unit.session.scalars(
            select(InteractionParticipant).where(
                col(InteractionParticipant.interaction_id).in_(chunk)
            )
        ):
            out[p.interaction_id].append(p)
    return out


def participant_key(p: dict[str, Any]) -> tuple[str, str, str]:
    """The order participants are listed in (so that the hash is stable)."""
    return (p["person"] or "", p["account"] or "", p["role"])


def interaction_rows(unit: Unit, items: list[Interaction]) -> list[dict[str, Any]]:
    """The bundle rows of interactions, each with its participants."""
    parts = participants_by(unit, [i.id for i in items])
    names = _usernames(
        unit,
        [i.created_by_id for i in items] + [p.account_id for ps in parts.values() for p in ps],
    )
    return [
        _row("interaction", i, interaction_fields(i, parts.get(i.id, []), names)) for i in items
    ]


def interaction_fields(
    i: Interaction, parts: list[InteractionParticipant], names: dict[uuid.UUID, str]
) -> dict[str, Any]:
    """The portable fields of an interaction (accounts by username)."""
    out = {k: plain(getattr(i, k)) for k in INTERACTION_FIELDS}
    out["data"] = dict(i.data or {})
    out["created_by"] = names.get(i.created_by_id) if i.created_by_id else None
    people = [
        {
            "person": str(p.person_id) if p.person_id else None,
            "account": names.get(p.account_id) if p.account_id else None,
            "role": p.role,
            "rsvp": plain(p.rsvp),
            "attended": p.attended,
        }
        for p in parts
    ]
    out["participants"] = sorted(
        (p for p in people if p["person"] or p["account"]), key=participant_key
    )
    return out


def follow_up_rows(unit: Unit, items: list[FollowUp]) -> list[dict[str, Any]]:
    """The bundle rows of follow-ups (the owner by username)."""
    names = _usernames(unit, [f.owner_id for f in items])
    return [_row("follow_up", f, follow_up_fields(f, names)) for f in items]


def follow_up_fields(f: FollowUp, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    """The portable fields of a follow-up."""
    out = {k: plain(getattr(f, k)) for k in FOLLOW_UP_FIELDS}
    out["interaction"] = str(f.interaction_id) if f.interaction_id else None
    out["person"] = str(f.person_id) if f.person_id else None
    out["owner"] = names.get(f.owner_id) if f.owner_id else None
    return out


def assignment_rows(unit: Unit, items: list[Assignment]) -> list[dict[str, Any]]:
    """The bundle rows of assignments (the keeper by username)."""
    names = _usernames(unit, [a.keeper_id for a in items])
    return [_row("assignment", a, assignment_fields(a, names)) for a in items]


def assignment_fields(a: Assignment, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    """The portable fields of an assignment."""
    out = {k: plain(getattr(a, k)) for k in ASSIGNMENT_FIELDS}
    out["keeper"] = names.get(a.keeper_id)
    out["contact"] = str(a.contact_id)
    return out


def local_fields(unit: Unit, entity: str, obj: Any) -> dict[str, Any]:
    """The portable fields of this database's row ``obj``."""
    if entity == "person":
        return person_fields(unit, obj)
    if entity == "interaction":
        parts = participants_by(unit, [obj.id]).get(obj.id, [])
        names = _usernames(unit, [obj.created_by_id, *(p.account_id for p in parts)])
        return interaction_fields(obj, parts, names)
    if entity == "follow_up":
        return follow_up_fields(obj, _usernames(unit, [obj.owner_id]))
    return assignment_fields(obj, _usernames(unit, [obj.keeper_id]))
