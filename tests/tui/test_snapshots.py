"""Snapshots of every main screen at 80×24 and 120×40, in Chinese and English, on the fixed
office with the clock frozen (``pytest --snapshot-update`` rewrites them; look at the SVGs
in ``__snapshots__`` before committing a change)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from crm_tui.app import TongxinApp

from crm_core.app import Tongxin
from crm_core.i18n import set_language

from .conftest import settle

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


async def _dashboard(pilot: Any) -> None:
    await settle(pilot)


async def _contacts(pilot: Any) -> None:
    await pilot.press("f3")
    await settle(pilot)


async def _contacts_search(pilot: Any) -> None:
    await pilot.press("f3")
    await settle(pilot)
    await pilot.press("y")
    await pilot.pause(0.2)
    await settle(pilot)


async def _person(pilot: Any) -> None:
    pilot.app.open_person(str(pilot.app.core.test_ids["张三"]))
    await settle(pilot)


async def _form(pilot: Any) -> None:
    pilot.app.open_form("log", person_id=str(pilot.app.core.test_ids["张三"]), kind="meeting")
    await settle(pilot)


async def _agenda(pilot: Any) -> None:
    await pilot.press("f4")
    await settle(pilot)


async def _followups(pilot: Any) -> None:
    await pilot.press("f5")
    await settle(pilot)
    await pilot.press("a")  # all, not only open ones
    await settle(pilot)


async def _plugins(pilot: Any) -> None:
    await pilot.press("f6")
    await settle(pilot)


async def _help(pilot: Any) -> None:
    await pilot.press("f1")
    await settle(pilot)


SCREENS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "dashboard": _dashboard,
    "contacts": _contacts,
    "contacts_search": _contacts_search,
    "person": _person,
    "form": _form,
    "agenda": _agenda,
    "followups": _followups,
    "plugins": _plugins,
    "help": _help,
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
def test_screen(snap_compare: Any, core: Tongxin, screen: str, size: str, lang: str) -> None:
    app = TongxinApp(core, actor="office", lang=lang)
    try:
        assert snap_compare(app, terminal_size=SIZES[size], run_before=_still(SCREENS[screen]))
    finally:
        set_language("zh")
