"""Follow-ups (社情民意、诉求): concerns raised by members and what came of them."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlmodel import col

from crm_core import authz, clock, validation
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import Account, FollowUp, FollowUpStatus, Interaction, Person
from crm_core.services._common import as_uuid, by_prefix, check_version, clean_text, fetch
from crm_core.unit import Unit

OPEN_STATES = (FollowUpStatus.open, FollowUpStatus.in_progress)


def raise_follow_up(
    unit: Unit,
    *,
    title: str,
    person_id: uuid.UUID | str | None = None,
    interaction_id: uuid.UUID | str | None = None,
    owner_id: uuid.UUID | str | None = None,
    due_on: date | None = None,
    detail: str | None = None,
) -> FollowUp:
    """Record a concern to follow up: who raised it, in which interaction, who owns it
    and by when it should be answered."""
    validation.check_texts({"title": title, "detail": detail})
    validation.check_day("due_on", due_on)
    text = clean_text(title)
    if not text:
        raise ValidationError.one("title", title, N_("a follow-up needs a title"))
    person = fetch(unit, Person, person_id, "person") if person_id else None
    if person is not None:
        authz.check_person(unit, person)
    interaction = None
    if interaction_id:
        interaction = fetch(unit, Interaction, interaction_id, "interaction")
        authz.check_interaction(unit, interaction)
    row = FollowUp(
        title=text,
        detail=detail.replace("\r\n", "\n").strip() or None if detail else None,
        person_id=person.id if person else None,
        interaction_id=interaction.id if interaction else None,
        owner_id=fetch(unit, Account, owner_id, "account").id if owner_id else None,
        due_on=due_on,
    )
    unit.session.add(row)
    unit.session.flush()
    return row


def get_follow_up(unit: Unit, follow_up_id: uuid.UUID | str) -> FollowUp:
    """The follow-up with this id (NotFound otherwise; PermissionDenied when it is
    outside the acting account's region)."""
    return authz.check_follow_up(unit, fetch(unit, FollowUp, follow_up_id, "follow-up"))


def update_follow_up(
    unit: Unit,
    follow_up_id: uuid.UUID | str,
    *,
    status: FollowUpStatus | str | None = None,
    response: str | None = None,
    owner_id: uuid.UUID | str | None = None,
    due_on: date | None = None,
    expected_version: int | None = None,
) -> FollowUp:
    """Move a follow-up along: a new status, the response given to the member, a new
    owner or due date. Answering stamps the answer date, closing the closing date."""
    validation.check_texts({"status": status, "response": response})
    validation.check_day("due_on", due_on)
    row = get_follow_up(unit, follow_up_id)
    check_version(row, expected_version, "follow-up")
    today = clock.today(unit.config.tz)
    if status is not None:
        try:
            new = FollowUpStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in FollowUpStatus)
            raise ValidationError.one(
                "status", status, N_("must be one of {allowed}"), allowed=allowed
            ) from None
        # A blank response is no response (it is stored as None below).
        if new is FollowUpStatus.answered and not ((response or "").strip() or row.response):
            raise ValidationError.one(
                "response", response, N_("an answered follow-up needs the response given")
            )
        row.status = new
        if new is FollowUpStatus.answered and row.answered_on is None:
            row.answered_on = today
        if new is FollowUpStatus.closed:
            row.closed_on = today
        elif row.closed_on is not None:
            row.closed_on = None  # reopened
    if response is not None:
        row.response = response.replace("\r\n", "\n").strip() or None
    if owner_id is not None:
        row.owner_id = fetch(unit, Account, owner_id, "account").id
    if due_on is not None:
        row.due_on = due_on
    unit.session.flush()
    return row


def _filters(
    *,
    open_only: bool = False,
    status: FollowUpStatus | str | None = None,
    person_id: uuid.UUID | str | None = None,
    owner_id: uuid.UUID | str | None = None,
    due_before: date | None = None,
    interaction_id: uuid.UUID | str | None = None,
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if interaction_id is not None:
        conds.append(col(FollowUp.interaction_id) == as_uuid(interaction_id, "interaction"))
    if open_only:
        conds.append(col(FollowUp.status).in_(OPEN_STATES))
    if status is not None:
        conds.append(col(FollowUp.status) == status)
    if person_id is not None:
        conds.append(col(FollowUp.person_id) == as_uuid(person_id, "person"))
    if owner_id is not None:
        conds.append(col(FollowUp.owner_id) == as_uuid(owner_id, "account"))
    if due_before is not None:
        conds.append(col(FollowUp.due_on) < due_before)
    return conds


def list_follow_ups(
    unit: Unit,
    *,
    open_only: bool = False,
    status: FollowUpStatus | str | None = None,
    person_id: uuid.UUID | str | None = None,
    owner_id: uuid.UUID | str | None = None,
    due_before: date | None = None,
    interaction_id: uuid.UUID | str | None = None,
    limit: int | None = None,
) -> list[FollowUp]:
    """Follow-ups, soonest due first (undated last); at most ``limit`` of them."""
    stmt = (
        select(FollowUp)
        .where(
            *_filters(
                open_only=open_only,
                status=status,
                person_id=person_id,
                owner_id=owner_id,
                due_before=due_before,
                interaction_id=interaction_id,
            ),
            *authz.follow_up_scope(unit),  # county staff: their region's
        )
        .order_by(col(FollowUp.due_on).is_(None), col(FollowUp.due_on), col(FollowUp.created_at))
        .limit(limit)
    )
    return list(unit.session.scalars(stmt))


def count_follow_ups(
    unit: Unit,
    *,
    open_only: bool = False,
    status: FollowUpStatus | str | None = None,
    person_id: uuid.UUID | str | None = None,
    owner_id: uuid.UUID | str | None = None,
    due_before: date | None = None,
    interaction_id: uuid.UUID | str | None = None,
) -> int:
    """How many follow-ups :func:`list_follow_ups` would list with the same filters."""
    conds = _filters(
        open_only=open_only,
        status=status,
        person_id=person_id,
        owner_id=owner_id,
        due_before=due_before,
        interaction_id=interaction_id,
    )
    conds += authz.follow_up_scope(unit)
    return unit.session.scalar(select(func.count()).select_from(FollowUp).where(*conds)) or 0


def resolve_follow_up(unit: Unit, ref: str) -> FollowUp:
    """The follow-up with this id or id prefix (as lists show them, 8 characters)."""
    return authz.check_follow_up(unit, by_prefix(unit, FollowUp, ref, "follow-up"))


def follow_up_json(row: FollowUp) -> dict[str, object]:
    """The stable JSON form of a follow-up (documented in docs/cli-json.md)."""

    def day(d: date | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "id": str(row.id),
        "title": row.title,
        "detail": row.detail,
        "status": row.status.value,
        "person_id": str(row.person_id) if row.person_id else None,
        "interaction_id": str(row.interaction_id) if row.interaction_id else None,
        "owner_id": str(row.owner_id) if row.owner_id else None,
        "due_on": day(row.due_on),
        "response": row.response,
        "answered_on": day(row.answered_on),
        "closed_on": day(row.closed_on),
        "created_at": row.created_at.isoformat(),
        "version": row.version,
    }
