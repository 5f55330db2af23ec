"""The tongxin terminal app: screens switched by function keys, a command palette, the
office's keymap, Chinese by default."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from crm_tui.common import error_text, guarded, report, safe, translate_bindings
from crm_tui.shell import ShellScreen
from crm_tui.textual_i18n import PALETTE_PLACEHOLDER, THEMES_PLACEHOLDER, translate_textual
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, Provider
from textual.screen import Screen
from textual.theme import ThemeProvider
from textual.worker import get_current_worker

from crm_core.i18n import N_, _, language, set_language

# Only Textual and the translations are imported here: the core (SQLAlchemy, SQLModel,
# pydantic, the plugins) and the screens are imported when first needed, most of them in
# the worker that opens the core while the shell is on screen (issue 14, item 11).
if TYPE_CHECKING:
    from crm_tui.ports import TongxinAppPort
    from crm_tui.reminders import TuiReminders

    from crm_core.app import Tongxin
    from crm_core.plugins import PluginFailure
    from crm_core.unit import Unit

log = logging.getLogger("tongxin.tui")

MAIN_SCREENS = ("dashboard", "contacts", "agenda", "followups", "plugins", "reports", "feed")


def _tongxin_commands() -> type[Provider]:
    from crm_tui.commands import TongxinCommands

    return TongxinCommands


def _duplicates_commands() -> type[Provider]:
    from crm_tui.screens.duplicates import DuplicatesCommands

    return DuplicatesCommands


def _groups_commands() -> type[Provider]:
    from crm_tui.screens.groups import GroupsCommands

    return GroupsCommands


class TongxinApp(App[None]):
    """同心: the terminal UI over one :class:`~crm_core.app.Tongxin`, or over the function
    that opens it (then :class:`crm_tui.shell.ShellScreen` is painted while it runs in a
    worker thread, and the keys pressed meanwhile choose the first screen).

    ``lang`` is "zh" (default) or "en"; ``actor`` the account to act as (default: the
    operating-system login); ``start`` the first screen; ``reminders`` whether to show
    the user's reminders while open (:class:`crm_core.reminders.desk.DeskReminders`;
    None: as ``[tui] reminders`` in config says; off by default so an app made in
    code — tests, benchmarks — starts no scheduler).
    """

    CSS_PATH = "app.tcss"
    TITLE = "同心 tongxin"
    COMMANDS = App.COMMANDS | {_tongxin_commands, _duplicates_commands, _groups_commands}
    # The palette opens with Ctrl+P (app.command_palette below; __init__ turns it on), but
    # Textual's own footer key for it stays off: at 80 columns it covers the screen's keys.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "show_help", N_("Help"), id="app.help", priority=True),
        Binding("f2", "goto('dashboard')", N_("Home"), id="app.dashboard", priority=True),
        Binding("f3", "goto('contacts')", N_("Contacts"), id="app.contacts", priority=True),
        Binding("f4", "goto('agenda')", N_("Agenda"), id="app.agenda", priority=True),
        Binding("f5", "goto('followups')", N_("Follow-ups"), id="app.followups", priority=True),
        Binding("f6", "goto('plugins')", N_("Plugins"), id="app.plugins", priority=True),
        Binding("f7", "goto('reports')", N_("Reports"), id="app.reports", priority=True),
        Binding("f8", "goto('feed')", N_("Phone calendar"), id="app.feed", priority=True),
        Binding(
            "f9",
            "toggle_language",
            N_("中文 / English"),
            id="app.language",
            priority=True,
            show=False,
        ),
        Binding("ctrl+q", "quit", N_("Quit"), id="app.quit", priority=True, show=False),
        Binding("ctrl+o", "open_import", N_("Import a roster"), id="app.import", show=False),
        # Declared here (not left to Textual), so it is translated, survives
        # translate_bindings and has an id a keymap can rebind.
        Binding(
            "ctrl+p",
            "command_palette",
            N_("Commands"),
            id="app.command_palette",
            priority=True,
            show=False,
        ),
    ]

    def __init__(
        self,
        core: Tongxin | Callable[[], Tongxin],
        *,
        lang: str | None = None,
        actor: str | None = None,
        start: str = "dashboard",
        reminders: bool | None = False,
    ) -> None:
        # ``core`` may be a function that opens it: then the shell (crm_tui.shell) is
        # painted first and the core is opened in a worker thread (``_boot``).
        self._core: Tongxin | None = None if callable(core) else core
        self._open_core: Callable[[], Tongxin] | None = core if callable(core) else None
        self._lang = lang
        set_language(lang or (self._core.config.language if self._core else None) or "zh")
        translate_textual()
        super().__init__()
        # The UI writes no markup of its own in Rich renderables (tables, grids): a text
        # cell holding a stored name "[b]x[/b]" or "[@click=…]" is shown as written.
        self.console._markup = False
        self.use_command_palette = True  # see ENABLE_COMMAND_PALETTE
        translate_bindings(self)
        self.actor = actor
        self.start = start if start in MAIN_SCREENS else "dashboard"
        self.last_kind: str | None = None
        self.keymap_config: dict[str, str] = {}
        self.painted = False  # the first screen has shown its data (benchmarks wait for it)
        self._want_reminders = reminders
        self.reminders: TuiReminders | None = None

    @property
    def core(self) -> Tongxin:
        """The core this app works on (open once ``ready``)."""
        if self._core is None:
            raise RuntimeError("the core is still being opened")
        return self._core

    @property
    def ready(self) -> bool:
        """The core is open and the first real screen is up (the shell is gone)."""
        return self._core is not None and not isinstance(self.screen, ShellScreen)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A notification, always as plain text with control characters escaped:
        messages quote names, titles and refused values, which must never be read as
        markup (``markup`` is accepted and ignored, as the UI writes none)."""
        super().notify(
            safe(message), title=safe(title), severity=severity, timeout=timeout, markup=False
        )

    # -- the core ------------------------------------------------------------------

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """One unit of work acting as this app's account."""
        with self.core.unit(self.actor) as unit:
            yield unit

    # -- start -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.title = _("同心 tongxin")
        if self._open_core is None:
            self._started()
            return
        self.push_screen(ShellScreen(on_painted=self._start_boot))

    def _start_boot(self) -> None:
        # Only once the shell's first frame is out: the worker's imports hold the GIL and
        # the import locks, and started earlier they held the first paint back by ~1 s.
        self.run_worker(self._boot, thread=True, group="boot", exit_on_error=False)

    def _boot(self) -> None:
        """Open the core and import the first screen, in a thread while the shell is
        painted; then carry on on the UI thread (``_started``)."""
        try:
            assert self._open_core is not None
            core = self._open_core()
            from crm_tui.screens import dashboard  # noqa: F401  (its imports, off the UI thread)
            from crm_tui.start import start_session  # noqa: F401
        except Exception as exc:
            log.exception("could not open the database", exc_info=exc)
            self.call_from_thread(self._boot_failed, exc)
            return
        self.call_from_thread(self._booted, core)

    def _boot_failed(self, exc: BaseException) -> None:
        if isinstance(self.screen, ShellScreen):
            self.screen.show_error(error_text(exc))
        report(self, exc)

    def _booted(self, core: Tongxin) -> None:
        self._core = core
        wanted = self._lang or core.config.language or "zh"
        if wanted != language():  # the office's config says English
            set_language(wanted)
            translate_textual()
            translate_bindings(self)
            self.refresh_bindings()
        self._started()

    def _started(self) -> None:
        """The core is open: the first screen, who "I" am, the reminders, the plugins'
        failures at load."""
        from crm_tui.start import start_session

        core = self.core
        tui = core.config.sections.tui
        if tui.theme in self.available_themes:
            self.theme = str(tui.theme)
        self.keymap_config = dict(tui.keymap)
        self.set_keymap(self.keymap_config)
        if isinstance(self.screen, ShellScreen):
            self.switch_screen(self.make_screen(self.start))
        else:
            self.push_screen(self.make_screen(self.start))
        # Issue 14 (tuia): who "I" am on a one-person install, then unsaved forms back.
        start_session(self, core)
        reminders = self._want_reminders
        if reminders is None:
            from crm_tui.reminders import reminders_enabled

            reminders = reminders_enabled(core.config)
        if reminders:
            from crm_tui.reminders import TuiReminders

            self.reminders = TuiReminders(self)
            self.run_worker(self._start_reminders(), group="reminders", exit_on_error=False)
        # What failed before the UI started (loading, registering) is told once; what
        # fails from now on is told as it happens (_plugin_failed). Failures kept from
        # earlier runs are on the plugins screen (F6), not repeated here.
        for info in core.plugins.plugins():
            if info.errors:
                self.notify(
                    _("plugin {name} skipped: {error}").format(
                        name=info.name, error=info.errors[-1]
                    ),
                    severity="warning",
                    timeout=6,
                )
        core.plugins.add_listener(self._plugin_failed)

    def _plugin_failed(self, failure: PluginFailure) -> None:
        """A plugin's hook or panel raised and was skipped: a warning notification (safe
        from worker threads: ``notify`` posts a message)."""
        self.notify(failure.message, severity="warning", timeout=6)

    async def _start_reminders(self) -> None:
        """Start the user's reminders once the first screen has loaded its data: on a
        new database both would write the institutional series at the same moment, and
        SQLite lets only one writer through (the screen would show an error)."""
        me = get_current_worker()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while loop.time() < deadline and (
            len(self.screen_stack) < 2
            or not self.screen.is_mounted
            or any(w is not me and w.is_running for w in self.workers)
        ):
            await asyncio.sleep(0.05)
        if self.reminders is not None:
            self.reminders.start()

    async def on_unmount(self) -> None:
        """Stop the reminders with the app."""
        if self._core is not None:
            self._core.plugins.remove_listener(self._plugin_failed)
        if self.reminders is not None:
            await self.reminders.stop()

    def make_screen(self, name: str, **kwargs: Any) -> Screen[Any]:
        """A new instance of the main screen ``name``."""
        from crm_tui.screens.agenda import AgendaScreen
        from crm_tui.screens.contacts import ContactsScreen
        from crm_tui.screens.dashboard import DashboardScreen
        from crm_tui.screens.feed import FeedScreen
        from crm_tui.screens.followups import FollowUpsScreen
        from crm_tui.screens.plugins import PluginsScreen
        from crm_tui.screens.reports import ReportsScreen

        screens: dict[str, Any] = {
            "dashboard": DashboardScreen,
            "contacts": ContactsScreen,
            "agenda": AgendaScreen,
            "followups": FollowUpsScreen,
            "plugins": PluginsScreen,
            "reports": ReportsScreen,
            "feed": FeedScreen,
        }
        return screens[name](**kwargs)  # type: ignore[no-any-return]

    # -- navigation ------------------------------------------------------------------

    def main_screen_name(self) -> str:
        """The main screen under whatever is open now."""
        for screen in reversed(self.screen_stack):
            name = getattr(screen, "main_name", None)
            if name:
                return str(name)
        return "dashboard"

    @guarded
    def goto(self, name: str, **kwargs: Any) -> None:
        """Show the main screen ``name`` (closing dialogs and pages above it); while the
        core is still being opened, the screen shown once it is."""
        if self._core is None:
            self.start = name if name in MAIN_SCREENS else self.start
            return
        screen = self.make_screen(name, **kwargs)
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def action_goto(self, name: str) -> None:
        """Switch to a main screen."""
        self.goto(name)

    @guarded
    def action_open_import(self) -> None:
        """Import a roster (the import screen, crm_tui.screens.import_screen)."""
        from crm_tui.screens.import_screen import ImportScreen

        self.push_screen(ImportScreen(Path.cwd()))

    def action_show_help(self) -> None:
        """Show every key."""
        from crm_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    @guarded
    def open_person(self, person_id: str) -> None:
        """Open a person's page."""
        from crm_tui.screens.person import PersonScreen

        self.push_screen(PersonScreen(str(person_id)))

    @guarded
    def open_interaction(self, interaction_id: str) -> None:
        """Show one interaction."""
        from crm_tui.screens.interaction import InteractionDialog

        self.push_screen(InteractionDialog(str(interaction_id)))

    def open_follow_up(self, follow_up_id: str) -> None:
        """Show a follow-up on the follow-ups screen."""
        self.goto("followups", focus_id=str(follow_up_id))

    @guarded
    def open_form(
        self, mode: str, *, person_id: str | None = None, kind: str | None = None
    ) -> None:
        """Open the log (``mode`` "log") or schedule form."""
        from crm_tui.screens.form import InteractionForm

        self.push_screen(InteractionForm(mode, person_id=person_id, kind=kind))

    @guarded
    def open_new_follow_up(self, person_id: str) -> None:
        """Record a new concern of a person."""
        from crm_tui.screens.followups import NewFollowUpDialog

        self.push_screen(NewFollowUpDialog(str(person_id)))

    def first_person_of(self, interaction_id: str) -> str | None:
        """The first person taking part in an interaction, if any."""
        from crm_core.services import interactions

        with self.unit() as unit:
            for p in interactions.participants_of(unit, interaction_id):
                if p.person_id:
                    return str(p.person_id)
        return None

    # -- language ------------------------------------------------------------------

    def action_toggle_language(self) -> None:
        """Switch between Chinese and English."""
        self.switch_language("en" if language() == "zh" else "zh")

    def switch_language(self, lang: str) -> None:
        """Show everything in ``lang`` ("zh" or "en")."""
        set_language(lang)
        translate_textual()
        translate_bindings(self)
        self.title = _("同心 tongxin")
        self.goto(self.main_screen_name())
        self.refresh_bindings()

    # -- Textual's own commands, in the user's language --------------------------------

    def action_command_palette(self) -> None:
        """Open the command palette (its prompt translated)."""
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=_(PALETTE_PLACEHOLDER))
            )

    def search_themes(self) -> None:
        """Choose a theme (the prompt translated)."""
        self.push_screen(
            CommandPalette(providers=[ThemeProvider], placeholder=_(THEMES_PLACEHOLDER))
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands in the palette, translated; its English "Keys" panel is
        left out (F1 lists every key)."""
        yield SystemCommand(_("Theme"), _("Change the colours"), self.action_change_theme)
        yield SystemCommand(_("Quit"), _("Close tongxin"), self.action_quit)
        if screen.maximized is not None:
            yield SystemCommand(
                _("Restore"), _("Show the whole screen again"), screen.action_minimize
            )
        elif screen.focused is not None and screen.focused.allow_maximize:
            yield SystemCommand(
                _("Maximize"), _("The part in focus fills the screen"), screen.action_maximize
            )

    # -- demo data -------------------------------------------------------------------

    def load_demo(self, screen: Any, contacts: int = 2000) -> None:
        """Fill the empty database with demo data in a worker, then reload ``screen``."""

        def job() -> None:
            try:
                from crm_core import demo

                demo.generate(self.core, contacts=contacts)
            except Exception as exc:
                self.call_from_thread(report, self, exc)
            self.call_from_thread(screen.action_reload)

        self.run_worker(job, thread=True, exit_on_error=False, group="demo")

    # -- keys ------------------------------------------------------------------------

    def all_bindings(self) -> list[tuple[str, list[Binding]]]:
        """Every binding of the app and its screens, grouped by where it works."""
        from crm_tui.screens.agenda import AgendaScreen
        from crm_tui.screens.contacts import ContactsScreen
        from crm_tui.screens.dashboard import DashboardScreen
        from crm_tui.screens.feed import ConfirmRevoke, FeedScreen
        from crm_tui.screens.followups import FollowUpDialog, FollowUpsScreen, NewFollowUpDialog
        from crm_tui.screens.form import InteractionForm
        from crm_tui.screens.help import HelpScreen
        from crm_tui.screens.interaction import InteractionDialog
        from crm_tui.screens.person import PersonScreen
        from crm_tui.screens.person_edit import PersonEditForm
        from crm_tui.screens.plugin_output import PluginOutputDialog
        from crm_tui.screens.plugins import PluginsScreen
        from crm_tui.screens.reports import ReportsScreen
        from crm_tui.widgets.participants import ParticipantPicker

        places: list[tuple[str, Any]] = [
            (N_("Everywhere"), TongxinApp),
            (N_("Home"), DashboardScreen),
            (N_("Contacts"), ContactsScreen),
            (N_("Person"), PersonScreen),
            (N_("Edit person"), PersonEditForm),
            (N_("Log / schedule form"), InteractionForm),
            (N_("Participants"), ParticipantPicker),
            (N_("Agenda"), AgendaScreen),
            (N_("Interaction"), InteractionDialog),
            (N_("Follow-ups"), FollowUpsScreen),
            (N_("Follow-up"), FollowUpDialog),
            (N_("New follow-up"), NewFollowUpDialog),
            (N_("Plugins"), PluginsScreen),
            (N_("Plugin command"), PluginOutputDialog),
            (N_("Reports"), ReportsScreen),
            (N_("Phone calendar"), FeedScreen),
            (N_("Revoke addresses"), ConfirmRevoke),
            (N_("Help"), HelpScreen),
        ]
        out = []
        for where, cls in places:
            bindings = [b for b in cls.BINDINGS if isinstance(b, Binding)]
            out.append((_(where), bindings))
        return out


if TYPE_CHECKING:
    # The screens know the app only through this port: mypy checks that the app has it.
    _port: type[TongxinAppPort] = TongxinApp


def log_file() -> Path:
    """Where the terminal UI writes its log."""
    import platformdirs

    from crm_core.config import APP_NAME

    return Path(platformdirs.user_log_dir(APP_NAME)) / "tui.log"


def run(
    core: Tongxin | Callable[[], Tongxin], *, lang: str | None = None, actor: str | None = None
) -> None:
    """Run the app in this terminal, logging to :func:`log_file` (never to the screen).
    ``core`` may be the function that opens it: the shell is painted meanwhile."""
    from crm_core.private_files import create_private_file, make_private_dirs

    path = log_file()
    # Error lines can quote names and phone numbers: the log is private like the data.
    make_private_dirs(path.parent)
    create_private_file(path)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    TongxinApp(core, lang=lang, actor=actor, reminders=None).run()
