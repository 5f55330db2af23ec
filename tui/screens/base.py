"""The base of every screen: translated bindings, loading data in a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

from crm_tui.common import displayable, plain, report, translate_bindings
from textual import events, getters
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker

from crm_core.i18n import _
from crm_core.unit import Unit

if TYPE_CHECKING:
    from crm_tui.ports import TongxinAppLike
    from textual.dom import DOMNode

    _FormBase = DOMNode
    _DataBase = Widget
else:
    _FormBase = object  # a mixin: the screen it is mixed into is the DOM node
    _DataBase = object

T = TypeVar("T")


class DataMixin(_DataBase):
    """Loads data through the services in a worker thread and shows it on the UI thread."""

    if TYPE_CHECKING:
        # The app as a screen knows it: Textual's App plus the port (never crm_tui.app).
        app = getters.app(TongxinAppLike)

    def load_in_thread(
        self,
        loader: Callable[[Unit], T],
        show: Callable[[T], Any],
        *,
        group: str = "load",
    ) -> Worker[None]:
        """Run ``loader(unit)`` in a thread (one unit of work), then ``show(result)``;
        an error becomes a notification. A newer load of the same group cancels an
        older one, so fast typing never shows stale results. A load that clashes with
        another process's write (a read can write too: the institutional series are
        brought in step with config on first use) is run again, as the CLI's are.
        Every text in the result reaches ``show`` with its control characters replaced
        (:func:`crm_tui.common.displayable`): stored data never drives the terminal.
        Returns the worker (to cancel it)."""
        app = self.app

        def job() -> None:
            try:
                result = displayable(app.core.run(loader, actor=app.actor, write=False))
            except Exception as exc:
                with suppress(RuntimeError):  # the app is gone
                    app.call_from_thread(report, app, exc)
                return
            with suppress(RuntimeError):
                app.call_from_thread(show, result)

        return self.run_worker(job, thread=True, exclusive=True, group=group, exit_on_error=False)


class FocusShown(_DataBase):
    """Focus is only ever on a widget the user can see.

    When a focused widget is hidden (its box set to ``display = False``, as the
    contacts filters are by Ctrl+F), Textual hands focus to a *sibling* whose own
    display is on, without checking the box they share is shown: focus stays inside
    the hidden box. Keys then reach a drop-down nobody sees; Down opens its list,
    which was never laid out, and PageDown in it raised ``KeyError: 0`` in Textual's
    OptionList and ended the app (issue 14). So whenever focus lands on a widget that
    is not in the screen's focus chain (the chain leaves out hidden boxes), it moves on
    to the first widget that is.
    """

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Move focus off a widget inside a hidden box (see the class)."""
        widget = event.widget
        if not isinstance(self, Screen) or self.focused is not widget:
            return
        chain = self.focus_chain
        if widget not in chain:
            self.set_focus(chain[0] if chain else None)


class BaseScreen(FocusShown, DataMixin, Screen[Any]):
    """A full screen of the app. ``main_name`` is set on the screens the function keys
    switch between."""

    main_name: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translate_bindings(self)


class BaseModal(FocusShown, DataMixin, ModalScreen[Any]):
    """A dialog over the current screen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translate_bindings(self)


class FieldErrors(_FormBase):
    """Inline errors of a form: a ``Static`` with id ``error-<field>`` and class "error"
    under each field, and ``error-general`` at the top for the rest. A refused value is
    said beside its field and nothing typed is lost."""

    def error_target(self, field: str) -> str:
        """The error line of a service's field name (``data.topic`` is ``data-topic``);
        "general" when the form has no line for it."""
        target = field.replace(".", "-")
        return target if self.query(f"#error-{target}") else "general"

    def error_label(self, target: str) -> str:
        """The field's name put before its message ("" to put none)."""
        return ""

    def clear_errors(self) -> None:
        """Empty every error line."""
        for widget in self.query(".error"):
            if isinstance(widget, Static):
                widget.update("")
                widget.remove_class("-shown")

    def show_errors(self, errors: list[tuple[str, str]]) -> None:
        """Show each (field, message) on its field's line, named if the form says so;
        the first field's line is scrolled into view."""
        by_target: dict[str, list[str]] = {}
        for name, message in errors:
            by_target.setdefault(self.error_target(name), []).append(message)
        first: Widget | None = None
        for target, messages in by_target.items():
            widget = self.query_one(f"#error-{target}", Static)
            text = "; ".join(messages)
            label = self.error_label(target)
            if label:
                text = _("{field}: {message}").format(field=label, message=text)
            widget.update(plain("⚠ " + text))  # messages quote names: never markup
            widget.add_class("-shown")
            if first is None and target != "general":
                first = widget
        if first is not None:
            first.scroll_visible()
