"""Assignments (二.9): who keeps whom, since when, at what cadence; and when they last met.

An assignment's clock is reset by any done interaction, of any kind, in which both the
keeper (as an account) and the contact (as a person) take part.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm_core import authz, clock, validation
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.kinds import Cadence  # re-exported: defined with the plugin-facing types
from crm_core.models import (
    Account,
    Assignment,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
)
from crm_core.services._common import as_uuid, by_prefix, code_of, fetch
from crm_core.types import UTCDateTime
from crm_core.unit import Unit


def assign(
    unit: Unit,
    *,
    keeper_id: uuid.UUID | str,
    contact_id: uuid.UUID | str,
    category: str | None = None,
    ideal_days: int | None = None,
    max_days: int | None = None,
    start_on: date | None = None,
    notes: str | None = None,
) -> Assignment:
    """Make ``keeper_id`` (an account) responsible for regular contact with
    ``contact_id`` (a person). The cadence defaults to the category's in config."""
    validation.check_texts({"category": category, "notes": notes})
    validation.check_day("start_on", start_on)
    keeper = fetch(unit, Account, keeper_id, "account")
    contact = authz.check_person(unit, fetch(unit, Person, contact_id, "person"))
    code = code_of(unit.app.categories, "category", category)
    for name, value in (("ideal_days", ideal_days), ("max_days", max_days)):
        if value is not None and value <= 0:
            raise ValidationError.one(name, value, N_("must be a positive number of days"))
    if ideal_days and max_days and ideal_days > max_days:
        raise ValidationError.one(
            "ideal_days", ideal_days, N_("longer than max_days ({max_days})"), max_days=max_days
        )
    start_on = start_on or clock.today(unit.config.tz)
    duplicate = unit.session.scalar(
        select(col(Assignment.id)).where(
            col(Assignment.keeper_id) == keeper.id,
            col(Assignment.contact_id) == contact.id,
            or_(col(Assignment.end_on).is_(None), col(Assignment.end_on) > start_on),
        )
    )
    if duplicate is not None:
        raise ValidationError.one(
            "contact_id",
            str(contact.id),
            N_("{contact} is already assigned to {keeper}"),
            contact=contact.name,
            keeper=keeper.display_name,
        )
    row = Assignment(
        keeper_id=keeper.id,
        contact_id=contact.id,
        category=code,
        ideal_days=ideal_days,
        max_days=max_days,
        start_on=start_on,
        notes=notes,
    )
    unit.session.add(row)
    unit.session.flush()
    return row


def end_assignment(
    unit: Unit, assignment_id: uuid.UUID | str, *, end_on: date | None = None
) -> Assignment:
    """End an assignment (the keeper no longer looks after the contact)."""
    validation.check_day("end_on", end_on)
    row = authz.check_assignment(unit, fetch(unit, Assignment, assignment_id, "assignment"))
    row.end_on = end_on or clock.today(unit.config.tz)
    unit.session.flush()
    return row


def category_cadence(unit: Unit, category: str | None) -> Cadence:
    """The cadence config (or the plugin that added the category) gives a category;
    90/180 days for none."""
    term = unit.app.categories.get(category) if category else None
    extra = term.extra if term else {}
    ideal, maximum = int(extra.get("ideal_days", 90)), int(extra.get("max_days", 180))
    return Cadence(min(ideal, maximum), maximum)


def cadence(unit: Unit, assignment: Assignment, contact: Person | None = None) -> Cadence:
    """The cadence that applies to an assignment: its own, if set; otherwise the
    strictest of its category's and the plugins' proposals (``adjust_cadence``)."""
    base = category_cadence(unit, assignment.category)
    if assignment.ideal_days or assignment.max_days:
        maximum = assignment.max_days or base.max_days
        return Cadence(min(assignment.ideal_days or base.ideal_days, maximum), maximum)
    contact = contact or unit.session.get(Person, assignment.contact_id)
    proposals = [base]
    for _plugin, proposal in unit.plugins.call_collecting(
        "adjust_cadence", unit=unit, assignment=assignment, contact=contact, cadence=base
    ):
        if isinstance(proposal, Cadence):
            proposals.append(proposal)
    return min(proposals, key=lambda c: (c.max_days, c.ideal_days))


def snooze_assignment(
    unit: Unit, assignment_id: uuid.UUID | str, *, until: date, reason: str
) -> Assignment:
    """Keep an overdue assignment off the overdue list until ``until`` (inclusive),
    saying why (the contact is abroad, ill, ...)."""
    validation.check_texts({"reason": reason})
    validation.check_day("until", until)
    row = authz.check_assignment(unit, fetch(unit, Assignment, assignment_id, "assignment"))
    if not reason or not reason.strip():
        raise ValidationError.one("reason", reason, N_("say why the contact is snoozed"))
    if until <= clock.today(unit.config.tz):
        raise ValidationError.one("until", until.isoformat(), N_("must be after today"))
    row.snoozed_until = until
    row.snooze_reason = reason.strip()
    unit.session.flush()
    return row


def list_assignments(
    unit: Unit,
    *,
    keeper_id: uuid.UUID | str | None = None,
    contact_id: uuid.UUID | str | None = None,
    active_on: date | None = None,
) -> list[Assignment]:
    """Assignments, optionally of one keeper or contact, active on a date (default
    today; pass ``date.min`` to include ended ones)."""
    day = active_on or clock.today(unit.config.tz)
    stmt = select(Assignment).where(
        col(Assignment.start_on) <= day,
        or_(col(Assignment.end_on).is_(None), col(Assignment.end_on) > day),
    )
    if active_on == date.min:
        stmt = select(Assignment)
    stmt = stmt.where(*authz.assignment_scope(unit))
    if keeper_id is not None:
        stmt = stmt.where(col(Assignment.keeper_id) == as_uuid(keeper_id, "account"))
    if contact_id is not None:
        stmt = stmt.where(col(Assignment.contact_id) == as_uuid(contact_id, "person"))
    return list(unit.session.scalars(stmt.order_by(col(Assignment.start_on))))


def last_contacts(
    unit: Unit, *, keeper_id: uuid.UUID | str | None = None
) -> dict[uuid.UUID, datetime | None]:
    """For every assignment (of one keeper, if given): when keeper and contact last took
    part together in done work, or None if never. One query, whatever the count."""
    keeper_p = aliased(InteractionParticipant)
    contact_p = aliased(InteractionParticipant)
    # The status test sits inside MAX(), not in WHERE: given a WHERE on status, SQLite
    # starts from the status index (every done interaction, a million of them) instead
    # of the contact's few participations; measured 8 s against 8 ms for 23 assignments
    # at 1,000,000 interactions (bench/RESULTS.md).
    done_start = case(
        (col(Interaction.status) == InteractionStatus.done, col(Interaction.start_at))
    )
    last = (
        select(func.max(done_start))
        .select_from(contact_p)
        .join(
            keeper_p,
            and_(
                col(keeper_p.interaction_id) == col(contact_p.interaction_id),
                col(keeper_p.account_id) == col(Assignment.keeper_id),
            ),
        )
        .join(Interaction, col(Interaction.id) == col(contact_p.interaction_id))
        .where(col(contact_p.person_id) == col(Assignment.contact_id))
        .correlate(Assignment)
        .scalar_subquery()
    )
    # type_coerce: a bare MAX() loses the column type, and with it the UTC conversion.
    stmt = select(col(Assignment.id), type_coerce(last, UTCDateTime()))
    if keeper_id is not None:
        stmt = stmt.where(col(Assignment.keeper_id) == as_uuid(keeper_id, "account"))
    return {aid: value for aid, value in unit.session.execute(stmt)}


def resolve_assignment(unit: Unit, ref: str) -> Assignment:
    """The assignment with this id or id prefix (as lists show them, 8 characters)."""
    return authz.check_assignment(unit, by_prefix(unit, Assignment, ref, "assignment"))
