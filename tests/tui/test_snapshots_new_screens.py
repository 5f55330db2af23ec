"""Snapshots of the Reports (F7) and phone calendar (F8) screens at 80×24 and 120×40, in
Chinese and English, on the fixed office with the clock frozen (``--snapshot-update`` on
this file rewrites them; look at the SVGs in ``__snapshots__`` before committing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from crm_tui.app import TongxinApp
from crm_tui.screens import reports

from crm_core.app import Tongxin
from crm_core.i18n import set_language

from .conftest import settle
from .test_snapshots import SIZES, _still


async def _reports(pilot: Any) -> None:
    await pilot.press("f7")
    await settle(pilot)
    await pilot.press("enter")  # run the first report for the current quarter
    await settle(pilot)


async def _reports_error(pilot: Any) -> None:
    await pilot.press("f7")
    await settle(pilot)
    pilot.app.screen.query_one("#period").value = "2026Q5"
    await pilot.press("ctrl+r")
    await settle(pilot)


async def _feed(pilot: Any) -> None:
    await pilot.press("f8")
    await settle(pilot)


SCREENS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "reports": _reports,
    "reports_error": _reports_error,
    "feed": _feed,
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(
    snap_compare: Any,
    core: Tongxin,
    monkeypatch: pytest.MonkeyPatch,
    screen: str,
    size: str,
    lang: str,
) -> None:
    # The default save path shows the documents folder: the same on every machine.
    monkeypatch.setattr(reports, "documents_dir", lambda: Path.home() / "Documents" / "同心报表")
    app = TongxinApp(core, actor="office", lang=lang)
    try:
        assert snap_compare(app, terminal_size=SIZES[size], run_before=_still(SCREENS[screen]))
    finally:
        set_language("zh")
