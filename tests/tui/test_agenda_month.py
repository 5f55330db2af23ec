"""The agenda's month as a grid (F4, m): a week a row, each day with its lunar day and
its festival or solar term, what is on it; Enter opens the day's list; the day and the
week stay lists."""

from __future__ import annotations

from datetime import date
from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.common import DataTable
from crm_tui.screens.agenda import AgendaScreen
from textual.coordinate import Coordinate

from crm_core import lunar
from crm_core.app import Tongxin

from .conftest import settle


def screen_lines(app: Any) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips(app.size)]


def cell_of(screen: AgendaScreen, day: date) -> str:
    table = screen.query_one("#agenda-grid", DataTable)
    assert screen.grid is not None
    place = screen.grid.place_of(day)
    assert place is not None, day
    return str(table.get_cell_at(Coordinate(*place)))


async def test_the_month_is_a_grid_with_lunar_days_terms_and_the_work_of_each_day(
    core: Tongxin,
) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4", "m")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AgendaScreen)
        assert screen.query_one("#agenda-grid").display
        assert not screen.query_one("#agenda-table").display
        lines = screen_lines(app)
        header = next(line for line in lines if "周一" in line)
        assert header.split() == ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        # 2026-11-22 is 小雪 (a solar term); 11-27 has the meeting of the fixed office.
        assert "小雪" in cell_of(screen, date(2026, 11, 22))
        friday = cell_of(screen, date(2026, 11, 27))
        assert lunar.solar_to_lunar(date(2026, 11, 27)).text[-2:] in friday
        assert "1·听取" in friday
        assert "小雪" in "\n".join(lines)  # painted, inside 80×24 with the footer
        assert any("f8" in line for line in lines[-2:])
        # Enter on a day: that day's list.
        grid = screen.query_one("#agenda-grid", DataTable)
        assert screen.grid is not None
        place = screen.grid.place_of(date(2026, 11, 27))
        assert place is not None
        grid.cursor_coordinate = Coordinate(*place)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.view == "day" and screen.anchor_day == date(2026, 11, 27)
        assert screen.query_one("#agenda-table").display  # the day is a list
        assert not screen.query_one("#agenda-grid").display
        await pilot.press("w")
        await settle(pilot)
        assert screen.query_one("#agenda-table").display  # and so is the week


async def test_festivals_are_in_their_cells(core: Tongxin) -> None:
    mid_autumn = lunar.lunar_to_solar(2026, 8, 15)
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.goto("agenda", view="month", day=mid_autumn)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AgendaScreen)
        assert "中秋" in cell_of(screen, mid_autumn)
        await pilot.press("n")  # the next month: its own grid
        await settle(pilot)
        assert screen.grid is not None and screen.grid.month.month == mid_autumn.month % 12 + 1
