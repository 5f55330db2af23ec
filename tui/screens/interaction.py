"""One interaction in a dialog: what, when, who; for planned work, mark it done or cancel
it; correct it (the log form, filled) or delete it (asked first). Every change goes
through the interactions services and is audited."""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui.common import fmt_when, kind_label, plain, report, status_word, two_part
from crm_tui.screens.base import BaseModal
from crm_tui.screens.form_edit import EditInteractionForm
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Static

from crm_core.i18n import N_, _
from crm_core.services import interactions


class InteractionDialog(BaseModal):
    """Details of one interaction, with its people to open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", N_("Close"), id="interaction.close"),
        Binding("o", "open_person", N_("Open person"), id="interaction.person"),
        Binding("e", "edit", N_("Correct"), id="interaction.edit"),
        Binding("c", "cancel_planned", N_("Cancel planned work"), id="interaction.cancel"),
        Binding("d", "delete", N_("Delete"), id="interaction.delete"),
    ]

    def __init__(self, interaction_id: str) -> None:
        super().__init__()
        self.interaction_id = interaction_id
        self.people: list[tuple[str, str]] = []
        self.planned = False
        self.changeable = False  # neither cancelled nor confidential to this user
        self.version: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("", id="ix-title", classes="dialog-title")
            with VerticalScroll(id="ix-body"):
                yield Static("", id="ix-details")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Open person (O)"), id="ix-person", variant="primary")
                yield Button(_("Mark done"), id="ix-done")
                yield Button(_("Correct (E)"), id="ix-edit")
                yield Button(_("Cancel it (C)"), id="ix-cancel")
                yield Button(_("Delete (D)"), id="ix-delete", variant="error")
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
                self.version = i.version
                self.changeable = readable and i.status.value != "cancelled"
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
        self.query_one("#ix-edit", Button).display = self.changeable
        self.query_one("#ix-cancel", Button).display = self.planned and self.changeable
        self.query_one("#ix-delete", Button).display = readable

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

    # -- correcting, cancelling, deleting -------------------------------------------

    def action_edit(self) -> None:
        """Correct it in the log form (closes this dialog; the form saves or asks)."""
        if not self.changeable:
            return
        self.dismiss(None)
        self.app.push_screen(EditInteractionForm(self.interaction_id))

    def action_cancel_planned(self) -> None:
        """Cancel planned work (asked first, with an optional reason)."""
        if self.planned and self.changeable:
            self.app.push_screen(
                ConfirmChange(_("Cancel this planned work?"), reason=True), self._cancelled
            )

    def _cancelled(self, answer: str | None) -> None:
        if answer is None:
            return
        try:
            with self.app.unit() as unit:
                interactions.cancel_interaction(unit, self.interaction_id, reason=answer or None)
        except Exception as exc:
            report(self.app, exc)
            return
        self.app.notify(_("Cancelled."), timeout=3)
        self.dismiss(True)

    def action_delete(self) -> None:
        """Delete it (asked first: planned work that did not happen is better cancelled)."""
        if self.query_one("#ix-delete", Button).display:
            text = _("Delete this record? It is gone from every list (the audit log keeps it).")
            if self.planned:
                text += " " + _("Planned work that will not happen is better cancelled (C).")
            self.app.push_screen(ConfirmChange(text), self._deleted)

    def _deleted(self, answer: str | None) -> None:
        if answer is None:
            return
        try:
            with self.app.unit() as unit:
                interactions.delete_interaction(
                    unit, self.interaction_id, expected_version=self.version
                )
        except Exception as exc:
            report(self.app, exc)
            return
        self.app.notify(_("Deleted."), timeout=3)
        self.dismiss(True)

    @on(Button.Pressed, "#ix-edit")
    def _edit_pressed(self) -> None:
        self.action_edit()

    @on(Button.Pressed, "#ix-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel_planned()

    @on(Button.Pressed, "#ix-delete")
    def _delete_pressed(self) -> None:
        self.action_delete()


class ConfirmChange(BaseModal):
    """Are you sure? Dismissed with "" (or the reason typed) for yes, None for no."""

    DEFAULT_CSS = "ConfirmChange { align: center middle; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", N_("No"), id="confirmchange.no"),
    ]

    def __init__(self, question: str, *, reason: bool = False) -> None:
        super().__init__()
        self.question = question
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.question), classes="dialog-title")
            if self.reason:
                yield Input(placeholder=_("Reason (optional)"), id="confirm-reason", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Yes"), id="confirm-yes", variant="error")
                yield Button(_("No (Esc)"), id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()  # the safe choice is the default

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        reason = self.query("#confirm-reason")
        self.dismiss(reason.first(Input).value.strip() if reason else "")

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(None)
