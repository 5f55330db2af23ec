"""日程: a day, a week or a month of planned and done work, with the lunar date (and
festival) beside each Gregorian one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from crm_tui import data
from crm_tui.common import fmt_time, guarded, kind_label, shorten, status_word, weekday
from crm_tui.screens.base import BaseScreen
from crm_tui.screens.dashboard import lunar_label
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from crm_core import clock
from crm_core.i18n import N_, _
from crm_core.services import agenda
from crm_core.unit import Unit

LIMIT = 500  # rows shown at most in one view
VIEWS = ("day", "week", "month")


def view_range(view: str, anchor: date) -> tuple[date, date]:
    """The first day of the view containing ``anchor`` and the day after its last."""
    if view == "day":
        return anchor, anchor + timedelta(days=1)
    if view == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=7)
    return data.month_bounds(anchor)


class AgendaScreen(BaseScreen):
    """The calendar as a list, one view at a time."""

    main_name = "agenda"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "view('day')", N_("Day"), id="agenda.day"),
        Binding("w", "view('week')", N_("Week"), id="agenda.week"),
        Binding("m", "view('month')", N_("Month"), id="agenda.month"),
        Binding("p", "shift(-1)", N_("Previous"), id="agenda.previous"),
        Binding("n", "shift(1)", N_("Next"), id="agenda.next"),
        Binding("t", "today", N_("Today"), id="agenda.today"),
        Binding("s", "schedule", N_("Schedule"), id="agenda.schedule"),
    ]

    def __init__(self, view: str = "week", kind: str | None = None) -> None:
        super().__init__()
        self.view = view if view in VIEWS else "week"
        self.kind = kind
        self.anchor: date | None = None
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Static("", classes="screen-title", id="agenda-title")
        yield Static("", id="agenda-count", classes="status-line")
        yield DataTable(id="agenda-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.anchor = clock.today(self.app.core.config.tz)
        table = self.query_one("#agenda-table", DataTable)
        for key, label in (
            ("date", _("Date")),
            ("lunar", _("Lunar")),
            ("time", _("Time")),
            ("kind", _("Kind")),
            ("who", _("Who")),
            ("summary", _("Summary")),
        ):
            table.add_column(label, key=key)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        if self.anchor is not None:
            self.reload()

    def reload(self) -> None:
        """Read the current view."""
        assert self.anchor is not None
        first, after = view_range(self.view, self.anchor)
        tz = self.app.core.config.tz
        kinds = [self.kind] if self.kind else None
        names = {"day": _("Day"), "week": _("Week"), "month": _("Month")}
        span = first.isoformat() + (
            "" if self.view == "day" else f" – {(after - timedelta(days=1)).isoformat()}"
        )
        title = f"{_('Agenda')} · {names[self.view]} · {span}"
        if self.view == "day":
            title += f" {weekday(first)} {lunar_label(first)}"
        if self.kind:
            title += f" · {kind_label(self.app.core.kinds, self.kind)}"
        self.query_one("#agenda-title", Static).update(title)

        def load(unit: Unit) -> tuple[list[data.AgendaLine], int]:
            page = agenda.between(
                unit, data.day_start(first, tz), data.day_start(after, tz), kinds=kinds, limit=LIMIT
            )
            return data.agenda_lines(unit, page.items), page.total

        self.load_in_thread(load, self.show)

    def show(self, result: tuple[list[data.AgendaLine], int]) -> None:
        """Fill the table."""
        items, total = result
        self.total = total
        core = self.app.core
        tz = core.config.tz
        table = self.query_one("#agenda-table", DataTable)
        table.clear()
        last_day: date | None = None
        for item in items:
            day = item.start.astimezone(tz).date()
            first_of_day = day != last_day
            last_day = day
            kind = kind_label(core.kinds, item.kind)
            if item.status.value != "done":
                kind += f" [{status_word(item.status)}]"
            table.add_row(
                f"{day:%m-%d} {weekday(day)}" if first_of_day else "",
                lunar_label(day) if first_of_day else "",
                fmt_time(item.start, tz, all_day=item.all_day),
                kind,
                shorten("、".join(item.names), 20),
                shorten(item.summary, 40),
                key=str(item.id),
            )
        shown = len(items)
        self.query_one("#agenda-count", Static).update(
            _("{shown} of {total}").format(shown=shown, total=total)
            if total > shown
            else _("{n} items").format(n=total)
        )

    @on(DataTable.RowSelected, "#agenda-table")
    @guarded
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.open_interaction(event.row_key.value)

    def action_view(self, view: str) -> None:
        """Show a day, a week or a month."""
        self.view = view
        self.reload()

    def action_shift(self, step: int) -> None:
        """The previous or next day, week or month."""
        assert self.anchor is not None
        if self.view == "day":
            self.anchor += timedelta(days=step)
        elif self.view == "week":
            self.anchor += timedelta(days=7 * step)
        else:
            first, after = data.month_bounds(self.anchor)
            self.anchor = after if step > 0 else (first - timedelta(days=1)).replace(day=1)
        self.reload()

    def action_today(self) -> None:
        """Back to today."""
        self.anchor = clock.today(self.app.core.config.tz)
        self.reload()

    def action_schedule(self) -> None:
        """Put work on the calendar."""
        self.app.open_form("schedule")
