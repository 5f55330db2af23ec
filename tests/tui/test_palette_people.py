"""Ctrl+P finds people by pinyin, initials and name, and opens them (issue 14)."""

from __future__ import annotations

import pytest
from crm_tui.app import TongxinApp
from crm_tui.commands import TongxinCommands
from crm_tui.screens.person import PersonScreen
from textual.command import CommandPalette

from crm_core.app import Tongxin
from crm_core.services import contacts

from .conftest import settle

SIZE = (80, 24)


@pytest.mark.parametrize(("typed", "name"), [("zhangsan", "张三"), ("oym", "欧阳明")])
async def test_the_palette_opens_a_person_found_by_pinyin(
    core: Tongxin, typed: str, name: str
) -> None:
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*typed)
        await pilot.pause(0.5)  # the palette searches after a short pause in typing
        await settle(pilot)
        await pilot.press("down", "enter")  # the first hit, as a user picks it
        await settle(pilot)
        page = app.screen
        assert isinstance(page, PersonScreen)
        assert page.page is not None and page.page.profile["name"] == name


async def test_people_by_name_follow_the_commands_and_markup_stays_text(core: Tongxin) -> None:
    with core.unit() as unit:
        contacts.create_person(unit, name="李[b]四[/b]", employer="[@click=app.quit]公司")
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        provider = TongxinCommands(app.screen)
        hits = [h async for h in provider.search("李")]
        people = [str(h.text) for h in hits if "联系人：" in str(h.text)]
        assert people and all("李" in p for p in people)
        assert "联系人：李[b]四[/b]" in people  # shown as written, never as markup
        blank = [str(h.text) async for h in provider.search("   ")]
        assert not [t for t in blank if "联系人：" in t]  # nobody for a blank query
