"""联系人: everyone in pinyin order; search as you type (Chinese, pinyin, initials, phone,
employer) and filters. Pages of rows are read as the cursor nears the end, so 100,000
people cost no more than a screenful."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from crm_tui.common import DataTable, guarded, vocab_label
from crm_tui.footer import Footer
from crm_tui.screens.base import BaseScreen
from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.timer import Timer
from textual.widgets import Input, Select, Static

from crm_core.i18n import N_, _, language
from crm_core.phones import display_phone
from crm_core.services import contacts
from crm_core.unit import Unit

PAGE = 100  # rows read per page
NEAR = 20  # rows before the end of what is read at which the next page is read
COLUMNS = ("name", "mobile", "party", "sector", "region", "employer")
# The widest a column grows (terminal cells); the employer takes what is left.
CAPS = {"name": 12, "mobile": 13, "party": 10, "sector": 12, "region": 8, "employer": 60}
MIN_EMPLOYER = 12
DEBOUNCE = 0.12  # seconds of quiet typing before a search runs
STATUSES = (N_("active"), N_("inactive"), N_("deceased"))


@dataclass(frozen=True)
class Row:
    """One person as the table shows them."""

    id: str
    name: str
    party: str | None
    sector: str | None
    region: str | None
    employer: str
    mobile: str | None


def _rows(page: contacts.Page[contacts.PersonRow]) -> list[Row]:
    return [
        Row(
            str(p.id),
            p.name,
            p.party,
            p.sector,
            p.region,
            " ".join(x for x in (p.employer, p.title) if x),
            p.mobile,
        )
        for p in page.items
    ]


class ContactsScreen(BaseScreen):
    """The contacts table with search and filters."""

    main_name = "contacts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "toggle_filters", N_("Filters"), id="contacts.filters"),
        Binding("ctrl+r", "clear", N_("Clear search"), id="contacts.clear"),
        Binding("down", "focus_table", N_("To the list"), id="contacts.to_list", show=False),
        Binding("slash", "focus_search", N_("Search"), id="contacts.search"),
        Binding("ctrl+b", "bulk", N_("Bulk action"), id="contacts.bulk", show=False),
    ]

    FILTERS = ("category", "sector", "party", "committee", "region", "status")

    def __init__(self, **filters: str | None) -> None:
        super().__init__()
        self.initial = {k: v for k, v in filters.items() if k in self.FILTERS and v}
        self.total = 0
        self.loaded = 0
        self.generation = 0
        self.loading_more = False
        self._timer: Timer | None = None
        self.widest: dict[str, int] = {}  # the widest cell read, by column
        self._widths: dict[str, int] = {}
        self.searches = 0  # how many result sets were shown (the benchmark counts them)

    def compose(self) -> ComposeResult:
        yield Static(_("Contacts"), classes="screen-title")
        yield Input(
            placeholder=_("Search: name, pinyin, initials (zs), phone, employer"),
            id="search",
        )
        with Horizontal(id="filters"):
            for name, prompt, options in self._filter_options():
                yield Select(
                    options,
                    prompt=prompt,
                    id=f"filter-{name}",
                    value=self.initial.get(name, Select.NULL),
                    compact=True,
                )
        yield Static("", id="count", classes="status-line")
        table = DataTable(id="people", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer(compact=True)

    def _filter_options(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        core = self.app.core
        lang = language()
        vocab = core.config.vocab

        def opts(v: Any) -> list[tuple[str, str]]:
            return [(t.label(lang), t.code) for t in v]

        return [
            ("category", _("Category"), opts(core.categories)),
            ("sector", _("Sector"), opts(vocab["sectors"])),
            ("party", _("Party"), opts(vocab["parties"])),
            ("committee", _("Committee"), opts(vocab["committees"])),
            ("region", _("Region"), opts(vocab["regions"])),
            ("status", _("Status"), [(_(s), s) for s in STATUSES]),
        ]

    def on_mount(self) -> None:
        table = self.query_one("#people", DataTable)
        # Name and phone first: a narrow terminal cuts the employer, never them.
        for key, label in (
            ("name", _("Name")),
            ("mobile", _("Mobile")),
            ("party", _("Party")),
            ("sector", _("Sector")),
            ("region", _("Region")),
            ("employer", _("Employer and title")),
        ):
            table.add_column(label, key=key)
            self.widest[key] = cell_len(label)
        self.query_one("#filters").display = bool(self.initial)
        self.query_one("#search", Input).focus()
        self.watch(table, "scroll_y", self._scrolled, init=False)
        self.search()

    # -- searching -------------------------------------------------------------

    def filters(self) -> dict[str, str]:
        """The filters chosen, by name."""
        out = {}
        for name in self.FILTERS:
            value = self.query_one(f"#filter-{name}", Select).value
            if value is not Select.NULL and value:
                out[name] = str(value)
        return out

    @on(Input.Changed, "#search")
    def _typed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self.search)

    @on(Select.Changed)
    def _filtered(self) -> None:
        self.search()

    def search(self) -> None:
        """Run the search for what is typed and chosen now (first page)."""
        self.generation += 1
        generation = self.generation
        query = self.query_one("#search", Input).value
        filters = self.filters()

        def load(unit: Unit) -> tuple[list[Row], int]:
            page = contacts.search_people(unit, query, limit=PAGE, offset=0, also=(), **filters)
            return _rows(page), page.total

        self.load_in_thread(load, lambda result: self._show(generation, result, replace=True))

    def _more(self) -> None:
        if self.loading_more or self.loaded >= self.total:
            return
        self.loading_more = True
        generation = self.generation
        query = self.query_one("#search", Input).value
        filters = self.filters()
        offset = self.loaded

        def load(unit: Unit) -> tuple[list[Row], int]:
            page = contacts.search_people(
                unit, query, limit=PAGE, offset=offset, also=(), **filters
            )
            return _rows(page), page.total

        self.load_in_thread(
            load, lambda result: self._show(generation, result, replace=False), group="more"
        )

    def _show(self, generation: int, result: tuple[list[Row], int], *, replace: bool) -> None:
        self.loading_more = False
        if generation != self.generation:
            return  # the query changed meanwhile
        rows, total = result
        table = self.query_one("#people", DataTable)
        core = self.app.core
        vocab = core.config.vocab
        if replace:
            table.clear()
            self.loaded = 0
        for r in rows:
            cells = (
                r.name,
                display_phone(r.mobile) if r.mobile else "",
                vocab_label(vocab["parties"], r.party),
                vocab_label(vocab["sectors"], r.sector),
                vocab_label(vocab["regions"], r.region),
                r.employer,
            )
            for key, cell in zip(COLUMNS, cells, strict=True):
                self.widest[key] = max(self.widest[key], cell_len(cell))
            table.add_row(*cells, key=r.id)
        self._fit_columns()
        self.loaded += len(rows)
        self.total = total
        self.searches += 1
        self._say_count()
        # A page that does not fill the table's height leaves nothing to scroll by:
        # read on until it is filled (or all are read).
        if self.loaded < self.total and self.loaded < table.size.height + NEAR:
            self._more()

    def _fit_columns(self) -> None:
        """Share the table's width: name and phone whole, the short columns up to their
        caps, the employer what is left; what does not fit ends in "…"."""
        table = self.query_one("#people", DataTable)
        # Inside the scroll bar (or two cells short of the screen before the first layout);
        # each column has a cell padding either side.
        width = table.scrollable_content_region.width or self.app.size.width - 2
        room = width - 2 * table.cell_padding * len(COLUMNS)
        widths = {key: min(self.widest[key], CAPS[key]) for key in COLUMNS}
        rest = room - sum(w for k, w in widths.items() if k != "employer")
        for key in ("sector", "party", "region"):  # the first to give way
            if rest >= MIN_EMPLOYER:
                break
            give = min(widths[key] - 4, MIN_EMPLOYER - rest)
            if give > 0:
                widths[key] -= give
                rest += give
        widths["employer"] = max(min(self.widest["employer"], rest), MIN_EMPLOYER)
        if widths != self._widths:
            self._widths = widths
            table.set_widths(widths)

    def on_resize(self) -> None:
        self._fit_columns()

    def _say_count(self) -> None:
        """The count line: where the cursor is among all matches, and how many are read."""
        table = self.query_one("#people", DataTable)
        if not self.total:
            text = _("No contacts match.")
        else:
            position = min(table.cursor_row + 1, self.total) if table.row_count else 0
            text = _("Person {position} of {total}").format(
                position=f"{position:,}", total=f"{self.total:,}"
            )
            if self.loaded < self.total:
                text += "  " + _("({loaded} read; more as you scroll)").format(
                    loaded=f"{self.loaded:,}"
                )
        self.query_one("#count", Static).update(text)

    @on(DataTable.RowHighlighted, "#people")
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        self._say_count()
        if event.cursor_row >= self.loaded - NEAR:
            self._more()

    def _scrolled(self, scroll_y: float) -> None:
        # The wheel and the scroll bar move the view, not the cursor: read the next
        # page when the view nears the end of what is read.
        table = self.query_one("#people", DataTable)
        if scroll_y + table.size.height >= self.loaded - NEAR:
            self._more()

    # -- opening -----------------------------------------------------------------

    @on(DataTable.RowSelected, "#people")
    @guarded
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.open_person(event.row_key.value)

    @on(Input.Submitted, "#search")
    @guarded
    def _submitted(self) -> None:
        table = self.query_one("#people", DataTable)
        if self.total == 1 and table.row_count == 1:
            key = table.coordinate_to_cell_key(Coordinate(0, 0)).row_key.value
            if key:
                self.app.open_person(key)
                return
        if table.row_count:
            table.focus()

    def action_focus_table(self) -> None:
        """Move from the search box to the list."""
        table = self.query_one("#people", DataTable)
        if not table.has_focus and table.row_count:
            table.focus()
        elif table.has_focus:
            table.action_cursor_down()

    def action_bulk(self) -> None:
        """A bulk action on everyone the search finds now (issue 18)."""
        from crm_tui.screens.bulk import open_bulk

        query, filters = self.query_one("#search", Input).value, self.filters()
        open_bulk(self, query or _("Contacts"), lambda unit: [
            p.id for p in contacts.search_people(
                unit, query, limit=10_000_000, offset=0, also=(), **filters
            ).items
        ])  # fmt: skip

    def action_focus_search(self) -> None:
        """Back to the search box."""
        self.query_one("#search", Input).focus()

    def action_toggle_filters(self) -> None:
        """Show or hide the filters."""
        box = self.query_one("#filters")
        box.display = not box.display
        if box.display:
            self.query_one("#filter-category", Select).focus()

    def action_clear(self) -> None:
        """Empty the search box and the filters."""
        self.query_one("#search", Input).value = ""
        for name in self.FILTERS:
            self.query_one(f"#filter-{name}", Select).clear()
        self.search()
