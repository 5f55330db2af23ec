"""What the terminal UI does when a real installed plugin (an entry point) fails: a
crashing validator refuses the save in the form, naming the plugin; a crashing card or
calendar hook is skipped with a warning notification; the plugins screen shows the last
error with its time, also in the next session (docs/plugins.md, "When a plugin fails")."""

from __future__ import annotations

import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from crm_tui.app import TongxinApp
from crm_tui.screens.form import InteractionForm
from crm_tui.screens.plugins import PluginsScreen
from sqlalchemy import func, select
from textual.widgets import Button, Input, Static

from crm_core.app import Tongxin
from crm_core.calendar import calendar_range, export_ics
from crm_core.config import load_config
from crm_core.models import Interaction
from crm_core.plugin_status import default_status_path
from crm_core.plugins import PluginHost

from .conftest import VisitPlugin, fill, settle
from .test_flows import SIZE, plain, static_text

PLUGIN = "tx_homes_tui"

SOURCE = """
import os

from crm_core import hookimpl
from crm_core.panels import CardSpec


def _crash(hook):
    if hook in os.environ.get("TX_HOMES_CRASH", "").split(","):
        raise RuntimeError(f"{hook} 崩溃了")


@hookimpl
def validate_interaction(unit, interaction, kind):
    _crash("validate_interaction")


@hookimpl
def decorate_event(event):
    _crash("decorate_event")


@hookimpl
def register_dashboard_cards(register):
    def homes(unit):
        _crash("card")
        return "委员之家 3 个"

    register(CardSpec("homes", "委员之家", "Homes", homes))
"""


@pytest.fixture
def open_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frozen: datetime):  # type: ignore[no-untyped-def]
    """``open_core()``: a new program (host and Tongxin, as `tongxin` makes them) on the
    same database and data folder, with the plugin installed as a distribution."""
    site = tmp_path / "site"
    site.mkdir()
    (site / f"{PLUGIN}.py").write_text(textwrap.dedent(SOURCE), "utf-8")
    info = site / f"{PLUGIN}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {PLUGIN}\nVersion: 1.0\n", "utf-8"
    )
    (info / "entry_points.txt").write_text(f"[tongxin.plugins]\n{PLUGIN} = {PLUGIN}\n", "utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, PLUGIN, raising=False)
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", PLUGIN)
    made: list[Tongxin] = []

    def make() -> Tongxin:
        host = PluginHost(status_file=default_status_path())
        host.load()
        host.register(VisitPlugin(), "visit_test")
        core = Tongxin(load_config(), db_url=str(tmp_path / "office.db"), plugins=host)
        made.append(core)
        return core

    yield make
    for core in made:
        core.close()


def _warnings(app: TongxinApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


async def test_failures_in_the_terminal_ui(open_core, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    core = open_core()
    ids = fill(core)
    monkeypatch.setenv("TX_HOMES_CRASH", "card,validate_interaction,decorate_event")
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # A card that raises: its own box says so, a notification says which plugin.
        cards = list(app.screen.query("#dash-cards Static").results(Static))
        assert "card 崩溃了" in plain(cards[0].content)
        assert any(
            "插件 tx_homes_tui 的 register_dashboard_cards 出错，已跳过" in m
            for m in _warnings(app)
        )

        # A validator that raises: the form refuses, names the plugin, keeps the input.
        with core.unit() as unit:
            before = unit.session.scalar(select(func.count()).select_from(Interaction))
        app.open_form("log", person_id=str(ids["张三"]))
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        form.query_one("#summary", Input).value = "活动之家座谈"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        error = static_text(form, "#error-general")
        assert "插件 tx_homes_tui 的 validate_interaction 出错" in error
        assert "什么也没有写入" in error
        assert form.query_one("#summary", Input).value == "活动之家座谈"
        with core.unit() as unit:
            assert unit.session.scalar(select(func.count()).select_from(Interaction)) == before

        # A calendar hook that raises while the UI runs (an export, a feed): a warning.
        with app.unit() as unit:
            export_ics(unit, calendar_range(unit, scope="office"))
        await settle(pilot)
        assert any("decorate_event 出错，已跳过" in m for m in _warnings(app))

        await pilot.press("escape")  # the form holds what was typed: asked, discarded
        await settle(pilot)
        app.screen.query_one("#close-discard", Button).press()
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, PluginsScreen)
        text = static_text(app.screen, "#plugins-table")
        assert "tx_homes_tui" in text and "崩溃了" in text

    # The next session: nothing has called the hooks yet; the plugins screen still shows
    # the last error and when it happened, in the office's time (the frozen clock).
    monkeypatch.setenv("TX_HOMES_CRASH", "")
    again = open_core()
    kept = again.plugins.info[PLUGIN]
    assert kept.status == "failing" and kept.last_error_at is not None
    app = TongxinApp(again, actor="office", start="plugins")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = static_text(app.screen, "#plugins-table")
        assert "[2026-11-27 10:00]" in text and "崩溃了" in text
        assert _warnings(app) == []  # kept failures are on the screen, not re-announced
