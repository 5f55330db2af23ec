"""The refusals of a roster file over a bound of ``[import]``: the errors and their
messages (which file, sheet, row or column, the bound and the config key that raises it).

Shared by the workbook checks (:mod:`crm_core.sheetguard`) and the CSV reader
(:mod:`crm_core.csv_rows`).
"""

from __future__ import annotations

from crm_core.config import ImportLimits, user_config_path
from crm_core.errors import TongxinError
from crm_core.i18n import _

# A roster's header row is looked for in its first HEADER_ROWS rows (title rows, notes
# and the header itself): the readers allow that many rows over ``max_rows``, which bounds
# the *data* rows, those below the header (checked once the header is found).
HEADER_ROWS = 50


def row_cap(limits: ImportLimits) -> int:
    """The most rows a reader takes from a sheet: ``max_rows`` data rows and the rows
    down to the header (at most :data:`HEADER_ROWS`)."""
    return limits.max_rows + HEADER_ROWS


class RosterError(TongxinError):
    """The file cannot be imported at all (unreadable, no header row, unknown sheet)."""


class LimitError(RosterError):
    """A roster file is over a bound of ``[import]`` (or is a zip bomb): refused whole."""


def raise_hint(key: str) -> str:
    """How to raise the bound ``key``: where the office's config file is."""
    return _("to import it anyway, raise [import] {key} in {path}").format(
        key=key, path=user_config_path()
    )


def preview(text: str, size: int = 40) -> str:
    """The start of a value for a message: at most ``size`` characters, control
    characters shown as their code."""
    head = text[:size]
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in head)
    return shown + ("…" if len(text) > size else "")


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 → A, 26 → AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def rows_over(name: str, sheet: str | None, limits: ImportLimits) -> str:
    """The message for a sheet with more than ``max_rows`` rows."""
    return _(
        "cannot import {name}: {where}more than the limit of {limit} rows; {hint}, or split "
        "the file"
    ).format(
        name=name,
        where=_("sheet {sheet}: ").format(sheet=sheet) if sheet else "",
        limit=limits.max_rows,
        hint=raise_hint("max_rows"),
    )


def columns_over(name: str, sheet: str | None, row: int, count: int, limits: ImportLimits) -> str:
    """The message for a row with more than ``max_columns`` columns."""
    return _(
        "cannot import {name}: {where}row {row} has {count} columns, more than the limit "
        "of {limit}; {hint}"
    ).format(
        name=name,
        where=_("sheet {sheet}: ").format(sheet=sheet) if sheet else "",
        row=row,
        count=count,
        limit=limits.max_columns,
        hint=raise_hint("max_columns"),
    )


def cell_over(name: str, row: int, column: int | None, value: str, limits: ImportLimits) -> str:
    """The message for a cell of more than ``max_cell_chars`` characters."""
    where = _("row {row}").format(row=row)
    if column is not None:
        where += _(", column {letter}").format(letter=column_letter(column))
    shown = f" ({preview(value)!s}, {len(value)} characters)" if value else ""
    return _(
        "cannot import {name}: {where}: a cell{shown} is longer than the limit of {limit} "
        "characters; {hint}"
    ).format(
        name=name,
        where=where,
        shown=shown,
        limit=limits.max_cell_chars,
        hint=raise_hint("max_cell_chars"),
    )


__all__ = [
    "HEADER_ROWS",
    "LimitError",
    "RosterError",
    "cell_over",
    "column_letter",
    "columns_over",
    "preview",
    "raise_hint",
    "row_cap",
    "rows_over",
]
