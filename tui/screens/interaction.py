"""One interaction in a dialog: what, when, who, and for planned work, mark it done."""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui.common import fmt_when, kind_label, plain, report, status_word, two_part
from crm_tui.screens.base import BaseModal
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from crm_core.i18n import N_, _
from crm_core.services import interactions


class InteractionDialog(BaseModal):
    """Details of one interaction, with its people to open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", N_("Close"), id="interaction.close"),
        Binding("o", "open_person", N_("Open person"), id="interaction.person"),
    ]

    def __init__(self, interaction_id: str) -> None:
        super().__init__()
        self.interaction_id = interaction_id
        self.people: list[tuple[str, str]] = []
        self.planned = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("", id="ix-title", classes="dialog-title")
            with VerticalScroll(id="ix-body"):
                yield Static("", id="ix-details")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Open person (O)"), id="ix-person", variant="primary")
                yield Button(_("Mark done"), id="ix-done")
                yield Button(_("Close (Esc)"), id="ix-close")

    def on_mount(self) -> None:
        core = self.app.core
        tz = core.config.tz
        try:
            with self.app.unit() as unit:
                i = interactions.get_interaction(unit, self.interaction_id)
                seen = interactions.shown(unit, i)  # confidential: only that it happened
                readable = not seen.hidden
                who = interactions.participation(unit, i.id)
                spec = core.kinds.get(i.kind)
                labels = (
                    {f["name"]: two_part(f["description"]) for f in spec.fields()} if spec else {}
                )
                details: dict[str, Any] = {
                    "kind": kind_label(core.kinds, i.kind, core.plugins),
                    "status": status_word(i.status),
                    "when": fmt_when(i.start_at, tz, all_day=i.all_day),
                    "location": i.location,
                    "summary": seen.headline,
                    "notes": seen.notes,
                    "data": seen.data,
                }
                self.planned = i.status.value == "planned"
        except Exception as exc:
            report(self.app, exc)
            self.dismiss(None)
            return
        self.people = [(str(p.person_id), p.name) for p in who if p.person_id]
        self.query_one("#ix-title", Static).update(
            plain(f"{details['kind']} · {details['when']} · {details['status']}", "bold")
        )
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        # Read here, not through a loader: each stored value goes through plain().
        grid.add_row(_("Who"), plain("、".join(p.name for p in who)))
        for label, key in ((_("Where"), "location"), (_("Summary"), "summary")):
            if details[key]:
                grid.add_row(label, plain(details[key]))
        for name, value in details["data"].items():
            shown = "\n".join(map(str, value)) if isinstance(value, list) else str(value)
            grid.add_row(plain(labels.get(name, name)), plain(shown))
        if details["notes"]:
            grid.add_row(_("Notes"), plain(details["notes"]))
        if not readable:
            grid.add_row(_("Notes"), Text(_("Confidential: notes hidden"), "italic dim"))
        self.query_one("#ix-details", Static).update(grid)
        # A confidential talk is completed only by whoever may read it (the service
        # refuses anyone else): no button that can only fail.
        self.query_one("#ix-done", Button).display = self.planned and readable
        self.query_one("#ix-person", Button).display = bool(self.people)

    def action_open_person(self) -> None:
        """Open the first person taking part."""
        if self.people:
            pid = self.people[0][0]
            self.dismiss(None)
            self.app.open_person(pid)

    @on(Button.Pressed, "#ix-person")
    def _person(self) -> None:
        self.action_open_person()

    @on(Button.Pressed, "#ix-done")
    def _done(self) -> None:
        try:
            with self.app.unit() as unit:
                interactions.complete_interaction(unit, self.interaction_id)
        except Exception as exc:
            report(self.app, exc)
            return
        self.app.notify(_("Marked done."), timeout=3)
        self.dismiss(True)

    @on(Button.Pressed, "#ix-close")
    def _close(self) -> None:
        self.dismiss(None)
