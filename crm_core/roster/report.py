"""What an import says back: per-cell errors, row outcomes, the report, duplicates,
and the errors file the office corrects and imports again."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_core.cellsafe import append_text_row, csv_row
from crm_core.i18n import _
from crm_core.private_files import private_open, private_path
from crm_core.roster.sheets import ERROR_ROW_HEADER, ERROR_TEXT_HEADER
from crm_core.roster.unknowns import UnknownValue
from crm_core.sheetguard import RosterError


@dataclass(frozen=True)
class CellError:
    """One bad cell: the sheet row and column header as the office sees them in Excel,
    the value as typed, and why it was refused."""

    row: int
    column: str
    value: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class RowOutcome:
    """What happened (or, in a dry run, would happen) to one data row.

    ``action``: ``create``, ``update`` (a duplicate of a stored person whose fields the
    row changes), ``unchanged`` (a duplicate that changes nothing), ``duplicate`` (a
    repeat of an earlier row of the file, folded into it), ``skip`` (a duplicate left
    alone), ``refuse`` (a bad cell), ``left_out`` (it holds a value whose rows the user
    chose to leave out) or ``pending`` (it holds a value the configuration does not know
    and nobody said what it stands for: see ``ImportReport.unknown_values``).
    """

    row: int
    name: str
    action: str
    person_id: uuid.UUID | None = None
    duplicate_of: str | None = None  # "row 12" or "database" (not translated: stable JSON)
    match: str | None = None  # "name and birth" or "mobile"
    changes: list[str] = field(default_factory=list)  # the fields the row changes
    namesakes: list[str] = field(default_factory=list)  # stored people, or "row 12"

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "row": self.row,
            "name": self.name,
            "action": self.action,
            "person_id": str(self.person_id) if self.person_id else None,
            "duplicate_of": self.duplicate_of,
            "match": self.match,
            "changes": self.changes,
            "namesakes": self.namesakes,
        }


@dataclass
class Column:
    """One column of the sheet and the field it fills."""

    index: int
    header: str
    field: str  # a key of FIELDS
    mapped: bool = False  # by --map rather than recognised


@dataclass
class ImportReport:
    """Everything an import found and did (or would do, in a dry run)."""

    file: str
    sheet: str
    header_row: int
    columns: list[Column]
    dry_run: bool
    outcomes: list[RowOutcome] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # blank, header …
    approximations: dict[tuple[str, str], str] = field(default_factory=dict)
    encoding: str | None = None
    headers: list[str] = field(default_factory=list)
    raw_rows: dict[int, list[str]] = field(default_factory=dict)  # refused rows, as typed
    # The values the vocabularies do not know, each once (crm_core.roster.unknowns).
    unknown_values: list[UnknownValue] = field(default_factory=list)
    # --keep-partial: the bad cells left out of rows imported without them.
    dropped: list[CellError] = field(default_factory=list)
    config_written: str | None = None  # the config file the choices were written to
    # The first data rows as read: (sheet row, field -> value as it will be stored).
    preview: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def count(self, action: str) -> int:
        """How many rows had this action."""
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def totals(self) -> dict[str, int]:
        """Rows per action, and the people created and updated."""
        return {
            a: self.count(a)
            for a in (
                "create", "update", "unchanged", "duplicate", "skip", "refuse", "left_out",
                "pending",
            )
        }  # fmt: skip

    @property
    def complete(self) -> bool:
        """Every row imported or deliberately skipped (none refused, none waiting for
        an answer about an unknown value)."""
        return not any(o.action in ("refuse", "pending") for o in self.outcomes)

    @property
    def unknown_columns(self) -> list[str]:
        """Headers not recognised, kept in each person's extra fields."""
        return [c.header for c in self.columns if c.field == "extra"]

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (``tongxin import --json``)."""
        return {
            "file": self.file,
            "sheet": self.sheet,
            "encoding": self.encoding,
            "header_row": self.header_row,
            "dry_run": self.dry_run,
            "columns": [
                {"column": c.index + 1, "header": c.header, "field": c.field, "mapped": c.mapped}
                for c in self.columns
            ],
            "unknown_columns": self.unknown_columns,
            "totals": self.totals,
            "errors": [e.as_json() for e in self.errors],
            "rows": [o.as_json() for o in self.outcomes],
            "skipped_rows": [{"row": r, "reason": why} for r, why in self.skipped_rows],
            "unknown_values": [u.as_json() for u in self.unknown_values],
            "dropped": [e.as_json() for e in self.dropped],
            "config_written": self.config_written,
            "approximations": [
                {"column": col_, "value": value, "read_as": label}
                for (col_, value), label in sorted(self.approximations.items())
            ],
        }


@dataclass(frozen=True)
class Duplicate:
    """A row naming someone already known, handed to ``decide`` in ask mode."""

    row: int
    name: str
    existing: str  # one line describing the stored person, or "row N" of the file
    match: str
    changes: dict[str, tuple[Any, Any]]  # field -> (stored, from the file)


Progress = Callable[[str, int, int], None]  # (stage, done, total)


# -- the errors file -----------------------------------------------------------------


def write_errors(report: ImportReport, path: Path | str) -> Path:
    """Write the refused rows, as typed, with the sheet row and the reasons, to ``path``
    (``.xlsx`` with the bad cells marked, or ``.csv`` in UTF-8 with BOM) so the office can
    correct them and import that file again (the extra columns are recognised and
    ignored)."""
    path = Path(path)
    headers = list(report.headers)
    width = max([len(headers), *(len(r) for r in report.raw_rows.values())], default=0)
    headers += [""] * (width - len(headers))
    by_row: dict[int, list[CellError]] = {}
    for e in report.errors:
        by_row.setdefault(e.row, []).append(e)
    for e in report.dropped:  # --keep-partial: the person is in, without this cell
        reason = _("imported without this field: {reason}").format(reason=e.reason)
        by_row.setdefault(e.row, []).append(CellError(e.row, e.column, e.value, reason))
    table = []
    for row_no in sorted(report.raw_rows):
        raw = list(report.raw_rows[row_no]) + [""] * (width - len(report.raw_rows[row_no]))
        reasons = "；".join(
            f"{e.column} {e.value!r}: {e.reason}" if e.value else f"{e.column}: {e.reason}"
            for e in by_row.get(row_no, [])
        )
        table.append((row_no, raw, reasons))
    head = [*headers, _(ERROR_ROW_HEADER), _(ERROR_TEXT_HEADER)]
    if path.suffix.lower() == ".csv":
        with private_open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            # The cells as typed, neutralised: a refused "=HYPERLINK(…)" must not run
            # when the office opens the file (the importer takes the quote off again).
            w.writerow(csv_row(head))
            for row_no, raw, reasons in table:
                w.writerow(csv_row([*raw, row_no, reasons]))
        return path
    if path.suffix.lower() != ".xlsx":
        raise RosterError(_("the errors file must be .xlsx or .csv: {path}").format(path=path))
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    from crm_core.exporter import fit_widths

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Refused rows")[:31]
    append_text_row(ws, head)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    bad = PatternFill("solid", fgColor="FFC7CE")
    col_of = {h: i for i, h in enumerate(headers) if h}
    for r_i, (row_no, raw, reasons) in enumerate(table, start=2):
        append_text_row(ws, [*raw, row_no, reasons])
        for e in by_row.get(row_no, []):
            j = col_of.get(e.column)
            if j is not None:
                cell = ws.cell(row=r_i, column=j + 1)
                cell.fill = bad
                cell.comment = Comment(e.reason, "tongxin")
    fit_widths(ws, [head, *([*raw, row_no, reasons] for row_no, raw, reasons in table)])
    with private_path(path) as tmp:
        wb.save(tmp)
    return path
