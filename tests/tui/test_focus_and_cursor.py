"""Keys never reach a widget the user cannot see, and closing a dialog leaves the cursor
where it was (issue 14): each test drives the keys a user pressed when it went wrong."""

from __future__ import annotations

from datetime import date

from crm_tui.app import TongxinApp
from crm_tui.screens.contacts import ContactsScreen
from crm_tui.screens.followups import FollowUpDialog, FollowUpsScreen
from crm_tui.screens.person import PersonScreen
from textual.widgets import DataTable, Input

from crm_core.app import Tongxin
from crm_core.services import followups

from .conftest import settle

SIZE = (80, 24)


async def test_hidden_filters_never_keep_the_focus(core: Tongxin) -> None:
    """F3, Ctrl+F, Ctrl+F, Down, PageDown ended the app with KeyError: 0 (focus stayed
    on a hidden drop-down, whose list PageDown then read before it was laid out)."""
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("f3", "ctrl+f", "ctrl+f", "down", "pagedown", "pagedown", "pageup"):
            await pilot.press(key)
            await settle(pilot)
            focused = app.focused
            # Whatever has focus is shown: none of its boxes is hidden.
            assert focused is not None
            assert all(node.display for node in focused.ancestors_with_self if node is not app)
        assert app.is_running and isinstance(app.screen, ContactsScreen)
        # Focus went back to the search box, and the keys moved the list, not a drop-down.
        await pilot.press("escape", "slash", "z")
        await settle(pilot)
        assert isinstance(app.focused, Input) and app.focused.value == "z"


async def test_the_follow_up_cursor_stays_after_its_detail_closes(core: Tongxin) -> None:
    """F5, Down to a follow-up, Enter, Esc, O opened the first row's person: the list was
    read again on return and the cursor jumped to row 1."""
    ids = core.test_ids  # type: ignore[attr-defined]
    with core.unit() as unit:
        for name, title, day in (("张三", "高校人才公寓", 26), ("王五", "医院停车难", 28)):
            followups.raise_follow_up(
                unit, title=title, person_id=ids[name], due_on=date(2026, 11, day)
            )
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        table = app.screen.query_one("#followups-table", DataTable)
        titles = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert titles == ["反映企业融资难", "高校人才公寓", "医院停车难"]
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpDialog) and app.screen.line.title == "医院停车难"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpsScreen) and table.cursor_row == 2
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen) and app.screen.person_id == str(ids["王五"])
