"""Which account is mine? Asked on a one-person install (:mod:`crm_tui.identity`)."""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui import identity
from crm_tui.common import error_text, plain, report
from crm_tui.screens.base import BaseModal, FieldErrors
from crm_tui.widgets.fields import FORM_CSS
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_core.errors import TongxinError, ValidationError
from crm_core.i18n import N_, _
from crm_core.services import accounts


class WhoAmI(FieldErrors, BaseModal):
    """Choose one's account from the list, or create it. Dismissed with the username
    chosen (already remembered in config), or None ("later": asked again next start)."""

    CSS = FORM_CSS
    DEFAULT_CSS = """
    WhoAmI { align: center middle; }
    WhoAmI #whoami-list { height: auto; max-height: 8; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", N_("Later"), id="whoami.later"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.usernames: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(_("Which account is yours?"), classes="dialog-title")
            yield Static(
                plain(
                    _(
                        "This database is used by one person on this computer. Choose your "
                        "account: the work you log names it as the office's side, and the "
                        "phone calendar (F8) is its calendar. It is remembered in your config "
                        "file ([tui] account)."
                    )
                )
            )
            yield OptionList(id="whoami-list")
            yield Static(_("Or create your account:"), classes="hint")
            with Horizontal(classes="form-row"):
                yield Label(_("Your name"), classes="form-label")
                yield Input(placeholder=_("e.g. 王小明"), id="whoami-name", compact=True)
            yield Static("", id="error-display_name", classes="error")
            with Horizontal(classes="form-row"):
                yield Label(_("Username"), classes="form-label")
                yield Input(id="whoami-username", compact=True)
            yield Static("", id="error-username", classes="error")
            yield Static("", id="error-general", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Create my account"), id="whoami-create", variant="primary")
                yield Button(_("Later (Esc)"), id="whoami-later")

    def on_mount(self) -> None:
        options = self.query_one("#whoami-list", OptionList)
        try:
            with self.app.unit() as unit:
                found = [(a.username, a.display_name) for a in accounts.list_accounts(unit)]
            login = self.app.core.login_name()
        except Exception as exc:
            report(self.app, exc)
            found, login = [], ""
        self.usernames = [u for u, _name in found]
        for username, name in found:
            options.add_option(Option(plain(f"{name}  ({username})")))
        options.display = bool(found)
        self.query_one("#whoami-username", Input).value = login
        if found:
            options.highlighted = 0
            options.focus()
        else:
            self.query_one("#whoami-name", Input).focus()

    @on(OptionList.OptionSelected, "#whoami-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self._done(self.usernames[event.option_index])

    @on(Button.Pressed, "#whoami-create")
    def _create(self) -> None:
        self.clear_errors()
        name = self.query_one("#whoami-name", Input).value.strip()
        username = self.query_one("#whoami-username", Input).value.strip()
        if not name:
            self.show_errors([("display_name", _("say your name"))])
            return
        try:
            with self.app.unit() as unit:
                # The one person of the install administers it (adds colleagues later).
                account = accounts.create_account(
                    unit, username=username, display_name=name, role="admin"
                )
                created = account.username
        except ValidationError as exc:
            self.show_errors([(e.field, e.text) for e in exc.errors])
            return
        except TongxinError as exc:
            self.show_errors([("general", error_text(exc))])
            return
        self._done(created)

    def _done(self, username: str) -> None:
        try:
            identity.remember(self.app.core, username)
        except Exception as exc:  # still "me" for this session, said why not remembered
            report(self.app, exc)
        self.dismiss(username)

    @on(Button.Pressed, "#whoami-later")
    def _later(self) -> None:
        self.dismiss(None)


def ask(app: Any, then: Any = None) -> None:
    """Ask who the user is; on an answer the app acts as that account and its main
    screen is shown again (read as that account); ``then()`` runs afterwards."""

    def answered(username: str | None) -> None:
        if username:
            app.actor = username
            app.notify(_("You are {user} from now on.").format(user=username), timeout=4)
            app.goto(app.main_screen_name())
        if then is not None:
            then()

    app.push_screen(WhoAmI(), answered)
