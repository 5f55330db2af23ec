"""跟踪: concerns raised by members and what came of them; move them along."""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui import data
from crm_tui.common import DataTable, fmt_day, guarded, plain, report, shorten, status_word
from crm_tui.footer import Footer
from crm_tui.screens.base import BaseModal, BaseScreen, FieldErrors
from crm_tui.widgets.fields import FORM_CSS
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from crm_core import clock
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.models import FollowUpStatus
from crm_core.services import contacts, followups
from crm_core.timeparse import TimeParseError, parse_date
from crm_core.unit import Unit


class FollowUpsScreen(BaseScreen):
    """Every follow-up, soonest due first; open ones by default."""

    main_name = "followups"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "toggle_all", N_("Open / all"), id="followups.all"),
        Binding("o", "open_person", N_("Open person"), id="followups.person"),
        Binding("r", "reload", N_("Refresh"), id="followups.reload"),
    ]

    def __init__(self, focus_id: str | None = None) -> None:
        super().__init__()
        self.open_only = True
        self.lines: dict[str, data.FollowUpLine] = {}
        self.focus_id = focus_id

    def compose(self) -> ComposeResult:
        yield Static(_("Follow-ups"), classes="screen-title")
        yield Static("", id="followups-count", classes="status-line")
        yield DataTable(id="followups-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#followups-table", DataTable)
        for key, label in (
            ("due", _("Due")),
            ("status", _("Status")),
            ("title", _("Concern")),
            ("person", _("Raised by")),
            ("owner", _("Owner")),
        ):
            table.add_column(label, key=key)
        table.focus()
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        """Read the list again; the cursor stays on the follow-up it was on (coming back
        from a follow-up's dialog re-reads the list, and the cursor must not jump to the
        first row: O would then open somebody else)."""
        current = self._current()
        if current is not None and self.focus_id is None:
            self.focus_id = str(current.id)
        open_only = self.open_only

        def load(unit: Unit) -> list[data.FollowUpLine]:
            return data.follow_up_lines(unit, followups.list_follow_ups(unit, open_only=open_only))

        self.load_in_thread(load, self.show)

    def show(self, lines: list[data.FollowUpLine]) -> None:
        """Fill the table."""
        today = clock.today(self.app.core.config.tz)
        table = self.query_one("#followups-table", DataTable)
        table.clear()
        self.lines = {str(f.id): f for f in lines}
        for f in lines:
            late = f.due_on is not None and f.due_on < today and f.status in ("open", "in_progress")
            due = fmt_day(f.due_on) + (" !" if late else "")
            table.add_row(
                due, status_word(f.status), shorten(f.title, 40), f.person, f.owner, key=str(f.id)
            )
        which = _("open") if self.open_only else _("all")
        self.query_one("#followups-count", Static).update(f"{len(lines)} ({which})")
        focus_id, self.focus_id = self.focus_id, None
        if focus_id and focus_id in self.lines:
            table.move_cursor(row=table.get_row_index(focus_id))

    def _current(self) -> data.FollowUpLine | None:
        table = self.query_one("#followups-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self.lines.get(key or "")

    @on(DataTable.RowSelected, "#followups-table")
    @guarded
    def _edit(self) -> None:
        line = self._current()
        if line is not None:
            self.app.push_screen(FollowUpDialog(line))

    def action_toggle_all(self) -> None:
        """Show open follow-ups only, or all of them."""
        self.open_only = not self.open_only
        self.action_reload()

    def action_open_person(self) -> None:
        """Open the page of who raised the highlighted concern."""
        line = self._current()
        if line is not None and line.person_id:
            self.app.open_person(str(line.person_id))


class _FollowUpForm(FieldErrors, BaseModal):
    """What the follow-up dialogs share: the due date as people type it, and the
    Save and Cancel buttons."""

    CSS = FORM_CSS

    def action_save(self) -> None:
        """Save (each dialog says what)."""
        raise NotImplementedError

    def read_due_on(self, args: dict[str, Any]) -> bool:
        """Put the typed due date (明天, 12/1, …) into ``args``; False, with the reason
        under the field, if it cannot be read."""
        due_text = self.query_one("#fu-due", Input).value.strip()
        if due_text:
            try:
                args["due_on"] = parse_date(due_text, today=clock.today(self.app.core.config.tz))
            except TimeParseError as exc:
                self.show_errors([("due_on", exc.text)])
                return False
        return True

    @on(Button.Pressed, "#fu-save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#fu-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class FollowUpDialog(_FollowUpForm):
    """Move one follow-up along: status, response, due date."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="followup.save", priority=True),
        Binding("escape", "dismiss(None)", N_("Cancel"), id="followup.cancel"),
    ]

    def __init__(self, line: data.FollowUpLine) -> None:
        super().__init__()
        self.line = line

    def compose(self) -> ComposeResult:
        line = self.line
        with Vertical(classes="dialog"):
            yield Static(line.title, classes="dialog-title")
            if line.person:
                yield Static(_("Raised by") + f": {line.person}", classes="hint")
            with Horizontal(classes="form-row"):
                yield Label(_("Status"), classes="form-label")
                yield Select(
                    [(status_word(s), s.value) for s in FollowUpStatus],
                    value=line.status,
                    allow_blank=False,
                    id="fu-status",
                    compact=True,
                )
            with Horizontal(classes="form-row"):
                yield Label(_("Due"), classes="form-label")
                yield Input(fmt_day(line.due_on), id="fu-due", compact=True)
            yield Static("", id="error-due_on", classes="error")
            with Horizontal(classes="form-row"):
                yield Label(_("Response"), classes="form-label")
                yield TextArea(
                    line.response or "",
                    id="fu-response",
                    soft_wrap=True,
                    placeholder=_("What was done or answered"),
                )
            yield Static("", id="error-general", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="fu-save", variant="primary")
                yield Button(_("Cancel (Esc)"), id="fu-cancel")

    def action_save(self) -> None:
        """Save the changes."""
        self.clear_errors()
        args: dict[str, Any] = {
            "status": str(self.query_one("#fu-status", Select).value),
            "response": self.query_one("#fu-response", TextArea).text,
            "expected_version": self.line.version,
        }
        if not self.read_due_on(args):
            return
        try:
            with self.app.unit() as unit:
                followups.update_follow_up(unit, self.line.id, **args)
        except ValidationError as exc:
            self.show_errors([("general", "; ".join(e.text for e in exc.errors))])
            return
        except Exception as exc:
            report(self.app, exc)
            return
        self.app.notify(_("Saved."), timeout=3)
        self.dismiss(True)


class NewFollowUpDialog(_FollowUpForm):
    """Record a concern of a person to follow up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="newfollowup.save", priority=True),
        Binding("escape", "dismiss(None)", N_("Cancel"), id="newfollowup.cancel"),
    ]

    def __init__(self, person_id: str) -> None:
        super().__init__()
        self.person_id = person_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(_("New follow-up"), classes="dialog-title")
            yield Static("", id="fu-person", classes="hint")
            with Horizontal(classes="form-row"):
                yield Label(_("Concern"), classes="form-label")
                yield Input(
                    placeholder=_("What the member raised, in one line"),
                    id="fu-title",
                    compact=True,
                )
            yield Static("", id="error-title", classes="error")
            with Horizontal(classes="form-row"):
                yield Label(_("Due"), classes="form-label")
                yield Input(placeholder=_("e.g. 12/31, 下周五"), id="fu-due", compact=True)
            yield Static("", id="error-due_on", classes="error")
            yield Static("", id="error-general", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="fu-save", variant="primary")
                yield Button(_("Cancel (Esc)"), id="fu-cancel")

    def on_mount(self) -> None:
        try:
            with self.app.unit() as unit:
                name = contacts.get_person(unit, self.person_id).name
            self.query_one("#fu-person", Static).update(plain(_("Raised by") + f": {name}"))
        except Exception as exc:
            report(self.app, exc)
        self.query_one("#fu-title", Input).focus()

    def action_save(self) -> None:
        """Save the new follow-up."""
        self.clear_errors()
        args: dict[str, Any] = {"title": self.query_one("#fu-title", Input).value}
        if not self.read_due_on(args):
            return
        try:
            with self.app.unit() as unit:
                if unit.actor is not None:
                    args["owner_id"] = unit.actor.id
                followups.raise_follow_up(unit, person_id=self.person_id, **args)
        except ValidationError as exc:
            self.show_errors([(e.field, e.text) for e in exc.errors])
            return
        except Exception as exc:
            report(self.app, exc)
            return
        self.app.notify(_("Saved."), timeout=3)
        self.dismiss(True)
