"""Groups and bulk actions in the terminal UI (issue 18), driven with Textual's Pilot:
the groups screen from the palette, a person's groups on their page, and a bulk action
picked, previewed (nothing written) and applied, from a group and from the contacts list."""

from __future__ import annotations

from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.screens.bulk import BulkScreen
from crm_tui.screens.contacts import ContactsScreen
from crm_tui.screens.groups import GroupsScreen
from crm_tui.screens.person import PersonScreen
from textual.widgets import DataTable, Input, Select, Static

from crm_core.app import Tongxin
from crm_core.services import contacts, groups

from .conftest import settle
from .test_flows import plain

SIZE = (120, 40)


def _ids(core: Tongxin, *names: str) -> list[Any]:
    with core.unit() as unit:
        return [contacts.resolve_person(unit, n).id for n in names]


async def test_groups_screen_person_page_and_a_bulk_action_previewed_then_applied(
    core: Tongxin,
) -> None:
    zhang, li, wang = _ids(core, "张三", "李四", "王五")
    with core.unit("wangzx") as unit:
        groups.create_static(unit, "茶叙名单", people=[zhang, li, wang], shared=True)
        groups.save_group(unit, "知识分子", filters={"category": "党外知识分子"})
    app = TongxinApp(core, actor="wangzx", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"groups")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GroupsScreen)
        table = screen.query_one("#groups-list", DataTable)
        rows = [[plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows == [
            ["知识分子", "saved search", "no", "1"],
            ["茶叙名单", "picked list", "yes", "3"],
        ]
        table.move_cursor(row=1)
        await settle(pilot)
        members = screen.query_one("#groups-members", DataTable)
        assert sorted(plain(members.get_row_at(i)[0]) for i in range(3)) == ["张三", "李四", "王五"]
        await pilot.press("b")
        await settle(pilot)
        bulk = app.screen
        assert isinstance(bulk, BulkScreen) and len(bulk.people) == 3
        # Unpick 王五, then give the others a category: preview first.
        people = bulk.query_one("#bulk-people", DataTable)
        people.move_cursor(row=[p for p, _n in bulk.people].index(wang))
        await pilot.press("space")
        bulk.query_one("#bulk-action", Select).value = "add-category"
        bulk.query_one("#bulk-value", Input).value = "党外知识分子"
        bulk.query_one("#bulk-people", DataTable).focus()
        await pilot.press("p")
        await settle(pilot)
        assert bulk.result is not None and bulk.result.dry_run
        assert [c.name for c in bulk.result.changes] == ["李四"]  # 张三 has it already
        assert "nothing written" in plain(bulk.query_one("#bulk-status", Static).content)
        with core.unit() as unit:
            assert len(contacts.categories_of(unit, li)) == 1  # unchanged by the preview
        await pilot.click("#bulk-apply")  # the button; the key a does the same
        await settle(pilot)
        assert bulk.result is not None and not bulk.result.dry_run
        with core.unit() as unit:
            assert len(contacts.categories_of(unit, li)) == 2
            assert len(contacts.categories_of(unit, wang)) == 0  # unpicked
        # 李四's page names the groups the reader sees them in.
        app.open_person(str(li))
        await settle(pilot)
        page = app.screen
        assert isinstance(page, PersonScreen)
        shown = plain(page.query_one("#person-groups", Static).content)
        assert "茶叙名单" in shown and "知识分子" in shown


async def test_a_bulk_action_from_the_contacts_list(core: Tongxin) -> None:
    app = TongxinApp(core, actor="wangzx", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ContactsScreen())
        await settle(pilot)
        screen = app.screen
        screen.query_one("#search", Input).value = "张三"
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        bulk = app.screen
        assert isinstance(bulk, BulkScreen)
        assert [n.split(" ")[0] for _p, n in bulk.people] == ["张三"]
        bulk.query_one("#bulk-action", Select).value = "set-field"
        bulk.query_one("#bulk-field", Input).value = "title"
        bulk.query_one("#bulk-value", Input).value = "副教授"
        bulk.query_one("#bulk-people", DataTable).focus()
        await pilot.press("p")
        await settle(pilot)
        assert bulk.result is not None
        assert [(c.before, c.after) for c in bulk.result.changes] == [("教授", "副教授")]
        await pilot.click("#bulk-apply")  # the button; the key a does the same
        await settle(pilot)
    with core.unit() as unit:
        assert contacts.resolve_person(unit, "张三").title == "副教授"
