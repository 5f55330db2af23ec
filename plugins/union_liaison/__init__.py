"""union_liaison (团结联谊): union and friendship work of a CPPCC office (seed 二.7).

Talks, visits and joint research with the democratic parties' municipal committees and
the federation of industry and commerce (``org_liaison``); briefings of the Hong Kong and
Macao members on important documents, with who has not been briefed yet (``briefing``);
and gatherings with invitations, RSVPs and attendance (``gathering``), above all the
yearly 中秋联谊会 on lunar 八月十五, put on the right Gregorian day every year.

A built-in plugin shaped like any county's: it uses only the public hooks and services.
Its own services (``briefed_on``, ``not_briefed``, ``documents``, ``mid_autumn_date``,
``ensure_gathering``, ``invite``, ``rsvp``, ``attendance``, ``attendance_summary``, …)
are importable from this package; its commands are ``tongxin briefings`` and
``tongxin gathering``; its reports (``register_reports``) are ``briefings`` (HK/Macao
briefings per document) and ``gatherings`` (events with attendance), run with
``tongxin report briefings --year 2026``.
"""

from __future__ import annotations

from .hooks import (
    collect_follow_ups,
    interaction_saved,
    populate_demo,
    register_commands,
    register_kinds,
    register_reports,
    validate_interaction,
)
from .kinds import BRIEFING, GATHERING, ORG_LIAISON, document_key
from .obligations import collect_obligations as collect_obligations
from .palette import register_palette_commands as register_palette_commands
from .services import (
    MID_AUTUMN,
    AttendanceSummary,
    BriefedDocument,
    attendance,
    attendance_summary,
    briefed_on,
    documents,
    ensure_gathering,
    find_gathering,
    gathering_date,
    gathering_series,
    invite,
    mid_autumn_date,
    not_briefed,
    organisation_of,
    rsvp,
)

__version__ = "0.1.0"

__all__ = [
    "BRIEFING",
    "GATHERING",
    "MID_AUTUMN",
    "ORG_LIAISON",
    "AttendanceSummary",
    "BriefedDocument",
    "__version__",
    "attendance",
    "attendance_summary",
    "briefed_on",
    "collect_follow_ups",
    "document_key",
    "documents",
    "ensure_gathering",
    "find_gathering",
    "gathering_date",
    "gathering_series",
    "interaction_saved",
    "invite",
    "mid_autumn_date",
    "not_briefed",
    "organisation_of",
    "populate_demo",
    "register_commands",
    "register_kinds",
    "register_reports",
    "rsvp",
    "validate_interaction",
]
