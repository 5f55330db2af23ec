"""Reading interactions as the acting account may: what is shown of each, the notes,
a person's timeline and the JSON form."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import col

from crm_core import authz
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    Person,
)
from crm_core.services._common import as_uuid
from crm_core.services.interactions.saving import (
    get_interaction,
    participants_of,
)
from crm_core.unit import Unit


def can_read_notes(unit: Unit, interaction: Interaction) -> bool:
    """Whether the acting account may read the notes: anyone who may see an ordinary
    interaction; for a confidential one, only its participants and administrators
    (:func:`crm_core.authz.can_read_notes`)."""
    return authz.can_read_notes(unit, interaction)


def shown(unit: Unit, interaction: Interaction) -> authz.Shown:
    """What the acting account may see of the summary, notes and fields of an
    interaction (:func:`crm_core.authz.shown`): for a confidential one it may not read,
    only that it happened."""
    return authz.shown(unit, interaction)


def shown_all(unit: Unit, items: list[Interaction]) -> dict[uuid.UUID, authz.Shown]:
    """:func:`shown` for a list, by id, in one query."""
    return authz.shown_all(unit, items)


def read_notes(unit: Unit, interaction_id: uuid.UUID | str) -> str | None:
    """The notes of an interaction, or PermissionDenied for a confidential one the
    acting account may not read."""
    i = get_interaction(unit, interaction_id)
    authz.check_notes(unit, i)
    return i.notes


def timeline(
    unit: Unit,
    person_id: uuid.UUID | str,
    *,
    limit: int = 50,
    before: datetime | Interaction | None = None,
    kinds: list[str] | None = None,
) -> list[Interaction]:
    """A person's interactions of every kind, newest first (planned ones included).

    ``before`` pages on: the interactions after the given one in this order (pass the last
    one of the previous page), or those starting before a moment. Items that start at the
    same moment are ordered by id, so paging by item never skips or repeats one."""
    pid = as_uuid(person_id, "person")
    person = unit.session.get(Person, pid)
    if person is not None:
        authz.check_person(unit, person)
    stmt = (
        select(Interaction)
        .join(InteractionParticipant, col(InteractionParticipant.interaction_id) == Interaction.id)
        .where(col(InteractionParticipant.person_id) == pid, *authz.interaction_scope(unit))
    )
    if isinstance(before, Interaction):
        stmt = stmt.where(
            or_(
                col(Interaction.start_at) < before.start_at,
                and_(col(Interaction.start_at) == before.start_at, col(Interaction.id) > before.id),
            )
        )
    elif before is not None:
        stmt = stmt.where(col(Interaction.start_at) < before)
    if kinds:
        stmt = stmt.where(col(Interaction.kind).in_(kinds))
    stmt = stmt.order_by(col(Interaction.start_at).desc(), col(Interaction.id)).limit(limit)
    return list(unit.session.scalars(stmt))


def interaction_json(
    unit: Unit, interaction: Interaction, *, shown: authz.Shown | None = None
) -> dict[str, Any]:
    """The stable JSON form of an interaction (docs/cli-json.md). Of a confidential one
    the unit may not read (:func:`crm_core.authz.shown`), only that it happened shows:
    ``summary``, ``notes`` and ``data`` are null and ``notes_hidden`` is true; kind,
    times, place, participants and status stay. ``shown`` passes a decision already
    taken for a whole list (:func:`crm_core.authz.shown_all`)."""
    seen = shown or authz.shown(unit, interaction)
    return {
        "id": str(interaction.id),
        "kind": interaction.kind,
        "status": interaction.status.value,
        "start": interaction.start_at.isoformat(),
        "end": interaction.end_at.isoformat() if interaction.end_at else None,
        "all_day": interaction.all_day,
        "location": interaction.location,
        "region": interaction.region,
        "summary": seen.summary,
        "notes": seen.notes,
        # Summary, notes and the kind's own fields (topics, what was agreed) of a
        # confidential record are hidden together.
        "notes_hidden": seen.hidden,
        "confidential": interaction.confidential,
        "data": None if seen.hidden else seen.data,
        "participants": [
            {
                "person_id": str(p.person_id) if p.person_id else None,
                "account_id": str(p.account_id) if p.account_id else None,
                "role": p.role,
                "rsvp": p.rsvp.value if p.rsvp else None,
                "attended": p.attended,
            }
            for p in participants_of(unit, interaction.id)
        ],
        "sequence": interaction.sequence,
        "version": interaction.version,
        "updated_at": interaction.updated_at.isoformat(),
    }
