"""The public services of union_liaison: briefing coverage, the yearly gathering on a
lunar date, and invitations, RSVPs and attendance.

Like the core services, each takes a :class:`crm_core.unit.Unit` first and never
commits; errors are :mod:`crm_core.errors` exceptions naming the field and value. Lists
show only what the acting account may see (county staff: the people of their region and
the briefings and gatherings of their region or with its people, :mod:`crm_core.authz`).

The services live in :mod:`.briefings`, :mod:`.gathering` and :mod:`.attendance`; every
public name stays importable from here.
"""

from __future__ import annotations

import uuid

from crm_core import api
from crm_core.api import N_, Ambiguous, NotFound, Organisation, Unit, ValidationError

from .attendance import AttendanceSummary, attendance, attendance_summary, invite, rsvp
from .briefings import (
    DEFAULT_BRIEFED_CATEGORY,
    BriefedDocument,
    briefed_on,
    documents,
    events_between,
    members_of,
    not_briefed,
    people_at,
    reached,
)
from .gathering import (
    MID_AUTUMN,
    ensure_gathering,
    find_gathering,
    gathering_date,
    gathering_series,
    mid_autumn_date,
)

__all__ = [
    "DEFAULT_BRIEFED_CATEGORY",
    "MID_AUTUMN",
    "AttendanceSummary",
    "BriefedDocument",
    "attendance",
    "attendance_summary",
    "briefed_on",
    "documents",
    "ensure_gathering",
    "events_between",
    "find_gathering",
    "gathering_date",
    "gathering_series",
    "invite",
    "members_of",
    "mid_autumn_date",
    "not_briefed",
    "organisation_of",
    "people_at",
    "reached",
    "rsvp",
]


# -- organisations ---------------------------------------------------------------------


def organisation_of(unit: Unit, ref: str | uuid.UUID) -> Organisation:
    """The organisation ``ref`` (an id or a name) names, or a ValidationError naming
    ``data.organisation`` (the field of a liaison that holds it)."""
    try:
        return api.resolve_organisation(unit, ref)
    except NotFound:
        raise ValidationError.one(
            "data.organisation",
            str(ref),
            N_("no such organisation: give its id or its name (e.g. 民盟扬州市委员会)"),
        ) from None
    except Ambiguous as exc:
        raise ValidationError.one(
            "data.organisation",
            str(ref),
            N_("names more than one organisation: {candidates}"),
            candidates="; ".join(exc.candidates),
        ) from None
