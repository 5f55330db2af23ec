"""Institutional series' occurrences as the screens show them: the mark, the time span,
the details, and a bad series told once."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from crm_tui.common import weekday
from textual.app import App

from crm_core.i18n import N_, _
from crm_core.services.agenda import InstitutionalItem

SERIES_MARK = "◆"  # marks an institutional series' line, on the agenda and the dashboard
INSTITUTIONAL = N_("Institutional")  # the "kind" of a series' line on the agenda

# The series errors each app has already shown: a bad RRULE is told once, not on every
# reload of every view.
_warned: WeakKeyDictionary[App[Any], set[str]] = WeakKeyDictionary()


def warn_series_errors(app: App[Any], errors: list[str]) -> None:
    """Show each series that could not be expanded (once per app) as a warning."""
    seen = _warned.setdefault(app, set())
    for message in errors:
        if message not in seen:
            seen.add(message)
            app.notify(message, title=_("Institutional calendar"), severity="warning", timeout=8)


def series_span(item: InstitutionalItem) -> str:
    """When an occurrence is, for a line: ``14:30–16:30``, or all day (with its days)."""
    if item.all_day:
        days = (item.end.date() - item.start.date()).days
        return _("all day") + (" " + _("{n} days").format(n=days) if days > 1 else "")
    return f"{item.start:%H:%M}–{item.end:%H:%M}"


def series_time(item: InstitutionalItem) -> str:
    """The time column of an occurrence: its start (``14:30``), or all day (with its days)."""
    return series_span(item) if item.all_day else f"{item.start:%H:%M}"


def series_details(item: InstitutionalItem) -> str:
    """One occurrence in words: title, day, time, lunar date, place."""
    bits = [item.title, f"{item.start:%Y-%m-%d} {weekday(item.start.date())}", series_span(item)]
    if item.lunar_text:
        bits.append(_("Lunar {date}").format(date=item.lunar_text))
    if item.location:
        bits.append(item.location)
    return "  ·  ".join(bits)
