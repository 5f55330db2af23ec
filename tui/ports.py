"""What screens, dialogs and the command palette need of the app, as a protocol.

The dependency points one way: :mod:`crm_tui.app` imports the screens and the palette,
and they know the app only through :class:`TongxinAppPort` (which
:class:`crm_tui.app.TongxinApp` satisfies structurally, checked by mypy there). No screen
imports the app module, so the import graph of ``crm_tui`` has no circle
(tests/test_architecture.py checks it, TYPE_CHECKING imports included).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from textual.app import App

if TYPE_CHECKING:
    from textual.binding import Binding

    from crm_core.app import Tongxin
    from crm_core.unit import Unit


class TongxinAppPort(Protocol):
    """The tongxin members of the app a screen may use (besides Textual's ``App``)."""

    actor: str | None
    last_kind: str | None
    keymap_config: dict[str, str]

    @property
    def core(self) -> Tongxin:
        """The core (open once the first real screen is up)."""
        ...

    def unit(self) -> AbstractContextManager[Unit]:
        """One unit of work acting as the app's account."""
        ...

    def goto(self, name: str, **kwargs: Any) -> None:
        """Show the main screen ``name``."""
        ...

    def open_person(self, person_id: str) -> None:
        """Open a person's page."""
        ...

    def open_interaction(self, interaction_id: str) -> None:
        """Show one interaction."""
        ...

    def open_follow_up(self, follow_up_id: str) -> None:
        """Show a follow-up on the follow-ups screen."""
        ...

    def open_form(
        self, mode: str, *, person_id: str | None = None, kind: str | None = None
    ) -> None:
        """Open the log (``mode`` "log") or schedule form."""
        ...

    def open_new_follow_up(self, person_id: str) -> None:
        """Record a new concern of a person."""
        ...

    def load_demo(self, screen: Any, contacts: int = 2000) -> None:
        """Fill the empty database with demo data, then reload ``screen``."""
        ...

    def all_bindings(self) -> list[tuple[str, list[Binding]]]:
        """Every binding of the app and its screens, grouped by where it works."""
        ...


if TYPE_CHECKING:

    class TongxinAppLike(App[Any], TongxinAppPort):
        """For type checking only: a Textual app that has the port's members too (what
        ``self.app`` is on a screen)."""

else:
    TongxinAppLike = App
