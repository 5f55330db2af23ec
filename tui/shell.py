"""The dashboard's shell: what the app paints first while it opens the database.

At 100,000 people the core's imports (SQLAlchemy, SQLModel, pydantic, the plugins) and
opening the database take several times as long as Textual itself needs to start, so
:class:`crm_tui.app.TongxinApp` paints this screen — the title, the dashboard's section
headings marked "reading…", the footer's keys — from a module that imports only Textual
and the translations, and opens the core in a worker thread (``TongxinApp._boot``). The
real dashboard (:mod:`crm_tui.screens.dashboard`) replaces it, and fills its sections,
as they are read (issue 14, item 11).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_tui.common import translate_bindings
from crm_tui.footer import Footer
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from crm_core.i18n import N_, _

# The dashboard's sections, in its order (crm_tui.screens.dashboard._options).
SECTIONS = (
    N_("Today"),
    N_("Overdue contacts"),
    N_("Follow-ups due"),
    N_("Next 7 days"),
    N_("This month's work"),
)


class ShellScreen(Screen[Any]):
    """The dashboard's frame with nothing read yet; the app swaps in the dashboard when
    its core is open. ``error`` shows why the core could not be opened."""

    def __init__(self, on_painted: Callable[[], None] | None = None) -> None:
        super().__init__(id="shell")
        self._on_painted = on_painted
        translate_bindings(self)

    def on_mount(self) -> None:
        if self._on_painted is not None:
            # After the refresh that lays the shell out, one more turn of the loop for
            # the compositor to write the frame to the terminal.
            self.call_after_refresh(self.set_timer, 0.01, self._on_painted)

    def compose(self) -> ComposeResult:
        yield Static(_("Home"), classes="screen-title")
        with Vertical(id="dash-body"):
            lines = Text()
            for n, title in enumerate(SECTIONS):
                if n:
                    lines.append("\n")
                lines.append(f"── {_(title)} \n", "bold")
                lines.append("   " + _("Reading…"), "dim italic")
            yield Static(lines, id="shell-sections")
        yield Static("", id="shell-error", classes="error")
        yield Footer(compact=True)

    def show_error(self, text: str) -> None:
        """The core could not be opened: say why (the keys stay, Ctrl+Q quits)."""
        box = self.query_one("#shell-error", Static)
        box.update(Text("⚠ " + text, "red"))
        box.add_class("-shown")
