"""The contacts table (F3): rows drawn at their columns' widths, the whole list paged in
as the user moves or scrolls, the count and the cursor's position said."""

from __future__ import annotations

from typing import Any

import pytest
from crm_tui.app import TongxinApp
from crm_tui.common import DataTable
from crm_tui.screens import contacts as contacts_screen
from crm_tui.screens.contacts import ContactsScreen, Row
from textual.app import App, ComposeResult
from textual.widgets import Static

from crm_core.app import Tongxin
from crm_core.services import contacts

from .conftest import settle


def frame(app: Any) -> str:
    """What the screen would send to the terminal now (all of it)."""
    return str(app.screen._compositor.render_update(full=True).render_segments(app.console))


def line_of(table: DataTable, row: int) -> str:
    """The text of a table row as painted (the header is line 0)."""
    return table.render_line(row + 1).text


class OneTable(App[None]):
    """A table of a fixed height (as every table of the UI has), alone on a screen."""

    CSS = "DataTable { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield DataTable(id="t", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("姓名", key="name")
        table.add_column("工作单位", key="employer")


async def test_a_row_painted_before_the_columns_widened_is_repainted() -> None:
    # The race behind a flaky test: the screen repainted between add_row and the table's
    # Idle, which measures the new cells and widens the columns. Textual kept the line
    # painted first in its cache, cut to the header's widths ("欧阳" for the whole
    # name), for as long as the table kept its size. Here the paint comes first on
    # purpose, every time.
    app = OneTable()
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(DataTable)
        table.add_row("欧阳修远", "扬州大学附属医院心血管内科 主任")
        assert "欧阳修远" not in line_of(table, 0)  # painted before the Idle
        await pilot.pause()
        await pilot.pause()
        painted = line_of(table, 0)
        assert "欧阳修远" in painted and "扬州大学附属医院心血管内科 主任" in painted, painted


async def test_the_contacts_table_shows_whole_names_as_soon_as_they_come(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office", start="contacts")
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        table = screen.query_one("#people", DataTable)
        employer = "扬州大学附属医院心血管内科 主任"
        long = Row("x1", "欧阳修远", None, None, None, employer, None)
        screen._show(screen.generation, ([long], 1), replace=True)
        painted = line_of(table, 0)  # at once: the widths are set with the rows
        assert "欧阳修远" in painted and employer in painted, painted
        await settle(pilot)
        assert "欧阳修远" in frame(app)


def count_line(screen: Any) -> str:
    return str(screen.query_one("#count", Static).render())


@pytest.fixture
def crowd(core: Tongxin, monkeypatch: pytest.MonkeyPatch) -> Tongxin:
    """The office with 40 more people (46 in all), read 10 at a time."""
    with core.unit() as unit:
        for i in range(40):
            contacts.create_person(unit, name=f"钱{NUMBERS[i // 10]}{NUMBERS[i % 10]}")
    monkeypatch.setattr(contacts_screen, "PAGE", 10)
    monkeypatch.setattr(contacts_screen, "NEAR", 3)
    return core


NUMBERS = "零一二三四五六七八九"


async def test_the_list_reads_on_as_the_cursor_moves_and_says_where_it_is(
    crowd: Tongxin,
) -> None:
    app = TongxinApp(crowd, actor="office", start="contacts")
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#people", DataTable)
        first = table.row_count
        assert table.size.height <= first < 46, first  # a screenful, not everything
        assert "第 1 / 46 条" in count_line(screen), count_line(screen)
        assert f"已读 {first} 条" in count_line(screen)
        table.focus()
        for _ in range(3):
            await pilot.press("down")
        await settle(pilot)
        assert "第 4 / 46 条" in count_line(screen), count_line(screen)
        for _ in range(6):  # End: to the last row read, which reads the next page
            await pilot.press("ctrl+end")
            await settle(pilot)
        assert table.row_count == 46  # the whole list, page by page
        assert "第 46 / 46 条" in count_line(screen), count_line(screen)
        assert "已读" not in count_line(screen)  # all read: no hint left
        names = [str(table.get_row_at(i)[0]) for i in range(46)]
        assert len(set(names)) == 46  # no page read twice


async def test_scrolling_the_view_reads_the_next_page(crowd: Tongxin) -> None:
    app = TongxinApp(crowd, actor="office", start="contacts")
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#people", DataTable)
        before = table.row_count
        for _ in range(6):
            table.scroll_end(animate=False, immediate=True)
            await settle(pilot)
        assert before < table.row_count == 46
        assert table.cursor_row == 0  # the wheel moved the view, not the cursor


async def test_a_new_search_starts_the_count_again(crowd: Tongxin) -> None:
    app = TongxinApp(crowd, actor="office", start="contacts")
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"qian")
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        assert "第 1 / 40 条" in count_line(screen), count_line(screen)
        await pilot.press("ctrl+a", "backspace", *"zzzz")
        await pilot.pause(0.2)
        await settle(pilot)
        assert "没有" in count_line(screen) and screen.query_one("#people").row_count == 0
