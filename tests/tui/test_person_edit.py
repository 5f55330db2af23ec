"""Editing a person from their page: the profile form, saved through the contacts service
with the version read, refused values shown under their field, a concurrent edit told
and never overwritten."""

from __future__ import annotations

from crm_tui.app import TongxinApp
from crm_tui.screens.drafts import ConfirmClose
from crm_tui.screens.person import PersonScreen
from crm_tui.screens.person_edit import PersonEditForm
from textual.widgets import Button, Input, Select, Static

from crm_core.app import Tongxin
from crm_core.services import contacts

from .conftest import settle
from .test_flows import SIZE, plain, static_text


async def open_form(pilot: object, core: Tongxin, name: str) -> tuple[PersonScreen, PersonEditForm]:
    app = pilot.app  # type: ignore[attr-defined]
    await settle(pilot)
    app.open_person(str(core.test_ids[name]))  # type: ignore[attr-defined]
    await settle(pilot)
    page = app.screen
    assert isinstance(page, PersonScreen)
    await pilot.press("e")  # type: ignore[attr-defined]
    await settle(pilot)
    form = app.screen
    assert isinstance(form, PersonEditForm)
    return page, form


async def test_edit_the_employer_and_the_page_shows_it(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        page, form = await open_form(pilot, core, "张三")
        # The form holds the profile as read.
        assert form.query_one("#edit-name", Input).value == "张三"
        assert form.query_one("#edit-employer", Input).value == "扬州大学"
        assert form.query_one("#edit-party", Select).value == "cdl"
        assert form.query_one("#edit-birth", Input).value == "1965-03"
        assert form.query_one("#edit-categories", Input).value == "党外知识分子"
        employer = form.query_one("#edit-employer", Input)
        employer.focus()
        employer.value = ""
        await pilot.press(*"扬州市职业大学")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is page
        assert "扬州市职业大学 教授" in static_text(page, "#profile")
        assert any("已保存" in n.message for n in app._notifications)
    with core.unit() as unit:
        person = contacts.get_person(unit, core.test_ids["张三"])  # type: ignore[attr-defined]
        assert (person.employer, person.title, person.version) == ("扬州市职业大学", "教授", 2)


async def test_a_bad_value_is_refused_inline_and_nothing_is_lost(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        _page, form = await open_form(pilot, core, "李四")
        form.query_one("#edit-employer", Input).value = "扬州新科技公司"
        form.query_one("#edit-mobile", Input).value = "12345"
        form.query_one("#edit-birth", Input).value = "1970-13"
        form.query_one("#edit-categories", Input).value = "非公有制经济人士、党外知识分子"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # not saved
        mobile = form.query_one("#error-mobile", Static)
        assert mobile.has_class("-shown")
        assert plain(mobile.content).startswith("⚠ 手机：") and "11" in plain(mobile.content)
        birth = plain(form.query_one("#error-birth", Static).content)
        assert birth.startswith("⚠ 出生年月：") and "13" in birth
        assert not form.query_one("#error-employer", Static).has_class("-shown")
        # Everything typed is still there.
        assert form.query_one("#edit-employer", Input).value == "扬州新科技公司"
        assert form.query_one("#edit-mobile", Input).value == "12345"
        # Corrected, it saves; the categories are read by their labels.
        form.query_one("#edit-mobile", Input).value = "139 0000 2222"
        form.query_one("#edit-birth", Input).value = "1970年3月"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        assert "139 0000 2222" in static_text(app.screen, "#profile")
    with core.unit() as unit:
        person = contacts.get_person(unit, core.test_ids["李四"])  # type: ignore[attr-defined]
        assert (person.mobile, person.birth_year, person.birth_month) == ("+8613900002222", 1970, 3)
        assert person.employer == "扬州新科技公司"
        assert contacts.categories_of(unit, person.id) == [
            "non_party_intellectual",
            "private_economy",
        ]


async def test_a_concurrent_edit_is_told_not_overwritten(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        _page, form = await open_form(pilot, core, "王五")
        form.query_one("#edit-title", Input).value = "副院长"
        # Meanwhile a colleague saves the same person.
        with core.unit("wangzx") as unit:
            contacts.update_person(unit, core.test_ids["王五"], title="院长")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert any("别人" in n.message and n.severity == "error" for n in app._notifications)
        assert "别人" in plain(form.query_one("#error-general", Static).content)
        assert form.query_one("#edit-title", Input).value == "副院长"  # kept
    with core.unit() as unit:
        assert contacts.get_person(unit, core.test_ids["王五"]).title == "院长"  # type: ignore[attr-defined]


async def test_cancel_and_nothing_changed(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        page, form = await open_form(pilot, core, "赵六")
        form.query_one("#edit-employer", Input).value = "不保存"
        await pilot.press("escape")  # changed: asks first (issue 14), then discards
        await settle(pilot)
        assert isinstance(app.screen, ConfirmClose)
        app.screen.query_one("#close-discard", Button).press()
        await settle(pilot)
        assert app.screen is page
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#edit-employer", Input).value == "高邮中学"
        await pilot.press("ctrl+s")  # nothing changed: nothing written
        await settle(pilot)
        assert app.screen is page
        assert any(n.message == "Nothing changed." for n in app._notifications)
    with core.unit() as unit:
        assert contacts.get_person(unit, core.test_ids["赵六"]).version == 1  # type: ignore[attr-defined]
