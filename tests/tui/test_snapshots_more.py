"""Snapshots of the person edit form (as opened, and with a refused value) and of a
plugin palette command's dialog, at 80×24 and 120×40, in Chinese and English, on the fixed
office with the clock frozen (``pytest --snapshot-update`` on this file rewrites them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import crm_plugins.union_liaison as union_liaison
import pytest
from crm_tui.app import TongxinApp
from crm_tui.commands import TongxinCommands
from textual.widgets import Input

from crm_core.app import Tongxin
from crm_core.i18n import set_language
from crm_core.models import Rsvp

from .conftest import settle

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


async def _person_edit(pilot: Any) -> None:
    pilot.app.open_person(str(pilot.app.core.test_ids["张三"]))
    await settle(pilot)
    await pilot.press("e")
    await settle(pilot)


async def _person_edit_refused(pilot: Any) -> None:
    await _person_edit(pilot)
    pilot.app.screen.query_one("#edit-mobile", Input).value = "12345"
    await pilot.press("ctrl+s")
    await settle(pilot)


async def _gathering_list(pilot: Any) -> None:
    await settle(pilot)  # the dashboard has read (and synced the series) first
    core, ids = pilot.app.core, pilot.app.core.test_ids
    with core.unit() as unit:  # 2027's gathering, two invited, one accepted
        gathering = union_liaison.ensure_gathering(unit, 2027, invitees=[ids["张三"], ids["李四"]])
        union_liaison.rsvp(unit, gathering.id, ids["张三"], Rsvp.accepted)
    await settle(pilot)
    commands = TongxinCommands(pilot.app.screen)._commands()
    callback = next(
        c
        for t, _h, c in commands
        if t in ("联谊: 中秋联谊会名单", "Liaison: Mid-Autumn gathering list")
    )
    callback()
    await settle(pilot)


SCREENS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "person_edit": _person_edit,
    "person_edit_refused": _person_edit_refused,
    "gathering_list": _gathering_list,
}


def _still(run: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
    """Run ``run``, then stop every text cursor blinking (a blink is not a change)."""

    async def wrapped(pilot: Any) -> None:
        await run(pilot)
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False
        await settle(pilot)

    return wrapped


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(
    snap_compare: Any, make_core: Callable[..., Tongxin], screen: str, size: str, lang: str
) -> None:
    core = make_core(plugins={"union_liaison": union_liaison})
    app = TongxinApp(core, actor="office", lang=lang)
    try:
        assert snap_compare(app, terminal_size=SIZES[size], run_before=_still(SCREENS[screen]))
    finally:
        set_language("zh")
