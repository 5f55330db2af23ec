"""Tags (标签): free labels on people and interactions, where categories are too heavy
(issue 18). A tag is any short text (``重点``, ``书法``, ``返乡创业``); completion finds
the tags in use by their beginning, their pinyin or their pinyin initials (``zd`` →
重点), ranked by how often they are used.

Every write is audited. County staff tag and see only their region's people and the
interactions they may see; the tags of a confidential interaction are shown only to
those who may read it (a tag can say as much as a summary).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlmodel import col

from crm_core import authz, pinyin
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import Interaction, Person
from crm_core.relation_models import InteractionTag, PersonTag
from crm_core.services._common import clean_text
from crm_core.services.contacts_search import get_person
from crm_core.services.interactions import get_interaction
from crm_core.unit import Unit
from crm_core.validation import check_texts

__all__ = [
    "MAX_TAG_CHARS",
    "add_interaction_tags",
    "add_person_tags",
    "all_tags",
    "complete",
    "interaction_tags",
    "person_tags",
    "remove_interaction_tags",
    "remove_person_tags",
    "tag_filter",
]

MAX_TAG_CHARS = 30


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags as stored: white space folded, blanks and repeats dropped; a tag with control
    characters, a comma or over :data:`MAX_TAG_CHARS` characters is a ValidationError."""
    given = list(tags)
    check_texts({"tag": given})
    out: list[str] = []
    for i, raw in enumerate(given):
        tag = clean_text(raw)
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS or any(c in tag for c in ",，、;；"):
            raise ValidationError.one(
                f"tag[{i}]", raw,
                N_("a tag is one label of at most {limit} characters, without commas"),
                limit=MAX_TAG_CHARS,
            )  # fmt: skip
        if tag not in out:
            out.append(tag)
    if not out:
        raise ValidationError.one("tag", given, N_("name at least one tag"))
    return out


def person_tags(unit: Unit, person_id: uuid.UUID | str) -> list[str]:
    """A person's tags, in order (of the characters, alike on every backend)."""
    person = get_person(unit, person_id)
    return sorted(
        unit.session.scalars(
            select(col(PersonTag.tag)).where(col(PersonTag.person_id) == person.id)
        )
    )


def add_person_tags(unit: Unit, person_id: uuid.UUID | str, tags: Iterable[str]) -> list[str]:
    """Give a person the tags (those they have already stay); returns all their tags."""
    person = get_person(unit, person_id)
    have = set(person_tags(unit, person.id))
    for tag in clean_tags(tags):
        if tag not in have:
            unit.session.add(PersonTag(person_id=person.id, tag=tag))
    unit.session.flush()
    return person_tags(unit, person.id)


def remove_person_tags(unit: Unit, person_id: uuid.UUID | str, tags: Iterable[str]) -> list[str]:
    """Take the tags off a person (ValidationError for one they do not have)."""
    person = get_person(unit, person_id)
    _remove(unit, PersonTag, PersonTag.person_id, person.id, clean_tags(tags))
    return person_tags(unit, person.id)


def _remove(unit: Unit, model: Any, column: Any, ident: uuid.UUID, tags: list[str]) -> None:
    for i, tag in enumerate(tags):
        row = unit.session.get(model, (ident, tag))
        if row is None:
            raise ValidationError.one(f"tag[{i}]", tag, N_("not a tag of this record"))
        unit.session.delete(row)  # one audited delete per tag
    unit.session.flush()


def interaction_tags(unit: Unit, interaction_id: uuid.UUID | str) -> list[str]:
    """An interaction's tags; none of a confidential one the unit may not read."""
    i = get_interaction(unit, interaction_id)
    if i.confidential and not authz.can_read_notes(unit, i):
        return []
    return sorted(
        unit.session.scalars(
            select(col(InteractionTag.tag)).where(col(InteractionTag.interaction_id) == i.id)
        )
    )


def _tagging(unit: Unit, interaction_id: uuid.UUID | str) -> Interaction:
    i = get_interaction(unit, interaction_id)
    authz.check_interaction(unit, i, change=True)
    return i


def add_interaction_tags(
    unit: Unit, interaction_id: uuid.UUID | str, tags: Iterable[str]
) -> list[str]:
    """Tag an interaction (whoever may change it); returns all its tags."""
    i = _tagging(unit, interaction_id)
    have = set(interaction_tags(unit, i.id))
    for tag in clean_tags(tags):
        if tag not in have:
            unit.session.add(InteractionTag(interaction_id=i.id, tag=tag))
    unit.session.flush()
    return interaction_tags(unit, i.id)


def remove_interaction_tags(
    unit: Unit, interaction_id: uuid.UUID | str, tags: Iterable[str]
) -> list[str]:
    """Take tags off an interaction (ValidationError for one it does not have)."""
    i = _tagging(unit, interaction_id)
    _remove(unit, InteractionTag, InteractionTag.interaction_id, i.id, clean_tags(tags))
    return interaction_tags(unit, i.id)


def all_tags(unit: Unit) -> list[tuple[str, int]]:
    """Every tag in use on the people and interactions the unit may see, with how many
    records carry it, most used first (then in pinyin order)."""
    counts: Counter[str] = Counter()
    people = (
        select(col(PersonTag.tag), func.count())
        .join(Person, col(Person.id) == col(PersonTag.person_id))
        .where(*authz.person_scope(unit))
        .group_by(col(PersonTag.tag))
    )
    counts.update(dict(unit.session.execute(people).all()))
    talks = list(
        unit.session.execute(
            select(Interaction, col(InteractionTag.tag))
            .join(InteractionTag, col(InteractionTag.interaction_id) == col(Interaction.id))
            .where(*authz.interaction_scope(unit))
        ).all()
    )
    readable = authz.readable_ids(unit, {i.id: i for i, _t in talks}.values())
    counts.update(tag for i, tag in talks if i.id in readable)
    return sorted(counts.items(), key=lambda kv: (-kv[1], pinyin.phrase_pinyin(kv[0])[0], kv[0]))


def complete(unit: Unit, prefix: str, *, limit: int = 10) -> list[str]:
    """The tags in use that ``prefix`` begins (as written, or its pinyin, or its pinyin
    initials: ``zd``, ``zhong`` and ``重`` all complete to 重点), most used first."""
    check_texts({"prefix": prefix})
    text = (prefix or "").strip()
    key = text.lower().replace(" ", "")
    out = []
    for tag, _count in all_tags(unit):
        full, initials = pinyin.phrase_pinyin(tag)
        if (
            not key
            or tag.startswith(text)
            or (key.isascii() and (full.startswith(key) or initials.startswith(key)))
        ):
            out.append(tag)
        if len(out) >= limit:
            break
    return out


def tag_filter(unit: Unit, tag: str) -> ColumnElement[bool]:
    """A condition on Person for :func:`~crm_core.services.contacts.search_people`
    (``also``): the people carrying ``tag``."""
    name = clean_tags([tag])[0]
    return exists().where(col(PersonTag.person_id) == col(Person.id), col(PersonTag.tag) == name)


def tags_by_person(unit: Unit, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """For an export: the tags of each person of ``ids`` (one read of the table)."""
    wanted = set(ids)
    out: dict[uuid.UUID, list[str]] = {}
    for pid, tag in unit.session.execute(
        select(col(PersonTag.person_id), col(PersonTag.tag)).order_by(col(PersonTag.tag))
    ).all():
        if pid in wanted:
            out.setdefault(pid, []).append(tag)
    return out
