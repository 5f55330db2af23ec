"""The few private APIs of Textual, Rich and APScheduler that tongxin uses, where no
public one exists. Each is pinned to the tested range in pyproject.toml; each test below
exercises exactly that use, so an upgrade that moves it fails here, by name, not in a
user's hands. (The Select widget's ``_options`` was replaced by the screen's own list.)"""

from __future__ import annotations

import asyncio
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


def test_textual_datatable_internals_are_what_the_tables_widening_fix_uses() -> None:
    # tui/common.py: DataTable._update_dimensions is wrapped; it compares the columns'
    # content_width and the label column's, then bumps _update_count (the line caches'
    # key). set_widths sets Column.width/auto_width and _require_update_dimensions.
    from textual.widgets import DataTable
    from textual.widgets.data_table import Column

    assert callable(DataTable._update_dimensions)
    table = DataTable[str]()
    assert isinstance(table._update_count, int)
    assert isinstance(table._label_column, Column)
    assert table._require_update_dimensions is False
    assert {"width", "content_width", "auto_width"} <= set(Column.__dataclass_fields__)


def test_textual_footer_key_and_bindings_ready_are_what_the_wrapping_footer_uses() -> None:
    # tui/footer.py: FooterKey from textual.widgets._footer, Footer._bindings_ready.
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    key = FooterKey("f8", "f8", "手机日历", "goto")
    assert (key.key_display, key.description) == ("f8", "手机日历")
    assert Footer()._bindings_ready is False


def test_textual_widgets_bindings_are_what_textual_i18n_translates() -> None:
    # tui/textual_i18n.py: CommandPalette's and SelectOverlay's class _merged_bindings,
    # replaced by translated copies; the English originals kept (english_bindings).
    # Another test in the same process may have set a language before this one.
    import re

    from crm_tui.textual_i18n import CLASSES, WORDS, english_bindings, translate_textual
    from textual.command import CommandPalette
    from textual.widgets._select import SelectOverlay

    from crm_core.i18n import set_language

    def descriptions(bindings: object) -> set[str]:
        return {b.description for bs in bindings.key_to_bindings.values() for b in bs}  # type: ignore[attr-defined]

    assert {CommandPalette, SelectOverlay} <= set(CLASSES)
    set_language("zh")
    translate_textual()
    for cls in CLASSES:
        english = descriptions(english_bindings(cls))
        assert {"Exit the command palette", "Dismiss menu"} & english
        assert english <= set(WORDS), f"{cls.__name__}: Textual words not in WORDS"
        shown = descriptions(cls()._bindings)  # what an instance made now shows
        latin = {d for d in shown if re.search(r"[A-Za-z]{2,}", d)}
        assert not latin, f"{cls.__name__}: untranslated {latin}"
    overlay = SelectOverlay()
    assert [b.description for b in overlay._bindings.key_to_bindings["escape"]] == ["收起列表"]
    set_language("en")
    translate_textual()
    assert [b.description for b in SelectOverlay()._bindings.key_to_bindings["escape"]] == [
        "Dismiss menu"
    ]
    for cls in CLASSES:  # back in English: Textual's own words again
        assert descriptions(cls()._bindings) == descriptions(english_bindings(cls))
    set_language("zh")
    translate_textual()


def test_typer_vendored_click_methods_are_what_typer_words_wraps() -> None:
    # cli/typer_words.py: typer._click's HelpFormatter.write_usage (the "Usage: " prefix)
    # and Command.get_help_option (the --help text).
    from crm_cli.typer_words import translate_typer
    from typer._click.core import Command
    from typer._click.formatting import HelpFormatter

    from crm_core.i18n import set_language

    set_language("zh")
    translate_typer()
    formatter = HelpFormatter()
    formatter.write_usage("tongxin", "[选项]")
    assert formatter.getvalue().startswith("用法：tongxin")
    assert callable(Command.get_help_option)


@pytest.mark.parametrize("package", ["textual", "rich", "apscheduler", "typer"])
def test_the_installed_version_is_inside_the_pinned_range(package: str) -> None:
    import importlib.metadata

    from packaging.requirements import Requirement

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    requires = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    (line,) = [r for r in requires if r.lower().startswith(package)]
    assert importlib.metadata.version(package) in Requirement(line).specifier


def test_typer_option_type_column_is_what_typer_words_replaces() -> None:
    # cli/typer_words.py replaces TyperOption.display_type_rich and reads Typer's own
    # display_type of a repeatable option, "<list[str]>", to print "<str>…".
    import typer
    import typer.main
    from crm_cli.typer_words import translate_typer
    from typer._click import Context
    from typer.core import TyperOption

    app = typer.Typer()

    @app.command()
    def command(tag: list[str] = typer.Option([]), flag: bool = False) -> None:
        """A command with a repeatable option and a flag."""

    click_command = typer.main.get_command(app)
    ctx = Context(click_command)
    options = {p.name: p for p in click_command.params if isinstance(p, TyperOption)}
    assert options["tag"].multiple and options["flag"].is_flag
    assert options["tag"].display_type(ctx) == "<list[str]>"
    translate_typer()
    assert options["tag"].display_type_rich(ctx) == "<str>…"
    assert options["flag"].display_type_rich(ctx) is None


def test_textual_app_display_is_what_the_startup_benchmark_times() -> None:
    # bench/tui_startup.py wraps App._display(screen, renderable), checking _batch_count,
    # to time the first frame handed to the terminal; headless, Textual still calls it.
    import inspect

    from textual.app import App

    assert list(inspect.signature(App._display).parameters) == ["self", "screen", "renderable"]
    frames: list[object] = []
    real = App._display

    class Bare(App[None]):
        def _display(self, screen, renderable):  # type: ignore[no-untyped-def]
            real(self, screen, renderable)
            if renderable is not None and not self._batch_count:
                frames.append(screen)

    async def run() -> None:
        async with Bare().run_test() as pilot:
            await pilot.pause()

    asyncio.run(run())
    assert frames, "Textual no longer hands frames to App._display when headless"
