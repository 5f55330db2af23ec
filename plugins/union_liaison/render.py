"""How a gathering's attendance reads, for the terminal (``tongxin gathering``) and the
command palette alike: the counts in one sentence, then who answered what and who came."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from crm_core.api import N_, _

from .services import AttendanceSummary

# Answers reach the screen through a variable: marked here for the catalog.
RSVP_WORDS = {"invited": N_("invited"), "accepted": N_("accepted"), "declined": N_("declined")}


def attendance_parts(summary: AttendanceSummary) -> list[Any]:
    """The counts sentence and, if anyone is invited, the table of invitees (Rich
    renderables, printed or shown one after the other)."""
    counts = _(
        "Invited {invited}: accepted {accepted}, declined {declined}, no answer "
        "{awaiting}; attended {attended}, absent {absent}, not recorded {unrecorded}."
    ).format(**summary.as_json())
    parts: list[Any] = [Text(counts)]
    if summary.people:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for head in (_("Name"), _("RSVP"), _("Attended")):
            table.add_column(head)
        for p in summary.people:
            came = "" if p.attended is None else (_("yes") if p.attended else _("no"))
            table.add_row(p.name, _(RSVP_WORDS[p.rsvp.value]) if p.rsvp else "", came)
        parts.append(table)
    return parts
