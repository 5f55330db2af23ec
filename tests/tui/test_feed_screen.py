"""The phone calendar screen (手机日历, F8): a new subscription address on demand, whose
token is the user's; older addresses keep working; revoking all makes them unusable."""

from __future__ import annotations

import re
from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.screens.feed import ConfirmRevoke, FeedScreen
from textual.widgets import Static

from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.services import accounts

from .conftest import settle
from .test_flows import plain

SIZE = (120, 40)
WEBCAL = re.compile(r"webcal://tongxin\.example\.org/cal/([A-Za-z0-9_-]+)\.ics")


def owner_of(core: Tongxin, token: str) -> str | None:
    """The username a feed token resolves to, or None if it does not resolve."""
    with core.unit() as unit:
        row = feeds.resolve_token(unit, token)
        if row is None or row.account_id is None:
            return None
        return accounts.get_account(unit, row.account_id).username


async def open_feed(pilot: Any) -> FeedScreen:
    await settle(pilot)
    await pilot.press("f8")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, FeedScreen)
    return screen


async def new_link(pilot: Any, screen: FeedScreen) -> str:
    """Press N; return the token of the webcal:// address now on screen."""
    await pilot.press("n")
    await settle(pilot)
    urls = plain(screen.query_one("#feed-urls", Static).content)
    found = WEBCAL.findall(urls)
    assert len(found) == 1, urls
    assert f"https://tongxin.example.org/cal/{found[0]}.ics" in urls
    return str(found[0])


async def test_new_address_resolves_to_the_user_and_revoke_all_ends_every_one(
    core: Tongxin,
) -> None:
    app = TongxinApp(core, actor="wangzx")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_feed(pilot)
        status = screen.query_one("#feed-status", Static)
        assert plain(status.content) == "王主席（wangzx）：有效订阅地址 0 个。"
        first = await new_link(pilot, screen)
        assert owner_of(core, first) == "wangzx"
        # The QR code on screen is the webcal address's.
        webcal = f"webcal://tongxin.example.org/cal/{first}.ics"
        qr = plain(screen.query_one("#feed-qr", Static).content)
        assert qr == feeds.qr_text(webcal, invert=False).rstrip("\n")
        await pilot.press("c")  # copied for pasting into a message to the phone
        assert app.clipboard == webcal
        # A second address: a new token; the first keeps working until revoked.
        second = await new_link(pilot, screen)
        assert second != first
        assert owner_of(core, first) == owner_of(core, second) == "wangzx"
        assert "有效订阅地址 2 个" in plain(status.content)
        # Revoke all: asked first (the safe button has the focus), then done.
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRevoke)
        await pilot.click("#revoke-yes")
        await settle(pilot)
        assert app.screen is screen
        assert owner_of(core, first) is None and owner_of(core, second) is None
        assert "有效订阅地址 0 个" in plain(status.content)
        assert WEBCAL.search(plain(screen.query_one("#feed-urls", Static).content)) is None


async def test_revoke_can_be_called_off_and_others_tokens_are_untouched(core: Tongxin) -> None:
    with core.unit() as unit:
        _row, others = feeds.create_token(unit, account=accounts.resolve_account(unit, "xiaoli"))
    app = TongxinApp(core, actor="office", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_feed(pilot)
        mine = await new_link(pilot, screen)
        assert owner_of(core, mine) == "office"
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRevoke)
        await pilot.press("enter")  # the focused button is "Cancel"
        await settle(pilot)
        assert app.screen is screen and owner_of(core, mine) == "office"
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert owner_of(core, mine) == "office"
        await pilot.press("x")
        await settle(pilot)
        await pilot.click("#revoke-yes")
        await settle(pilot)
        assert owner_of(core, mine) is None
        assert owner_of(core, others) == "xiaoli"  # only the user's own addresses
