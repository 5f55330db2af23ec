"""日程: a day, a week or a month of planned and done work and of the institutional series
(党组理论学习, 学习交流会, 中秋联谊会 …, marked ◆), with the lunar date (and festival)
beside each Gregorian one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from crm_tui import data
from crm_tui.common import (
    DataTable,
    fmt_time,
    guarded,
    kind_label,
    shorten,
    status_word,
    weekday,
)
from crm_tui.footer import Footer
from crm_tui.institutional import (
    INSTITUTIONAL,
    SERIES_MARK,
    series_details,
    series_time,
    warn_series_errors,
)
from crm_tui.screens.agenda_month import (
    CELL_LINES,
    MonthGrid,
    column_labels,
    day_cell,
    items_by_day,
)
from crm_tui.screens.base import BaseScreen
from crm_tui.screens.dashboard import lunar_label
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import Static

from crm_core import clock
from crm_core.i18n import N_, _
from crm_core.services import agenda
from crm_core.unit import Unit

LIMIT = 500  # rows shown at most in one view
VIEWS = ("day", "week", "month")


@dataclass
class AgendaView:
    """What one view shows: interactions (at most LIMIT, and their count) and the
    institutional series' occurrences."""

    lines: list[data.AgendaLine]
    total: int
    series: agenda.InstitutionalPage


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

    def __init__(
        self, view: str = "week", kind: str | None = None, day: date | None = None
    ) -> None:
        super().__init__()
        self.view = view if view in VIEWS else "week"
        self.kind = kind
        self.start_day = day  # the day to open on (default: today)
        self.anchor_day: date | None = None
        self.total = 0
        self.series_rows: dict[str, agenda.InstitutionalItem] = {}
        self.grid: MonthGrid | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="screen-title", id="agenda-title")
        yield Static("", id="agenda-count", classes="status-line")
        yield DataTable(id="agenda-table", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="agenda-grid", cursor_type="cell")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.anchor_day = self.start_day or clock.today(self.app.core.config.tz)
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
        self._show_view_widgets()

    def on_screen_resume(self) -> None:
        if self.anchor_day is not None:
            self.reload()

    def reload(self) -> None:
        """Read the current view."""
        assert self.anchor_day is not None
        first, after = view_range(self.view, self.anchor_day)
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

        def load(unit: Unit) -> AgendaView:
            page = agenda.between(
                unit, data.day_start(first, tz), data.day_start(after, tz), kinds=kinds, limit=LIMIT
            )
            series = agenda.institutional(unit, first, after, kinds=kinds, limit=LIMIT)
            return AgendaView(data.agenda_lines(unit, page.items), page.total, series)

        self.load_in_thread(load, self.show)

    def _show_view_widgets(self) -> None:
        """The month is a grid; a day and a week are lists."""
        month = self.view == "month"
        table = self.query_one("#agenda-table", DataTable)
        grid = self.query_one("#agenda-grid", DataTable)
        table.display, grid.display = not month, month
        (grid if month else table).focus()

    def _show_grid(self, rows: list[tuple[datetime, int, Any]]) -> None:
        """Fill the month's grid: a week a row, a day a cell (see agenda_month)."""
        assert self.anchor_day is not None
        tz = self.app.core.config.tz
        grid = MonthGrid.of(data.month_bounds(self.anchor_day)[0])
        entries = []
        for start, _order, item in rows:
            series = isinstance(item, agenda.InstitutionalItem)
            entries.append(
                (start.astimezone(tz).date(), item.title if series else item.summary or "", series)
            )
        by_day = items_by_day(entries)
        table = self.query_one("#agenda-grid", DataTable)
        table.clear(columns=True)
        room = table.scrollable_content_region.width or self.app.size.width - 2
        width = max(6, room // 7 - 2 * table.cell_padding)
        for n, label in enumerate(column_labels()):
            table.add_column(label, key=f"d{n}", width=width)
        today = clock.today(tz)
        for r, week in enumerate(grid.weeks):
            cells = [day_cell(d, grid, by_day.get(d), width, today) for d in week]
            table.add_row(*cells, key=f"w{r}", height=CELL_LINES)
        self.grid = grid
        place = grid.place_of(self.anchor_day)
        if place is not None:
            table.cursor_coordinate = Coordinate(*place)

    @on(DataTable.CellSelected, "#agenda-grid")
    def _open_day(self, event: DataTable.CellSelected) -> None:
        """Enter on a day of the month: that day's list."""
        if self.grid is None:
            return
        day = self.grid.day_at(event.coordinate.row, event.coordinate.column)
        if day is not None:
            self.anchor_day = day
            self.action_view("day")

    @on(DataTable.CellHighlighted, "#agenda-grid")
    def _moved(self, event: DataTable.CellHighlighted) -> None:
        # The cursor's day is the view's anchor: p/n, d and w go from there.
        if self.grid is not None:
            day = self.grid.day_at(event.coordinate.row, event.coordinate.column)
            if day is not None and day.month == self.grid.month.month:
                self.anchor_day = day

    def show(self, result: AgendaView) -> None:
        """Fill the table: interactions and series' occurrences, earliest first."""
        warn_series_errors(self.app, result.series.errors)
        series = result.series.items
        total = result.total + len(series)
        self.total = total
        core = self.app.core
        tz = core.config.tz
        table = self.query_one("#agenda-table", DataTable)
        table.clear()
        self.series_rows = {}
        rows: list[tuple[datetime, int, Any]] = [(i.start, 1, i) for i in result.lines]
        rows += [(s.start, 0, s) for s in series]  # a series first at the same moment
        rows.sort(key=lambda r: (r[0], r[1]))
        shown = len(result.lines) + len(series)
        self.query_one("#agenda-count", Static).update(
            _("{shown} of {total}").format(shown=shown, total=total)
            if total > shown
            else _("{n} items").format(n=total)
        )
        if self.view == "month":
            self._show_grid(rows)
            return
        last_day: date | None = None
        for start, _order, item in rows:
            day = start.astimezone(tz).date()
            first_of_day = day != last_day
            last_day = day
            date_cells = (
                f"{day:%m-%d} {weekday(day)}" if first_of_day else "",
                lunar_label(day) if first_of_day else "",
            )
            if isinstance(item, agenda.InstitutionalItem):
                key = f"series:{item.series_id}:{item.start.isoformat()}"
                self.series_rows[key] = item
                summary = item.title + (f" @ {item.location}" if item.location else "")
                table.add_row(
                    *date_cells,
                    series_time(item),
                    Text(SERIES_MARK + " " + _(INSTITUTIONAL), "bold"),
                    "",
                    Text(shorten(summary, 40), "bold"),
                    key=key,
                )
                continue
            # A plugin's kind can be long (约请上门 / 邀请参加视察调研): keep the
            # summary in sight at 80 columns.
            kind = shorten(kind_label(core.kinds, item.kind), 10)
            if item.status.value != "done":
                kind += f" [{status_word(item.status)}]"
            table.add_row(
                *date_cells,
                fmt_time(item.start, tz, all_day=item.all_day),
                kind,
                shorten("、".join(item.names), 16),
                shorten(item.summary, 40),
                key=str(item.id),
            )

    @on(DataTable.RowSelected, "#agenda-table")
    @guarded
    def _open(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if not key:
            return
        item = self.series_rows.get(key)
        if item is not None:  # a series has no page: say what and when
            self.app.notify(series_details(item), title=_("Institutional calendar"), timeout=8)
        else:
            self.app.open_interaction(key)

    def action_view(self, view: str) -> None:
        """Show a day, a week or a month."""
        self.view = view
        self._show_view_widgets()
        self.reload()

    def action_shift(self, step: int) -> None:
        """The previous or next day, week or month."""
        assert self.anchor_day is not None
        if self.view == "day":
            self.anchor_day += timedelta(days=step)
        elif self.view == "week":
            self.anchor_day += timedelta(days=7 * step)
        else:
            first, after = data.month_bounds(self.anchor_day)
            self.anchor_day = after if step > 0 else (first - timedelta(days=1)).replace(day=1)
        self.reload()

    def action_today(self) -> None:
        """Back to today."""
        self.anchor_day = clock.today(self.app.core.config.tz)
        self.reload()

    def action_schedule(self) -> None:
        """Put work on the calendar."""
        self.app.open_form("schedule")
