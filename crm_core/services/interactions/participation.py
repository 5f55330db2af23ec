"""Participation: invitations, RSVP and attendance of the people on an interaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import clock, validation
from crm_core.errors import NotFound, ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Account,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    Rsvp,
)
from crm_core.services._common import as_uuid, check_version, clean_text
from crm_core.services.interactions.saving import (
    _atomic,
    _editable,
    _kind,
    _participants,
    _save_hooks,
    get_interaction,
    participants_of,
)
from crm_core.unit import Unit


@dataclass(frozen=True)
class Participation:
    """One participant as a list shows them: a person or an account, the name to show,
    role, RSVP (None: not asked) and attendance (None: not recorded)."""

    person_id: uuid.UUID | None
    account_id: uuid.UUID | None
    name: str
    role: str
    rsvp: Rsvp | None
    attended: bool | None

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "person_id": str(self.person_id) if self.person_id else None,
            "account_id": str(self.account_id) if self.account_id else None,
            "name": self.name,
            "role": self.role,
            "rsvp": self.rsvp.value if self.rsvp else None,
            "attended": self.attended,
        }


def _rsvp(value: Rsvp | str | None) -> Rsvp | None:
    if value is None:
        return None
    try:
        return Rsvp(value.strip() if isinstance(value, str) else value)
    except ValueError:
        allowed = ", ".join(r.value for r in Rsvp)
        raise ValidationError.one(
            "rsvp", value, N_("must be one of {allowed}"), allowed=allowed
        ) from None


def _open_for_participants(i: Interaction) -> None:
    if i.status is InteractionStatus.cancelled:
        raise ValidationError.one(
            "status", i.status.value, N_("a cancelled interaction's participants cannot change")
        )


@_atomic
def add_participants(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    people: Sequence[uuid.UUID | str] = (),
    accounts: Sequence[uuid.UUID | str] = (),
    role: str | None = None,
    rsvp: Rsvp | str | None = None,
    expected_version: int | None = None,
) -> list[InteractionParticipant]:
    """Add people and accounts to a planned or done interaction (an invitation list
    growing, someone who joined after all); those already taking part are skipped, their
    role and RSVP left as they are. ``role`` defaults to the kind's person or account
    role; ``rsvp`` (invited, accepted, declined) is given to everyone added.

    When anyone was added the interaction's ``sequence`` goes up (calendars notice the
    new attendee list) and plugins see the change through ``validate_interaction`` and
    ``interaction_saved``; a refusal writes nothing. Returns the rows added."""
    validation.check_texts({"role": role})
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    _open_for_participants(i)
    answer = _rsvp(rsvp)
    spec = _kind(unit, i.kind)
    wanted = _participants(unit, spec, list(people), list(accounts), [])
    present = {(p.person_id, p.account_id) for p in participants_of(unit, i.id)}
    added: list[InteractionParticipant] = []
    for p in wanted:
        if (p.person_id, p.account_id) in present:
            continue
        row = InteractionParticipant(
            interaction_id=i.id,
            person_id=p.person_id,
            account_id=p.account_id,
            role=clean_text(role) or p.role or "participant",
            rsvp=answer,
        )
        unit.session.add(row)
        added.append(row)
    if added:
        i.sequence += 1
        _save_hooks(unit, i, spec, created=False, became_done=False)
    return added


@_atomic
def remove_participants(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    people: Sequence[uuid.UUID | str] = (),
    accounts: Sequence[uuid.UUID | str] = (),
    expected_version: int | None = None,
) -> int:
    """Take people and accounts off an interaction (an invitation withdrawn); those not
    taking part are skipped. An interaction keeps at least one participant. Like adding,
    bumps ``sequence`` and runs the plugins' save hooks when anyone was removed. Returns
    how many were removed."""
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    _open_for_participants(i)
    gone_people = {as_uuid(p, "person") for p in people}
    gone_accounts = {as_uuid(a, "account") for a in accounts}
    rows = participants_of(unit, i.id)
    doomed = [
        r for r in rows
        if (r.person_id is not None and r.person_id in gone_people)
        or (r.account_id is not None and r.account_id in gone_accounts)
    ]  # fmt: skip
    if not doomed:
        return 0
    if len(doomed) == len(rows):
        raise ValidationError.one(
            "people",
            sorted(str(x) for x in gone_people | gone_accounts),
            N_("an interaction keeps at least one participant"),
        )
    for r in doomed:
        unit.session.delete(r)
    i.sequence += 1
    _save_hooks(unit, i, _kind(unit, i.kind), created=False, became_done=False)
    return len(doomed)


@_atomic
def set_participation(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    person_id: uuid.UUID | str | None = None,
    account_id: uuid.UUID | str | None = None,
    rsvp: Rsvp | str | None = None,
    attended: bool | None = None,
) -> InteractionParticipant:
    """Record one participant's answer to an invitation and whether they came.

    Name exactly one of ``person_id`` (a merged record's old id is followed to the kept
    one) and ``account_id``; they must already take part (NotFound otherwise: invite
    them with :func:`add_participants`). ``rsvp`` is invited, accepted or declined and
    may change any number of times while the interaction is not cancelled.
    ``attended`` can be recorded once the interaction has begun (it is done, or its start
    has passed), never for a cancelled one. None leaves a value as it is.

    The attendee list itself does not change, so ``sequence`` stays and the save hooks
    are not called."""
    if (person_id is None) == (account_id is None):
        raise ValidationError.one(
            "person_id", person_id, N_("name exactly one person or account taking part")
        )
    i = _editable(unit, interaction_id)
    answer = _rsvp(rsvp)
    stmt = select(InteractionParticipant).where(col(InteractionParticipant.interaction_id) == i.id)
    if person_id is not None:
        pid = as_uuid(person_id, "person")
        person = unit.session.get(Person, pid)
        seen = {pid}
        while person is not None and person.merged_into_id and person.merged_into_id not in seen:
            seen.add(person.merged_into_id)
            person = unit.session.get(Person, person.merged_into_id)
        who = f"person {person_id}"
        stmt = stmt.where(col(InteractionParticipant.person_id) == (person.id if person else pid))
    else:
        assert account_id is not None  # the check above: exactly one of the two is given
        who = f"account {account_id}"
        stmt = stmt.where(col(InteractionParticipant.account_id) == as_uuid(account_id, "account"))
    row = unit.session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFound("participant", f"{who} in interaction {i.id}")
    if answer is None and attended is None:
        return row
    _open_for_participants(i)
    if attended is not None:
        begun = i.status is InteractionStatus.done or i.start_at <= clock.now()
        if not begun:
            raise ValidationError.one(
                "attended",
                attended,
                N_("attendance is recorded once the {kind} has begun (it starts {start})"),
                kind=i.kind,
                start=i.start_at.isoformat(),
            )
        row.attended = attended
    if answer is not None:
        row.rsvp = answer
    unit.session.flush()
    return row


def participation(unit: Unit, interaction_id: uuid.UUID | str) -> list[Participation]:
    """Everyone taking part in an interaction with the name to show: people in pinyin
    order, then accounts by display name."""
    i = get_interaction(unit, interaction_id)
    out: list[Participation] = []
    people = unit.session.execute(
        select(InteractionParticipant, Person)
        .join(Person, col(Person.id) == col(InteractionParticipant.person_id))
        .where(col(InteractionParticipant.interaction_id) == i.id)
        .order_by(col(Person.name_pinyin), col(Person.id))
    )
    for p, person in people:
        out.append(Participation(p.person_id, None, person.name, p.role, p.rsvp, p.attended))
    accounts = unit.session.execute(
        select(InteractionParticipant, Account)
        .join(Account, col(Account.id) == col(InteractionParticipant.account_id))
        .where(col(InteractionParticipant.interaction_id) == i.id)
        .order_by(col(Account.display_name), col(Account.id))
    )
    for p, account in accounts:
        out.append(
            Participation(None, p.account_id, account.display_name, p.role, p.rsvp, p.attended)
        )
    return out
