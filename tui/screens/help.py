"""帮助: every key of every screen, as the keymap in config has set it."""

from __future__ import annotations

from typing import ClassVar

from crm_tui.footer import Footer
from crm_tui.screens.base import BaseScreen
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from crm_core.i18n import N_, _


class HelpScreen(BaseScreen):
    """Lists every binding: where it works, its key, what it does, and its id for the
    keymap (``[tui.keymap]`` in the office's config)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back"), id="help.back"),
        Binding("i", "toggle_ids", N_("Key ids (for the keymap)"), id="help.ids"),
    ]

    def __init__(self) -> None:
        super().__init__()
        # The ids are for whoever edits the config: hidden until asked for, so the
        # list reads in the user's language.
        self.show_ids = False

    def compose(self) -> ComposeResult:
        yield Static(_("Help: keys"), classes="screen-title")
        with VerticalScroll():
            yield Static(self._table(), id="help-table")
            yield Static(self._keymap_hint(), id="help-keymap")
        yield Footer(compact=True)

    def _keymap_hint(self) -> Text:
        if not self.show_ids:
            return Text(
                _(
                    "Press i to show each key's id, to change a key in the office's "
                    "config.\nCtrl+P opens the command palette: every screen and action "
                    "by name."
                ),
                "dim",
            )
        return Text(
            _(
                "Change a key in the office's config, e.g.\n"
                '  [tui.keymap]\n  "app.contacts" = "ctrl+k"\n'
                "Ctrl+P opens the command palette: every screen and action by name."
            ),
            "dim",
        )

    def action_toggle_ids(self) -> None:
        """Show or hide the keys' ids (what ``[tui.keymap]`` in config names)."""
        self.show_ids = not self.show_ids
        self.query_one("#help-table", Static).update(self._table())
        self.query_one("#help-keymap", Static).update(self._keymap_hint())

    def _table(self) -> Table:
        table = Table(box=None, padding=(0, 2), expand=True)
        table.add_column(_("Where"), no_wrap=True)
        table.add_column(_("Key"), no_wrap=True, style="bold")
        table.add_column(_("Action"))
        if self.show_ids:
            table.add_column(_("Id (keymap)"), style="dim", no_wrap=True)
        keymap = self.app.keymap_config
        for where, bindings in self.app.all_bindings():
            for b in bindings:
                key = keymap.get(b.id or "", b.key) if b.id else b.key
                keys = ", ".join(
                    self.app.get_key_display(Binding(k.strip(), "")) for k in key.split(",")
                )
                cells = [where, keys, _(b.description) if b.description else ""]
                table.add_row(*cells, *([b.id or ""] if self.show_ids else []))
        return table
