"""The base of every screen: translated bindings, loading data in a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

from crm_tui.common import report, translate_bindings
from textual.screen import ModalScreen, Screen

from crm_core.unit import Unit

if TYPE_CHECKING:
    from crm_tui.app import TongxinApp

T = TypeVar("T")


class DataMixin:
    """Loads data through the services in a worker thread and shows it on the UI thread."""

    app: TongxinApp

    def load_in_thread(
        self,
        loader: Callable[[Unit], T],
        show: Callable[[T], Any],
        *,
        group: str = "load",
    ) -> None:
        """Run ``loader(unit)`` in a thread (one unit of work), then ``show(result)``;
        an error becomes a notification. A newer load of the same group cancels an
        older one, so fast typing never shows stale results. A load that clashes with
        another process's write (a read can write too: the institutional series are
        brought in step with config on first use) is run again, as the CLI's are."""
        app = self.app

        def job() -> None:
            try:
                result = app.core.run(loader, actor=app.actor, write=False)
            except Exception as exc:
                with suppress(RuntimeError):  # the app is gone
                    app.call_from_thread(report, app, exc)
                return
            with suppress(RuntimeError):
                app.call_from_thread(show, result)

        self.run_worker(job, thread=True, exclusive=True, group=group, exit_on_error=False)  # type: ignore[attr-defined]


class BaseScreen(DataMixin, Screen[Any]):
    """A full screen of the app. ``main_name`` is set on the screens the function keys
    switch between."""

    main_name: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translate_bindings(self)


class BaseModal(DataMixin, ModalScreen[Any]):
    """A dialog over the current screen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translate_bindings(self)
