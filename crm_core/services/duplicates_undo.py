"""Undoing a merge from its audit entry (:func:`unmerge`), within ``[duplicates]
undo_days`` of it: the dropped record comes back as it was, with every link it had
(interactions, organisations, categories, committees, assignments, follow-ups, linked
accounts), and the kept record gets its own values back.

Only an administrator undoes a merge: the audit log it starts from is theirs to read
(on PostgreSQL no one else may even select it). An undo is refused, naming the fields,
when either record was changed after the merge (restoring would throw that change
away); links added to the kept record since then stay with it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Enum, delete, insert, select, update
from sqlmodel import col

from crm_core import authz, clock
from crm_core.errors import NotFound, ValidationError
from crm_core.i18n import N_, _
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    InteractionParticipant,
    OrganisationContact,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
    table_of,
)
from crm_core.services._common import as_uuid
from crm_core.services.contacts_merge import UNRESTORED, chosen_codes
from crm_core.services.contacts_search import categories_of, committees_of, get_person
from crm_core.services.links_merge import unmerge_links
from crm_core.unit import Unit, jsonable

_ID_COLUMNS = {"id", "interaction_id", "person_id", "account_id", "organisation_id"}


def merge_entry(unit: Unit, audit_id: uuid.UUID | str) -> AuditLog:
    """The audit entry of a merge (NotFound for any other id)."""
    entry = unit.session.get(AuditLog, as_uuid(audit_id, "audit entry"))
    if entry is None or entry.action != "merge" or not entry.before or not entry.after:
        raise NotFound("merge", str(audit_id))
    return entry


def _row(data: dict[str, Any]) -> dict[str, Any]:
    """A link row from its JSON form, ids as UUIDs again."""
    return {
        k: uuid.UUID(v) if k in _ID_COLUMNS and isinstance(v, str) else v for k, v in data.items()
    }


def _restore(person: Person, image: dict[str, Any]) -> None:
    columns = table_of(Person).c
    for key, value in image.items():
        if key in UNRESTORED:
            continue
        kind = columns[key].type
        if key.endswith("_id") and isinstance(value, str):
            value = uuid.UUID(value)
        elif isinstance(kind, Enum) and kind.enum_class is not None and value is not None:
            value = kind.enum_class(value)  # the JSON image holds the enum's value
        setattr(person, key, value)


def _changed(person: Person, image: dict[str, Any]) -> list[str]:
    return [
        k for k, v in image.items() if k not in UNRESTORED and jsonable(getattr(person, k)) != v
    ]


def _codes(
    unit: Unit, model: Any, column: str, keep: Person, drop: Person, saved: dict[str, Any],
    side: str, now: list[str],
) -> None:  # fmt: skip
    """Give ``drop`` its codes back and take from ``keep`` what the merge added (and
    return what it removed), leaving codes given to ``keep`` since."""
    mine, theirs = saved["keep"], saved["drop"]
    merged = set(chosen_codes(side, mine, theirs))
    restored = (set(now) - (merged - set(mine))) | (set(mine) - merged)
    for pid, codes in ((keep.id, sorted(restored)), (drop.id, theirs)):
        unit.session.execute(delete(model).where(model.person_id == pid))
        if codes:
            unit.session.execute(insert(model), [{"person_id": pid, column: c} for c in codes])


def unmerge(unit: Unit, audit_id: uuid.UUID | str) -> tuple[Person, Person]:
    """Undo the merge of audit entry ``audit_id``; returns (kept, restored) records.
    ValidationError when the merge is older than ``undo_days``, was undone already, or
    either record changed since."""
    authz.require_admin(unit, _("undo a merge"))
    entry = merge_entry(unit, audit_id)
    days = unit.config.sections.duplicates.undo_days
    at: datetime = entry.at
    if clock.now() - at > timedelta(days=days):
        raise ValidationError.one(
            "audit_id", str(audit_id),
            N_("the merge is more than {days} days old ([duplicates] undo_days)"), days=days,
        )  # fmt: skip
    before, after = entry.before or {}, entry.after or {}
    links = before.get("links")
    if links is None:
        raise ValidationError.one(
            "audit_id", str(audit_id), N_("this merge was made before merges could be undone")
        )
    keep, drop = get_person(unit, after["keep"]), get_person(unit, after["merged"])
    undone = unit.session.scalars(
        select(AuditLog).where(
            col(AuditLog.action) == "unmerge", col(AuditLog.entity_id) == str(keep.id)
        )
    )
    if drop.status != PersonStatus.merged or any(
        (e.after or {}).get("undoes") == str(entry.id) for e in undone
    ):
        raise ValidationError.one("audit_id", str(audit_id), N_("this merge was undone already"))
    drop_after = {**before["drop"], "status": "merged", "merged_into_id": str(keep.id)}
    changed = _changed(keep, after["keep_after"]) + _changed(drop, drop_after)
    if changed:
        raise ValidationError.one(
            "audit_id", str(audit_id),
            N_("changed since the merge ({fields}): undo by hand"), fields=", ".join(changed),
        )  # fmt: skip
    session = unit.session
    take = after.get("take") or {}
    _codes(unit, PersonCategory, "category", keep, drop, links["categories"],
           take.get("categories", "both"), categories_of(unit, keep.id))  # fmt: skip
    _codes(unit, PersonCommittee, "committee", keep, drop, links["committees"],
           take.get("committees", "both"), committees_of(unit, keep.id))  # fmt: skip
    links_tables: tuple[tuple[Any, str, dict[str, Any]], ...] = (
        (InteractionParticipant, "id", links["participants"]),
        (OrganisationContact, "organisation_id", links["organisations"]),
    )
    for link, key, saved in links_tables:
        for row in saved["moved"]:
            session.execute(
                update(link)
                .where(getattr(link, key) == uuid.UUID(row[key]), link.person_id == keep.id)
                .values(person_id=drop.id)
            )
        if saved["deleted"]:
            session.execute(insert(link), [_row(r) for r in saved["deleted"]])
    unmerge_links(unit, keep, drop, links.get("relations_tags"))  # issue 18
    ended = set(links["ended"])
    moved: tuple[tuple[Any, str, list[str]], ...] = (
        (Assignment, "contact_id", links["assignments"]),
        (FollowUp, "person_id", links["follow_ups"]),
        (Account, "person_id", links["accounts"]),
        (Person, "merged_into_id", links.get("merged_records", [])),
    )
    for model, column, ids in moved:
        for row in session.scalars(
            select(model).where(col(model.id).in_([uuid.UUID(i) for i in ids]))
        ):
            if getattr(row, column) == keep.id:
                setattr(row, column, drop.id)
            if str(row.id) in ended and isinstance(row, Assignment):
                row.end_on = None
    session.flush()
    session.expire_all()  # the bulk statements above bypassed the identity map
    keep, drop = get_person(unit, keep.id), get_person(unit, drop.id)
    _restore(keep, before["keep"])
    _restore(drop, before["drop"])
    session.add(
        AuditLog(
            actor_id=unit.actor.id if unit.actor else None,
            actor=unit.actor_name,
            action="unmerge",
            entity="person",
            entity_id=str(keep.id),
            after={"undoes": str(entry.id), "keep": str(keep.id), "restored": str(drop.id)},
        )
    )
    session.flush()
    return get_person(unit, keep.id), get_person(unit, drop.id)
