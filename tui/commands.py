"""The command palette (Ctrl+P): every screen and action, titled "group: action", found
by Chinese, English words, or pinyin initials."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from pypinyin import Style, lazy_pinyin  # type: ignore[import-untyped, unused-ignore]
from textual.command import DiscoveryHit, Hit, Hits, Provider

from crm_core.i18n import N_, _, language

if TYPE_CHECKING:
    from crm_tui.app import TongxinApp

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


def _pinyin_keys(text: str) -> str:
    full = "".join(lazy_pinyin(text))
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER))
    return f"{full} {initials}"


class TongxinCommands(Provider):
    """Screens and actions of tongxin, plus logging each registered kind of work."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: TongxinApp = self.app  # type: ignore[assignment]
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
