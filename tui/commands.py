"""The command palette (Ctrl+P): every screen and action, titled "group: action", found
by Chinese, English words, or pinyin initials; plugins' commands
(``register_palette_commands``) among them, run without the UI knowing them; and people,
found by name, pinyin or initials (the contacts search), opened on their page."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from crm_tui import extensions
from crm_tui.common import plain, report, safe
from crm_tui.screens.plugin_output import PluginOutputDialog
from pypinyin import Style, lazy_pinyin  # type: ignore[import-untyped, unused-ignore]
from textual.command import DiscoveryHit, Hit, Hits, Provider

from crm_core.i18n import N_, _, language
from crm_core.panels import OpenTarget, PaletteCommandSpec
from crm_core.services import contacts
from crm_core.unit import Unit

if TYPE_CHECKING:
    from crm_tui.ports import TongxinAppLike

PEOPLE = 8  # people shown in the palette for what is typed

# (group, action, help, method name on the app, arguments)
COMMANDS: tuple[tuple[str, str, str, str, tuple[Any, ...]], ...] = (
    (
        N_("Go"),
        N_("Home"),
        N_("Today's agenda, who is overdue, follow-ups due"),
        "goto",
        ("dashboard",),
    ),
    (N_("Go"), N_("Contacts"), N_("Search and filter contacts"), "goto", ("contacts",)),
    (N_("Go"), N_("Agenda"), N_("Day, week and month views"), "goto", ("agenda",)),
    (N_("Go"), N_("Follow-ups"), N_("Concerns raised and their answers"), "goto", ("followups",)),
    (N_("Go"), N_("Plugins"), N_("Plugins, their status and last error"), "goto", ("plugins",)),
    (
        N_("Go"),
        N_("Reports"),
        N_("Coverage, liaison work, visits … for a period"),
        "goto",
        ("reports",),
    ),
    (
        N_("Go"),
        N_("Phone calendar"),
        N_("Subscribe on the phone: address and QR code"),
        "goto",
        ("feed",),
    ),
    (N_("Go"), N_("Help"), N_("Every key"), "action_show_help", ()),
    (N_("Work"), N_("Log work done"), N_("A visit, a talk, a call …"), "open_form", ("log",)),
    (
        N_("Work"),
        N_("Schedule work"),
        N_("Put planned work on the calendar"),
        "open_form",
        ("schedule",),
    ),
    (N_("Agenda"), N_("Day"), N_("Today's agenda"), "goto", ("agenda", "day")),
    (N_("Agenda"), N_("Week"), N_("This week's agenda"), "goto", ("agenda", "week")),
    (N_("Agenda"), N_("Month"), N_("This month's agenda"), "goto", ("agenda", "month")),
    (
        N_("Interface"),
        N_("中文 / English"),
        N_("Switch the language"),
        "action_toggle_language",
        (),
    ),
    (N_("Interface"), N_("Quit"), N_("Leave tongxin"), "exit", ()),
)


def open_target(app: TongxinAppLike, target: OpenTarget) -> None:
    """Go where a plugin's command asks."""
    ref = target.ref
    if target.screen == "person":
        app.open_person(str(ref))
    elif target.screen == "interaction":
        app.open_interaction(str(ref))
    elif target.screen == "follow_up":
        app.open_follow_up(str(ref))
    elif target.screen == "agenda":
        kind = {"kind": target.kind} if target.kind else {}
        if ref and len(ref) == 7:  # a month, "2026-09"
            app.goto("agenda", view="month", day=date.fromisoformat(ref + "-01"), **kind)
        elif ref:
            app.goto("agenda", view="day", day=date.fromisoformat(ref), **kind)
        else:
            app.goto("agenda", **kind)
    else:
        app.goto(target.screen)


def show_outcome(app: TongxinAppLike, outcome: extensions.Outcome) -> None:
    """Show what a plugin's command gave: an error, a place, a dialog or a notice."""
    if outcome.error is not None:
        app.notify(outcome.error, title=outcome.title, severity="error", timeout=8)
    elif outcome.target is not None:
        open_target(app, outcome.target)
    elif outcome.body is not None:
        app.push_screen(PluginOutputDialog(outcome.title, outcome.body))
    else:
        app.notify(_("Done: {title}").format(title=outcome.title), timeout=3)


def run_plugin_command(app: TongxinAppLike, spec: PaletteCommandSpec) -> None:
    """Run a plugin's palette command in a worker thread (one unit of work as the app's
    account), then show its outcome on the UI thread."""

    def job() -> None:
        try:
            with app.unit() as unit:
                outcome = extensions.run_command(app.core, unit, spec)
        except Exception as exc:  # the unit itself failed (e.g. committing)
            with suppress(RuntimeError):
                app.call_from_thread(report, app, exc)
            return
        with suppress(RuntimeError):  # the app is gone
            app.call_from_thread(show_outcome, app, outcome)

    app.run_worker(job, thread=True, exit_on_error=False, group="palette")


def _pinyin_keys(text: str) -> str:
    full = "".join(lazy_pinyin(text))
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER))
    return f"{full} {initials}"


class TongxinCommands(Provider):
    """Screens and actions of tongxin, plus logging each registered kind of work."""

    _plugin_specs: list[PaletteCommandSpec] | None = None

    def _plugin_commands(self) -> list[PaletteCommandSpec]:
        # Collected once per opening of the palette, not on every keystroke.
        if self._plugin_specs is None:
            self._plugin_specs = extensions.palette_commands(self.app.core)  # type: ignore[attr-defined]
        return self._plugin_specs

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: TongxinAppLike = self.app  # type: ignore[assignment]
        out = []
        for group, action, help_text, method, args in COMMANDS:
            if method == "goto" and len(args) == 2:
                callback: Callable[[], Any] = partial(app.goto, args[0], view=args[1])
            else:
                callback = partial(getattr(app, method), *args)
            out.append((f"{_(group)}: {_(action)}", _(help_text), callback))
        lang = language()
        log_word, schedule_word = _("Log"), _("Schedule")
        for spec in app.core.kinds.values():  # kinds come from plugins: shown by their labels
            label = spec.label(lang)
            out.append(
                (
                    f"{log_word}: {label}",
                    spec.description or _("Log work of this kind"),
                    partial(app.open_form, "log", kind=spec.code),
                )
            )
            out.append(
                (
                    f"{schedule_word}: {label}",
                    spec.description or _("Schedule work of this kind"),
                    partial(app.open_form, "schedule", kind=spec.code),
                )
            )
        for command in self._plugin_commands():
            out.append(
                (
                    command.label(lang),
                    command.help(lang)
                    or _("A command of the plugin {name}").format(name=command.plugin),
                    partial(run_plugin_command, app, command),
                )
            )
        return out

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = max(matcher.match(title), matcher.match(_pinyin_keys(title)) * 0.9)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
        # People, found as on the contacts screen (name, full pinyin, initials, phone,
        # employer) and opened on their page. Read in a thread: typing stays quick.
        for score, name, detail, person_id in await self._people(query):
            yield Hit(
                score,
                plain(_("Person: {name}").format(name=name)),
                partial(self.app.open_person, person_id),  # type: ignore[attr-defined]
                help=detail,
            )

    async def _people(self, query: str) -> list[tuple[float, str, str, str]]:
        text = query.strip()
        if not text:
            return []
        app: TongxinAppLike = self.app  # type: ignore[assignment]
        actor = app.actor

        def load(unit: Unit) -> list[tuple[str, str, str]]:
            page = contacts.search_people(unit, text, limit=PEOPLE)
            return [
                (p.name, " ".join(x for x in (p.employer, p.title) if x), str(p.id))
                for p in page.items
            ]

        try:
            found = await asyncio.to_thread(app.core.run, load, actor=actor, write=False)
        except Exception as exc:  # shown, and the palette's commands still answer
            report(app, exc)
            return []
        # After the best command matches, in the search's own order (best first).
        return [
            (0.8 - i * 0.01, safe(name), safe(detail), pid)
            for i, (name, detail, pid) in enumerate(found)
        ]
