"""分组: the groups the reader sees (their own, then the shared ones): saved searches and
picked lists, with the members of the highlighted one as the reader may see them.
Enter opens a member's page; b runs a bulk action on the group's members. Opened from
the command palette (分组 / Groups)."""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui.common import plain
from crm_tui.screens.base import BaseScreen
from crm_tui.screens.bulk import open_bulk
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widgets import DataTable, Footer, Static

from crm_core.i18n import N_, _
from crm_core.services import groups
from crm_core.unit import Unit


def load_groups(unit: Unit) -> list[dict[str, Any]]:
    """Every group the reader sees, with its members (as they see them)."""
    return [groups.group_json(unit, g, with_members=True) for g in groups.list_groups(unit)]


class GroupsScreen(BaseScreen):
    """The groups and their members."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back"), id="groups.back"),
        Binding("b", "bulk", N_("Bulk action"), id="groups.bulk"),
        Binding("r", "reload", N_("Refresh"), id="groups.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Groups"), classes="screen-title")
        yield DataTable(id="groups-list", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="groups-members", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#groups-list", DataTable)
        table.add_columns(_("Group"), _("Kind"), _("Shared"), _("People"))
        table.styles.height = 10
        members = self.query_one("#groups-members", DataTable)
        members.add_columns(_("Name"), _("Pinyin"))
        members.styles.height = "1fr"
        self.action_reload()

    def action_reload(self) -> None:
        """Read the groups again."""
        self.load_in_thread(load_groups, self._show)

    def _show(self, found: list[dict[str, Any]]) -> None:
        self.groups = found
        table = self.query_one("#groups-list", DataTable)
        table.clear()
        for i, g in enumerate(found):
            kind = _("saved search") if g["kind"] == "smart" else _("picked list")
            table.add_row(
                plain(g["name"]), kind, _("yes") if g["shared"] else _("no"), str(g["count"]),
                key=str(i),
            )  # fmt: skip
        if found:
            table.focus()
            self._open(0)
        else:
            self.current = None
            self.query_one("#groups-members", DataTable).clear()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "groups-list" and event.row_key.value is not None:
            self._open(int(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "groups-members" and event.row_key.value is not None:
            self.app.open_person(event.row_key.value)

    def _open(self, index: int) -> None:
        if not 0 <= index < len(self.groups):
            return
        self.current = self.groups[index]
        members = self.query_one("#groups-members", DataTable)
        members.clear()
        for m in self.current["members"]:
            members.add_row(plain(m["name"]), m["pinyin"], key=m["id"])

    def action_bulk(self) -> None:
        """A bulk action on the highlighted group's members."""
        if self.current is None:
            return
        name = self.current["id"]
        open_bulk(self, self.current["name"], lambda unit: groups.people_of(unit, name))


class GroupsCommands(Provider):
    """The palette's command that opens the groups."""

    def _title(self) -> str:
        return f"{_('Contacts')}: {_('Groups')}"

    def _open(self) -> None:
        self.app.push_screen(GroupsScreen())

    async def discover(self) -> Hits:
        yield DiscoveryHit(self._title(), self._open, help=_("Saved searches and picked lists"))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        title = self._title()
        score = max(matcher.match(title), matcher.match("fenzu fz groups") * 0.9)
        if score > 0:
            yield Hit(score, matcher.highlight(title), self._open, help=_("Saved searches"))
