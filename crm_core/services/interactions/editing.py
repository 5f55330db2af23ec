"""Correcting a logged or scheduled interaction, and deleting one entered by mistake.

Both go through the same checks as a save (the kind's schema, the plugins'
``validate_interaction``, one savepoint) and are audited like every write (the session
records each changed, added and deleted row with its values before and after).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, validation
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import FollowUp, Interaction, InteractionParticipant, InteractionStatus
from crm_core.services._common import as_uuid, check_version, clean_text
from crm_core.services.interactions.saving import (
    _atomic,
    _editable,
    _kind,
    _notes,
    _participants,
    _save_hooks,
    _times,
    participants_of,
)
from crm_core.unit import Unit

_UNSET: Any = object()


@_atomic
def update_interaction(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    summary: str | None = _UNSET,
    notes: str | None = _UNSET,
    location: str | None = _UNSET,
    data: dict[str, Any] = _UNSET,
    start: datetime = _UNSET,
    all_day: bool = _UNSET,
    people: Sequence[uuid.UUID | str] = _UNSET,
    accounts: Sequence[uuid.UUID | str] = _UNSET,
    expected_version: int | None = None,
) -> Interaction:
    """Correct an interaction: each argument given replaces what it holds (``None``
    empties a text; ``data`` is the kind's fields as a whole, checked by its schema;
    ``people`` and ``accounts``, given together or alone, are who takes part from now
    on, keeping the role and answer of those who stay). A new ``start`` keeps the
    duration. A cancelled interaction is not corrected; a confidential one only by
    those who may read it. ``expected_version`` refuses the change (Conflict) if
    someone saved it meanwhile. Returns the interaction."""
    texts = {"summary": summary, "notes": notes, "location": location}
    validation.check_texts({k: v for k, v in texts.items() if v is not _UNSET})
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    if i.status is InteractionStatus.cancelled:
        raise ValidationError.one(
            "status", i.status.value, N_("a cancelled interaction cannot be changed")
        )
    if i.confidential:
        authz.check_notes(unit, i)
    spec = _kind(unit, i.kind)
    if summary is not _UNSET:
        i.summary = clean_text(summary)
    if notes is not _UNSET:
        i.notes = _notes(notes)
    if location is not _UNSET:
        i.location = clean_text(location)
    if data is not _UNSET:
        i.data = spec.validate_data(dict(data or {}), context={"unit": unit})
    if all_day is not _UNSET:
        i.all_day = bool(all_day)
    if start is not _UNSET:
        duration = (i.end_at - i.start_at) if i.end_at else None
        end = start + duration if duration is not None else None
        i.start_at, i.end_at = _times(spec, start, end, default_now=False)
    if people is not _UNSET or accounts is not _UNSET:
        _set_participants(unit, i, people, accounts)
    i.sequence += 1
    _save_hooks(unit, i, spec, created=False, became_done=False)
    return i


def _set_participants(
    unit: Unit, i: Interaction, people: Sequence[Any], accounts: Sequence[Any]
) -> None:
    rows = participants_of(unit, i.id)
    if people is _UNSET:
        people = [r.person_id for r in rows if r.person_id]
    if accounts is _UNSET:
        accounts = [r.account_id for r in rows if r.account_id]
    wanted = _participants(unit, _kind(unit, i.kind), list(people), list(accounts), [])
    if not wanted:
        raise ValidationError.one("people", [], N_("an interaction keeps at least one participant"))
    keys = {(p.person_id, p.account_id) for p in wanted}
    present = {(r.person_id, r.account_id): r for r in rows}
    for key, row in present.items():
        if key not in keys:
            unit.session.delete(row)
    for p in wanted:
        if (p.person_id, p.account_id) not in present:
            unit.session.add(
                InteractionParticipant(
                    interaction_id=i.id,
                    person_id=p.person_id,
                    account_id=p.account_id,
                    role=p.role or "participant",
                )
            )


@_atomic
def delete_interaction(
    unit: Unit, interaction_id: uuid.UUID | str, *, expected_version: int | None = None
) -> None:
    """Delete an interaction entered by mistake, with its participants; follow-ups it
    raised stay (no longer pointing at it). Planned work that did not happen is
    cancelled instead (:func:`cancel_interaction`: it stays on record and phones see it
    cancelled). The audit log keeps every deleted row's values. A confidential one is
    deleted only by those who may read it."""
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    if i.confidential:
        authz.check_notes(unit, i)
    wanted = as_uuid(interaction_id, "interaction")
    for fu in unit.session.scalars(select(FollowUp).where(col(FollowUp.interaction_id) == wanted)):
        fu.interaction_id = None
    for row in participants_of(unit, i.id):
        unit.session.delete(row)
    unit.session.flush()
    unit.session.delete(i)
    unit.session.flush()
