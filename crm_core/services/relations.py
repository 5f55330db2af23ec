"""Relationships (关系): who knows whom, and who heads which organisation (issue 18).

A relation is typed (``[relations.types.CODE]`` in the configuration) and two-way: it is
recorded once, for ``person`` with ``other`` (a person) or with an organisation, and read
from either side with that side's label: ``introduced_by`` shows the other as 介绍人
(introducer) on the person's page, and the person as 经其介绍 on the introducer's.
Optional start and end dates say when it held.

Every write is audited (the table is audited like the others); county staff relate and
see only people of their region: a relation with someone outside it is not shown to
them, and they cannot make one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlmodel import col

from crm_core import authz
from crm_core.config_models import RelationType
from crm_core.errors import Ambiguous, NotFound, ValidationError
from crm_core.i18n import N_, language
from crm_core.models import Organisation, Person, PersonStatus
from crm_core.relation_models import Relation
from crm_core.services import organisations
from crm_core.services._common import as_uuid, clean_text
from crm_core.services.contacts_search import get_person
from crm_core.unit import Unit
from crm_core.validation import check_texts

__all__ = [
    "RelationView",
    "add_relation",
    "find_relations",
    "related_filter",
    "relation_json",
    "relation_types",
    "relations_of",
    "remove_relation",
    "resolve_type",
    "type_label",
]


def relation_types(unit: Unit) -> dict[str, RelationType]:
    """The enabled relation types of the configuration, by code, in their order there."""
    types = unit.config.sections.relations.types
    return {code: t for code, t in types.items() if t.enabled}


def type_label(spec: RelationType, *, reverse: bool, lang: str | None = None) -> str:
    """What the other side is called, seen from the person the relation is recorded for
    (``reverse`` False: 介绍人) or from the other side (``reverse`` True: 经其介绍)."""
    lang = lang or language()
    if reverse and spec.zh_reverse:
        if lang == "en":
            return spec.en_reverse or spec.en or spec.zh_reverse
        return spec.zh_reverse
    return (spec.en or spec.zh) if lang == "en" else spec.zh


def resolve_type(unit: Unit, value: str) -> str:
    """The code of a relation type named by its code or one of its labels (介绍人,
    经其介绍, spouse …); a ValidationError listing the types otherwise."""
    types = relation_types(unit)
    key = (value or "").strip()
    if key in types:
        return key
    folded = key.casefold()
    for code, t in types.items():
        labels = (t.zh, t.en, t.zh_reverse, t.en_reverse)
        if any(lab and lab.casefold() == folded for lab in labels):
            return code
    known = "、".join(f"{code} ({t.zh})" for code, t in types.items())
    raise ValidationError.one(
        "type", value, N_("no such relation type (the types: {known})"), known=known
    )


@dataclass(frozen=True)
class RelationView:
    """A relation as seen from one person: the other side, and its label from here."""

    relation: Relation
    type: str
    label: str
    reverse: bool  # the viewer is the relation's ``other``
    other_kind: str  # "person" | "organisation"
    other_id: uuid.UUID
    other_name: str

    @property
    def id(self) -> uuid.UUID:
        """The relation's own id."""
        return self.relation.id


def _check_dates(start_on: date | None, end_on: date | None) -> None:
    if start_on and end_on and end_on < start_on:
        raise ValidationError.one(
            "end_on", end_on.isoformat(), N_("before the start {start}"), start=start_on.isoformat()
        )


def _usable(person: Person, field: str) -> Person:
    if person.status == PersonStatus.merged:
        raise ValidationError.one(
            field, str(person.id), N_("merged into {id}: use that record"), id=person.merged_into_id
        )
    return person


def add_relation(
    unit: Unit,
    person_id: uuid.UUID | str,
    other_id: uuid.UUID | str | None = None,
    *,
    type: str,
    organisation_id: uuid.UUID | str | None = None,
    start_on: date | None = None,
    end_on: date | None = None,
    notes: str | None = None,
) -> Relation:
    """Relate ``person_id`` with ``other_id`` (a person) or ``organisation_id`` by
    ``type`` (a code or label of ``[relations.types]``): seen from the person, the other
    is the type's label. Both people must be visible to the unit (county staff: both of
    their region). The same relation twice (for a symmetric type, either way round) is a
    ValidationError, as is a person related with themselves or dates out of order."""
    code = resolve_type(unit, type)
    spec = relation_types(unit)[code]
    check_texts({"notes": notes})
    _check_dates(start_on, end_on)
    person = _usable(get_person(unit, person_id), "person")
    other: Person | None = None
    org: Organisation | None = None
    if spec.target == "organisation":
        if organisation_id is None:
            raise ValidationError.one(
                "other", str(other_id or ""), N_("this type relates a person with an organisation")
            )
        org = organisations.get_organisation(unit, organisation_id)
    else:
        if other_id is None:
            raise ValidationError.one(
                "other", str(organisation_id or ""), N_("this type relates two people")
            )
        other = _usable(get_person(unit, other_id), "other")
        if other.id == person.id:
            raise ValidationError.one(
                "other", str(other.id), N_("a person is not related to themselves")
            )
    existing = find_relations(
        unit, person.id, other.id if other else None, organisation_id=org.id if org else None
    )
    for row in existing:
        same_way = row.person_id == person.id
        if row.type == code and (same_way or not spec.zh_reverse):
            raise ValidationError.one(
                "type", code, N_("these two are related so already ({id})"), id=row.id
            )
    row = Relation(
        type=code,
        person_id=person.id,
        other_id=other.id if other else None,
        organisation_id=org.id if org else None,
        start_on=start_on,
        end_on=end_on,
        notes=clean_text(notes),
    )
    unit.session.add(row)
    unit.session.flush()
    return row


def find_relations(
    unit: Unit,
    person_id: uuid.UUID,
    other_id: uuid.UUID | None = None,
    *,
    organisation_id: uuid.UUID | None = None,
    type: str | None = None,
) -> list[Relation]:
    """The relations between a person and another person (either way round) or an
    organisation, optionally of one type (a code)."""
    if organisation_id is not None:
        stmt = select(Relation).where(
            col(Relation.person_id) == person_id, col(Relation.organisation_id) == organisation_id
        )
    else:
        stmt = select(Relation).where(
            or_(
                (col(Relation.person_id) == person_id) & (col(Relation.other_id) == other_id),
                (col(Relation.person_id) == other_id) & (col(Relation.other_id) == person_id),
            )
        )
    if type:
        stmt = stmt.where(col(Relation.type) == type)
    return list(unit.session.scalars(stmt.order_by(col(Relation.created_at), col(Relation.id))))


def get_relation(unit: Unit, relation_id: uuid.UUID | str) -> Relation:
    """The relation with this id, if the unit sees both of its people (NotFound or
    PermissionDenied otherwise)."""
    row = unit.session.get(Relation, as_uuid(relation_id, "relation"))
    if row is None:
        raise NotFound("relation", relation_id)
    get_person(unit, row.person_id)
    if row.other_id is not None:
        get_person(unit, row.other_id)
    return row


def remove_relation(unit: Unit, relation_id: uuid.UUID | str) -> Relation:
    """Delete a relation (audited); returns it as it was."""
    row = get_relation(unit, relation_id)
    unit.session.delete(row)
    unit.session.flush()
    return row


def remove_between(
    unit: Unit,
    person_id: uuid.UUID | str,
    other_id: uuid.UUID | str | None = None,
    *,
    organisation_id: uuid.UUID | str | None = None,
    type: str | None = None,
) -> Relation:
    """Delete the one relation between two people (or a person and an organisation),
    of ``type`` if given; NotFound when there is none, Ambiguous when there are several."""
    person = get_person(unit, person_id)
    code = resolve_type(unit, type) if type else None
    if organisation_id is not None:
        org = organisations.get_organisation(unit, organisation_id)
        rows = find_relations(unit, person.id, organisation_id=org.id, type=code)
    else:
        other = get_person(unit, other_id or "")
        rows = find_relations(unit, person.id, other.id, type=code)
    if not rows:
        raise NotFound("relation", f"{person_id}/{other_id or organisation_id}")
    if len(rows) > 1:
        raise Ambiguous(str(other_id or organisation_id), [f"{r.type} [{r.id}]" for r in rows])
    return remove_relation(unit, rows[0].id)


def relations_of(unit: Unit, person_id: uuid.UUID | str) -> list[RelationView]:
    """Every relation of a person, from their side: the other person or organisation and
    the type's label as seen from this person. Relations with people the unit may not
    see (county staff: outside their region) are left out. Ordered by type (as
    configured), then the other's name."""
    person = get_person(unit, person_id)
    types = relation_types(unit)
    every = unit.config.sections.relations.types
    rows = list(
        unit.session.scalars(
            select(Relation).where(
                or_(col(Relation.person_id) == person.id, col(Relation.other_id) == person.id)
            )
        )
    )
    ids = {r.other_id if r.person_id == person.id else r.person_id for r in rows} - {None}
    people = {
        p.id: p
        for p in unit.session.scalars(
            select(Person).where(col(Person.id).in_(ids), *authz.person_scope(unit))
        )
    }
    org_ids = {r.organisation_id for r in rows if r.organisation_id}
    orgs = {
        o.id: o
        for o in unit.session.scalars(select(Organisation).where(col(Organisation.id).in_(org_ids)))
    }
    out: list[RelationView] = []
    for r in rows:
        spec = every.get(r.type) or RelationType(zh=r.type)
        reverse = r.person_id != person.id
        oid: uuid.UUID | None
        if r.organisation_id is not None:
            org = orgs.get(r.organisation_id)
            if org is None:
                continue
            kind, oid, name = "organisation", org.id, org.name
        else:
            oid = r.person_id if reverse else r.other_id
            other = people.get(oid) if oid else None
            if other is None:
                continue
            kind, name = "person", other.name
        assert oid is not None  # an organisation's id, or the other person's
        out.append(
            RelationView(r, r.type, type_label(spec, reverse=reverse), reverse, kind, oid, name)
        )
    order = list(types)
    out.sort(key=lambda v: (order.index(v.type) if v.type in order else len(order), v.other_name))
    return out


def relation_json(view: RelationView) -> dict[str, Any]:
    """The stable JSON form of a relation seen from one person (docs/cli-json.md):
    ``id`` is the other person's (or organisation's) id, ``label`` the type's label as
    seen from the person, ``relation_id`` the relation's own id."""
    r = view.relation
    return {
        "id": str(view.other_id),
        "kind": view.other_kind,
        "name": view.other_name,
        "type": view.type,
        "label": view.label,
        "reverse": view.reverse,
        "relation_id": str(r.id),
        "start_on": r.start_on.isoformat() if r.start_on else None,
        "end_on": r.end_on.isoformat() if r.end_on else None,
        "notes": r.notes,
    }


def related_filter(
    unit: Unit, person_id: uuid.UUID | str, type: str | None = None
) -> ColumnElement[bool]:
    """A condition on Person for :func:`~crm_core.services.contacts.search_people`
    (``also``): the people related with ``person_id`` (either way round), by ``type``
    if given (a code or label)."""
    person = get_person(unit, person_id)
    code = resolve_type(unit, type) if type else None
    forward = select(col(Relation.other_id)).where(col(Relation.person_id) == person.id)
    backward = select(col(Relation.person_id)).where(col(Relation.other_id) == person.id)
    if code:
        forward = forward.where(col(Relation.type) == code)
        backward = backward.where(col(Relation.type) == code)
    return or_(col(Person.id).in_(forward), col(Person.id).in_(backward))


def type_filter(unit: Unit, type: str) -> ColumnElement[bool]:
    """A condition on Person: people with a relation of ``type`` (either side)."""
    code = resolve_type(unit, type)
    sides = (col(Relation.person_id), col(Relation.other_id))
    return or_(*(col(Person.id).in_(select(s).where(col(Relation.type) == code)) for s in sides))


def describe_type(unit: Unit, code: str) -> str:
    """A type as a list shows it: 介绍人 / 经其介绍 (its code)."""
    spec = relation_types(unit).get(code)
    if spec is None:
        return code
    both = type_label(spec, reverse=False)
    if spec.zh_reverse:
        both += " / " + type_label(spec, reverse=True)
    return f"{both} ({code})"


def relation_cells(unit: Unit, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """For an export: per person of ``ids``, their relations as "介绍人：李四", seen from
    them (others the unit may not see left out). Reads the relations once, whatever the
    number of people."""
    wanted = set(ids)
    every = unit.config.sections.relations.types
    rows = [
        r
        for r in unit.session.scalars(select(Relation).order_by(col(Relation.created_at)))
        if r.person_id in wanted or r.other_id in wanted
    ]
    seen_ids = {x for r in rows for x in (r.person_id, r.other_id) if x}
    names: dict[uuid.UUID, str] = {}
    for chunk in _chunks(sorted(seen_ids, key=str), 5000):
        found = unit.session.execute(
            select(col(Person.id), col(Person.name)).where(
                col(Person.id).in_(chunk), *authz.person_scope(unit)
            )
        )
        names.update((pid, name) for pid, name in found)
    orgs = dict(unit.session.execute(select(col(Organisation.id), col(Organisation.name))).all())
    out: dict[uuid.UUID, list[str]] = {}
    for r in rows:
        spec = every.get(r.type) or RelationType(zh=r.type)
        sides: list[tuple[uuid.UUID, bool, uuid.UUID | None]] = [(r.person_id, False, r.other_id)]
        if r.other_id is not None:
            sides.append((r.other_id, True, r.person_id))
        for me, reverse, other in sides:
            if me not in wanted or me not in names:
                continue
            name = (
                orgs.get(r.organisation_id)
                if r.organisation_id
                else (names.get(other) if other else None)
            )
            if name:
                out.setdefault(me, []).append(f"{type_label(spec, reverse=reverse)}：{name}")
    return out


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
