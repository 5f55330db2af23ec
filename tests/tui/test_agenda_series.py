"""The institutional series (政协 calendar: monthly theory study, exchanges, forums, the
中秋联谊会 on lunar 八月十五) on the agenda's views and the dashboard, under a frozen clock
(Friday 2026-11-27)."""

from __future__ import annotations

from datetime import date
from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.screens.agenda import AgendaScreen
from crm_tui.screens.dashboard import DashboardScreen
from textual.coordinate import Coordinate
from textual.widgets import DataTable, OptionList

from crm_core.app import Tongxin
from crm_core.i18n import set_language

from .conftest import settle
from .test_flows import SIZE, dashboard_text, plain, static_text


def rows(screen: AgendaScreen) -> list[list[str]]:
    table = screen.query_one("#agenda-table", DataTable)
    return [[plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_mid_autumn_gathering_on_its_lunar_day_in_the_month_and_day_views(
    core: Tongxin,
) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4", "m")
        await settle(pilot)
        await pilot.press("p", "p")  # November → October → September 2026
        await settle(pilot)
        agenda = app.screen
        assert isinstance(agenda, AgendaScreen)
        assert "2026-09-01 – 2026-09-30" in static_text(agenda, "#agenda-title")
        # The month is a grid: the day's cell has its lunar day, the festival and the
        # gathering, marked as the institutional calendar's.
        assert agenda.grid is not None
        grid = agenda.query_one("#agenda-grid", DataTable)
        place = agenda.grid.place_of(date(2026, 9, 25))
        assert place is not None
        cell = str(grid.get_cell_at(Coordinate(*place)))
        assert "25 十五" in cell and "中秋" in cell and "◆1·中秋联谊会" in cell
        assert static_text(agenda, "#agenda-count") == "共 4 项"
        # Enter on the day: its list, where choosing the line tells what and when (a
        # series has no page of its own).
        grid.cursor_coordinate = Coordinate(*place)
        await pilot.press("enter")
        await settle(pilot)
        assert agenda.view == "day"
        found = rows(agenda)
        gathering = next(r for r in found if "中秋联谊会" in r[5])
        assert gathering[:5] == ["09-25 周五", "八月十五 中秋", "18:30", "◆ 政协日程", ""]
        table = agenda.query_one("#agenda-table", DataTable)
        table.move_cursor(row=found.index(gathering))
        await pilot.press("enter")
        await settle(pilot)
        told = [n.message for n in app._notifications]
        assert any("中秋联谊会" in m and "18:30–21:00" in m and "八月十五" in m for m in told)
        assert app.screen is agenda
        # The day view of 2026-09-25.
        app.goto("agenda", view="day", day=date(2026, 9, 25))
        await settle(pilot)
        day = app.screen
        assert isinstance(day, AgendaScreen)
        assert "2026-09-25 周五 八月十五 中秋" in static_text(day, "#agenda-title")
        assert [r[5] for r in rows(day)] == ["中秋联谊会"]


async def test_this_weeks_view_mixes_series_and_work(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office", lang="en")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f4")
            await settle(pilot)
            found = rows(app.screen)  # type: ignore[arg-type]
            # Monday 11-23 to Sunday 11-29: the theory study of the last Thursday sits
            # between the call of Wednesday and Friday's meeting.
            assert [(r[2], r[3], r[5]) for r in found] == [
                ("09:30", "Phone call", "电话了解企业用工情况"),
                ("14:30", "◆ Institutional", "党组理论学习中心组月度学习"),
                ("15:00", "Meeting [planned]", "听取医疗卫生界意见"),
            ]
    finally:
        set_language("zh")


async def test_dashboard_lists_the_next_institutional_events(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        text = dashboard_text(dash)
        section = text.split("── 近期政协日程")[1].split("── ")[0]
        lines = [line.strip() for line in section.strip().splitlines()]
        # From today (2026-11-27) for 60 days: yesterday's theory study is not coming.
        assert lines == [
            "12-15 周二 09:00  ◆ 委员学习组季度学习座谈会",
            "12-18 周五 09:00  ◆ 务虚会",
            "12-31 周四 14:30  ◆ 党组理论学习中心组月度学习",
            "01-13 周三 14:30  ◆ 学习交流会",
        ]
        # A line opens the agenda on its day.
        options = dash.query_one("#dash-list", OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index("series:1:2026-12-18")
        options.focus()
        await pilot.press("enter")
        await settle(pilot)
        agenda = app.screen
        assert isinstance(agenda, AgendaScreen) and agenda.view == "day"
        assert [r[5] for r in rows(agenda)] == ["务虚会"]


async def test_the_gathering_shows_on_the_dashboard_when_it_is_near(
    make_core: Any,
) -> None:
    from crm_core import clock

    core = make_core()
    clock.freeze(clock.now().replace(month=9, day=1))  # 2026-09-01 10:00 in Yangzhou
    app = TongxinApp(core, actor="office", lang="en")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            text = dashboard_text(app.screen)  # type: ignore[arg-type]
            assert "09-25 Fri 18:30  ◆ 中秋联谊会  Lunar 八月十五" in text
    finally:
        set_language("zh")
