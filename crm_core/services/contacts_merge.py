"""Merging two records of the same person (:func:`merge_people`), keeping all their
history on the record that stays.

The audit entry of a merge (action ``merge``) holds what an undo needs
(:mod:`crm_core.services.duplicates_undo`): ``before`` has both records' before-images
(``keep``, ``drop``) and every link of the dropped record as it was (``links``: the
participant rows moved or dropped because the kept record took part already, the
organisation contacts likewise, the assignments, follow-ups and accounts moved, the
assignments the merge ended, both records' categories and committees, their relations
and tags: :mod:`crm_core.services.links_merge`); ``after`` has
the kept record as the merge left it (``keep_after``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlmodel import col

from crm_core import authz, clock, pinyin
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.i18n import N_, _
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    Interaction,
    InteractionParticipant,
    OrganisationContact,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
    table_of,
)
from crm_core.phones import search_digits
from crm_core.services.contacts_search import categories_of, committees_of, get_person
from crm_core.services.links_merge import merge_links
from crm_core.unit import Unit, snapshot

# Fields a reviewer picks one side of (``birth`` is year and month together).
SCALAR_FIELDS = (
    "name",
    "gender",
    "birth",
    "ethnicity",
    "party",
    "sector",
    "region",
    "employer",
    "title",
    "mobile",
    "email",
    "address",
    "membership",
    "organisation_id",
)
# Fields that may keep both sides' values (the default for these).
BOTH_FIELDS = ("phones", "categories", "committees", "notes")
TAKE_FIELDS = SCALAR_FIELDS + BOTH_FIELDS
# Columns the undo does not restore: the row's identity and bookkeeping.
UNRESTORED = ("id", "created_at", "updated_at", "version")


def check_take(take: Mapping[str, str] | None) -> dict[str, str]:
    """``take`` (field → ``keep``, ``drop`` or, for phones, categories, committees and
    notes, ``both``) checked: an unknown field or side is a ValidationError naming it."""
    out: dict[str, str] = {}
    for name, side in (take or {}).items():
        if name not in TAKE_FIELDS:
            raise ValidationError.one(
                "take",
                name,
                N_("no such field (the fields: {known})"),
                known=", ".join(TAKE_FIELDS),
            )
        sides = ("keep", "drop", "both") if name in BOTH_FIELDS else ("keep", "drop")
        if side not in sides:
            raise ValidationError.one(
                f"take.{name}", side, N_("must be one of {sides}"), sides=", ".join(sides)
            )
        out[name] = side
    return out


def field_value(person: Person, name: str, cats: list[str], comms: list[str]) -> Any:
    """The value of a reviewable field of ``person`` (``birth`` as "1965-03")."""
    if name == "birth":
        if person.birth_year is None:
            return None
        month = f"-{person.birth_month:02d}" if person.birth_month else ""
        return f"{person.birth_year:04d}{month}"
    if name == "categories":
        return cats
    if name == "committees":
        return comms
    value = getattr(person, name)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value.value if hasattr(value, "value") else value


def default_side(name: str, keep_value: Any, drop_value: Any) -> str:
    """What a merge keeps of a field nobody chose for: both sides of the listed ones,
    else the kept record's value, or the duplicate's where the kept record has none."""
    if name in BOTH_FIELDS:
        return "both"
    return "drop" if keep_value in (None, "", []) and drop_value not in (None, "", []) else "keep"


def _check_confidential(unit: Unit, drop: Person) -> None:
    # Moving someone out of a confidential talk is changing the talk: only those who may
    # read it (PostgreSQL's row-level security would silently skip the row otherwise).
    if unit.system or unit.is_admin:
        return
    talks = unit.session.scalars(
        select(Interaction)
        .join(InteractionParticipant, col(InteractionParticipant.interaction_id) == Interaction.id)
        .where(col(InteractionParticipant.person_id) == drop.id, col(Interaction.confidential))
    )
    for talk in talks:
        if not authz.can_read_notes(unit, talk):
            raise PermissionDenied(
                _(
                    "this person takes part in confidential work {who} may not read: only "
                    "its participants and administrators may merge them"
                ).format(who=unit.actor_name)
            )


def _move_rows(unit: Unit, model: Any, key: Any, drop: Person, keep: Person) -> dict[str, Any]:
    """Re-point ``model`` rows from ``drop`` to ``keep``; where ``keep`` has the same link
    already (same ``key``), the duplicate's row is deleted instead. Returns both lists of
    rows as they were (for the undo)."""
    table = table_of(model)
    already = set(unit.session.scalars(select(key).where(model.person_id == keep.id)))
    rows = [
        dict(r._mapping)
        for r in unit.session.execute(select(table).where(model.person_id == drop.id))
    ]
    gone = [r for r in rows if r[key.key] in already]
    unit.session.execute(delete(model).where(model.person_id == drop.id, key.in_(already)))
    unit.session.execute(update(model).where(model.person_id == drop.id).values(person_id=keep.id))
    return {
        "moved": [_jsonable(r) for r in rows if r[key.key] not in already],
        "deleted": [_jsonable(r) for r in gone],
    }


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, uuid.UUID) else v.value if hasattr(v, "value") else v)
            for k, v in row.items()}  # fmt: skip


def _set_codes(unit: Unit, model: Any, column: str, person_id: uuid.UUID, codes: list[str]) -> None:
    unit.session.execute(delete(model).where(model.person_id == person_id))
    if codes:
        unit.session.execute(
            insert(model), [{"person_id": person_id, column: code} for code in codes]
        )


def chosen_codes(side: str, mine: list[str], theirs: list[str]) -> list[str]:
    """The codes (categories, committees) a merge leaves on the kept record."""
    if side == "keep":
        return list(mine)
    if side == "drop":
        return list(theirs)
    return sorted({*mine, *theirs})


def _apply_fields(keep: Person, drop: Person, take: dict[str, str], values: dict[str, Any]) -> None:
    for name in SCALAR_FIELDS:
        side = take.get(name) or default_side(name, values["keep"][name], values["drop"][name])
        if side != "drop":
            continue
        if name == "birth":
            keep.birth_year, keep.birth_month = drop.birth_year, drop.birth_month
        elif name == "name":
            keep.name = drop.name
            keep.name_pinyin, keep.name_initials = pinyin.name_pinyin(drop.name)
        else:
            setattr(keep, name, getattr(drop, name))
    # Every number of both, unless one side's other phones were chosen; with both, the
    # mobile not kept as the mobile stays among the phones.
    side = take.get("phones", "both")
    pool = [
        *(keep.phones if side != "drop" else []),
        *([values["keep"]["mobile"], values["drop"]["mobile"]] if side == "both" else []),
        *(drop.phones if side != "keep" else []),
    ]
    keep.phones = list(dict.fromkeys(p for p in pool if p and p != keep.mobile))
    keep.phone_digits = search_digits([keep.mobile, *keep.phones])
    side = take.get("notes", "both")
    if side == "drop":
        keep.notes = drop.notes
    elif side == "both" and drop.notes:
        keep.notes = f"{keep.notes}\n{drop.notes}" if keep.notes else drop.notes
    keep.extra = {**drop.extra, **keep.extra}


def merge_people(
    unit: Unit,
    keep_id: uuid.UUID | str,
    drop_id: uuid.UUID | str,
    *,
    take: Mapping[str, str] | None = None,
) -> Person:
    """:func:`merge_pair`, returning the kept record."""
    return merge_pair(unit, keep_id, drop_id, take=take)[0]


def merge_pair(
    unit: Unit,
    keep_id: uuid.UUID | str,
    drop_id: uuid.UUID | str,
    *,
    take: Mapping[str, str] | None = None,
) -> tuple[Person, uuid.UUID]:
    """Fold the duplicate ``drop_id`` into ``keep_id``: every interaction, assignment,
    follow-up, organisation, category, committee and linked account of the duplicate
    moves to the kept record. Each field keeps the kept record's value, or the
    duplicate's where the kept one has none, unless ``take`` chooses (field → ``keep``
    / ``drop``; phones, categories, committees and notes default to ``both``). The
    duplicate stays as a ``merged`` record pointing at the kept one, so old references
    still resolve. Both must be visible to the unit (county staff: both of their
    region), and whoever may not read a confidential talk of the duplicate may not
    merge it. One audit entry (action ``merge``) holds what an undo needs; returns the
    kept record and that entry's id."""
    chosen = check_take(take)
    keep = get_person(unit, keep_id)
    drop = get_person(unit, drop_id)
    if keep.id == drop.id:
        raise ValidationError.one("drop_id", str(drop_id), N_("cannot merge a person with itself"))
    for person, name in ((drop, "drop_id"), (keep, "keep_id")):
        if person.status == PersonStatus.merged:
            raise ValidationError.one(
                name, str(person.id), N_("already merged into another record")
            )
    _check_confidential(unit, drop)
    if chosen.get("region") == "drop":
        authz.check_move(unit, drop.region, _("this person"))
    session = unit.session
    cats = {"keep": categories_of(unit, keep.id), "drop": categories_of(unit, drop.id)}
    comms = {"keep": committees_of(unit, keep.id), "drop": committees_of(unit, drop.id)}
    values = {
        side: {n: field_value(p, n, cats[side], comms[side]) for n in SCALAR_FIELDS}
        for side, p in (("keep", keep), ("drop", drop))
    }
    before: dict[str, Any] = {"keep": snapshot(keep), "drop": snapshot(drop)}
    links: dict[str, Any] = {
        "categories": cats,
        "committees": comms,
        "participants": _move_rows(
            unit, InteractionParticipant, InteractionParticipant.interaction_id, drop, keep
        ),
        "organisations": _move_rows(
            unit, OrganisationContact, OrganisationContact.organisation_id, drop, keep
        ),
    }
    links["relations_tags"] = merge_links(unit, keep, drop)  # issue 18: relations, tags
    _set_codes(unit, PersonCategory, "category", drop.id, [])
    _set_codes(unit, PersonCommittee, "committee", drop.id, [])
    kept_cats = chosen_codes(chosen.get("categories", "both"), cats["keep"], cats["drop"])
    kept_comms = chosen_codes(chosen.get("committees", "both"), comms["keep"], comms["drop"])
    _set_codes(unit, PersonCategory, "category", keep.id, kept_cats)
    _set_codes(unit, PersonCommittee, "committee", keep.id, kept_comms)
    session.expire_all()  # the bulk statements above bypassed the identity map
    keep, drop = get_person(unit, keep.id), get_person(unit, drop.id)
    kept_keepers = {
        a.keeper_id
        for a in session.scalars(
            select(Assignment).where(
                col(Assignment.contact_id) == keep.id, col(Assignment.end_on).is_(None)
            )
        )
    }
    moved: dict[str, list[str]] = {
        "assignments": [], "ended": [], "follow_ups": [], "accounts": [], "merged_records": []
    }  # fmt: skip
    for row in session.scalars(select(Assignment).where(col(Assignment.contact_id) == drop.id)):
        row.contact_id = keep.id
        moved["assignments"].append(str(row.id))
        if row.end_on is None and row.keeper_id in kept_keepers:
            # The keeper already looks after the kept record: one active assignment is
            # enough; the duplicate's ends today and stays in the history.
            row.end_on = clock.today(unit.config.tz)
            moved["ended"].append(str(row.id))
    for fu in session.scalars(select(FollowUp).where(col(FollowUp.person_id) == drop.id)):
        fu.person_id = keep.id
        moved["follow_ups"].append(str(fu.id))
    for acct in session.scalars(select(Account).where(col(Account.person_id) == drop.id)):
        acct.person_id = keep.id
        moved["accounts"].append(str(acct.id))
    # Records merged into the duplicate earlier now point at the kept one (one hop).
    for earlier in session.scalars(select(Person).where(col(Person.merged_into_id) == drop.id)):
        earlier.merged_into_id = keep.id
        moved["merged_records"].append(str(earlier.id))
    links.update(moved)
    before["links"] = links
    _apply_fields(keep, drop, chosen, values)
    drop.status = PersonStatus.merged
    drop.merged_into_id = keep.id
    entry_id = uuid.uuid4()
    session.add(
        AuditLog(
            id=entry_id,
            actor_id=unit.actor.id if unit.actor else None,
            actor=unit.actor_name,
            action="merge",
            entity="person",
            entity_id=str(keep.id),
            before=before,
            after={
                "keep": str(keep.id),
                "merged": str(drop.id),
                "take": chosen,
                "keep_after": {k: v for k, v in snapshot(keep).items() if k not in UNRESTORED},
            },
        )
    )
    session.flush()
    return get_person(unit, keep.id), entry_id
