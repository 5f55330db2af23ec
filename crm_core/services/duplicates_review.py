"""Reviewing a pair before a merge: every field of both records side by side, the
differing ones marked, what the merge would keep of each, and the links of both (the
duplicate's are what moves): interactions, follow-ups, assignments, organisations (the
groups a person is a contact of) and linked accounts.

What a reviewer sees is what the unit may see: both records must be visible (county
staff: of their region), and of a confidential talk the reviewer may not read only
that it happened shows (:func:`crm_core.authz.shown_all`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import Account, Person, PersonStatus
from crm_core.services import (
    assignments,
    followups,
    interactions,
    organisations,
    relations,
    tags,
)
from crm_core.services.contacts_merge import (
    BOTH_FIELDS,
    TAKE_FIELDS,
    check_take,
    default_side,
    field_value,
)
from crm_core.services.contacts_search import categories_of, committees_of, get_person
from crm_core.unit import Unit

# How many interactions of each record the review lists (the merge moves them all).
SHOWN_INTERACTIONS = 200


@dataclass
class FieldRow:
    """One field of the pair: both values, whether they differ, the side the merge
    takes (``keep``, ``drop`` or ``both``) and the value that results."""

    name: str
    keep: Any
    drop: Any
    differs: bool
    side: str
    result: Any


@dataclass
class MergePreview:
    """A pair under review: the records, their fields, and each one's links."""

    keep: Person
    drop: Person
    fields: list[FieldRow]
    links: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)


def _result(name: str, side: str, keep: Any, drop: Any) -> Any:
    if side == "keep":
        return keep
    if side == "drop":
        return drop
    if name == "notes":
        return "\n".join(v for v in (keep, drop) if v) or None
    return list(dict.fromkeys([*(keep or []), *(drop or [])]))


def _links(unit: Unit, person: Person) -> dict[str, list[dict[str, Any]]]:
    items = interactions.timeline(unit, person.id, limit=SHOWN_INTERACTIONS)
    seen = interactions.shown_all(unit, items)
    keepers = {a.id: a for a in unit.session.scalars(select(Account))}
    return {
        "interactions": [
            {
                "id": str(i.id),
                "kind": i.kind,
                "start": i.start_at.isoformat(),
                "status": i.status.value,
                "headline": seen[i.id].headline,
                "confidential_hidden": seen[i.id].hidden,
            }
            for i in items
        ],
        "follow_ups": [
            {"id": str(f.id), "title": f.title, "status": f.status.value}
            for f in followups.list_follow_ups(unit, person_id=person.id)
        ],
        "assignments": [
            {
                "id": str(a.id),
                "keeper": keepers[a.keeper_id].display_name if a.keeper_id in keepers else None,
                "start_on": a.start_on.isoformat(),
                "end_on": a.end_on.isoformat() if a.end_on else None,
            }
            for a in assignments.list_assignments(unit, contact_id=person.id, active_on=date.min)
        ],
        "organisations": [
            {"id": str(o.id), "name": o.name, "role": role}
            for o, role in organisations.organisations_of(unit, person.id)
        ],
        "accounts": [
            {"id": str(a.id), "username": a.username}
            for a in unit.session.scalars(
                select(Account).where(col(Account.person_id) == person.id)
            )
        ],
        # Issue 18: the relationships and tags the merge keeps (crm_core.services.links_merge).
        "relations": [
            {"id": str(v.other_id), "label": v.label, "name": v.other_name}
            for v in relations.relations_of(unit, person.id)
        ],
        "tags": [{"name": t} for t in tags.person_tags(unit, person.id)],
    }


def preview_merge(
    unit: Unit,
    keep_id: uuid.UUID | str,
    drop_id: uuid.UUID | str,
    *,
    take: Mapping[str, str] | None = None,
) -> MergePreview:
    """What :func:`~crm_core.services.contacts_merge.merge_people` would do with this
    pair and these choices, written nowhere."""
    chosen = check_take(take)
    keep, drop = get_person(unit, keep_id), get_person(unit, drop_id)
    if keep.id == drop.id:
        raise ValidationError.one("drop_id", str(drop_id), N_("cannot merge a person with itself"))
    for person, name in ((drop, "drop_id"), (keep, "keep_id")):
        if person.status == PersonStatus.merged:
            raise ValidationError.one(
                name, str(person.id), N_("already merged into another record")
            )
    cats = {"keep": categories_of(unit, keep.id), "drop": categories_of(unit, drop.id)}
    comms = {"keep": committees_of(unit, keep.id), "drop": committees_of(unit, drop.id)}
    rows = []
    for name in TAKE_FIELDS:
        if name == "phones":
            mine, theirs = list(keep.phones), list(drop.phones)
        else:
            mine = field_value(keep, name, cats["keep"], comms["keep"])
            theirs = field_value(drop, name, cats["drop"], comms["drop"])
        side = chosen.get(name) or default_side(name, mine, theirs)
        rows.append(
            FieldRow(name, mine, theirs, mine != theirs, side, _result(name, side, mine, theirs))
        )
    by_name = {r.name: r for r in rows}
    phones, mobile = by_name["phones"], by_name["mobile"].result
    if phones.side == "both":  # as the merge does: the mobile not kept stays a phone
        pool = [*keep.phones, keep.mobile, drop.mobile, *drop.phones]
        phones.result = list(dict.fromkeys(p for p in pool if p and p != mobile))
    return MergePreview(keep, drop, rows, {"keep": _links(unit, keep), "drop": _links(unit, drop)})


def preview_json(preview: MergePreview) -> dict[str, Any]:
    """The stable JSON form of a merge preview (docs/cli-json.md)."""
    return {
        "keep": str(preview.keep.id),
        "drop": str(preview.drop.id),
        "fields": [
            {
                "field": r.name,
                "keep": r.keep,
                "drop": r.drop,
                "differs": r.differs,
                "take": r.side,
                "result": r.result,
            }
            for r in preview.fields
        ],
        "links": preview.links,
        "moves": {k: len(v) for k, v in preview.links["drop"].items()},
    }


__all__ = ["BOTH_FIELDS", "FieldRow", "MergePreview", "preview_json", "preview_merge"]
