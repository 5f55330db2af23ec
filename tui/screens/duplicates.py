"""重复记录: pairs of records that may be one person, reviewed side by side and merged.

The list holds the pairs the rules of ``[duplicates]`` find (best score first); the
highlighted pair is shown field by field, the differing fields marked ≠, with the
value each merge keeps. Space (or t) on a field switches which record's value is kept
(phones, categories, committees and notes can keep both); s swaps which record stays;
m merges; n remembers the pair as two people. What moves (interactions, follow-ups,
assignments, organisations, accounts) is listed under the fields. Opened from the
command palette (重复记录 / Duplicates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from crm_tui.common import plain, report, shorten
from crm_tui.screens.base import BaseScreen
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Static

from crm_core.i18n import N_, _, language
from crm_core.services import contacts, duplicates, duplicates_review
from crm_core.services.contacts_merge import BOTH_FIELDS
from crm_core.unit import Unit

FIELD_WORDS = {
    "name": N_("Name"), "gender": N_("Gender"), "birth": N_("Born"),
    "ethnicity": N_("Ethnicity"), "party": N_("Party"), "sector": N_("Sector"),
    "region": N_("Region"), "employer": N_("Employer"), "title": N_("Position"),
    "mobile": N_("Mobile"), "email": N_("E-mail"), "address": N_("Address"),
    "membership": N_("Membership"), "organisation_id": N_("Organisation"),
    "phones": N_("Other phones"), "categories": N_("Categories"),
    "committees": N_("Special committees"), "notes": N_("Notes"),
}  # fmt: skip
# The levels of a rule (translated through the catalog).
LEVEL_WORDS = {"certain": N_("certain"), "possible": N_("possible")}
LINK_WORDS = {
    "interactions": N_("Interactions"), "follow_ups": N_("Follow-ups"),
    "assignments": N_("Assignments"), "organisations": N_("Organisations"),
    "accounts": N_("Accounts"), "relations": N_("Relationships"), "tags": N_("Tags"),
}  # fmt: skip
SIDE_WORDS = {"keep": N_("KEEP's"), "drop": N_("DROP's"), "both": N_("both")}


@dataclass
class Review:
    """The pair on screen: which record stays, the reviewer's choices, the preview."""

    keep: str
    drop: str
    take: dict[str, str] = field(default_factory=dict)
    preview: dict[str, Any] | None = None


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return shorten(str(value), 30)


class DuplicatesScreen(BaseScreen):
    """Review and merge duplicates."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Back"), id="duplicates.close"),
        Binding("space,t", "toggle_take", N_("Keep other value"), id="duplicates.take"),
        Binding("s", "swap", N_("Swap KEEP and DROP"), id="duplicates.swap"),
        Binding("m", "merge", N_("Merge"), id="duplicates.merge"),
        Binding("n", "not_duplicate", N_("Not a duplicate"), id="duplicates.not_duplicate"),
        Binding("r", "reload", N_("Refresh"), id="duplicates.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[duplicates.Pair] = []
        self.review: Review | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Duplicates"), classes="screen-title")
        with Vertical():
            yield DataTable(id="dup-pairs", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="dup-fields", cursor_type="row")
            yield Static("", id="dup-moves", classes="section")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        pairs = self.query_one("#dup-pairs", DataTable)
        pairs.add_columns(_("Score"), _("Level"), _("Reason"), "A", "B")
        pairs.styles.height = 8
        table = self.query_one("#dup-fields", DataTable)
        table.add_columns("", _("Field"), "KEEP", "DROP", _("After the merge"))
        table.styles.height = "1fr"
        self.action_reload()

    # -- the list ----------------------------------------------------------------------

    def action_reload(self) -> None:
        """Find the pairs again."""

        def load(unit: Unit) -> tuple[list[duplicates.Pair], dict[str, str]]:
            rules = duplicates.rules_of(unit)
            en = language() == "en"
            reasons = {c: (r.en or r.zh) if en else r.zh for c, r in rules.items()}
            return duplicates.find_duplicates(unit), reasons

        self.load_in_thread(load, self._show_pairs, group="pairs")

    def _show_pairs(self, found: tuple[list[duplicates.Pair], dict[str, str]]) -> None:
        self.pairs, reasons = found
        table = self.query_one("#dup-pairs", DataTable)
        table.clear()
        for i, p in enumerate(self.pairs):
            table.add_row(
                str(p.score), _(LEVEL_WORDS[p.level]), plain(reasons.get(p.rule, p.rule)),
                plain(f"{p.a_name} {str(p.a)[:8]}"), plain(f"{p.b_name} {str(p.b)[:8]}"),
                key=str(i),
            )  # fmt: skip
        if not self.pairs:
            self.review = None
            self.query_one("#dup-fields", DataTable).clear()
            self.query_one("#dup-moves", Static).update(_("No duplicates found."))
            return
        table.focus()
        self._open(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "dup-pairs" and event.row_key.value is not None:
            self._open(int(event.row_key.value))

    def _open(self, index: int) -> None:
        if not 0 <= index < len(self.pairs):
            return
        pair = self.pairs[index]
        if self.review and {self.review.keep, self.review.drop} == {str(pair.a), str(pair.b)}:
            return
        self.review = Review(str(pair.a), str(pair.b))
        self._preview()

    # -- the pair ----------------------------------------------------------------------

    def _preview(self) -> None:
        review = self.review
        if review is None:
            return

        def load(unit: Unit) -> dict[str, Any]:
            preview = duplicates_review.preview_merge(
                unit, review.keep, review.drop, take=review.take
            )
            return duplicates_review.preview_json(preview)

        self.load_in_thread(load, partial(self._show_preview, review), group="preview")

    def _show_preview(self, review: Review, data: dict[str, Any]) -> None:
        if review is not self.review:
            return  # another pair was opened meanwhile
        review.preview = data
        table = self.query_one("#dup-fields", DataTable)
        row = table.cursor_row
        table.clear()
        for f in data["fields"]:
            style = "bold yellow" if f["differs"] else ""
            table.add_row(
                Text("≠" if f["differs"] else "", style),
                Text(_(FIELD_WORDS[f["field"]]), style),
                plain(_text(f["keep"])),
                plain(_text(f["drop"])),
                plain(
                    _text(f["result"]) + (f"  ({_(SIDE_WORDS[f['take']])})" if f["differs"] else "")
                ),
                key=f["field"],
            )
        if row:
            table.move_cursor(row=min(row, table.row_count - 1))
        lines = [_("KEEP {id} stays; DROP {drop} is folded into it. What moves:").format(
            id=data["keep"][:8], drop=data["drop"][:8])]  # fmt: skip
        for key, items in data["links"]["drop"].items():
            heads = "; ".join(
                shorten(str(i.get("headline") or i.get("title") or i.get("name")
                            or i.get("username") or i.get("keeper") or ""), 24)
                for i in items[:3]
            )  # fmt: skip
            lines.append(f"  {_(LINK_WORDS[key])}: {len(items)}  {heads}")
        self.query_one("#dup-moves", Static).update(Text("\n".join(lines)))

    def _field_at_cursor(self) -> str | None:
        table = self.query_one("#dup-fields", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return str(key) if key is not None else None

    def action_toggle_take(self) -> None:
        """Keep the other record's value of the highlighted field (or both)."""
        review, name = self.review, self._field_at_cursor()
        if review is None or review.preview is None or name is None:
            return
        current = next(f["take"] for f in review.preview["fields"] if f["field"] == name)
        sides = ["keep", "drop", "both"] if name in BOTH_FIELDS else ["keep", "drop"]
        review.take[name] = sides[(sides.index(current) + 1) % len(sides)]
        self._preview()

    def action_swap(self) -> None:
        """Keep the other record instead."""
        if self.review is not None:
            self.review = Review(self.review.drop, self.review.keep)
            self._preview()

    # -- decisions ---------------------------------------------------------------------

    def _decide(self, work: Any, done: str) -> None:
        review = self.review
        if review is None:
            return
        try:
            self.app.core.run(partial(work, review=review), actor=self.app.actor)
        except Exception as exc:
            report(self.app, exc)
            return
        self.app.notify(done)
        self.review = None
        self.action_reload()

    def action_merge(self) -> None:
        """Merge DROP into KEEP with the chosen values."""

        def work(unit: Unit, review: Review) -> None:
            contacts.merge_people(unit, review.keep, review.drop, take=review.take)

        self._decide(work, _("Merged; it can be undone from the audit log."))

    def action_not_duplicate(self) -> None:
        """Remember that the pair is two people."""

        def work(unit: Unit, review: Review) -> None:
            duplicates.mark_not_duplicate(unit, review.keep, review.drop)

        self._decide(work, _("Remembered: not offered as duplicates again."))

    def action_close(self) -> None:
        """Back to where the screen was opened from."""
        self.dismiss()


class DuplicatesCommands(Provider):
    """The palette's command that opens the review of duplicates."""

    def _title(self) -> str:
        return f"{_('Contacts')}: {_('Duplicates')}"

    def _open(self) -> None:
        self.app.push_screen(DuplicatesScreen())

    async def discover(self) -> Hits:
        yield DiscoveryHit(self._title(), self._open, help=_("Find, review and merge duplicates"))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        title = self._title()
        score = max(matcher.match(title), matcher.match("chongfu cf duplicates merge") * 0.9)
        if score > 0:
            yield Hit(
                score,
                matcher.highlight(title),
                self._open,
                help=_("Find, review and merge duplicates"),
            )
