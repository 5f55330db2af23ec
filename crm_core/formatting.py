"""One way of turning a value into the text the office reads.

Reports (Word, CSV, the report screen and ``tongxin report``), table exports (CSV and the
column widths of Excel) and the roster importer all show a stored or computed value as
text. They all call :func:`value_text`, so a date, a list or a yes/no reads the same
everywhere:

==========================  ==========================================================
value                       text
==========================  ==========================================================
``None``                    ``""`` (an empty cell)
a text                      itself
``True`` / ``False``        是 / 否 (yes / no in English)
an enum member              its value (``"standing"``)
a list or tuple             its items joined by ``、``
a ``datetime``              ``2026-11-27 15:00`` (kind ``cell``: the date alone at 00:00)
a ``date``                  ``2026-11-27`` (kind ``month``: ``2026.11``)
a ``float``                 ``3`` for 3.0, else ``2.33333`` (kind ``percent``: ``12.5%``;
                            kind ``cell``: every digit, ``1965.03``)
a ``Decimal``, an ``int``   as written (``12.50``, ``42``)
==========================  ==========================================================

``kind`` is a column kind of a report or export (``text``, ``int``, ``float``,
``percent``, ``date``, ``datetime``, ``month``, ``list``) or ``cell``: a cell read from a
spreadsheet being imported, where a yes/no is always 是/否 (the importer matches those
words), a float keeps every digit and a date that Excel stored as midnight is a date.

JSON output (``--json``, the audit log) keeps its own forms: ISO dates and real numbers,
not texts (:func:`crm_core.reports.spec.jsonable`, :func:`crm_core.unit.jsonable`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from crm_core.i18n import _

__all__ = ["LIST_SEPARATOR", "value_text"]

LIST_SEPARATOR = "、"


def value_text(value: Any, kind: str = "text") -> str:
    """``value`` as the text shown in reports, exports, the CLI and the TUI (see the
    module's table); ``kind`` is the column's kind, or ``cell`` for an imported cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        if kind == "cell":
            return "是" if value else "否"
        return _("yes") if value else _("no")
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(value_text(v, kind) for v in value)
    if kind == "percent" and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if isinstance(value, datetime):
        if kind == "cell" and value.time() == time():
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        if kind == "month":
            return f"{value.year}.{value.month:02d}"
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value) if kind == "cell" else f"{value:g}"
    return str(value)
