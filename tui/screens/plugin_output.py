"""What a plugin's palette command shows: its text or Rich renderable in a dialog."""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui.screens.base import BaseModal
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from crm_core.i18n import N_, _


class PluginOutputDialog(BaseModal):
    """A plugin command's output, titled by the command."""

    DEFAULT_CSS = """
    PluginOutputDialog {
        align: center middle;
    }
    PluginOutputDialog #plugin-output-body {
        height: auto;
        max-height: 24;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", N_("Close"), id="plugin_output.close"),
    ]

    def __init__(self, title: str, body: Any) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, id="plugin-output-title", classes="dialog-title")
            with VerticalScroll(id="plugin-output-body"):
                yield Static(self.body, id="plugin-output")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Close (Esc)"), id="plugin-output-close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#plugin-output-close", Button).focus()

    @on(Button.Pressed, "#plugin-output-close")
    def _close(self) -> None:
        self.dismiss(None)
