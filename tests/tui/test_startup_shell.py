"""Start-up (issue 14, item 11): given the function that opens the core, the app paints
the dashboard's shell (title, sections marked "reading…", the footer's keys) before the
core is open, opens it in a worker thread, then shows the dashboard with its figures; a
key pressed meanwhile chooses the first screen; a core that cannot be opened is said on
the shell, not a traceback. The module the app is imported from loads no SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

from crm_tui.app import TongxinApp
from crm_tui.screens.contacts import ContactsScreen
from crm_tui.screens.dashboard import DashboardScreen
from crm_tui.shell import ShellScreen
from textual.widgets import OptionList, Static

from crm_core.app import Tongxin
from crm_core.errors import TongxinError

from .conftest import settle
from .test_flows import plain

SIZE = (80, 24)


def _gate(core: Tongxin) -> tuple[threading.Event, object]:
    """A core opener that waits until the test lets it through."""
    go = threading.Event()

    def open_core() -> Tongxin:
        assert go.wait(10)
        return core

    return go, open_core


async def test_shell_paints_before_the_core_is_open_then_the_figures(core: Tongxin) -> None:
    go, open_core = _gate(core)
    app = TongxinApp(open_core)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shell = app.screen
        assert isinstance(shell, ShellScreen) and not app.ready
        text = plain(shell.query_one("#shell-sections", Static).content)
        assert "今天" in text and "正在读取" in text
        assert "f3" in shell.active_bindings and "f8" in shell.active_bindings
        go.set()
        await settle(pilot)
        await settle(pilot)
        dash = app.screen
        assert isinstance(dash, DashboardScreen) and dash.loaded and app.ready
        lines = dash.query_one("#dash-list", OptionList)
        shown = [plain(lines.get_option_at_index(i).prompt) for i in range(lines.option_count)]
        assert any("今天" in line for line in shown)
        assert not any("正在读取" in line for line in shown)


async def test_a_key_pressed_while_opening_chooses_the_first_screen(core: Tongxin) -> None:
    go, open_core = _gate(core)
    app = TongxinApp(open_core)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        assert isinstance(app.screen, ShellScreen)
        go.set()
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)


async def test_a_core_that_cannot_be_opened_is_said_on_the_shell() -> None:
    def open_core() -> Tongxin:
        raise TongxinError("数据库打不开")

    app = TongxinApp(open_core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ShellScreen) and not app.ready
        said = plain(app.screen.query_one("#shell-error", Static).content)
        assert "数据库打不开" in said


def test_the_app_module_imports_no_database_layer() -> None:
    code = (
        "import json, sys; import crm_tui.app; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'pydantic', 'alembic', 'crm_plugins'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
