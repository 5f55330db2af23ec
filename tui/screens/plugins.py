"""插件: every plugin with its version, source, status and last error; and the kinds of
work they register."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import ClassVar

from crm_tui.common import shorten, status_word, two_part
from crm_tui.footer import Footer
from crm_tui.screens.base import BaseScreen
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from crm_core.i18n import N_, _, language

STATUS_STYLE = {"ok": "green", "disabled": "dim", "error": "red", "failing": "yellow"}


def _when(at: datetime | None, tz: tzinfo) -> str:
    # A failure may be kept from an earlier run: when it happened, in the office's time.
    return f"[{at.astimezone(tz):%Y-%m-%d %H:%M}] " if at is not None else ""


def plugin_label(name: str | None) -> str:
    """Who a kind comes from: "built in" for tongxin's own (their module's name is no
    plugin's), else the plugin's name."""
    if not name or name.startswith("crm_core"):
        return _("built in")
    return name


class PluginsScreen(BaseScreen):
    """What the plugins are and how they are doing."""

    main_name = "plugins"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", N_("Refresh"), id="plugins.reload")
    ]

    def compose(self) -> ComposeResult:
        yield Static(_("Plugins"), classes="screen-title")
        with VerticalScroll():
            yield Static("", id="plugins-table", classes="section")
            yield Static("", id="kinds-table", classes="section")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        """Show the plugins' current status."""
        core = self.app.core
        tz = core.config.tz
        table = Table(box=None, padding=(0, 1), expand=True)
        table.add_column(_("Plugin"), no_wrap=True)
        table.add_column(_("Version"), no_wrap=True)
        table.add_column(_("Status"), no_wrap=True)
        table.add_column(_("Hooks"), no_wrap=True, justify="right")
        table.add_column(_("Last error"), ratio=1)
        for info in core.plugins.plugins():
            table.add_row(
                info.name,
                info.version or "",
                Text(status_word(info.status), STATUS_STYLE.get(info.status, "")),
                str(len(info.hooks)),
                Text(_when(info.last_error_at, tz) + shorten(info.last_error, 120), "red")
                if info.last_error
                else "",
            )
        widget = self.query_one("#plugins-table", Static)
        widget.update(table)
        widget.border_title = _("Plugins")
        kinds = Table(box=None, padding=(0, 1), expand=True)
        kinds.add_column(_("Kind"), no_wrap=True)
        kinds.add_column(_("Code"), no_wrap=True)
        kinds.add_column(_("Plugin"), no_wrap=True)
        kinds.add_column(_("Fields"))
        lang = language()
        for spec in core.kinds.values():
            kinds.add_row(
                spec.label(lang),
                spec.code,  # what `tongxin log CODE` takes
                plugin_label(spec.plugin),
                # The fields as the forms name them ("场合", not "occasion").
                "、".join(two_part(f["description"]) or f["name"] for f in spec.fields()),
            )
        widget = self.query_one("#kinds-table", Static)
        widget.update(kinds)
        widget.border_title = _("Kinds of work")
