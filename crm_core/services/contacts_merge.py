"""Merging two records of the same person (:func:`merge_people`), keeping all their
history on the record that stays."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import col

from crm_core import clock
from crm_core.errors import ValidationError
from crm_core.i18n import N_
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
)
from crm_core.phones import search_digits
from crm_core.services.contacts_search import (
    get_person,
)
from crm_core.unit import (
    Unit,
    snapshot,
)


def _move_links(unit: Unit, model: Any, key: Any, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    """Re-point ``model`` rows from one person to another; where the other already has
    the same link (same ``key``), the duplicate row is dropped instead."""
    already = select(key).where(model.person_id == to_id)
    unit.session.execute(delete(model).where(model.person_id == from_id, key.in_(already)))
    unit.session.execute(update(model).where(model.person_id == from_id).values(person_id=to_id))


def merge_people(unit: Unit, keep_id: uuid.UUID | str, drop_id: uuid.UUID | str) -> Person:
    """Fold the duplicate ``drop_id`` into ``keep_id``: every interaction, assignment,
    follow-up, category and committee of the duplicate moves to the kept record; fields
    the kept record lacks are filled from the duplicate. The duplicate stays as a
    ``merged`` record pointing at the kept one, so old references still resolve."""
    keep = get_person(unit, keep_id)
    drop = get_person(unit, drop_id)
    if keep.id == drop.id:
        raise ValidationError.one("drop_id", str(drop_id), N_("cannot merge a person with itself"))
    if drop.status == PersonStatus.merged:
        raise ValidationError.one("drop_id", str(drop_id), N_("already merged into another record"))
    session = unit.session
    before = {"keep": snapshot(keep), "drop": snapshot(drop)}
    for model, key in (
        (InteractionParticipant, InteractionParticipant.interaction_id),
        (PersonCategory, PersonCategory.category),
        (PersonCommittee, PersonCommittee.committee),
        (OrganisationContact, OrganisationContact.organisation_id),
    ):
        _move_links(unit, model, key, drop.id, keep.id)
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
    for row in session.scalars(select(Assignment).where(col(Assignment.contact_id) == drop.id)):
        row.contact_id = keep.id
        if row.end_on is None and row.keeper_id in kept_keepers:
            # The keeper already looks after the kept record: one active assignment is
            # enough; the duplicate's ends today and stays in the history.
            row.end_on = clock.today(unit.config.tz)
    for fu in session.scalars(select(FollowUp).where(col(FollowUp.person_id) == drop.id)):
        fu.person_id = keep.id
    for acct in session.scalars(select(Account).where(col(Account.person_id) == drop.id)):
        acct.person_id = keep.id
    for attr in (
        "gender",
        "birth_year",
        "birth_month",
        "ethnicity",
        "party",
        "sector",
        "region",
        "employer",
        "title",
        "mobile",
        "email",
        "address",
        "organisation_id",
    ):
        if getattr(keep, attr) is None and getattr(drop, attr) is not None:
            setattr(keep, attr, getattr(drop, attr))
    keep.phones = list(
        dict.fromkeys(
            [*keep.phones, *[p for p in [drop.mobile, *drop.phones] if p and p != keep.mobile]]
        )
    )
    keep.phone_digits = search_digits([keep.mobile, *keep.phones])
    if drop.notes:
        keep.notes = f"{keep.notes}\n{drop.notes}" if keep.notes else drop.notes
    keep.extra = {**drop.extra, **keep.extra}
    drop.status = PersonStatus.merged
    drop.merged_into_id = keep.id
    session.add(
        AuditLog(
            actor_id=unit.actor.id if unit.actor else None,
            actor=unit.actor_name,
            action="merge",
            entity="person",
            entity_id=str(keep.id),
            before=before,
            after={"keep": str(keep.id), "merged": str(drop.id)},
        )
    )
    session.flush()
    return get_person(unit, keep.id)


# -- bulk work (roster imports) ----------------------------------------------------
