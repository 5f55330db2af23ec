"""Plugins extend the screens without the UI knowing them: person-page panels and
dashboard cards, and a failing one never takes the rest of the screen down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.screens.plugins import PluginsScreen
from textual.widgets import Static

from crm_core import hookimpl
from crm_core.app import Tongxin
from crm_core.models import Person
from crm_core.panels import CardSpec, PanelSpec
from crm_core.services import interactions
from crm_core.unit import Unit

from .conftest import settle
from .test_flows import SIZE, dashboard_text, plain, static_text


def boom(*_args: Any) -> Any:
    raise RuntimeError("the panel's query broke")


class PanelPlugin:
    """A plugin with a good and a broken panel, and a good and a broken card."""

    @hookimpl
    def register_panels(self, register: Callable[[PanelSpec], None]) -> None:
        def count(unit: Unit, person: Person) -> str:
            n = len(interactions.timeline(unit, person.id))
            return f"{person.name}：往来 {n} 次"

        register(PanelSpec("count", "往来统计", "Contact count", count, order=10))
        register(PanelSpec("broken", "坏面板", "Broken panel", boom, order=20))
        register(PanelSpec("quiet", "无内容", "Nothing", lambda unit, person: None))

    @hookimpl
    def register_dashboard_cards(self, register: Callable[[CardSpec], None]) -> None:
        register(CardSpec("hello", "统计卡片", "Stats card", lambda unit: "本周走访 3 次"))
        register(CardSpec("broken", "坏卡片", "Broken card", boom))


class BrokenRegistration:
    """A plugin whose registration itself raises."""

    @hookimpl
    def register_panels(self, register: Callable[[PanelSpec], None]) -> None:
        raise ValueError("cannot register")


async def test_failing_panel_shows_an_error_and_the_page_works(
    make_core: Callable[..., Tongxin],
) -> None:
    core = make_core(plugins={"panels_test": PanelPlugin(), "broken_reg": BrokenRegistration()})
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_person(str(core.test_ids["张三"]))  # type: ignore[attr-defined]
        await settle(pilot)
        person = app.screen
        panels = list(person.query("#panels Static").results(Static))
        titles = [p.border_title for p in panels]
        assert titles == ["往来统计", "坏面板"]  # by order; the quiet one shows nothing
        assert plain(panels[0].content) == "张三：往来 2 次"
        error = plain(panels[1].content)
        assert "此面板出错" in error and "RuntimeError" in error
        assert panels[1].has_class("panel-error")
        # the rest of the page works
        assert "座谈高校科研成果转化" in static_text(person, "#timeline")
        await pilot.press("l")
        await settle(pilot)
        assert type(app.screen).__name__ == "InteractionForm"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, PluginsScreen)
        text = static_text(app.screen, "#plugins-table")
        assert "panels_test" in text and "RuntimeError" in text
        assert "broken_reg" in text and "cannot register" in text
    info = {i.name: i for i in core.plugins.plugins()}
    assert info["panels_test"].status == "failing"
    assert "register_panels" in (info["panels_test"].last_error or "") or any(
        "register_panels" in e for e in info["panels_test"].errors
    )


async def test_dashboard_cards(make_core: Callable[..., Tongxin]) -> None:
    core = make_core(plugins={"panels_test": PanelPlugin()})
    app = TongxinApp(core, actor="office", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cards = list(app.screen.query("#dash-cards Static").results(Static))
        assert [c.border_title for c in cards] == ["Broken card", "Stats card"]  # by code
        assert plain(cards[1].content) == "本周走访 3 次"
        assert "RuntimeError" in plain(cards[0].content)
        assert "Today" in dashboard_text(app.screen)  # type: ignore[arg-type]
