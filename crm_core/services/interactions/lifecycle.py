"""Logging done work and scheduling planned work; completing, cancelling and
rescheduling it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from crm_core import authz, clock, validation
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Series,
)
from crm_core.services._common import check_version, clean_text, code_of
from crm_core.services.interactions.saving import (
    Participant,
    _atomic,
    _editable,
    _kind,
    _notes,
    _participants,
    _save_hooks,
    _times,
)
from crm_core.unit import Unit


def _check_series(unit: Unit, series_id: uuid.UUID) -> None:
    """Make sure ``series_id`` names a series row. Building a calendar writes nothing, so
    a config series shown in a calendar may have no row yet: holding one of its
    occurrences is a write anyway, so config's series are brought into the table first."""
    if unit.session.get(Series, series_id) is not None:
        return
    from crm_core.calendar.series import sync_series

    sync_series(unit)
    if unit.session.get(Series, series_id) is None:
        raise ValidationError.one("series_id", str(series_id), N_("no such series"))


def _create(
    unit: Unit,
    *,
    status: InteractionStatus,
    kind: str,
    start: datetime | None,
    end: datetime | None,
    people: Sequence[uuid.UUID | str],
    accounts: Sequence[uuid.UUID | str],
    participants: Sequence[Participant],
    location: str | None,
    region: str | None,
    summary: str | None,
    notes: str | None,
    data: dict[str, Any] | None,
    confidential: bool | None,
    all_day: bool,
    series_id: uuid.UUID | None,
) -> Interaction:
    # Every text first: nothing else reads a value with control characters in it.
    validation.check_texts(
        {"kind": kind, "location": location, "region": region, "summary": summary, "notes": notes}
    )
    spec = _kind(unit, kind)
    clean = spec.validate_data(data or {}, context={"unit": unit})
    start, end = _times(spec, start, end, default_now=status is InteractionStatus.done)
    if status is InteractionStatus.done and start > clock.now() + timedelta(minutes=5):
        raise ValidationError.one(
            "start",
            start.isoformat(),
            N_("work logged as done cannot be in the future; schedule it"),
        )
    if series_id is not None:
        _check_series(unit, series_id)
    who = _participants(unit, spec, people, accounts, participants)
    if not who:
        raise ValidationError.one("people", [], N_("name at least one participant"))
    if (
        unit.actor is not None
        and status is InteractionStatus.done
        and not any(p.account_id for p in who)
    ):
        # Whoever logs a contact made it, unless they name who did.
        who.append(Participant(account_id=unit.actor.id, role=spec.account_role))
    interaction = Interaction(
        kind=spec.code,
        status=status,
        start_at=start,
        end_at=end,
        all_day=all_day,
        location=clean_text(location),
        region=authz.check_region(
            unit, code_of(unit.config.vocab["regions"], "region", region), spec.code
        ),
        summary=clean_text(summary),
        notes=_notes(notes),
        data=clean,
        confidential=spec.confidential if confidential is None else confidential,
        series_id=series_id,
        created_by_id=unit.actor.id if unit.actor else None,
    )
    unit.session.add(interaction)
    unit.session.flush()
    for p in who:
        unit.session.add(
            InteractionParticipant(
                interaction_id=interaction.id,
                person_id=p.person_id,
                account_id=p.account_id,
                role=p.role or "participant",
                rsvp=p.rsvp,
                attended=p.attended,
            )
        )
    _save_hooks(unit, interaction, spec, created=True, became_done=status is InteractionStatus.done)
    return interaction


@_atomic
def log_interaction(
    unit: Unit,
    *,
    kind: str,
    people: Sequence[uuid.UUID | str] = (),
    accounts: Sequence[uuid.UUID | str] = (),
    participants: Sequence[Participant] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    location: str | None = None,
    region: str | None = None,
    summary: str | None = None,
    notes: str | None = None,
    data: dict[str, Any] | None = None,
    confidential: bool | None = None,
    all_day: bool = False,
) -> Interaction:
    """Record work already done (status ``done``): ``start`` defaults to now, ``end`` to
    start plus the kind's duration. The acting account is added as a participant unless
    ``accounts`` names who did it. ``data`` is checked against the kind's schema and by
    every plugin's ``validate_interaction``; nothing is written if anything is refused."""
    return _create(
        unit,
        status=InteractionStatus.done,
        kind=kind,
        start=start,
        end=end,
        people=list(people),
        accounts=list(accounts),
        participants=list(participants),
        location=location,
        region=region,
        summary=summary,
        notes=notes,
        data=data,
        confidential=confidential,
        all_day=all_day,
        series_id=None,
    )


@_atomic
def schedule_interaction(
    unit: Unit,
    *,
    kind: str,
    start: datetime,
    people: Sequence[uuid.UUID | str] = (),
    accounts: Sequence[uuid.UUID | str] = (),
    participants: Sequence[Participant] = (),
    end: datetime | None = None,
    location: str | None = None,
    region: str | None = None,
    summary: str | None = None,
    notes: str | None = None,
    data: dict[str, Any] | None = None,
    confidential: bool | None = None,
    all_day: bool = False,
    series_id: uuid.UUID | None = None,
) -> Interaction:
    """Put planned work on the calendar (status ``planned``); same checks as logging."""
    return _create(
        unit,
        status=InteractionStatus.planned,
        kind=kind,
        start=start,
        end=end,
        people=list(people),
        accounts=list(accounts),
        participants=list(participants),
        location=location,
        region=region,
        summary=summary,
        notes=notes,
        data=data,
        confidential=confidential,
        all_day=all_day,
        series_id=series_id,
    )


@_atomic
def complete_interaction(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    summary: str | None = None,
    notes: str | None = None,
    data: dict[str, Any] | None = None,
    end: datetime | None = None,
    expected_version: int | None = None,
) -> Interaction:
    """Mark planned work as done, adding what happened. Adding notes or fields to a
    confidential record is for those who may read them."""
    validation.check_texts({"summary": summary, "notes": notes})
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    if (notes or data) and i.confidential:
        authz.check_notes(unit, i)
    if i.status is not InteractionStatus.planned:
        raise ValidationError.one(
            "status", i.status.value, N_("only planned work can be completed")
        )
    spec = _kind(unit, i.kind)
    if data is not None:
        i.data = spec.validate_data({**i.data, **data}, context={"unit": unit})
    i.status = InteractionStatus.done
    i.summary = clean_text(summary) or i.summary
    i.notes = _notes(notes) or i.notes
    if end is not None:
        i.start_at, i.end_at = _times(spec, i.start_at, end, default_now=False)
    i.sequence += 1
    _save_hooks(unit, i, spec, created=False, became_done=True)
    return i


@_atomic
def cancel_interaction(
    unit: Unit, interaction_id: uuid.UUID | str, *, reason: str | None = None
) -> Interaction:
    """Cancel planned work; it stays on record (and on calendars as cancelled)."""
    validation.check_texts({"reason": reason})
    i = _editable(unit, interaction_id)
    if i.status is not InteractionStatus.planned:
        raise ValidationError.one(
            "status", i.status.value, N_("only planned work can be cancelled")
        )
    i.status = InteractionStatus.cancelled
    i.cancel_reason = clean_text(reason)
    i.sequence += 1
    _save_hooks(unit, i, _kind(unit, i.kind), created=False, became_done=False)
    return i


@_atomic
def reschedule_interaction(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    start: datetime,
    end: datetime | None = None,
    location: str | None = None,
    expected_version: int | None = None,
) -> Interaction:
    """Move planned work to another time (and place); the duration is kept unless
    ``end`` is given."""
    validation.check_texts({"location": location})
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    if i.status is not InteractionStatus.planned:
        raise ValidationError.one(
            "status", i.status.value, N_("only planned work can be rescheduled")
        )
    spec = _kind(unit, i.kind)
    duration = (i.end_at - i.start_at) if i.end_at else None
    if end is None and duration is not None:
        end = start + duration
    i.start_at, i.end_at = _times(spec, start, end, default_now=False)
    if location is not None:
        i.location = clean_text(location)
    i.sequence += 1
    _save_hooks(unit, i, spec, created=False, became_done=False)
    return i
