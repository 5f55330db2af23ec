"""crm_tui.testing: a plugin author's headless tests of panels, cards, palette commands
and form fields, on the real screens (issue 13, item 6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from crm_tui.testing import card_async, form_field_async, palette_command_async, panel_async

from crm_core import hookimpl
from crm_core.app import Tongxin
from crm_core.models import Person
from crm_core.panels import CardSpec, PaletteCommandSpec, PanelSpec
from crm_core.unit import Unit


def boom(*_args: Any) -> Any:
    raise RuntimeError("the query broke")


class Extras:
    """A panel, a broken panel, a card and two palette commands."""

    @hookimpl
    def register_panels(self, register: Callable[[PanelSpec], None]) -> None:
        def hello(unit: Unit, person: Person) -> str:
            return f"{person.name}：你好"

        register(PanelSpec("hello", "问候", "Hello", hello))
        register(PanelSpec("broken", "坏面板", "Broken", boom))

    @hookimpl
    def register_dashboard_cards(self, register: Callable[[CardSpec], None]) -> None:
        register(CardSpec("week", "本周", "This week", lambda unit: "走访 3 次"))

    @hookimpl
    def register_palette_commands(self, register: Callable[[PaletteCommandSpec], None]) -> None:
        register(PaletteCommandSpec("hi", "测试", "Test", "问好", "Hi", lambda unit: "你好"))
        register(PaletteCommandSpec("bad", "测试", "Test", "出错", "Bad", boom))


async def test_panels_cards_and_commands_as_the_user_sees_them(
    make_core: Callable[..., Tongxin],
) -> None:
    core = make_core(plugins={"extras": Extras()})
    person = core.test_ids["张三"]  # type: ignore[attr-defined]
    shown = await panel_async(core, person, "hello", actor="office")
    assert shown is not None and (shown.title, shown.text, shown.error) == (
        "问候",
        "张三：你好",
        False,
    )
    broken = await panel_async(core, person, "broken", actor="office")
    assert broken is not None and broken.error and "RuntimeError" in broken.text
    week = await card_async(core, "week", actor="office", lang="en")
    assert week is not None and (week.title, week.text) == ("This week", "走访 3 次")
    ran = await palette_command_async(core, "hi", actor="office")
    assert (ran.title, ran.output, ran.screen, ran.errors) == (
        "测试: 问好",
        "你好",
        "PluginOutputDialog",
        [],
    )
    failed = await palette_command_async(core, "bad", actor="office")
    assert failed.output is None and any("the query broke" in e for e in failed.errors)
    with pytest.raises(
        LookupError, match=r"no panel .nope. is registered \(registered: broken, hello\)"
    ):
        await panel_async(core, person, "nope", actor="office")


async def test_form_fields_by_widget(make_core: Callable[..., Tongxin]) -> None:
    core = make_core()
    occasion = await form_field_async(core, "visit", "occasion", actor="office")
    assert (occasion.widget, occasion.label, occasion.choices) == ("text", "场合", [])
    concerns = await form_field_async(core, "visit", "concerns", actor="office")
    assert concerns.widget == "lines"


async def test_an_empty_database_has_no_cards_to_show(make_core: Callable[..., Tongxin]) -> None:
    core = make_core(plugins={"extras": Extras()}, data=False)
    with pytest.raises(LookupError, match="add a person first"):
        await card_async(core, "week")
