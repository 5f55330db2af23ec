"""Plugins add command-palette entries (``register_palette_commands``) without the UI
knowing them: found by search like the built-in ones, run in one unit of work, their
output shown, their target opened, their failures told and recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import crm_plugins.union_liaison as union_liaison
import pytest
from crm_tui.app import TongxinApp
from crm_tui.commands import TongxinCommands
from crm_tui.screens.agenda import AgendaScreen
from crm_tui.screens.interaction import InteractionDialog
from crm_tui.screens.person import PersonScreen
from crm_tui.screens.plugin_output import PluginOutputDialog
from rich.table import Table
from textual.command import CommandList, CommandPalette

from crm_core import hookimpl
from crm_core.app import Tongxin
from crm_core.models import Rsvp
from crm_core.panels import OpenTarget, PaletteCommandSpec
from crm_core.services import contacts
from crm_core.unit import Unit

from .conftest import settle
from .test_flows import SIZE, plain, static_text


class PalettePlugin:
    """A plugin with one command of each outcome, a broken one and a clash."""

    @hookimpl
    def register_palette_commands(self, register: Callable[[PaletteCommandSpec], None]) -> None:
        def count(unit: Unit) -> Table:
            table = Table("人数")
            table.add_row(str(contacts.list_people(unit, limit=1).total))
            return table

        def first_person(unit: Unit) -> OpenTarget:
            person = contacts.resolve_person(unit, "欧阳明")
            return OpenTarget("person", str(person.id))

        def breaks(unit: Unit) -> None:
            contacts.create_person(unit, name="不该留下")  # undone: the command raises
            raise RuntimeError("the command broke")

        register(PaletteCommandSpec("count", "测试", "Test", "联系人人数", "Count", count))
        register(
            PaletteCommandSpec(
                "open",
                "测试",
                "Test",
                "打开欧阳明",
                "Open Ouyang",
                first_person,
                help_zh="去他的页面",
            )
        )
        register(
            PaletteCommandSpec("quiet", "测试", "Test", "什么也不做", "Nothing", lambda u: None)
        )
        register(PaletteCommandSpec("broken", "测试", "Test", "会出错", "Breaks", breaks))
        register(PaletteCommandSpec("odd", "测试", "Test", "怪结果", "Odd", lambda u: 42))
        register(PaletteCommandSpec("count", "测试", "Test", "重复", "Again", count))


def provider_commands(app: TongxinApp) -> dict[str, tuple[str, Callable[[], Any]]]:
    provider = TongxinCommands(app.screen)
    return {title: (help_text, cb) for title, help_text, cb in provider._commands()}


async def run_titled(pilot: Any, title: str) -> None:
    _help, callback = provider_commands(pilot.app)[title]
    callback()
    await settle(pilot)


async def test_plugin_commands_run_and_show_what_they_give(
    make_core: Callable[..., Tongxin],
) -> None:
    core = make_core(plugins={"palette_test": PalettePlugin()})
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = provider_commands(app)
        assert commands["测试: 打开欧阳明"][0] == "去他的页面"
        assert "测试: 重复" not in commands  # the clash keeps the first registration
        hits = [str(h.text) async for h in TongxinCommands(app.screen).search("csdk")]
        assert "测试: 打开欧阳明" in hits  # by pinyin initials, like the built-in ones

        await run_titled(pilot, "测试: 联系人人数")  # a renderable: shown in a dialog
        dialog = app.screen
        assert isinstance(dialog, PluginOutputDialog)
        assert static_text(dialog, "#plugin-output-title") == "测试: 联系人人数"
        assert "6" in static_text(dialog, "#plugin-output")
        await pilot.press("escape")
        await settle(pilot)

        await run_titled(pilot, "测试: 打开欧阳明")  # an OpenTarget: opened
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.person_id == str(core.test_ids["欧阳明"])  # type: ignore[attr-defined]

        await run_titled(pilot, "测试: 什么也不做")
        assert any(n.message == "完成：测试: 什么也不做" for n in app._notifications)

        await run_titled(pilot, "测试: 会出错")
        await run_titled(pilot, "测试: 怪结果")
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert any("RuntimeError: the command broke" in m for m in errors)
        assert any("TypeError" in m and "int" in m for m in errors)
        assert app.is_running and isinstance(app.screen, PersonScreen)
    info = {i.name: i for i in core.plugins.plugins()}["palette_test"]
    assert info.status == "failing"
    assert any("the command broke" in e for e in info.errors)
    assert any("already registered" in e for e in info.errors)
    with core.unit() as unit:
        assert contacts.search_people(unit, "不该留下").total == 0  # undone


def test_open_target_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="calendar"):
        OpenTarget("calendar")
    with pytest.raises(ValueError, match="ref"):
        OpenTarget("person")


async def test_union_liaison_gathering_list_from_the_palette(
    make_core: Callable[..., Tongxin],
) -> None:
    core = make_core(plugins={"union_liaison": union_liaison})
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Searched for in the real palette, by pinyin initials.
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"lyzqlyhmd")
        await pilot.pause(0.5)
        await settle(pilot)
        results = app.screen.query_one(CommandList)
        shown = [plain(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
        assert any("联谊: 中秋联谊会名单" in s for s in shown), shown
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PluginOutputDialog)
        text = static_text(dialog, "#plugin-output")
        # 2026's was on 09-25: the coming one is 2027's, not organised yet.
        assert "2027 中秋联谊会  2027-09-15（农历八月十五）" in text
        assert "tongxin gathering --create" in text
        await pilot.press("escape")
        await settle(pilot)
        # Its day: the agenda on 2027-09-15, the series' occurrence on it.
        await run_titled(pilot, "联谊: 中秋联谊会日程")
        agenda = app.screen
        assert isinstance(agenda, AgendaScreen) and agenda.view == "day"
        assert "2027-09-15" in static_text(agenda, "#agenda-title")

        with core.unit() as unit:
            gathering = union_liaison.ensure_gathering(
                unit,
                2027,
                invitees=[core.test_ids["张三"], core.test_ids["李四"]],  # type: ignore[attr-defined]
            )
            union_liaison.rsvp(unit, gathering.id, core.test_ids["张三"], Rsvp.accepted)  # type: ignore[attr-defined]
        await run_titled(pilot, "联谊: 中秋联谊会名单")
        text = static_text(app.screen, "#plugin-output")
        assert "邀请 2 人：接受 1，婉拒 0，未回复 1" in text
        lines = {
            line.split()[0]: line.split()[1:] for line in text.splitlines()[3:] if line.strip()
        }
        assert lines == {"李四": ["已邀请"], "张三": ["已接受"]}  # pinyin order
        await pilot.press("escape")
        await settle(pilot)
        await run_titled(pilot, "联谊: 中秋联谊会日程")  # organised now: the gathering itself
        assert isinstance(app.screen, InteractionDialog)
        assert app.screen.interaction_id == str(gathering.id)
