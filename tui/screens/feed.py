"""日历订阅: the current user's calendar on a phone — a subscription address
(``webcal://`` and ``https://``) and a QR code to scan, as ``tongxin feed url`` prints.

Feed tokens are stored hashed (:mod:`crm_core.calendar.feeds`), so an address given out
earlier can never be shown again: the screen makes a new one when asked, says that older
ones keep working, and revokes them all on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from crm_tui import identity
from crm_tui.common import fmt_when, guarded
from crm_tui.footer import Footer
from crm_tui.screens import whoami
from crm_tui.screens.base import BaseModal, BaseScreen
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from crm_core.calendar import feeds
from crm_core.i18n import N_, _
from crm_core.unit import Unit

# A QR code must be dark on light whatever the terminal's theme, or some phones miss it.
QR_STYLE = "#000000 on #ffffff"


@dataclass(frozen=True)
class FeedState:
    """The account whose calendar it is, and its live tokens."""

    username: str | None
    display_name: str
    live: int
    newest: Any  # datetime of the newest live token, or None


@dataclass(frozen=True)
class NewLink:
    """A token just made: shown once, never stored in clear."""

    token: str
    https: str
    webcal: str


def _state(unit: Unit) -> FeedState:
    account = unit.actor
    if account is None:
        return FeedState(None, "", 0, None)
    live = feeds.list_tokens(unit, account=account, include_revoked=False)
    return FeedState(
        account.username, account.display_name, len(live), live[-1].created_at if live else None
    )


class FeedScreen(BaseScreen):
    """Subscribe to one's own calendar on a phone."""

    main_name = "feed"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_link", N_("New subscription link"), id="feed.new"),
        Binding("c", "copy", N_("Copy address"), id="feed.copy"),
        Binding("x", "revoke_all", N_("Revoke all links"), id="feed.revoke"),
        Binding("a", "choose_account", N_("My account"), id="feed.account", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state: FeedState | None = None
        self.link: NewLink | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Calendar on the phone"), classes="screen-title")
        with Horizontal(id="feed-body"):
            with VerticalScroll(id="feed-info"):
                yield Static(
                    _(
                        "Subscribe to your calendar on your phone: scan the QR code with the "
                        "camera, or open the webcal:// address on the phone (iPhone: Settings › "
                        "Calendar › Accounts › Add subscribed calendar; Android: add the "
                        "https:// address in the calendar app). The phone keeps it up to date."
                    ),
                    id="feed-intro",
                )
                yield Static("", id="feed-status", classes="status-line")
                yield Static("", id="feed-urls")
                with Horizontal(classes="dialog-buttons"):
                    yield Button(
                        _("New subscription link (N)"),
                        id="feed-new",
                        variant="primary",
                        compact=True,
                    )
                    yield Button(
                        _("Revoke all (X)"), id="feed-revoke", variant="error", compact=True
                    )
                yield Static(
                    Text(
                        _(
                            "Addresses are stored only in hashed form, so an address made "
                            "before cannot be shown again: each press makes a new one. Older "
                            "addresses keep working until you revoke them."
                        ),
                        "dim",
                    ),
                    id="feed-warning",
                )
            yield Static("", id="feed-qr")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        """Read the account and how many live addresses it has."""
        self.load_in_thread(_state, self.show_state, group="feed")

    def show_state(self, state: FeedState) -> None:
        """Show whose calendar it is and how many addresses are live."""
        self.state = state
        status = self.query_one("#feed-status", Static)
        if state.username is None:
            if identity.one_person_install(self.app.core):
                text = _(
                    "A calendar belongs to an account, and none is yours yet: press A to "
                    "choose your account (or create it)."
                )
            else:
                text = _(
                    "Your login {login} has no account of its own: an administrator adds "
                    "it with: tongxin users add {login}"
                ).format(login=self.app.core.login_name())
            status.update(Text(text, "yellow"))
            return
        text = _("{name} ({user}): {n} live subscription address(es).").format(
            name=state.display_name, user=state.username, n=state.live
        )
        if state.newest is not None:
            text += " " + _("Newest made {when}.").format(
                when=fmt_when(state.newest, self.app.core.config.tz)
            )
        status.update(text)
        if self.link is None:
            self.query_one("#feed-urls", Static).update(
                Text(_("Press N for a new subscription address and its QR code."), "bold")
            )

    @guarded
    def action_new_link(self) -> None:
        """Make a new token for the current account and show its addresses and QR code."""
        with self.app.unit() as unit:
            if unit.actor is None:
                self.app.notify(
                    _("No account: a calendar belongs to an account."), severity="warning"
                )
                return
            _row, token = feeds.create_token(unit, account=unit.actor, name=_("terminal UI"))
            https, webcal = feeds.feed_urls(unit.config, token)
        self.link = NewLink(token, https, webcal)
        urls = Text()
        urls.append(_("On an iPhone (webcal):") + "\n", "bold")
        urls.append(webcal + "\n\n")
        urls.append(_("In other calendar apps (https):") + "\n", "bold")
        urls.append(https)
        self.query_one("#feed-urls", Static).update(urls)
        qr = feeds.qr_text(webcal, invert=False).rstrip("\n")
        self.query_one("#feed-qr", Static).update(Text(qr, QR_STYLE, no_wrap=True))
        self.app.notify(
            _("New subscription address made; older ones keep working until revoked."),
            timeout=6,
        )
        self.action_reload()

    def action_choose_account(self) -> None:
        """Choose which account is mine (a one-person install only: elsewhere the
        login decides)."""
        if identity.one_person_install(self.app.core):
            whoami.ask(self.app)
            return
        self.app.notify(
            _("On a shared server your login decides which account is yours."), timeout=5
        )

    def action_copy(self) -> None:
        """Copy the webcal:// address to the clipboard (terminals that allow it)."""
        if self.link is None:
            self.app.notify(_("Make an address first (N)."), severity="warning")
            return
        self.app.copy_to_clipboard(self.link.webcal)
        self.app.notify(_("Address copied."), timeout=3)

    def action_revoke_all(self) -> None:
        """Ask, then revoke every live address of the account."""
        live = self.state.live if self.state else 0
        self.app.push_screen(ConfirmRevoke(live), self._revoke_confirmed)

    @guarded
    def _revoke_confirmed(self, confirmed: bool | None) -> None:
        if not confirmed:
            return
        with self.app.unit() as unit:
            if unit.actor is None:
                return
            revoked = feeds.revoke_tokens(unit, account=unit.actor)
        self.link = None
        self.query_one("#feed-urls", Static).update("")
        self.query_one("#feed-qr", Static).update("")
        self.app.notify(
            _("Revoked {n} subscription address(es): phones using them stop updating.").format(
                n=len(revoked)
            ),
            timeout=6,
        )
        self.action_reload()

    @on(Button.Pressed, "#feed-new")
    def _new_pressed(self) -> None:
        self.action_new_link()

    @on(Button.Pressed, "#feed-revoke")
    def _revoke_pressed(self) -> None:
        self.action_revoke_all()


class ConfirmRevoke(BaseModal):
    """Are you sure? Revoking stops every phone subscribed with the account's addresses."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", N_("Cancel"), id="feedrevoke.cancel"),
    ]

    def __init__(self, live: int) -> None:
        super().__init__()
        self.live = live

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(_("Revoke all subscription addresses?"), classes="dialog-title")
            yield Static(
                _(
                    "{n} live address(es). Every phone subscribed with them stops updating; "
                    "make a new address afterwards to subscribe again."
                ).format(n=self.live)
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Revoke all"), id="revoke-yes", variant="error")
                yield Button(_("Cancel (Esc)"), id="revoke-no")

    def on_mount(self) -> None:
        self.query_one("#revoke-no", Button).focus()  # the safe choice is the default

    @on(Button.Pressed, "#revoke-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#revoke-no")
    def _no(self) -> None:
        self.dismiss(False)
