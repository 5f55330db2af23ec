"""A plugin's obligations (``collect_obligations``) on the dashboard's overdue card: its
own label under its own heading, a row that opens its link, and a raising plugin
skipped with a notification while the rest of the dashboard works."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from crm_tui.app import TongxinApp
from crm_tui.screens.agenda import AgendaScreen
from crm_tui.screens.dashboard import DashboardScreen
from crm_tui.screens.person import PersonScreen
from textual.widgets import OptionList

from crm_core import hookimpl
from crm_core.app import Tongxin
from crm_core.kinds import Obligation, OpenTarget
from crm_core.services import contacts
from crm_core.unit import Unit

from .conftest import settle
from .test_flows import SIZE, dashboard_text


class Homes:
    """A home owed its monthly activity (a person link) and a kind-and-month link."""

    @hookimpl
    def collect_obligations(self, unit: Unit, as_of: date) -> list[Obligation]:
        home = contacts.resolve_person(unit, "张三")
        return [
            Obligation(
                "home:zhang",
                "东关活动之家：本月尚无活动",
                detail="每月至少一次",
                due_on=date(2026, 11, 20),
                link=OpenTarget("person", str(home.id)),
            ),
            Obligation(
                "visits:month",
                "本月走访未过半",
                due_on=date(2026, 11, 30),
                link=OpenTarget("agenda", "2026-11", kind="visit"),
            ),
        ]


class Broken:
    @hookimpl
    def collect_obligations(self, unit: Unit, as_of: date) -> list[Obligation]:
        raise RuntimeError("the homes table is gone")


def _option_ids(dash: DashboardScreen) -> list[str | None]:
    options = dash.query_one("#dash-list", OptionList)
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


async def _choose(pilot: object, dash: DashboardScreen, option_id: str) -> None:
    options = dash.query_one("#dash-list", OptionList)
    options.highlighted = _option_ids(dash).index(option_id)
    options.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)


async def test_a_plugin_row_is_on_the_overdue_card_and_opens_its_link(
    make_core: Callable[..., Tongxin],
) -> None:
    core = make_core(plugins={"broken": Broken(), "homes": Homes()})
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        text = dashboard_text(dash)
        assert "── 其他待办事项 (2)" in text
        assert "东关活动之家：本月尚无活动  已逾期 7 天  每月至少一次" in text
        assert "本月走访未过半  到期 2026-11-30" in text
        assert "张三" in text  # the contacts overdue are still there
        warned = [n.message for n in app._notifications if n.severity == "warning"]
        assert "插件 broken 出错，它的待办事项没有显示。" in warned
        await _choose(pilot, dash, "ob:0")
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.person_id == str(core.test_ids["张三"])  # type: ignore[attr-defined]
        app.pop_screen()
        await settle(pilot)
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        await _choose(pilot, dash, "ob:1")
        agenda = app.screen
        assert isinstance(agenda, AgendaScreen)
        shown = (agenda.view, agenda.kind, agenda.anchor_day)
        assert shown == ("month", "visit", date(2026, 11, 1))
