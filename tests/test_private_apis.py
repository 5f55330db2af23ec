"""The few private APIs of Textual, Rich and APScheduler that tongxin uses, where no
public one exists. Each is pinned to the tested range in pyproject.toml; each test below
exercises exactly that use, so an upgrade that moves it fails here, by name, not in a
user's hands. (The Select widget's ``_options`` was replaced by the screen's own list.)"""

from __future__ import annotations

import io
import time
import tomllib
from pathlib import Path

import pytest
from rich.console import Console


def test_rich_console_render_buffer_is_what_the_cli_console_overrides() -> None:
    # cli/context.py: SafeConsole._render_buffer escapes control characters of stored text.
    from crm_cli.context import SafeConsole

    assert "_render_buffer" in vars(Console)
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=False, width=80)
    console.print("张三\x1b[2J")
    assert "\\x1b" in buffer.getvalue() and "\x1b" not in buffer.getvalue()


def test_rich_console_markup_flag_is_what_the_tui_turns_off() -> None:
    # tui/app.py: self.console._markup = False (a stored "[b]x[/b]" is shown as written).
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, markup=True)
    assert console._markup is True
    console._markup = False
    console.print("[b]x[/b]")
    assert buffer.getvalue().strip() == "[b]x[/b]"


def test_textual_merged_bindings_are_what_translate_bindings_rewrites() -> None:
    # tui/common.py: translate_bindings reads type(node)._merged_bindings, sets node._bindings.
    from crm_tui.app import TongxinApp
    from crm_tui.common import translate_bindings
    from textual.binding import BindingsMap

    from crm_core.i18n import set_language

    merged = TongxinApp._merged_bindings
    assert isinstance(merged, BindingsMap)
    app = TongxinApp.__new__(TongxinApp)
    set_language("zh")
    translate_bindings(app)
    descriptions = {b.description for bs in app._bindings.key_to_bindings.values() for b in bs}
    english = {b.description for bs in merged.key_to_bindings.values() for b in bs}
    assert descriptions != english  # translated on the instance
    assert {
        b.description for bs in TongxinApp._merged_bindings.key_to_bindings.values() for b in bs
    } == english  # the class keeps the msgids


def test_apscheduler_process_jobs_is_what_the_reminder_scheduler_overrides() -> None:
    # crm_core/reminders/service.py: _Scheduler._process_jobs runs nothing once stopped.
    from apscheduler.schedulers.background import BackgroundScheduler

    from crm_core.reminders.service import _Scheduler

    assert callable(getattr(BackgroundScheduler, "_process_jobs", None))
    ran: list[int] = []
    scheduler = _Scheduler()
    scheduler.add_job(lambda: ran.append(1), "date")
    assert scheduler._process_jobs() is None  # stopped: nothing taken
    assert ran == []
    scheduler.start()  # running: the override hands over to APScheduler's own
    try:
        deadline = time.monotonic() + 10
        while not ran and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert ran == [1]
    assert scheduler._process_jobs() is None  # stopped again


@pytest.mark.parametrize("package", ["textual", "rich", "apscheduler"])
def test_the_installed_version_is_inside_the_pinned_range(package: str) -> None:
    import importlib.metadata

    from packaging.requirements import Requirement

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    requires = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    (line,) = [r for r in requires if r.lower().startswith(package)]
    assert importlib.metadata.version(package) in Requirement(line).specifier
