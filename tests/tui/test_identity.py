"""Who "I" am (issue 14): on a one-person install the UI asks which account is mine (or
creates it), remembers it in config, logs name it as our side and F8 is its calendar; a
login with an account of its own is never asked."""

from __future__ import annotations

from collections.abc import Callable

from crm_tui.app import TongxinApp
from crm_tui.screens.feed import FeedScreen
from crm_tui.screens.form import InteractionForm
from crm_tui.screens.whoami import WhoAmI
from crm_tui.widgets.participants import ParticipantPicker
from textual.widgets import Button, Input, OptionList, Static

from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.config import load_config
from crm_core.services import accounts, interactions

from .conftest import settle
from .test_flows import plain

SIZE = (80, 24)


async def test_first_start_asks_who_i_am_and_remembers_it(core: Tongxin) -> None:
    core.authenticate()  # as `tongxin` does: the login (no account of its own here)
    ids = core.test_ids  # type: ignore[attr-defined]
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ask = app.screen
        assert isinstance(ask, WhoAmI)
        options = ask.query_one("#whoami-list", OptionList)
        listed = [plain(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert "王主席  (wangzx)" in listed
        await pilot.press(*["down"] * listed.index("王主席  (wangzx)"), "enter")
        await settle(pilot)
        assert app.actor == "wangzx" and not isinstance(app.screen, WhoAmI)
        # A visit logged now has the office's side: my account, already in the form.
        app.open_form("log", person_id=str(ids["张三"]))
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        assert [c.name for c in form.query_one(ParticipantPicker).chosen] == ["张三", "王主席"]
        form.query_one("#summary", Input).value = "登门看望"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # F8 is my calendar, no --as needed.
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, FeedScreen)
        assert "王主席（wangzx）" in plain(app.screen.query_one("#feed-status", Static).content)
        await pilot.press("n")
        await settle(pilot)
    with core.unit() as unit:
        [visit] = [i for i in interactions.timeline(unit, ids["张三"]) if i.summary == "登门看望"]
        ours = [p for p in interactions.participants_of(unit, visit.id) if p.account_id]
        assert [p.account_id for p in ours] == [ids["chair"]]
        chair = accounts.get_account(unit, ids["chair"])
        assert len(feeds.list_tokens(unit, account=chair, include_revoked=False)) == 1
    # Remembered in the user's config file, and used at the next start without asking.
    assert core.config.source is not None
    assert load_config(core.config.source).sections.tui.account == "wangzx"
    again = TongxinApp(core)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(again.screen, WhoAmI) and again.actor == "wangzx"


async def test_a_new_install_creates_my_account(make_core: Callable[..., Tongxin]) -> None:
    core = make_core(data=False, config_text='# my settings\n[tui]\ntheme = "textual-dark"\n')
    core.authenticate()
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ask = app.screen
        assert isinstance(ask, WhoAmI)
        assert not ask.query_one("#whoami-list", OptionList).display  # nobody to choose
        assert ask.query_one("#whoami-username", Input).value == core.login_name()
        ask.query_one("#whoami-create", Button).press()  # no name: said, nothing made
        await settle(pilot)
        assert isinstance(app.screen, WhoAmI)
        assert "名字" in plain(ask.query_one("#error-display_name", Static).content)
        ask.query_one("#whoami-name", Input).value = "王小明"
        ask.query_one("#whoami-username", Input).value = "wangxm"
        ask.query_one("#whoami-create", Button).press()
        await settle(pilot)
        assert app.actor == "wangxm" and not isinstance(app.screen, WhoAmI)
    assert core.config.source is not None
    text = core.config.source.read_text("utf-8")
    assert text.startswith("# my settings\n[tui]\n") and 'theme = "textual-dark"' in text
    assert load_config(core.config.source).sections.tui.account == "wangxm"
    with core.unit("wangxm") as unit:
        assert unit.actor is not None and unit.actor.display_name == "王小明"


async def test_a_login_with_its_own_account_is_never_asked(core: Tongxin) -> None:
    with core.unit() as unit:
        accounts.create_account(unit, username=core.login_name(), display_name="我自己")
    core.authenticate()
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(app.screen, WhoAmI) and app.actor is None
        await pilot.press("f8")
        await settle(pilot)
        assert "我自己" in plain(app.screen.query_one("#feed-status", Static).content)
