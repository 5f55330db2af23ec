"""The 标签 (tags) and 关系 (relations) columns of a roster, as a people export writes
them (:data:`crm_core.exporter.LINK_COLUMNS`), so that an export imports back as it was.

- 标签: tags separated by 、，, ; or spaces (``党外、联谊会``);
- 关系: items separated by ；or ; each ``LABEL：NAME`` as seen from the row's person
  (``介绍人：李四；配偶：王五``): LABEL a relation type's code or label, or its reverse
  label (``经其介绍：张三`` says 张三 was introduced by this row's person), NAME a person
  of the sheet or of the database (or an organisation, for a type relating people with
  organisations).

An unknown type, a person found nowhere or a name two people carry is an error of that
row, column and value, found before anything is written (the row is refused, or imported
without the cell with ``--keep-partial``). The links are written after the people, in the
import's transaction; a link already stored is left alone, so a second run adds nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from crm_core.errors import TongxinError, ValidationError
from crm_core.i18n import _
from crm_core.roster.cells import CellProblem
from crm_core.roster.report import CellError
from crm_core.services import organisations, relations, tags
from crm_core.unit import Unit

# The planner (crm_core.roster.planner._Planner) is typed Any here: it imports this module.
LINK_FIELDS = ("tags", "relations")
# (type, person, other person, organisation) of a relation written or found stored
_Key = tuple[str, uuid.UUID, uuid.UUID | None, uuid.UUID | None]
_TAG_SPLIT = re.compile(r"[、，,;；\s]+")
_ITEM_SPLIT = re.compile(r"[;；\n]+")
_LABEL_SPLIT = re.compile(r"[:：]")


@dataclass(frozen=True)
class RelationItem:
    """One item of a 关系 cell: the type, which way round, the other side's name."""

    text: str  # as typed, for the messages
    type: str
    reverse: bool  # the row's person is the relation's ``other``
    name: str
    organisation: bool = False


@dataclass
class RowLinks:
    """The link cells of one row: (header, value) of each, and what they hold."""

    row: int
    tags: tuple[str, ...] = ()
    tags_header: str = ""
    relations: tuple[RelationItem, ...] = ()
    relations_header: str = ""
    target: Any = None  # the _Target the row was applied to
    problems: list[CellError] = field(default_factory=list)


def parse_tags(text: str) -> tuple[str, ...]:
    """The tags of a 标签 cell, cleaned as the tags service stores them; raises
    CellProblem."""
    items = [t for t in _TAG_SPLIT.split(text) if t]
    if not items:
        return ()
    try:
        return tuple(tags.clean_tags(items))
    except ValidationError as exc:
        raise CellProblem(exc.errors[0].text) from None


def parse_relations(unit: Unit, text: str) -> tuple[RelationItem, ...]:
    """The items of a 关系 cell; raises CellProblem naming the first bad item."""
    types = relations.relation_types(unit)
    out: list[RelationItem] = []
    for item in (i.strip() for i in _ITEM_SPLIT.split(text)):
        if not item:
            continue
        parts = _LABEL_SPLIT.split(item, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise CellProblem(
                _("{item!r}: write each relation as TYPE：NAME, e.g. 配偶：张三").format(item=item)
            )
        label, name = parts[0].strip(), " ".join(parts[1].split())
        found: tuple[str, bool] | None = None
        folded = label.casefold()
        for code, spec in types.items():
            if folded in (code.casefold(), spec.zh.casefold(), (spec.en or "").casefold()):
                found = (code, False)
                break
            if folded in ((spec.zh_reverse or "").casefold(), (spec.en_reverse or "").casefold()):
                found = (code, True)
                break
        if found is None:
            known = "、".join(
                "/".join(x for x in (t.zh, t.zh_reverse) if x) for t in types.values()
            )
            raise CellProblem(
                _("{item!r}: no relation type {label} (the types: {known})").format(
                    item=item, label=label, known=known
                )
            )
        code, reverse = found
        org = types[code].target == "organisation"
        if org and reverse:
            raise CellProblem(
                _("{item!r}: {label} names a person, not an organisation").format(
                    item=item, label=label
                )
            )
        out.append(RelationItem(item, code, reverse, name, org))
    return tuple(out)


def take_links(planner: Any, rows: list[Any], stored_names: dict[str, list[uuid.UUID]]) -> None:
    """Take the link cells out of the rows' values (they are no field of a person) into
    ``planner.row_links``, and check that every relation names someone: a person of the
    sheet (one only) or of the database (one only), or an organisation. A bad item is an
    error of its row (dropped from the row with ``--keep-partial``)."""
    header = {c.field: c.header for c in planner.report.columns}
    for r in rows:
        t = r.values.pop("tags", ())
        rel = r.values.pop("relations", ())
        if t or rel:
            planner.row_links[r.row] = RowLinks(
                r.row, t, header.get("tags", ""), rel, header.get("relations", "")
            )
    # A relation with a row that is refused (perhaps for a relation of its own) names
    # nobody the import writes: check again until no row is refused anew.
    refused: set[int] = set()
    while True:
        in_file: dict[str, set[Any]] = {}
        for r in rows:
            good = not r.errors and not r.unknown and not r.left_out and r.row not in refused
            if good and "name" in r.values:
                in_file.setdefault(r.values["name"], set()).add(r.values.get("birth"))
        newly = False
        for r in rows:
            links = planner.row_links.get(r.row)
            if links is None or r.row in refused or r.errors:
                continue
            bad = [
                (item, reason)
                for item in links.relations
                if (reason := _missing(planner.unit, item, in_file, stored_names))
            ]
            if not bad:
                continue
            errors = [CellError(r.row, links.relations_header, i.text, why) for i, why in bad]
            if planner.keep_partial and "name" in r.values:
                planner.report.dropped += errors
                planner.report.raw_rows[r.row] = r.raw
                links.relations = tuple(i for i in links.relations if i not in dict(bad))
            else:
                r.errors += errors
                refused.add(r.row)
                newly = True
        if not newly:
            return


def _missing(
    unit: Unit,
    item: RelationItem,
    in_file: dict[str, set[tuple[Any, ...]]],
    stored: dict[str, list[uuid.UUID]],
) -> str | None:
    """Why ``item`` names nobody (None when it names one person or organisation)."""
    if item.organisation:
        try:
            organisations.resolve_organisation(unit, item.name)
        except TongxinError:
            return _("no organisation {name} is stored").format(name=item.name)
        return None
    from crm_core import pinyin

    name = pinyin.normalize_name(item.name)
    people = in_file.get(name)
    if people and len(people) > 1:
        return _("several people in the sheet are named {name}").format(name=name)
    if people:
        return None
    ids = stored.get(name) or []
    if len(ids) > 1:
        return _("several stored people are named {name}").format(name=name)
    if not ids:
        return _("no person {name} in the sheet or the database").format(name=name)
    return None


def write_links(unit: Unit, planner: Any, stored: dict[str, list[uuid.UUID]]) -> None:
    """Write the tags and relations of the imported rows (the people are written): only
    those not stored yet. A row whose links add something is reported as an update."""
    outcomes = {o.row: o for o in planner.report.outcomes}
    written: dict[str, set[uuid.UUID]] = {}
    for links in planner.row_links.values():
        target = links.target
        if target is not None and target.person_id is not None:
            written.setdefault(target.state.get("name", ""), set()).add(target.person_id)
    done: set[_Key] = set()
    for links in sorted(planner.row_links.values(), key=lambda x: x.row):
        target = links.target
        outcome = outcomes.get(links.row)
        if target is None or target.person_id is None or outcome is None:
            continue
        if outcome.action not in ("create", "update", "unchanged", "duplicate"):
            continue
        me = target.person_id
        changed: list[str] = []
        if links.tags:
            have = set(tags.person_tags(unit, me))
            if set(links.tags) - have:
                tags.add_person_tags(unit, me, links.tags)
                changed.append("tags")
        added = [_relate(unit, me, item, written, stored, done) for item in links.relations]
        if any(added):
            changed.append("relations")
        if changed and outcome.action == "unchanged":
            outcome.action = "update"
        if changed:
            outcome.changes = sorted({*outcome.changes, *changed})


def _relate(
    unit: Unit,
    me: uuid.UUID,
    item: RelationItem,
    written: dict[str, set[uuid.UUID]],
    stored: dict[str, list[uuid.UUID]],
    done: set[_Key],
) -> bool:
    """Store one relation unless it is (either way round, for a symmetric type)."""
    spec = relations.relation_types(unit)[item.type]
    if item.organisation:
        org = organisations.resolve_organisation(unit, item.name).id
        key: _Key = (item.type, me, None, org)
        if key in done or relations.find_relations(unit, me, None, organisation_id=org):
            done.add(key)
            return False
        done.add(key)
        relations.add_relation(unit, me, type=item.type, organisation_id=org)
        return True
    from crm_core import pinyin

    name = pinyin.normalize_name(item.name)
    ids = written.get(name) or set(stored.get(name) or ())
    if len(ids) != 1:
        return False  # checked before writing; a namesake written meanwhile is left out
    other = next(iter(ids))
    if other == me:
        return False
    person, rel_other = (other, me) if item.reverse else (me, other)
    pair: _Key = (item.type, person, rel_other, None)
    if pair in done:
        return False
    done.add(pair)
    for row in relations.find_relations(unit, person, rel_other):
        if row.type == item.type and (row.person_id == person or not spec.zh_reverse):
            return False
    relations.add_relation(unit, person, rel_other, type=item.type)
    return True
