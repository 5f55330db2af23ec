"""At start, the forms a crash or a closed terminal left unsaved are offered back
(their drafts: :mod:`crm_tui.drafts`), one at a time, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from crm_tui.common import fmt_when, plain, report
from crm_tui.drafts import Draft, DraftStore
from crm_tui.screens.base import BaseModal
from crm_tui.screens.form import InteractionForm
from crm_tui.screens.form_edit import EditInteractionForm
from crm_tui.screens.person_edit import PersonEditForm
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

from crm_core.i18n import N_, _

if TYPE_CHECKING:
    from textual.app import App

    from crm_core.app import Tongxin

FORM_NAMES = {
    "log": N_("Log work done"),
    "schedule": N_("Schedule work"),
    "edit": N_("Correct work"),
    "person_edit": N_("Edit person"),
}


class OfferDraft(BaseModal):
    """At start: a form was left unsaved last time; open it again, or throw it away.
    "Later" keeps it for the next start."""

    DEFAULT_CSS = "OfferDraft { align: center middle; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss('later')", N_("Later"), id="offerdraft.later"),
    ]

    def __init__(self, draft: Draft, left: int) -> None:
        super().__init__()
        self.draft = draft
        self.left = left

    def compose(self) -> ComposeResult:
        d = self.draft
        with Vertical(classes="dialog"):
            yield Static(_("A form was not saved last time"), classes="dialog-title")
            when = fmt_when(d.written_at, self.app.core.config.tz)
            yield Static(plain(f"{_(FORM_NAMES[d.form])} · {when}"))
            if d.about:
                yield Static(plain(d.about))
            if self.left:
                yield Static(
                    plain(_("{n} more unsaved form(s) after this one.").format(n=self.left)),
                    classes="hint",
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Open it again"), id="offer-open", variant="primary")
                yield Button(_("Discard it"), id="offer-discard", variant="error")
                yield Button(_("Later (Esc)"), id="offer-later")

    def on_mount(self) -> None:
        self.query_one("#offer-open", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "offer-later").removeprefix("offer-"))


def form_of(draft: Draft) -> Screen[Any]:
    """The form a draft was written by, holding what the draft holds."""
    if draft.form == "person_edit":
        return PersonEditForm(str(draft.values.get("person_id") or ""), draft=draft)
    if draft.form == "edit":
        return EditInteractionForm(str(draft.values.get("interaction_id") or ""), draft=draft)
    return InteractionForm(draft.form, draft=draft)


def offer_drafts(app: App[Any], core: Tongxin) -> None:
    """Offer this database's unsaved drafts one by one (newest first). One reopened
    form at a time: the rest are offered at the next start."""
    try:
        store = DraftStore(core)
        pending = store.pending()
    except Exception as exc:
        report(app, exc)
        return

    def offer(index: int) -> None:
        if index >= len(pending):
            return
        draft = pending[index]

        def chosen(choice: str | None) -> None:
            if choice == "open":
                app.push_screen(form_of(draft))
                return
            elif choice == "discard":
                store.discard(draft.id)
            offer(index + 1)

        app.push_screen(OfferDraft(draft, len(pending) - index - 1), chosen)

    offer(0)
