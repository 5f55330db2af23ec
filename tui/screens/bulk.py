"""批量操作: one action on many people (a group's members or the contacts list's search
result). The people are listed, all picked; Space unpicks (or picks again) the
highlighted one. Choose the action and its value, Preview shows what would change (a
dry run: nothing is written), Apply does it in one transaction (all or nothing), with
one audit entry per person. Opened with b from the contacts list or the groups screen."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from crm_tui.common import plain, report
from crm_tui.screens.base import BaseScreen
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Footer, Input, Select, Static

from crm_core.i18n import N_, _
from crm_core.services import accounts, bulk_actions, contacts
from crm_core.unit import Unit

ACTION_WORDS = {
    "add-category": N_("Add a category"),
    "remove-category": N_("Remove a category"),
    "set-field": N_("Set a field"),
    "assign": N_("Assign a keeper"),
}


def run_action(
    unit: Unit, action: str, ids: list[uuid.UUID], field: str, value: str, *, dry_run: bool
) -> bulk_actions.BulkResult:
    """The bulk action the screen's choices name, on ``ids``."""
    if action == "add-category":
        return bulk_actions.add_category(unit, ids, value, dry_run=dry_run)
    if action == "remove-category":
        return bulk_actions.remove_category(unit, ids, value, dry_run=dry_run)
    if action == "set-field":
        return bulk_actions.set_field(unit, ids, field, value, dry_run=dry_run)
    keeper = accounts.resolve_account(unit, value)
    return bulk_actions.assign_keeper(unit, ids, keeper.id, dry_run=dry_run)


class BulkScreen(BaseScreen):
    """Pick people, choose an action, preview it, apply it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back"), id="bulk.back"),
        Binding("space", "pick", N_("Pick / unpick"), id="bulk.toggle"),
        Binding("p", "preview", N_("Preview"), id="bulk.preview"),
        Binding("a", "apply", N_("Apply"), id="bulk.apply"),
    ]
    DEFAULT_CSS = """
    BulkScreen #bulk-choice { height: auto; }
    BulkScreen #bulk-choice Select { width: 24; }
    BulkScreen #bulk-choice Input { width: 1fr; }
    BulkScreen #bulk-choice Button { width: auto; min-width: 10; }
    """

    def __init__(self, title: str, people: list[tuple[uuid.UUID, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.people = people
        self.picked = {pid for pid, _name in people}
        self.result: bulk_actions.BulkResult | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"{_('Bulk actions')}: {self.title_text}", classes="screen-title")
        yield DataTable(id="bulk-people", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="bulk-choice"):
            yield Select(
                [(_(w), code) for code, w in ACTION_WORDS.items()],
                value="add-category",
                allow_blank=False,
                id="bulk-action",
                compact=True,
            )
            yield Input(placeholder=_("Field (for Set a field)"), id="bulk-field")
            yield Input(placeholder=_("Value: category, value or keeper"), id="bulk-value")
            yield Button(_("Preview"), id="bulk-preview")
            yield Button(_("Apply"), id="bulk-apply", variant="primary")
        yield Static("", id="bulk-status", classes="status-line")
        yield DataTable(id="bulk-changes", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#bulk-people", DataTable)
        table.add_columns("", _("Name"))
        for pid, name in self.people:
            table.add_row("✓", plain(name), key=str(pid))
        table.styles.height = "1fr"
        changes = self.query_one("#bulk-changes", DataTable)
        changes.add_columns(_("Name"), _("Field"), _("Before"), _("After"))
        changes.styles.height = "1fr"
        self._status()
        table.focus()

    def _status(self, text: str = "") -> None:
        line = _("{n} of {total} people picked.").format(n=len(self.picked), total=len(self.people))
        self.query_one("#bulk-status", Static).update(f"{line}  {text}".strip())

    def action_pick(self) -> None:
        """Pick or unpick the highlighted person."""
        table = self.query_one("#bulk-people", DataTable)
        if not self.people:
            return
        pid = self.people[table.cursor_row][0]
        if pid in self.picked:
            self.picked.discard(pid)
        else:
            self.picked.add(pid)
        table.update_cell(str(pid), table.ordered_columns[0].key, "✓" if pid in self.picked else "")
        self._status()

    def _choices(self) -> tuple[str, list[uuid.UUID], str, str]:
        action = str(self.query_one("#bulk-action", Select).value)
        ids = [pid for pid, _name in self.people if pid in self.picked]
        field = self.query_one("#bulk-field", Input).value.strip()
        value = self.query_one("#bulk-value", Input).value.strip()
        return action, ids, field, value

    @on(Button.Pressed, "#bulk-preview")
    def action_preview(self) -> None:
        """Show what the action would change (a dry run: nothing written)."""
        action, ids, field, value = self._choices()
        self.load_in_thread(
            lambda unit: run_action(unit, action, ids, field, value, dry_run=True), self._shown
        )

    @on(Button.Pressed, "#bulk-apply")
    def action_apply(self) -> None:
        """Do the action for every picked person, in one transaction."""
        action, ids, field, value = self._choices()

        def job() -> None:
            try:
                result = self.app.core.run(
                    lambda unit: run_action(unit, action, ids, field, value, dry_run=False),
                    actor=self.app.actor,
                )
            except Exception as exc:
                self.app.call_from_thread(report, self.app, exc)
                return
            self.app.call_from_thread(self._shown, result)

        self.run_worker(job, thread=True, exclusive=True, group="apply", exit_on_error=False)

    def _shown(self, result: bulk_actions.BulkResult) -> None:
        self.result = result
        table = self.query_one("#bulk-changes", DataTable)
        table.clear()
        for i, c in enumerate(result.changes):
            before, after = (
                "、".join(v) if isinstance(v, list) else str(v or "—") for v in (c.before, c.after)
            )
            table.add_row(plain(c.name), c.field, plain(before), plain(after), key=str(i))
        text = (
            _("Preview: {n} would change ({same} already so); nothing written.")
            if result.dry_run
            else _("Done: {n} changed ({same} already so).")
        )
        self._status(text.format(n=len(result.changes), same=result.unchanged))


def people_rows(unit: Unit, ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    """(id, one describing line) of each person, for the bulk screen."""
    people, _cats, _comms = contacts.people_by_ids(unit, ids)
    return [(i, contacts.describe(people[i])) for i in ids if i in people]


def open_bulk(screen: BaseScreen, title: str, load_ids: Any) -> None:
    """Open the bulk screen over the people ``load_ids(unit)`` gives (read in a thread)."""
    screen.load_in_thread(
        lambda unit: people_rows(unit, load_ids(unit)),
        lambda rows: screen.app.push_screen(BulkScreen(title, rows)),
        group="bulk",
    )
