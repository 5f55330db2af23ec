"""Contacts (联系人): people the office keeps in touch with.

Create, update, get, list with filters, search (Chinese, pinyin, initials, phone,
employer), and merge two records of the same person keeping all their history.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from crm_core import authz, pinyin
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Person,
    PersonCategory,
    PersonCommittee,
)
from crm_core.phones import search_digits
from crm_core.services._common import (
    check_version,
    clean_text,
    code_of,
    parse,
)

# The parts live in sibling modules (issue 17: no module over 600 lines); their names
# stay importable from here.
from crm_core.services.contacts_bulk import PersonKey as PersonKey
from crm_core.services.contacts_bulk import bulk_writing as bulk_writing
from crm_core.services.contacts_bulk import create_in_batches
from crm_core.services.contacts_bulk import people_by_ids as people_by_ids
from crm_core.services.contacts_bulk import person_keys as person_keys
from crm_core.services.contacts_fields import PersonFields as PersonFields
from crm_core.services.contacts_merge import merge_pair as merge_pair
from crm_core.services.contacts_merge import merge_people as merge_people

# The reading side lives in contacts_search; its names stay importable from here.
from crm_core.services.contacts_search import (
    Page as Page,
)
from crm_core.services.contacts_search import (
    PersonRow as PersonRow,
)
from crm_core.services.contacts_search import (
    categories_of as categories_of,
)
from crm_core.services.contacts_search import (
    committees_of as committees_of,
)
from crm_core.services.contacts_search import (
    describe as describe,
)
from crm_core.services.contacts_search import (
    get_person as get_person,
)
from crm_core.services.contacts_search import (
    has_people as has_people,
)
from crm_core.services.contacts_search import (
    list_people as list_people,
)
from crm_core.services.contacts_search import (
    person_json as person_json,
)
from crm_core.services.contacts_search import (
    resolve_filters as resolve_filters,
)
from crm_core.services.contacts_search import (
    resolve_person as resolve_person,
)
from crm_core.services.contacts_search import (
    search_people as search_people,
)
from crm_core.services.contacts_search import (
    summary_json as summary_json,
)
from crm_core.unit import (
    Unit,
)

BULK_BATCH = 5000  # people per statement of bulk_create_people

# -- writing ---------------------------------------------------------------------


def _apply(unit: Unit, person: Person, fields: PersonFields) -> None:
    given = fields.model_dump(exclude_unset=True)
    # Resolve the coded values before setting anything: a refused value leaves the person
    # untouched (a caller that catches the error may still commit its unit).
    coded = {
        field_name: code_of(unit.config.vocab[vocab], field_name, given[field_name])
        for field_name, vocab in (
            ("party", "parties"),
            ("sector", "sectors"),
            ("region", "regions"),
        )
        if field_name in given
    }
    if "name" in given:
        name = pinyin.normalize_name(given["name"] or "")
        if not name:
            raise ValidationError.one("name", given["name"], N_("a name is required"))
        person.name = name
        person.name_pinyin, person.name_initials = pinyin.name_pinyin(name)
    if "birth" in given:
        birth = given["birth"]
        person.birth_year = int(birth[:4]) if birth else None
        person.birth_month = int(birth[5:]) if birth and len(birth) > 4 else None
    for field_name, code in coded.items():
        setattr(person, field_name, code)
    for text_field in ("ethnicity", "employer", "title", "email", "address", "notes"):
        if text_field in given:
            setattr(person, text_field, clean_text(given[text_field]))
    for plain in ("gender", "membership", "status", "organisation_id", "extra"):
        if plain in given and (given[plain] is not None or plain in ("gender", "organisation_id")):
            setattr(person, plain, given[plain])
    if "mobile" in given:
        person.mobile = given["mobile"]
    if "phones" in given:
        person.phones = given["phones"] or []
    if "mobile" in given or "phones" in given:
        person.phone_digits = search_digits([person.mobile, *person.phones])


def _link_codes(unit: Unit, fields: PersonFields) -> dict[str, list[str]]:
    """The category and committee codes ``fields`` sets, resolved (or refused) before
    anything is written."""
    given = fields.model_dump(exclude_unset=True)
    codes: dict[str, list[str]] = {}
    for name, vocab in (
        ("categories", unit.app.categories),
        ("committees", unit.config.vocab["committees"]),
    ):
        if name in given:
            # A blank entry ("党外知识分子、" split on 、) names nothing and is skipped.
            codes[name] = sorted(
                {code for c in given[name] or [] if (code := code_of(vocab, name, c))}
            )
    return codes


def _set_links(unit: Unit, person: Person, codes: dict[str, list[str]]) -> None:
    if "categories" in codes:
        _replace_links(unit, PersonCategory, "category", person.id, codes["categories"])
    if "committees" in codes:
        _replace_links(unit, PersonCommittee, "committee", person.id, codes["committees"])


def _replace_links(
    unit: Unit, model: Any, column: str, person_id: uuid.UUID, codes: list[str]
) -> None:
    session = unit.session
    current = {
        getattr(r, column): r
        for r in session.scalars(select(model).where(model.person_id == person_id))
    }
    for code, row in current.items():
        if code not in codes:
            session.delete(row)
    for code in codes:
        if code not in current:
            session.add(model(person_id=person_id, **{column: code}))


def create_person(unit: Unit, *, person_id: uuid.UUID | None = None, **values: Any) -> Person:
    """Create a person from ``values`` (the fields of :class:`PersonFields`); ``name`` is
    required. Pinyin and initials are derived from the name. ``person_id``: the UUID the
    record keeps (a person an exchange bundle brings from another installation)."""
    fields = parse(PersonFields, values)
    if not fields.name:
        raise ValidationError.one("name", values.get("name"), N_("a name is required"))
    links = _link_codes(unit, fields)  # before anything is written
    person = Person(name="", name_pinyin="", name_initials="")
    if person_id is not None:
        person.id = person_id
    _apply(unit, person, fields)
    person.region = authz.check_region(unit, person.region, person.name)
    unit.session.add(person)
    unit.session.flush()
    _set_links(unit, person, links)
    unit.session.flush()
    return person


def update_person(
    unit: Unit, person_id: uuid.UUID | str, *, expected_version: int | None = None, **values: Any
) -> Person:
    """Change the given fields of a person. With ``expected_version`` (the version the
    caller read), a concurrent change by someone else raises Conflict instead of being
    overwritten."""
    person = get_person(unit, person_id)
    check_version(person, expected_version, "person")
    fields = parse(PersonFields, values)
    links = _link_codes(unit, fields)  # before anything is changed
    if "region" in fields.model_fields_set:  # county staff keep people in their region
        region = code_of(unit.config.vocab["regions"], "region", fields.region)
        authz.check_move(unit, region, person.name)
    _apply(unit, person, fields)
    _set_links(unit, person, links)
    unit.session.flush()
    return person


def bulk_create_people(
    unit: Unit,
    rows: Sequence[dict[str, Any]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[uuid.UUID]:
    """Create many people at once (the fields of :class:`PersonFields` per row, as for
    :func:`create_person`); return their ids in order.

    Every row is checked before anything is written: if any row is refused, a
    ValidationError names every bad field as ``rows[i].field``; county staff may only
    create people of their own region (:func:`crm_core.authz.check_region`, as
    :func:`create_person`: PermissionDenied). A row whose values are already in stored
    form (codes, an 11-digit mobile, ``YYYY-MM``, ``male``/``female``) is checked by a
    quick test of that form; any other row goes through PersonFields exactly as in
    :func:`create_person`.

    Then, :data:`BULK_BATCH` people at a time, people, their categories and committees
    are inserted with one statement per table, and one audit entry per person
    (:func:`crm_core.unit.audit_entry`: action ``create``, entity ``person``; ``after``
    holds its columns and its ``categories`` and ``committees``), after which
    ``progress(written, total)`` is called. The derived columns (pinyin, initials,
    phone digits) are computed as for :func:`create_person`.
    """
    # BULK_BATCH is read here, at the call, so that it can be tuned on this module.
    return create_in_batches(unit, rows, batch=BULK_BATCH, progress=progress)
