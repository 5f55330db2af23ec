"""Invitations, RSVPs and attendance of union_liaison's events, and their summary."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crm_core import api
from crm_core.api import (
    N_,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Participation,
    Rsvp,
    Unit,
    ValidationError,
)

from .kinds import BRIEFING, GATHERING


def _event(unit: Unit, interaction_id: uuid.UUID | str) -> Interaction:
    i = api.get_interaction(unit, interaction_id)
    if i.kind not in (GATHERING, BRIEFING):
        raise ValidationError.one(
            "interaction_id", str(i.id), N_("a {kind}, not a gathering or briefing"), kind=i.kind
        )
    return i


def invite(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    people: Iterable[uuid.UUID | str],
    *,
    role: str | None = None,
) -> list[InteractionParticipant]:
    """Invite people to a gathering or briefing (RSVP "invited"); those already on the
    list are left as they are. ``role`` defaults to the kind's (invitee, briefed). The
    gathering's ``sequence`` goes up when anyone is added. Returns the rows added."""
    i = _event(unit, interaction_id)
    ids = [api.get_person(unit, p).id for p in people]
    return api.add_participants(
        unit,
        i.id,
        people=ids,
        role=role,
        rsvp=Rsvp.invited,
    )


def rsvp(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    person_id: uuid.UUID | str,
    answer: Rsvp | str,
) -> InteractionParticipant:
    """Record an invitee's answer: "accepted", "declined" (or back to "invited"). It may
    change until the event is cancelled; the person must have been invited."""
    i = _event(unit, interaction_id)
    return api.set_participation(unit, i.id, person_id=person_id, rsvp=answer)


def attendance(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    present: Iterable[uuid.UUID | str] = (),
    absent: Iterable[uuid.UUID | str] = (),
) -> list[InteractionParticipant]:
    """Record who came and who did not, once the event has begun (it is done or its
    start has passed). Everyone named must be on the list; nobody may be both present
    and absent. Returns the rows changed."""
    i = _event(unit, interaction_id)
    came = [str(p) for p in present]
    missed = [str(p) for p in absent]
    both = sorted(set(came) & set(missed))
    if both:
        raise ValidationError.one("absent", both, N_("named as present and as absent"))
    rows = [api.set_participation(unit, i.id, person_id=p, attended=True) for p in came]
    rows += [api.set_participation(unit, i.id, person_id=p, attended=False) for p in missed]
    return rows


@dataclass(frozen=True)
class AttendanceSummary:
    """Invitations, answers and attendance of a gathering or briefing (people only; the
    office's hosts are not counted). ``awaiting`` have not answered yet; ``unrecorded``
    have no attendance recorded."""

    interaction_id: uuid.UUID
    status: InteractionStatus
    invited: int
    accepted: int
    declined: int
    awaiting: int
    attended: int
    absent: int
    unrecorded: int
    people: list[Participation]

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "interaction_id": str(self.interaction_id),
            "status": self.status.value,
            "invited": self.invited,
            "accepted": self.accepted,
            "declined": self.declined,
            "awaiting": self.awaiting,
            "attended": self.attended,
            "absent": self.absent,
            "unrecorded": self.unrecorded,
            "people": [p.as_json() for p in self.people],
        }


def attendance_summary(unit: Unit, interaction_id: uuid.UUID | str) -> AttendanceSummary:
    """How many were invited, accepted, declined, have not answered, came and did not
    come, with everyone's row (people in pinyin order)."""
    i = _event(unit, interaction_id)
    people = [p for p in api.participation(unit, i.id) if p.person_id is not None]
    return AttendanceSummary(
        interaction_id=i.id,
        status=i.status,
        invited=len(people),
        accepted=sum(p.rsvp == Rsvp.accepted for p in people),
        declined=sum(p.rsvp == Rsvp.declined for p in people),
        awaiting=sum(p.rsvp is None or p.rsvp == Rsvp.invited for p in people),
        attended=sum(p.attended is True for p in people),
        absent=sum(p.attended is False for p in people),
        unrecorded=sum(p.attended is None for p in people),
        people=people,
    )
