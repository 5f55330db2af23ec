"""Helpers every screen uses: errors as notifications, labels, dates, translated bindings."""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.binding import BindingsMap
from textual.widgets import DataTable as _DataTable
from textual.widgets.data_table import ColumnKey

from crm_core.errors import Ambiguous, TongxinError, ValidationError
from crm_core.formatting import value_text
from crm_core.i18n import N_, _, language
from crm_core.validation import printable

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode

log = logging.getLogger("tongxin.tui")

F = TypeVar("F", bound=Callable[..., Any])

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


# -- showing data safely ------------------------------------------------------------
#
# Values in the database never met today's input rules when they are older, written by
# SQL or by a phone through CalDAV: a name may hold ESC sequences or console markup
# ("[b]x[/b]", "[@click=app.quit]"). The terminal UI never parses markup in data and
# never hands a control character to the terminal:
#   * every result a screen loads (DataMixin.load_in_thread) passes through
#     `displayable`, which replaces control characters in every text it holds;
#   * the helpers below (`safe`, `plain`, `shorten`, the labels) do the same for what a
#     screen reads otherwise;
#   * `DataTable` (use it instead of Textual's) shows text cells as plain text, the app
#     renders Rich renderables and notifications without markup (crm_tui.app).


def safe(value: Any) -> str:
    """``value`` as text for the screen: control characters shown as escapes
    (:func:`crm_core.validation.printable`); "" for None."""
    return "" if value is None else printable(str(value))


def plain(value: Any, style: str = "") -> Text:
    """``value`` as a Rich Text that is never read as markup, with no control
    characters: what a widget shows of a stored value."""
    return Text(safe(value), style)


def displayable(value: Any) -> Any:
    """``value`` (what a loader returned: dataclasses, tuples, lists, dicts and texts,
    nested) with every text passed through :func:`safe`. Anything else (records of the
    database, numbers, dates) is returned as it is, unchanged."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [displayable(v) for v in value]
    if isinstance(value, tuple):
        items = [displayable(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {k: displayable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            current = getattr(value, f.name)
            cleaned = displayable(current)
            if cleaned is not current and cleaned != current:
                changes[f.name] = cleaned
        if not changes:
            return value
        # A copy with the cleaned fields set, not dataclasses.replace: a subclass may
        # have its own __init__ (the report's NamesSection takes groups and a reader,
        # and keeps its rows behind a property), so calling it with the fields fails.
        copied = copy.copy(value)
        for name, cleaned in changes.items():
            object.__setattr__(copied, name, cleaned)
        return copied
    return value


def cell_text(value: Any) -> Any:
    """A table cell: a text as plain text that ends in "…" where its column is
    narrower (a cut without the mark reads as the whole value); anything else as is."""
    if isinstance(value, str):
        return Text(safe(value), no_wrap=True, overflow="ellipsis", end="")
    return value


# Cells of any type: a text cell is stored as a plain rich Text (see add_row).
class DataTable(_DataTable[Any]):
    """Textual's DataTable, except that a text cell is shown as it is: Textual would
    read it as markup (a name "[b]x[/b]" would turn bold, "[@click=…]" into an action)
    and pass its control characters to the terminal."""

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        """Add a row; text cells are plain text (see the class)."""
        return super().add_row(*(cell_text(c) for c in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        """Change a cell; a text is plain text (see the class)."""
        super().update_cell(row_key, column_key, cell_text(value), **kwargs)

    def set_widths(self, widths: dict[str, int]) -> None:
        """Fix the widths of the columns named (by key); a longer cell ends in "…".
        The others keep fitting their content."""
        for key, width in widths.items():
            column = self.columns[ColumnKey(key)]
            column.width, column.auto_width = max(width, 1), False
        self._update_count += 1  # the painted lines are stale (see _update_dimensions)
        self._require_update_dimensions = True
        self.refresh(layout=True)

    def _update_dimensions(self, new_rows: Any) -> None:
        # Textual (8.2) measures new rows on the table's Idle and widens the columns,
        # but its rendered-line caches are keyed by `_update_count`, which this does
        # not bump (only a Resize or an edit does). A line painted between add_row and
        # that Idle (the screen repainting first: a race, about 1 run in 8) was cut to
        # the header's widths and stayed so while the table kept its size: "王委" for
        # a whole name. When a width changed, the cached lines are stale: drop them.
        before = [c.content_width for c in self.ordered_columns]
        label_before = self._label_column.content_width
        super()._update_dimensions(new_rows)
        after = [c.content_width for c in self.ordered_columns]
        if after != before or self._label_column.content_width != label_before:
            self._update_count += 1
            self.refresh()


def error_text(exc: BaseException) -> str:
    """What a user reads about ``exc``: the service's message, never a traceback."""
    if isinstance(exc, ValidationError):
        return exc.text
    if isinstance(exc, Ambiguous):
        return _("{query!r} matches more than one record:").format(query=exc.query) + (
            " " + "; ".join(exc.candidates[:5])
        )
    if isinstance(exc, TongxinError):
        return exc.text
    from sqlalchemy.exc import SQLAlchemyError  # not at import: the start-up shell needs none

    if isinstance(exc, SQLAlchemyError):
        return _("database error: {reason}").format(reason=getattr(exc, "orig", exc))
    return _("Unexpected error: {error} (details in the log)").format(
        error=f"{type(exc).__name__}: {exc}"
    )


def report(app: App[Any], exc: BaseException) -> None:
    """Show ``exc`` as a notification and write it to the log (with the traceback)."""
    if isinstance(exc, TongxinError):
        log.warning("%s", exc)
    else:
        log.exception("unexpected error in the terminal UI", exc_info=exc)
    try:
        # A refused value is quoted in the message: never read as markup.
        app.notify(
            safe(error_text(exc)), title=_("Error"), severity="error", timeout=8, markup=False
        )
    except Exception:  # the app may be shutting down
        log.exception("could not show an error")


def guarded(fn: F) -> F:
    """Wrap an event handler or action so an exception becomes a notification (and a log
    entry) instead of a traceback that ends the app."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(self, *args, **kwargs)
            except Exception as exc:
                report(self.app, exc)
                return None

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except Exception as exc:
            report(self.app, exc)
            return None

    return wrapper  # type: ignore[return-value]


def translate_bindings(node: DOMNode) -> None:
    """Give ``node`` its class's bindings with descriptions in the current language (the
    class keeps the English msgids, so switching language again works)."""
    merged = type(node)._merged_bindings
    if merged is None:
        return
    fresh = merged.copy()
    for key, bindings in fresh.key_to_bindings.items():
        fresh.key_to_bindings[key] = [
            replace(b, description=_(b.description) if b.description else "") for b in bindings
        ]
    node._bindings = fresh if isinstance(fresh, BindingsMap) else node._bindings


def two_part(text: str) -> str:
    """The part of a bilingual label ("话题 / Topic") for the current language."""
    if " / " not in text:
        return text
    zh, en = text.split(" / ", 1)
    return en.strip() if language() == "en" else zh.strip()


def vocab_label(vocab: Any, code: str | None) -> str:
    """The label of ``code`` in a vocabulary, in the current language ("" for None)."""
    if not code:
        return ""
    term = vocab.get(code)
    return safe(term.label(language()) if term else code)


def kind_label(kinds: dict[str, Any], code: str, plugins: Any = None) -> str:
    """The label of an interaction kind, or its code if no plugin registers it now (with
    the plugin it comes from and why it is missing, when ``plugins``, the host, is
    given)."""
    spec = kinds.get(code)
    if spec is not None:
        return safe(spec.label(language()))
    from crm_core.plugins import missing_kind_label

    return safe(missing_kind_label(plugins, code) if plugins is not None else code)


def local(dt: datetime | None, tz: ZoneInfo) -> datetime | None:
    """``dt`` in the office's zone."""
    return dt.astimezone(tz) if dt else None


def fmt_day(d: date | None) -> str:
    """A date as ``2026-11-27``."""
    return value_text(d)


def weekday(d: date) -> str:
    """The short weekday name of ``d`` (周五 / Fri)."""
    return _(WEEKDAYS[d.weekday()])


def fmt_when(dt: datetime | None, tz: ZoneInfo, *, all_day: bool = False) -> str:
    """A moment as ``2026-11-27 15:00`` in the office's zone (the date alone if all day)."""
    if dt is None:
        return ""
    at = dt.astimezone(tz)
    return value_text(at.date() if all_day else at)


def fmt_time(dt: datetime, tz: ZoneInfo, *, all_day: bool = False) -> str:
    """The time of day (``15:00``) or "all day"."""
    return _("all day") if all_day else dt.astimezone(tz).strftime("%H:%M")


def status_word(status: Any) -> str:
    """A status code (planned, done, open …) in the current language."""
    value = getattr(status, "value", status)
    return _(str(value)) if value else ""


def shorten(text: str | None, width: int = 40) -> str:
    """One line of at most about ``width`` cells."""
    if not text:
        return ""
    line = printable(" ".join(text.split()))
    cells = 0
    for i, ch in enumerate(line):
        cells += 2 if ord(ch) > 0x2E7F else 1
        if cells > width:
            return line[:i] + "…"
    return line
