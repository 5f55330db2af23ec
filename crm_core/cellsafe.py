"""Cells that stay data: what every CSV and spreadsheet the program writes does with text
that a spreadsheet would take for something else.

- CSV (OWASP's CSV-injection rule): a *text* cell starting with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return gets a single quote in front (``'=HYPERLINK(…)``,
  ``'+852 9123 4567``), so Excel, WPS and LibreOffice show it as text instead of running
  it as a formula. Typed cells are not text and are written as they are: numbers (a
  negative count, ``-12.5%``), dates and times, which the program formats itself. The
  importer takes the quote off again (:func:`restore`), so an exported CSV imports back
  to the same values.
- xlsx (openpyxl): a str starting with ``=`` becomes a formula unless the cell's type is
  forced to text (:func:`text_cells`); characters XML cannot hold (C0 controls but tab,
  newline and carriage return) would make openpyxl refuse the whole file, so they are
  shown as U+FFFD; a cell longer than Excel's 32,767 characters would make Excel call
  the whole workbook damaged, so it is cut with a note saying so (:func:`xml_text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, time
from numbers import Number
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_CELL = 32_767

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def neutralise(text: str) -> str:
    """``text`` as a CSV text cell: a single quote in front if a spreadsheet would take it
    for a formula."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def restore(text: str) -> str:
    """The text a neutralised CSV cell stood for (the quote taken off); other text as it is."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def csv_cell(value: Any, shown: str) -> str:
    """The CSV cell of ``value``, ``shown`` being its display text: neutralised when the
    value is text (str, or a list of texts joined), as it is for a number or date."""
    if isinstance(value, Number | date | time) or value is None:
        return shown  # int, float, Decimal (PostgreSQL's sums), dates: typed, not text
    return neutralise(shown)


def csv_row(values: Iterable[Any]) -> list[str]:
    """A row of plain text cells (titles, headers, notes, texts as typed) for csv.writer,
    each neutralised; None is an empty cell, numbers stay numbers."""
    out: list[str] = []
    for v in values:
        if v is None:
            out.append("")
        elif isinstance(v, Number):
            out.append(str(v))
        else:
            out.append(neutralise(str(v)))
    return out


def xml_text(text: str) -> str:
    """``text`` as an xlsx or docx cell can hold it: characters XML cannot carry shown as
    U+FFFD, and at most Excel's 32,767 characters (the cut is said in the cell)."""
    text = _XML_ILLEGAL.sub("\ufffd", text)
    if len(text) > XLSX_MAX_CELL:
        note = f"…[{len(text)} characters; cut to Excel's limit]"
        text = text[: XLSX_MAX_CELL - len(note)] + note
    return text


def xlsx_values(values: Sequence[Any]) -> list[Any]:
    """A row for ``Worksheet.append``: texts made safe for XML (:func:`xml_text`)."""
    return [xml_text(v) if isinstance(v, str) else v for v in values]


def text_cells(cells: Iterable[Any]) -> None:
    """Force every text cell of ``cells`` (openpyxl cells) to the text type: a value
    starting with ``=`` stays the text typed, never a formula."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def append_text_row(ws: Any, values: Sequence[Any]) -> None:
    """Append ``values`` to worksheet ``ws`` as typed values, every text as text."""
    ws.append(xlsx_values(values))
    row = ws.max_row
    for j, v in enumerate(values):
        if isinstance(v, str):
            ws.cell(row=row, column=j + 1).data_type = "s"
