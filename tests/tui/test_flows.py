"""The main flows of the terminal UI, driven with Pilot on a fixed office and a frozen clock."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.screens.agenda import AgendaScreen
from crm_tui.screens.contacts import ContactsScreen
from crm_tui.screens.dashboard import DashboardScreen
from crm_tui.screens.form import InteractionForm
from crm_tui.screens.person import PersonScreen
from crm_tui.widgets.participants import ParticipantPicker
from rich.console import Console
from textual.widgets import DataTable, Input, OptionList, Select, Static

from crm_core.app import Tongxin
from crm_core.i18n import set_language
from crm_core.services import followups, interactions

from .conftest import settle

SIZE = (120, 40)


def plain(content: Any) -> str:
    """A widget's content as plain text (str, rich Text, or any rich renderable)."""
    if isinstance(content, str):
        return content
    if hasattr(content, "plain"):
        return str(content.plain)
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(content)
    return buffer.getvalue()


def static_text(screen: Any, selector: str) -> str:
    return plain(screen.query_one(selector, Static).content)


def dashboard_text(screen: DashboardScreen) -> str:
    options = screen.query_one("#dash-list", OptionList)
    return "\n".join(
        plain(options.get_option_at_index(i).prompt) for i in range(options.option_count)
    )


def table_text(table: DataTable[Any]) -> str:
    return "\n".join(
        " | ".join(plain(c) for c in table.get_row_at(i)) for i in range(table.row_count)
    )


async def open_person_by_initials(pilot: Any, initials: str) -> PersonScreen:
    await pilot.press("f3")
    await settle(pilot)
    await pilot.press(*initials)
    await pilot.pause(0.2)
    await settle(pilot)
    await pilot.press("enter")  # one match: opens it
    await settle(pilot)
    assert isinstance(pilot.app.screen, PersonScreen)
    return pilot.app.screen


async def choose_kind(pilot: Any, code: str) -> None:
    """Pick a kind in the form's Select with the keyboard, as a user would."""
    form = pilot.app.screen
    select = form.query_one("#kind", Select)
    codes = [c for _label, c in select._options]
    steps = codes.index(code) - codes.index(select.value)
    await pilot.press("enter")
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps))
    await pilot.press("enter")
    await settle(pilot)
    assert select.value == code


async def test_search_by_initials_open_person_log_meeting(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        person = await open_person_by_initials(pilot, "zs")
        assert person.page is not None and person.page.profile["name"] == "张三"
        await pilot.press("l")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        # The person, and the user's own account as our side (issue 14).
        assert [c.name for c in form.query_one(ParticipantPicker).chosen] == ["张三", "办公室"]
        await choose_kind(pilot, "meeting")
        await pilot.press("tab")
        await pilot.press(*"座谈会")
        assert form.query_one("#summary", Input).value == "座谈会"
        form.query_one("#data-concerns").text = "希望加强校地合作"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is person
        assert "座谈会" in static_text(person, "#timeline")
        assert "希望加强校地合作" in static_text(person, "#follow-ups")  # a follow-up raised
        await pilot.press("f2")
        await settle(pilot)
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        text = dashboard_text(dash)
        assert "10:00  会面交流" in text and "座谈会" in text  # today's agenda
        assert "会面交流  2" in text  # this month's work: two meetings
        await pilot.press("f5")  # the concern is on the follow-ups screen
        await settle(pilot)
        assert "希望加强校地合作" in table_text(app.screen.query_one("#followups-table", DataTable))
    with core.unit() as unit:
        assert interactions.timeline(unit, core.test_ids["张三"])[0].summary == "座谈会"  # type: ignore[attr-defined]


async def test_logging_a_visit_takes_few_keystrokes(core: Tongxin) -> None:
    """From the person's page: open the form, pick "visit" (registered last, after the
    core kinds), type a one-line summary, save. Keys besides the text are counted."""
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_person(str(core.test_ids["李四"]))  # type: ignore[attr-defined]
        await settle(pilot)
        summary = "visited the factory"
        keys: list[str] = []

        async def press(*k: str) -> None:
            keys.extend(k)
            await pilot.press(*k)
            await settle(pilot)

        await press("l")  # open the form, the person already in it
        select = app.screen.query_one("#kind", Select)
        codes = [c for _label, c in select._options]
        assert codes[-1] == "visit"
        await press(
            "enter", *["down"] * (codes.index("visit") - codes.index(select.value)), "enter"
        )
        await press("tab")
        await pilot.press(*summary)  # the text itself is not counted
        await press("ctrl+s")
        assert isinstance(app.screen, PersonScreen)
        assert len(keys) <= 15, keys
        assert "visited the factory" in static_text(app.screen, "#timeline")
    with core.unit() as unit:
        last = interactions.timeline(unit, core.test_ids["李四"])[0]  # type: ignore[attr-defined]
        assert (last.kind, last.summary, last.status.value) == ("visit", summary, "done")


async def test_schedule_shows_on_agenda_and_dashboard(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_person(str(core.test_ids["欧阳明"]))  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm) and form.mode == "schedule"
        form.query_one("#summary", Input).value = "走访文联"
        form.query_one("#when", Input).value = "下周一 下午3点"
        await settle(pilot)
        assert "2026-11-30 15:00" in static_text(form, "#when-hint")
        await pilot.press("ctrl+s")
        await settle(pilot)
        person = app.screen
        assert isinstance(person, PersonScreen)
        assert "走访文联" in static_text(person, "#upcoming")
        await pilot.press("f4")
        await settle(pilot)
        agenda = app.screen
        assert isinstance(agenda, AgendaScreen)
        await pilot.press("n")  # next week
        await settle(pilot)
        text = table_text(agenda.query_one("#agenda-table", DataTable))
        assert "走访文联" in text and "15:00" in text and "欧阳明" in text
        assert "十月廿二" in text  # the lunar date beside 2026-11-30 … in the same row
        await pilot.press("f2")
        await settle(pilot)
        assert "走访文联" in dashboard_text(app.screen)  # type: ignore[arg-type]


async def test_bad_date_is_refused_inline_and_nothing_is_lost(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_person(str(core.test_ids["赵六"]))  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        form.query_one("#summary", Input).value = "商量活动周安排"
        form.query_one("#location", Input).value = "高邮"
        form.query_one("#when", Input).value = "明天下午25点"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # not saved
        error = form.query_one("#error-when", Static)
        assert error.has_class("-shown") and "明天下午25点" in plain(error.content)
        assert not form.query_one("#error-summary", Static).has_class("-shown")
        assert form.query_one("#summary", Input).value == "商量活动周安排"
        assert form.query_one("#location", Input).value == "高邮"
        assert [c.name for c in form.query_one(ParticipantPicker).chosen] == ["赵六", "办公室"]
        # A time the services refuse (logged work in the future) names the field too.
        form.query_one("#when", Input).value = "明天上午"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
    with core.unit() as unit:
        planned = interactions.timeline(unit, core.test_ids["赵六"])  # type: ignore[attr-defined]
        assert any(i.summary == "商量活动周安排" and i.location == "高邮" for i in planned)


async def test_service_refusal_shows_under_the_field(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_form("log", person_id=str(core.test_ids["王五"]))  # type: ignore[attr-defined]
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        form.query_one("#summary", Input).value = "还没发生"
        form.query_one("#when", Input).value = "下周三 9:30"  # logging the future: refused
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        # The reason, in the user's language: logged work cannot be in the future.
        assert "请改为安排" in plain(form.query_one("#error-when", Static).content)
        assert form.query_one("#summary", Input).value == "还没发生"


async def test_participants_by_pinyin_people_and_accounts(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_form("log")
        await settle(pilot)
        form = app.screen
        form.query_one("#participant-input", Input).focus()
        await pilot.press(*"oym")  # 欧阳明 by initials
        await pilot.pause(0.2)
        await settle(pilot)
        await pilot.press("enter")
        await pilot.press(*"wangzhu")  # the account 王主席 by pinyin
        await pilot.pause(0.2)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        picker = form.query_one(ParticipantPicker)
        assert [(c.kind, c.name) for c in picker.chosen] == [
            ("account", "办公室"),  # the user's own, there from the start
            ("person", "欧阳明"),
            ("account", "王主席"),
        ]
        await pilot.press("backspace")  # in the empty box: takes the last one off
        assert [c.name for c in picker.chosen] == ["办公室", "欧阳明"]


async def test_confidential_notes_are_hidden(core: Tongxin) -> None:
    app = TongxinApp(core, actor="xiaoli")  # staff, not taking part in the talk
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_person(str(core.test_ids["张三"]))  # type: ignore[attr-defined]
        await settle(pilot)
        text = static_text(app.screen, "#timeline")
        # That the talk happened shows (the kind, marked confidential where the summary
        # would be); its summary and notes do not.
        assert "其他联系（保密）" in text
        assert "交流思想近况" not in text
        assert "只有参加者能看的记录" not in text
        assert "建议设立转化基金" in text  # an ordinary record's notes show


async def test_contacts_pages_as_the_cursor_moves(make_core: Callable[..., Tongxin]) -> None:
    from crm_core.services import contacts

    core = make_core(data=False)
    with core.unit() as unit:
        for i in range(230):
            contacts.create_person(unit, name=f"测试{i:03d}", employer="扬州测试单位")
    app = TongxinApp(core, start="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        table = screen.query_one("#people", DataTable)
        assert (table.row_count, screen.total) == (100, 230)
        table.focus()
        table.move_cursor(row=95)
        await settle(pilot)
        assert table.row_count == 200
        await pilot.press("slash", *"测试229")
        await pilot.pause(0.2)
        await settle(pilot)
        assert table.row_count == 1 and screen.total == 1


async def test_contacts_filters(core: Tongxin) -> None:
    app = TongxinApp(core, start="contacts", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        assert screen.total == 6
        screen.query_one("#filter-category", Select).value = "private_economy"
        await settle(pilot)
        assert screen.total == 1
        assert "李四" in table_text(screen.query_one("#people", DataTable))
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.total == 6


async def test_dashboard_lines_open_what_they_are_about(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        text = dashboard_text(dash)
        assert "15:00  会面交流  王五" in text  # today
        assert "通知参加界别活动周" in text  # next 7 days
        assert "张三" in text and "超过最长间隔" in text  # overdue, past maximum
        assert "王主席 尚无非公有制经济人士联系对象" in text  # a gap
        assert "2026-11-25  反映企业融资难" in text  # follow-up overdue
        options = dash.query_one("#dash-list", OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        overdue = next(i for i in ids if i and i.startswith("person:"))
        options.highlighted = ids.index(overdue)
        options.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.person_id == str(core.test_ids["张三"])  # type: ignore[attr-defined]


async def test_follow_up_is_answered_on_the_follow_ups_screen(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office", start="followups")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        dialog.query_one("#fu-status", Select).value = "answered"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog  # an answer needs the response given
        assert "须填写答复内容" in static_text(dialog, "#error-general")  # in Chinese
        dialog.query_one("#fu-response").text = "已协调银行对接"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not dialog
    with core.unit() as unit:
        row = followups.get_follow_up(unit, core.test_ids["follow_up"])  # type: ignore[attr-defined]
        assert (row.status.value, row.response) == ("answered", "已协调银行对接")


async def test_language_switch(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert static_text(app.screen, "#dash-title").startswith("首页")
            assert "今天" in dashboard_text(app.screen)  # type: ignore[arg-type]
            assert any(a.binding.description == "刷新" for a in app.screen.active_bindings.values())
            await pilot.press("f9")
            await settle(pilot)
            assert static_text(app.screen, "#dash-title").startswith("Home")
            assert "Today" in dashboard_text(app.screen)  # type: ignore[arg-type]
            await pilot.press("f9")
            await settle(pilot)
            assert static_text(app.screen, "#dash-title").startswith("首页")
    finally:
        set_language("zh")


async def test_english_from_the_start(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office", lang="en", start="contacts")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#people", DataTable)
            assert [plain(c.label) for c in table.columns.values()][:3] == [
                "Name",
                "Mobile",  # name and phone first: a narrow terminal keeps both
                "Party",
            ]
    finally:
        set_language("zh")


async def test_keymap_from_config(make_core: Callable[..., Tongxin]) -> None:
    core = make_core(config_text='[tui.keymap]\n"app.contacts" = "ctrl+k"\n')
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert "ctrl+k" in static_text(app.screen, "#help-table").lower().replace("^", "ctrl+")


async def test_help_lists_every_binding(core: Tongxin) -> None:
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1", "i")  # i: the keys' ids shown
        await settle(pilot)
        text = static_text(app.screen, "#help-table")
        for _where, bindings in app.all_bindings():
            for b in bindings:
                assert b.id is None or b.id in text, b.id
                if b.id is None:
                    assert b.action == "command_palette"


def test_every_binding_has_an_id(core: Tongxin) -> None:
    app = TongxinApp(core)
    for _where, bindings in app.all_bindings():
        for b in bindings:
            assert b.id or b.action == "command_palette", b


async def test_empty_database_offers_demo_data(
    make_core: Callable[..., Tongxin], monkeypatch: Any
) -> None:
    from crm_core import demo

    calls: list[int] = []
    real = demo.generate

    def small(core: Tongxin, contacts: int = 0, **kw: Any) -> Any:
        calls.append(contacts)
        return real(core, contacts=demo.MIN_CONTACTS, interactions=200, **kw)

    monkeypatch.setattr(demo, "generate", small)
    core = make_core(data=False)
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#welcome").display
        assert "tongxin import" in static_text(app.screen, "#welcome-text")
        await pilot.click("#load-demo")
        await settle(pilot)
        await settle(pilot)
        assert calls
        assert not app.screen.query_one("#welcome").display
        assert "今天" in dashboard_text(app.screen)  # type: ignore[arg-type]


async def test_errors_become_notifications(core: Tongxin) -> None:
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_person("no-such-person")
        await settle(pilot)
        assert any("找不到联系人" in n.message for n in app._notifications)
        assert app.is_running
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)


async def test_command_palette_titles(core: Tongxin) -> None:
    from crm_tui.commands import TongxinCommands

    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        provider = TongxinCommands(app.screen)
        titles = [t for t, _h, _c in provider._commands()]
        assert "前往: 联系人" in titles
        assert "工作: 记录工作" in titles
        assert "记录: 走访看望" in titles  # a plugin's kind, by its label
        hits = [h async for h in provider.search("lxr")]  # 联系人 by pinyin initials
        assert any("联系人" in str(h.text) for h in hits)
        callback = next(c for t, _h, c in provider._commands() if t == "前往: 日程")
        callback()
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
