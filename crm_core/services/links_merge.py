"""Relationships and tags in a merge and its undo (issue 18), kept apart from
:mod:`crm_core.services.contacts_merge` and :mod:`~crm_core.services.duplicates_undo`,
which call :func:`merge_links` and :func:`unmerge_links`.

A merge keeps both sides' relationships and tags on the kept record: the duplicate's
relations are re-pointed at it; a relation between the two merged people is dropped
(nobody is related to themselves), as is one the kept record has already (same type,
same other side). The tags are the union. The undo restores every relation as it was
(re-pointed ones back, dropped ones inserted again) and the duplicate's tags, and takes
from the kept record the tags the merge added; relations and tags added since stay."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlmodel import col

from crm_core.models import Person, table_of
from crm_core.relation_models import PersonTag, Relation
from crm_core.unit import Unit, jsonable


def _image(row: Relation) -> dict[str, Any]:
    return {c.key: jsonable(getattr(row, c.key)) for c in table_of(Relation).columns}


def _row(image: dict[str, Any]) -> dict[str, Any]:
    out = dict(image)
    for key in ("id", "person_id", "other_id", "organisation_id"):
        if out.get(key):
            out[key] = uuid.UUID(out[key])
    for key in ("start_on", "end_on"):
        if out.get(key):
            out[key] = date.fromisoformat(out[key])
    if isinstance(out.get("created_at"), str):
        out["created_at"] = datetime.fromisoformat(out["created_at"])
    return out


def _key(unit: Unit, row: Relation, keep: uuid.UUID, drop: uuid.UUID) -> tuple[Any, ...]:
    """A relation as it reads once ``drop`` is ``keep`` (either way round for a type
    that reads alike both ways)."""

    def me(pid: uuid.UUID | None) -> uuid.UUID | None:
        return keep if pid == drop else pid

    spec = unit.config.sections.relations.types.get(row.type)
    sides: Any = (me(row.person_id), me(row.other_id))
    if spec is not None and not spec.zh_reverse:
        sides = frozenset(sides)
    return (row.type, sides, row.organisation_id)


def merge_links(unit: Unit, keep: Person, drop: Person) -> dict[str, Any]:
    """Move the duplicate's relations and tags to the kept record; return what the undo
    needs (``relations``: ids moved per column and images of those dropped; ``tags``:
    both sides' tags before)."""
    session = unit.session
    rows = list(
        session.scalars(
            select(Relation).where(
                or_(
                    col(Relation.person_id).in_([keep.id, drop.id]),
                    col(Relation.other_id).in_([keep.id, drop.id]),
                )
            )
        )
    )
    kept_keys = {
        _key(unit, r, keep.id, drop.id) for r in rows if drop.id not in (r.person_id, r.other_id)
    }
    moved: dict[str, list[str]] = {"person_id": [], "other_id": []}
    dropped: list[dict[str, Any]] = []
    for r in rows:
        if drop.id not in (r.person_id, r.other_id):
            continue
        key = _key(unit, r, keep.id, drop.id)
        between = {r.person_id, r.other_id} == {keep.id, drop.id}
        if between or key in kept_keys:
            dropped.append(_image(r))
            continue
        kept_keys.add(key)
        moved["person_id" if r.person_id == drop.id else "other_id"].append(str(r.id))
    if dropped:
        session.execute(
            delete(Relation).where(col(Relation.id).in_([uuid.UUID(d["id"]) for d in dropped]))
        )
    for column, ids in moved.items():
        if ids:
            session.execute(
                update(Relation)
                .where(col(Relation.id).in_([uuid.UUID(i) for i in ids]))
                .values({column: keep.id})
            )
    tags = {
        side: sorted(
            session.scalars(select(col(PersonTag.tag)).where(col(PersonTag.person_id) == p.id))
        )
        for side, p in (("keep", keep), ("drop", drop))
    }
    session.execute(delete(PersonTag).where(col(PersonTag.person_id) == drop.id))
    added = sorted(set(tags["drop"]) - set(tags["keep"]))
    if added:
        session.execute(insert(PersonTag), [{"person_id": keep.id, "tag": t} for t in added])
    return {"relations": {"moved": moved, "dropped": dropped}, "tags": tags}


def unmerge_links(unit: Unit, keep: Person, drop: Person, saved: dict[str, Any] | None) -> None:
    """Undo :func:`merge_links` from what it returned (nothing for merges made before
    relations and tags were kept)."""
    if not saved:
        return
    session = unit.session
    for column, ids in saved["relations"]["moved"].items():
        if ids:
            session.execute(
                update(Relation)
                .where(
                    col(Relation.id).in_([uuid.UUID(i) for i in ids]),
                    getattr(Relation, column) == keep.id,
                )
                .values({column: drop.id})
            )
    dropped = saved["relations"]["dropped"]
    if dropped:
        session.execute(insert(Relation), [_row(d) for d in dropped])
    tags = saved["tags"]
    added = set(tags["drop"]) - set(tags["keep"])
    if added:
        session.execute(
            delete(PersonTag).where(
                col(PersonTag.person_id) == keep.id, col(PersonTag.tag).in_(added)
            )
        )
    if tags["drop"]:
        session.execute(insert(PersonTag), [{"person_id": drop.id, "tag": t} for t in tags["drop"]])
