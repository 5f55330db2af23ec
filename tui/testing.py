"""Headless tests of what a plugin adds to the terminal UI, on the real screens.

A plugin's panel, dashboard card, palette command and kind form are driven here by
Textual's Pilot (no terminal, no snapshot files): the app is started on a
:func:`crm_core.testing.make_test_app` database, the screen is opened the way a user opens
it, and what the user would read is returned as plain text. ``tongxin plugin new`` writes
tests that use these::

    from crm_core.testing import make_test_app
    from crm_tui.testing import card, form_field, palette_command, panel

    def test_my_card(tmp_path):
        app = make_test_app(tmp_path, plugins={"tea": tongxin_tea})
        shown = card(app, "tea_count")
        assert shown.text == "本月茶叙 0 次" and not shown.error

Each function is synchronous (it runs its own event loop, so a plain pytest test can call
it); inside a test that already runs an event loop, await the ``*_async`` twin instead.
The app acts as ``actor`` (an account's username), or as the program's own login (which
on a new SQLite database has an administrator's rights).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from typing import Any

from crm_tui import extensions
from crm_tui.app import TongxinApp
from crm_tui.commands import TongxinCommands
from crm_tui.screens.plugin_output import PluginOutputDialog
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, OptionList, Select, SelectionList, Static, TextArea

from crm_core.app import Tongxin
from crm_core.i18n import language

__all__ = [
    "SIZE",
    "FormField",
    "Ran",
    "Shown",
    "card",
    "card_async",
    "form_field",
    "form_field_async",
    "palette_command",
    "palette_command_async",
    "panel",
    "panel_async",
    "plain",
    "settle",
]

SIZE = (120, 40)


@dataclass(frozen=True)
class Shown:
    """A panel or card as the screen shows it: its title, its text, and whether it is
    the error box of a render function that raised."""

    title: str
    text: str
    error: bool = False


@dataclass(frozen=True)
class Ran:
    """What choosing a palette command did: the dialog's text (``output``) if it showed
    one, the screen shown after it (class name, e.g. ``"PersonScreen"``), and the
    notices and error notices it gave."""

    title: str
    output: str | None
    screen: str
    notices: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FormField:
    """One of a kind's fields on the log form: which widget (``"select"`` a drop-down,
    ``"checklist"`` a list to tick, ``"lines"`` one value per line, ``"checkbox"``,
    ``"text"``), its label, and the choices the drop-down or list offers."""

    name: str
    widget: str
    label: str
    choices: list[str] = field(default_factory=list)


def plain(content: Any) -> str:
    """A widget's content as plain text (a str, a Rich Text, or any Rich renderable)."""
    if isinstance(content, str):
        return content
    if hasattr(content, "plain"):
        return str(content.plain)
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(content)
    return buffer.getvalue().rstrip("\n")


async def settle(pilot: Pilot[Any]) -> None:
    """Let the app finish what it started: messages, timers, worker threads."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _app(core: Tongxin, lang: str | None, actor: str | None) -> TongxinApp:
    return TongxinApp(core, lang=lang, actor=actor)


def _boxes(screen: Any, selector: str) -> list[Shown]:
    return [
        Shown(str(box.border_title or ""), plain(box.content), box.has_class("panel-error"))
        for box in screen.query(selector).results(Static)
    ]


def _one(boxes: list[Shown], title: str) -> Shown | None:
    for box in boxes:
        if box.title == title:
            return box
    return None


async def panel_async(
    core: Tongxin,
    person_id: Any,
    code: str,
    *,
    lang: str | None = None,
    actor: str | None = None,
) -> Shown | None:
    """The panel ``code`` on the page of the person ``person_id``, or None if it shows
    nothing for that person. A code no plugin registered is a ``LookupError``."""
    app = _app(core, lang, actor)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        spec = _spec(extensions.panels(core), code, "panel")
        app.open_person(str(person_id))
        await settle(pilot)
        return _one(_boxes(app.screen, "#panels Static"), spec.label(language()))


async def card_async(
    core: Tongxin, code: str, *, lang: str | None = None, actor: str | None = None
) -> Shown | None:
    """The dashboard card ``code`` as the dashboard shows it, or None if it is hidden.
    A code no plugin registered is a ``LookupError``, and so is an empty database (the
    dashboard then shows its welcome instead of the cards: add a person first)."""
    app = _app(core, lang, actor)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        spec = _spec(extensions.cards(core), code, "card")
        welcome = app.screen.query("#welcome")
        if welcome and welcome.first().display:
            raise LookupError(
                "the dashboard of an empty database shows its welcome, not the cards: "
                "add a person first"
            )
        return _one(_boxes(app.screen, "#dash-cards Static"), spec.label(language()))


async def palette_command_async(
    core: Tongxin, code: str, *, lang: str | None = None, actor: str | None = None
) -> Ran:
    """Choose the palette command ``code`` in the command palette (Ctrl+P) as a user
    does, and report what it did. A code no plugin registered is a ``LookupError``."""
    app = _app(core, lang, actor)
    notices: list[tuple[str, str]] = []
    notify = app.notify

    def recording(message: str, *args: Any, **kwargs: Any) -> None:
        notices.append((str(message), str(kwargs.get("severity", "information"))))
        notify(message, *args, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        spec = _spec(extensions.palette_commands(core), code, "palette command")
        title = spec.label(language())
        commands = {t: cb for t, _help, cb in TongxinCommands(app.screen)._commands()}
        commands[title]()
        await settle(pilot)
        screen = app.screen
        output = None
        if isinstance(screen, PluginOutputDialog):
            output = plain(screen.query_one("#plugin-output", Static).content)
        return Ran(
            title,
            output,
            type(screen).__name__,
            [m for m, severity in notices if severity != "error"],
            [m for m, severity in notices if severity == "error"],
        )


async def form_field_async(
    core: Tongxin,
    kind: str,
    name: str,
    *,
    mode: str = "log",
    lang: str | None = None,
    actor: str | None = None,
) -> FormField:
    """The field ``name`` of the kind ``kind`` on the log (or ``mode="schedule"``) form:
    a drop-down's choices are read from the list it opens."""
    app = _app(core, lang, actor)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_form(mode, kind=kind)
        await settle(pilot)
        widget = app.screen.query_one(f"#data-{name}")
        row = widget.parent.children if widget.parent is not None else []
        label = plain(row[0].content) if row and isinstance(row[0], Static) else name
        if isinstance(widget, Select):
            widget.focus()
            widget.action_show_overlay()
            await settle(pilot)
            overlay = widget.query_one(OptionList)
            prompts = [
                plain(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)
            ]
            # The first entry of a drop-down that may stay empty is its prompt.
            choices = prompts[1:] if prompts and prompts[0] == widget.prompt else prompts
            return FormField(name, "select", label, choices)
        if isinstance(widget, SelectionList):
            options = [
                plain(widget.get_option_at_index(i).prompt) for i in range(widget.option_count)
            ]
            return FormField(name, "checklist", label, options)
        if isinstance(widget, TextArea):
            return FormField(name, "lines", label)
        if isinstance(widget, Checkbox):
            return FormField(name, "checkbox", label)
        if isinstance(widget, Input):
            return FormField(name, "text", label)
        return FormField(name, type(widget).__name__, label)


def _spec(specs: list[Any], code: str, what: str) -> Any:
    for spec in specs:
        if spec.code == code:
            return spec
    known = ", ".join(s.code for s in specs) or "none"
    raise LookupError(f"no {what} {code!r} is registered (registered: {known})")


def panel(
    core: Tongxin,
    person_id: Any,
    code: str,
    *,
    lang: str | None = None,
    actor: str | None = None,
) -> Shown | None:
    """:func:`panel_async`, run to its end."""
    return asyncio.run(panel_async(core, person_id, code, lang=lang, actor=actor))


def card(
    core: Tongxin, code: str, *, lang: str | None = None, actor: str | None = None
) -> Shown | None:
    """:func:`card_async`, run to its end."""
    return asyncio.run(card_async(core, code, lang=lang, actor=actor))


def palette_command(
    core: Tongxin, code: str, *, lang: str | None = None, actor: str | None = None
) -> Ran:
    """:func:`palette_command_async`, run to its end."""
    return asyncio.run(palette_command_async(core, code, lang=lang, actor=actor))


def form_field(
    core: Tongxin,
    kind: str,
    name: str,
    *,
    mode: str = "log",
    lang: str | None = None,
    actor: str | None = None,
) -> FormField:
    """:func:`form_field_async`, run to its end."""
    return asyncio.run(form_field_async(core, kind, name, mode=mode, lang=lang, actor=actor))
