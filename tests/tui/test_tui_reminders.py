"""Reminders while the terminal UI is open: the user's own desk reminders run in the app
(any role, no administrator needed), each one becomes a notification on screen, and
they stop with the app.

The program's clock is frozen (Friday 10:00, as in the other TUI tests); the desk runs
a reminder due by that clock at once, so work scheduled a few minutes ahead with a
10-minute reminder is shown as soon as the app has started."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from crm_tui.app import TongxinApp
from crm_tui.reminders import reminders_enabled
from textual.widgets._toast import Toast

from crm_core import clock, identity
from crm_core.app import Tongxin
from crm_core.reminders.desk import DESK_CHANNEL
from crm_core.reminders.service import deliveries
from crm_core.services import accounts, interactions

from .conftest import settle
from .test_flows import plain

SIZE = (120, 40)
CONFIG = '[reminders]\ndefault_minutes = [10]\nchannels = ["log"]\n'


def schedule_soon(core: Tongxin, summary: str, account: str, minutes: int = 8) -> None:
    """Planned work starting ``minutes`` from now for the account ``account`` (a
    username); its 10-minute reminder is due already."""
    with core.unit() as unit:
        interactions.schedule_interaction(
            unit,
            kind="meeting",
            accounts=[accounts.resolve_account(unit, account).id],
            start=clock.now() + timedelta(minutes=minutes),
            summary=summary,
        )


async def wait_until(pilot: Any, done: Callable[[], bool], seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not done():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await pilot.pause(0.1)


def desk_deliveries(core: Tongxin) -> list[tuple[str, str]]:
    return [(d.recipient, d.status) for d in deliveries(core, "item:") if d.channel == DESK_CHANNEL]


async def test_a_due_reminder_becomes_a_notification_and_stops_with_the_app(
    make_core: Callable[..., Tongxin], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    core = make_core(config_text=CONFIG)
    schedule_soon(core, "听取教育界意见", "office")
    schedule_soon(core, "主席会议成员碰头", "wangzx")  # someone else's
    app = TongxinApp(core, actor="office", reminders=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        bridge = app.reminders
        assert bridge is not None
        await wait_until(pilot, lambda: bool(bridge.shown))
        assert bridge.desk is not None and bridge.desk.wait_idle()
        await settle(pilot)
        assert [m.title for m in bridge.shown] == ["提醒：会面交流：听取教育界意见"]
        notes = [n for n in app._notifications if "听取教育界意见" in n.title]
        assert len(notes) == 1 and "10 分钟后" in notes[0].message
        assert not [n for n in app._notifications if "碰头" in n.title]
        toasts = [plain(t.render()) for t in app.screen.query(Toast)]
        assert any("听取教育界意见" in t for t in toasts)  # on screen
        assert not [n for n in app._notifications if n.severity in ("error", "warning")]
        logged = [r.getMessage() for r in caplog.records]
        assert any("reminder shown" in m and "听取教育界意见" in m for m in logged)
        scheduler = bridge.desk.scheduler
        assert scheduler.running
    # Closed with the app; the chair's reminder is left to the chair's own app.
    assert not scheduler.running and bridge.desk is None
    assert desk_deliveries(core) == [("office", "sent")]
    # The app opened again: the reminder was shown already.
    again = TongxinApp(core, actor="office", reminders=True)
    async with again.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert again.reminders is not None
        await wait_until(pilot, again.reminders.started.is_set)
        assert again.reminders.desk is not None and again.reminders.desk.wait_idle()
        await settle(pilot)
        assert again.reminders.shown == []


async def test_reminders_follow_the_config_switch_and_are_off_for_apps_made_in_code(
    make_core: Callable[..., Tongxin],
) -> None:
    on = make_core()
    off = make_core(config_text="[tui]\nreminders = false\n")
    assert reminders_enabled(on.config) and not reminders_enabled(off.config)
    assert TongxinApp(on).reminders is None  # tests and benchmarks start no scheduler
    # `tongxin`: as configured, once the core is open and the first screen is up.
    configured = TongxinApp(on, actor="office", reminders=None)
    async with configured.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert configured.reminders is not None
    app = TongxinApp(off, actor="office", reminders=None)
    assert app.reminders is None
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)


async def test_a_staff_members_own_login_shows_their_reminders(
    make_core: Callable[..., Tongxin], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff opening the app on their own login (no administrator rights) see their
    own reminders, and no one else's."""
    office = make_core(config_text=CONFIG)
    schedule_soon(office, "准备界别协商会材料", "xiaoli")
    schedule_soon(office, "听取教育界意见", "office")
    monkeypatch.setattr(identity, "os_login", lambda: "xiaoli")  # a staff account
    core = Tongxin(office.config, db_url=str(tmp_path / "office0" / "tongxin-test.db"))
    try:
        core.authenticate()  # as `tongxin` does: strictly the login's account
        app = TongxinApp(core, reminders=True)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            bridge = app.reminders
            assert bridge is not None
            await wait_until(pilot, lambda: bool(bridge.shown))
            assert bridge.desk is not None and bridge.desk.wait_idle()
            await settle(pilot)
            assert bridge.username == "xiaoli"
            assert [m.title for m in bridge.shown] == ["提醒：会面交流：准备界别协商会材料"]
            notes = [n for n in app._notifications if "准备界别协商会材料" in n.title]
            assert len(notes) == 1
            assert not [n for n in app._notifications if n.severity in ("error", "warning")]
            await pilot.press("f3")  # the app works on
            await settle(pilot)
            assert app.screen.main_name == "contacts"  # type: ignore[attr-defined]
    finally:
        core.close()
    assert desk_deliveries(office) == [("xiaoli", "sent")]


async def test_a_login_without_an_account_gets_no_reminders_and_no_error(
    make_core: Callable[..., Tongxin], monkeypatch: pytest.MonkeyPatch
) -> None:
    core = make_core(config_text=CONFIG)
    schedule_soon(core, "听取教育界意见", "office")
    monkeypatch.setattr(identity, "os_login", lambda: "visitor")  # no account
    app = TongxinApp(core, reminders=True)  # trusted code: the program itself
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        bridge = app.reminders
        assert bridge is not None
        await wait_until(pilot, bridge.started.is_set)
        await settle(pilot)
        assert bridge.desk is None and bridge.username is None and bridge.shown == []
        assert not [n for n in app._notifications if n.severity in ("error", "warning")]
    assert desk_deliveries(core) == []
