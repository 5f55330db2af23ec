"""Groups of people (issue 18, item 2): a contacts search saved under a name (a "smart"
group, whose members are found anew each time it is used) or a picked list (a "static"
group). A group is personal (seen by its owner only) or shared (seen by everyone with
an account); either way its members are what the *reader* may see: a smart group runs
the search with the reader's rights, a static group's members are filtered by them, so
a shared group never shows a county clerk anyone outside their region.

A group is usable wherever a set of people is asked for: :func:`member_ids` gives the
ids, :func:`crm_core.authz.narrowed_to` narrows every people query of a block to them
(``contacts search --group``, ``export people --group``, ``report --group``), and the
bulk actions (:mod:`crm_core.services.bulk_actions`) work on them.

A member of a static group who is merged into another record counts as that record
(the membership row stays where it was, so undoing the merge gives it back unchanged).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, delete, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm_core import authz, validation
from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.group_models import ContactGroup, ContactGroupMember, GroupKind
from crm_core.i18n import N_, _
from crm_core.models import Person, PersonStatus
from crm_core.services._common import as_uuid
from crm_core.services.contacts_search import resolve_filters, search_people
from crm_core.unit import Unit

# The filters a smart group keeps (as `contacts search` takes them).
FILTER_KEYS = ("category", "sector", "party", "committee", "region", "membership", "status")
ALL = 10_000_000  # "every match" for a search


def _me(unit: Unit) -> uuid.UUID | None:
    return unit.actor.id if unit.actor is not None else None


def _visible(unit: Unit) -> Any:
    """Groups the unit may see: shared ones, and its own personal ones."""
    return or_(col(ContactGroup.shared).is_(True), col(ContactGroup.owner_id) == _me(unit))


def may_change(unit: Unit, group: ContactGroup) -> bool:
    """Whether the unit may change or delete ``group``: its owner; a shared group an
    administrator too."""
    if group.owner_id is not None and group.owner_id == _me(unit):
        return True
    if group.owner_id is None and unit.actor is None and not group.shared:
        return True  # trusted code's own personal group
    return group.shared and authz.can_administer(unit)


def _check_change(unit: Unit, group: ContactGroup) -> ContactGroup:
    if not may_change(unit, group):
        raise PermissionDenied(
            _("only the owner of the group {name!r} (or an administrator) may change it").format(
                name=group.name
            )
        )
    return group


def list_groups(unit: Unit) -> list[ContactGroup]:
    """The groups the unit may see: its personal ones first, then the shared ones, each
    by name."""
    stmt = select(ContactGroup).where(_visible(unit))
    rows = list(unit.session.scalars(stmt))
    return sorted(rows, key=lambda g: (g.shared, g.name, str(g.id)))


def find_group(unit: Unit, ref: str | uuid.UUID) -> ContactGroup:
    """The group ``ref`` names: an id, or a name (the unit's own personal group of that
    name before a shared one). NotFound when the unit sees no such group."""
    text = str(ref).strip()
    try:
        gid = as_uuid(text, "group")
    except NotFound:
        gid = None
    if gid is not None:
        found = unit.session.scalar(
            select(ContactGroup).where(col(ContactGroup.id) == gid, _visible(unit))
        )
        if found is not None:
            return found
    named = [g for g in list_groups(unit) if g.name == text]
    if not named:
        raise NotFound("group", text)
    return named[0]  # personal first (list_groups' order)


def _clash(unit: Unit, name: str, shared: bool, keep: uuid.UUID | None = None) -> None:
    for g in list_groups(unit):
        if g.name == name and g.shared == shared and g.id != keep:
            raise ValidationError.one(
                "name", name, N_("a group of this name exists already (groups delete removes it)")
            )


def _check_name(name: str) -> str:
    validation.check_texts({"name": name})
    name = (name or "").strip()
    if not name:
        raise ValidationError.one("name", name, N_("a group needs a name"))
    return name


def save_group(
    unit: Unit,
    name: str,
    *,
    query: str = "",
    filters: dict[str, str | None] | None = None,
    shared: bool = False,
    notes: str | None = None,
) -> ContactGroup:
    """Save a contacts search (``query`` and ``filters``, codes or labels as
    :func:`crm_core.services.contacts_search.resolve_filters` takes them, plus
    ``membership`` and ``status``) as a smart group called ``name``, personal or
    ``shared``. The search is checked now (a bad filter is a ValidationError naming it)
    and run each time the group is used."""
    name = _check_name(name)
    validation.check_texts({"query": query, "notes": notes})
    given = dict(filters or {})
    unknown = set(given) - set(FILTER_KEYS)
    if unknown:
        key = sorted(unknown)[0]
        raise ValidationError.one(key, given[key], N_("not a filter"))
    plain = {k: v for k in ("membership", "status") if (v := given.pop(k, None))}
    for key, value in plain.items():
        allowed = {"membership": ("standing", "member", "none"), "status": tuple(PersonStatus)}
        if value not in allowed[key]:
            raise ValidationError.one(key, value, N_("not a valid value"))
    codes = {**resolve_filters(unit, **given), **plain}
    search_people(
        unit, query or "", limit=1, offset=0, also=(), **codes
    )  # the query itself is checked too
    _clash(unit, name, shared)
    group = ContactGroup(
        name=name,
        kind=GroupKind.smart,
        shared=shared,
        owner_id=_me(unit),
        query=(query or "").strip() or None,
        filters=codes,
        notes=notes,
    )
    unit.session.add(group)
    unit.session.flush()
    return group


def create_static(
    unit: Unit, name: str, *, shared: bool = False, people: Iterable[uuid.UUID] = ()
) -> ContactGroup:
    """A static group called ``name`` (personal or ``shared``) with ``people`` in it."""
    name = _check_name(name)
    _clash(unit, name, shared)
    group = ContactGroup(name=name, kind=GroupKind.static, shared=shared, owner_id=_me(unit))
    unit.session.add(group)
    unit.session.flush()
    add_members(unit, group, people)
    return group


def _static(unit: Unit, group: ContactGroup) -> ContactGroup:
    _check_change(unit, group)
    if group.kind != GroupKind.static:
        raise ValidationError.one(
            "group",
            group.name,
            N_("a saved search: its members are whoever matches it (save it again to change it)"),
        )
    return group


def add_members(unit: Unit, group: ContactGroup, people: Iterable[uuid.UUID]) -> int:
    """Pick ``people`` (ids the unit may see) into a static group; returns how many
    were not in it yet."""
    _static(unit, group)
    have = set(
        unit.session.scalars(
            select(col(ContactGroupMember.person_id)).where(
                col(ContactGroupMember.group_id) == group.id
            )
        )
    )
    added = 0
    for pid in dict.fromkeys(people):
        person = unit.session.get(Person, pid)
        if person is None:
            raise NotFound("person", pid)
        authz.check_person(unit, person)
        if pid not in have:
            unit.session.add(ContactGroupMember(group_id=group.id, person_id=pid))
            have.add(pid)
            added += 1
    unit.session.flush()
    return added


def remove_members(unit: Unit, group: ContactGroup, people: Iterable[uuid.UUID]) -> int:
    """Take ``people`` out of a static group (with any record merged into them);
    returns how many rows went."""
    _static(unit, group)
    ids = list(people)
    merged = select(col(Person.id)).where(col(Person.merged_into_id).in_(ids))
    rows = list(
        unit.session.scalars(
            select(ContactGroupMember).where(
                col(ContactGroupMember.group_id) == group.id,
                or_(
                    col(ContactGroupMember.person_id).in_(ids),
                    col(ContactGroupMember.person_id).in_(merged),
                ),
            )
        )
    )
    for row in rows:
        authz.check_person(unit, unit.session.get(Person, row.person_id))  # type: ignore[arg-type]
        unit.session.delete(row)
    unit.session.flush()
    return len(rows)


def delete_group(unit: Unit, group: ContactGroup) -> None:
    """Delete a group (its members stay as people, of course)."""
    _check_change(unit, group)
    unit.session.execute(
        delete(ContactGroupMember).where(col(ContactGroupMember.group_id) == group.id)
    )
    unit.session.delete(group)
    unit.session.flush()


def member_ids(unit: Unit, group: ContactGroup) -> list[uuid.UUID]:
    """The group's members as the unit sees them, in pinyin order: a smart group's
    search run now with the unit's rights; a static group's picked people the unit may
    see (a merged one as the record it went into), merged records left out."""
    if group.kind == GroupKind.smart:
        page = search_people(unit, group.query or "", limit=ALL, **dict(group.filters))
        return [p.id for p in page.items]
    picked = aliased(Person)
    target = case(
        (col(picked.merged_into_id).is_not(None), col(picked.merged_into_id)),
        else_=col(picked.id),
    )
    sub = (
        select(target)
        .join(ContactGroupMember, col(ContactGroupMember.person_id) == col(picked.id))
        .where(col(ContactGroupMember.group_id) == group.id)
    )
    stmt = (
        select(col(Person.id))
        .where(
            col(Person.id).in_(sub),
            col(Person.status) != PersonStatus.merged,
            *authz.person_scope(unit),
        )
        .order_by(col(Person.name_pinyin), col(Person.id))
    )
    return list(unit.session.scalars(stmt))


def members(unit: Unit, group: ContactGroup) -> list[Person]:
    """The group's members (:func:`member_ids`) as people, in pinyin order."""
    ids = member_ids(unit, group)
    found: dict[uuid.UUID, Person] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for p in unit.session.scalars(select(Person).where(col(Person.id).in_(chunk))):
            found[p.id] = p
    return [found[i] for i in ids if i in found]


def people_of(unit: Unit, ref: str | uuid.UUID) -> list[uuid.UUID]:
    """The ids of the members of the group ``ref`` names (:func:`find_group`)."""
    return member_ids(unit, find_group(unit, ref))


def groups_of(unit: Unit, person_id: uuid.UUID) -> list[ContactGroup]:
    """The groups the unit sees that have this person among their members."""
    out = []
    for group in list_groups(unit):
        if group.kind == GroupKind.static:
            if person_id in member_ids(unit, group):
                out.append(group)
            continue
        with authz.narrowed_to(unit, [person_id]):
            if member_ids(unit, group):
                out.append(group)
    return out


def group_json(unit: Unit, group: ContactGroup, *, with_members: bool = False) -> dict[str, Any]:
    """The stable JSON form of a group (docs/cli-json.md); ``with_members`` adds the
    members the reader sees (id, name, pinyin, region)."""
    people = members(unit, group)
    data: dict[str, Any] = {
        "id": str(group.id),
        "name": group.name,
        "kind": group.kind.value,
        "shared": group.shared,
        "owner_id": str(group.owner_id) if group.owner_id else None,
        "query": group.query,
        "filters": dict(group.filters),
        "notes": group.notes,
        "count": len(people),
        "created_at": group.created_at.isoformat(),
        "updated_at": group.updated_at.isoformat(),
    }
    if with_members:
        data["members"] = [
            {"id": str(p.id), "name": p.name, "pinyin": p.name_pinyin, "region": p.region}
            for p in people
        ]
    return data
