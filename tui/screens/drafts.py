"""Forms that keep a draft (:mod:`crm_tui.drafts`): Esc on a changed form asks what to
do with the changes, and the next start offers back what a crash or a closed terminal
interrupted (that offer is :mod:`crm_tui.screens.draft_offer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from crm_tui.common import report
from crm_tui.drafts import Draft, DraftStore
from crm_tui.screens.base import BaseModal
from crm_tui.widgets.participants import ParticipantPicker
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Select, SelectionList, Static, TextArea

from crm_core.i18n import N_, _

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[Any]
else:
    _Base = object  # a mixin of a form screen


class Drafting(_Base):
    """A form that writes a draft after every change while it differs from how it
    opened, and asks on Esc. The form gives :meth:`draft_values` (what it holds, as
    JSON), :meth:`draft_about` (a line naming it), ``draft_form`` (its name in the
    store), calls :meth:`start_drafting` once filled, :meth:`draft_saved` when saved,
    and binds Esc to :meth:`action_cancel`."""

    draft_form = "log"
    draft: Draft | None = None  # the draft being written (or offered back)
    _draft_start: dict[str, Any] | None = None

    def draft_values(self) -> dict[str, Any]:
        """What the form holds now."""
        raise NotImplementedError

    def draft_about(self) -> str:
        """One line naming what the form is about (kind and people, the person …)."""
        return ""

    def draft_store(self) -> DraftStore:
        """The drafts of the app's database."""
        return DraftStore(self.app.core)  # type: ignore[attr-defined]

    def start_drafting(self) -> None:
        """The form is filled: changes from here on are drafted. A form reopened from a
        draft starts as changed (its draft is kept until saved or discarded)."""
        self._draft_start = self.draft_values() if self.draft is None else {}

    def changed(self) -> bool:
        """Whether the form holds anything it did not hold when it opened."""
        return self._draft_start is not None and self.draft_values() != self._draft_start

    def keep_draft(self) -> None:
        """Write the draft now (or remove it if the form is back as it opened)."""
        if self._draft_start is None:
            return
        try:
            if self.changed():
                if self.draft is None:
                    self.draft = Draft(self.draft_form, {})
                self.draft.form = self.draft_form
                self.draft.values = self.draft_values()
                self.draft.about = self.draft_about()
                self.draft_store().write(self.draft)
            elif self.draft is not None:
                self.draft_store().discard(self.draft.id)
        except Exception as exc:  # a full disk must not take the form with it
            report(self.app, exc)

    def draft_saved(self) -> None:
        """The form was saved: its draft is no longer needed."""
        self._draft_start = None
        if self.draft is not None:
            self.draft_store().discard(self.draft.id)
            self.draft = None

    # Every kind of field a form has tells of a change by one of these messages.
    def on_input_changed(self, event: Input.Changed) -> None:
        self.keep_draft()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.keep_draft()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.keep_draft()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[Any]) -> None:
        self.keep_draft()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.keep_draft()

    def on_participant_picker_changed(self, event: ParticipantPicker.Changed) -> None:
        self.keep_draft()

    def action_cancel(self) -> None:
        """Close; if the form holds changes, ask first (save, discard or keep editing)."""
        if not self.changed():
            self.draft_saved()
            self.dismiss(None)
            return
        self.app.push_screen(ConfirmClose(), self._close_answered)

    async def _close_answered(self, choice: str | None) -> None:
        if choice == "save":
            result = self.action_save()  # type: ignore[attr-defined]
            if hasattr(result, "__await__"):
                await result
        elif choice == "discard":
            self.draft_saved()
            self.dismiss(None)


class ConfirmClose(BaseModal):
    """The form holds changes: save them, discard them, or go back to the form."""

    DEFAULT_CSS = "ConfirmClose { align: center middle; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss('keep')", N_("Keep editing"), id="closeform.keep"),
        Binding("ctrl+s", "dismiss('save')", N_("Save"), id="closeform.save", priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(_("This form has changes that are not saved."), classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="close-save", variant="primary")
                yield Button(_("Discard changes"), id="close-discard", variant="error")
                yield Button(_("Keep editing (Esc)"), id="close-keep")

    def on_mount(self) -> None:
        self.query_one("#close-keep", Button).focus()  # the safe choice is the default

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "close-keep").removeprefix("close-"))
