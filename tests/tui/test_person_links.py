"""The person page shows a person's relationships (each seen from them) and tags, their
liaison record on request, and tags them with completion by pinyin (issue 18)."""

from __future__ import annotations

from crm_tui.app import TongxinApp
from crm_tui.screens.person import PersonScreen
from crm_tui.screens.tag_prompt import TagPrompt
from textual.widgets import Input

from crm_core.app import Tongxin
from crm_core.services import interactions, relations, tags

from .conftest import settle
from .test_flows import SIZE, static_text


async def _page(pilot: object, core: Tongxin, name: str) -> PersonScreen:
    app = pilot.app  # type: ignore[attr-defined]
    await settle(pilot)
    app.open_person(str(core.test_ids[name]))  # type: ignore[attr-defined]
    await settle(pilot)
    page = app.screen
    assert isinstance(page, PersonScreen)
    return page


async def test_the_person_page_shows_relationships_from_both_sides(core: Tongxin) -> None:
    ids = core.test_ids  # type: ignore[attr-defined]
    with core.unit() as unit:
        relations.add_relation(unit, ids["张三"], ids["李四"], type="introduced_by")
        tags.add_person_tags(unit, ids["张三"], ["重点"])
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        page = await _page(pilot, core, "张三")
        text = static_text(page, "#relations")
        assert "介绍人" in text and "李四" in text and "重点" in text
        await pilot.press("escape")
        page = await _page(pilot, core, "李四")
        text = static_text(page, "#relations")
        assert "经其介绍" in text and "张三" in text
        assert not page.query_one("#record").display
        await pilot.press("a")  # the liaison record of this year
        await settle(pilot)
        record = page.query_one("#record")
        assert record.display and "联系档案" in str(record.border_title)
        assert "反映问题" in static_text(page, "#record")


async def test_the_record_on_the_page_counts_this_years_contacts(core: Tongxin) -> None:
    ids = core.test_ids  # type: ignore[attr-defined]
    with core.unit("office") as unit:
        interactions.log_interaction(unit, kind="call", people=[ids["李四"]])
        year = interactions.timeline(unit, ids["李四"], limit=500)
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        page = await _page(pilot, core, "李四")
        await pilot.press("a")
        await settle(pilot)
        shown = page.links.record["totals"]["contacts"]
        done = [i for i in year if i.status.value == "done" and i.start_at.year == 2026]
        assert shown == len(done) >= 1
        assert f"联系次数 {shown}" in " ".join(static_text(page, "#record").split())


async def test_tagging_from_the_page_completes_a_tag_by_its_pinyin(core: Tongxin) -> None:
    ids = core.test_ids  # type: ignore[attr-defined]
    with core.unit() as unit:
        tags.add_person_tags(unit, ids["李四"], ["重点"])
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        page = await _page(pilot, core, "张三")
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagPrompt)
        await pilot.press("z", "d")
        await settle(pilot)
        await pilot.press("right")  # take the suggestion: 重点
        await settle(pilot)
        assert app.screen.query_one("#tag-input", Input).value == "重点"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is page
        assert "重点" in static_text(page, "#relations")
    with core.unit() as unit:
        assert tags.person_tags(unit, ids["张三"]) == ["重点"]
