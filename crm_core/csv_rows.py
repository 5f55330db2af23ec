"""CSV roster files read as a stream within the bounds of ``[import]``: rows, columns,
cell size, and a bound on a line's length so that a file of one gigantic line is
refused without being held in memory."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from crm_core.cellsafe import restore
from crm_core.config import ImportLimits
from crm_core.i18n import _
from crm_core.sheet_limits import (
    LimitError,
    cell_over,
    columns_over,
    raise_hint,
    row_cap,
    rows_over,
)


def read_csv_rows(
    path: Path, limits: ImportLimits, *, on_row: Callable[[int], None] | None = None
) -> tuple[list[list[str]], str]:
    """The rows of a CSV file and its encoding (UTF-8 with or without BOM, else
    GB18030), read as a stream within ``limits``: a :class:`LimitError` at the first
    row, column, cell or line over a bound, or for a file that is not text."""
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    if b"\x00" in head:
        raise LimitError(
            _(
                "cannot read {name}: it holds NUL bytes, so it is not a CSV text file "
                "(save the sheet as CSV UTF-8)"
            ).format(name=path.name)
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return _csv_rows(path, encoding, limits, on_row), (
                "utf-8" if encoding == "utf-8-sig" else encoding
            )
        except UnicodeDecodeError as exc:
            reason = exc
    raise LimitError(
        _("cannot read {name}: neither UTF-8 nor GB18030 ({reason})").format(
            name=path.name, reason=reason
        )
    )


def _csv_rows(
    path: Path, encoding: str, limits: ImportLimits, on_row: Callable[[int], None] | None
) -> list[list[str]]:
    # The longest line that can be a row within the bounds (every cell full and quoted).
    line_cap = limits.max_columns * (limits.max_cell_chars + 3) + 2
    with path.open("r", encoding=encoding, newline="") as fh:
        first = fh.readline(line_cap)
        sample = first + "".join(fh.readline(line_cap) for _ in range(4))
        fh.seek(0)
        # The delimiter is the one the first lines use most (a comma for what Excel and
        # WPS write; a tab or semicolon for some exports); quoted cells may hold any.
        delimiter = max((",", "\t", ";"), key=lambda d: (sample.count(d), d == ","))
        dialect: Any = type("Roster", (csv.excel,), {"delimiter": delimiter})
        line_no = 0

        def lines() -> Iterator[str]:
            nonlocal line_no
            while True:
                line = fh.readline(line_cap)
                if not line:
                    return
                line_no += 1
                if len(line) >= line_cap and not line.endswith(("\n", "\r")):
                    raise LimitError(
                        _(
                            "cannot import {name}: line {line} is longer than {limit} "
                            "characters (the most {columns} columns of {chars} characters "
                            "can take); {hint}"
                        ).format(
                            name=path.name,
                            line=line_no,
                            limit=line_cap,
                            columns=limits.max_columns,
                            chars=limits.max_cell_chars,
                            hint=raise_hint("max_cell_chars"),
                        )
                    )
                yield line

        # The csv module's own bound only keeps a runaway quoted cell from filling the
        # memory; cells over max_cell_chars are refused below, naming row and column.
        old_limit = csv.field_size_limit()
        csv.field_size_limit(line_cap)
        rows: list[list[str]] = []
        try:
            reader = csv.reader(lines(), dialect)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    if "field larger than field limit" in str(exc):
                        raise LimitError(
                            cell_over(path.name, reader.line_num, None, "", limits)
                        ) from None
                    raise LimitError(
                        _("cannot read {name}: line {line}: {reason}").format(
                            name=path.name, line=reader.line_num, reason=exc
                        )
                    ) from None
                n = len(rows) + 1
                if n > row_cap(limits):
                    raise LimitError(rows_over(path.name, None, limits))
                if len(row) > limits.max_columns:
                    raise LimitError(columns_over(path.name, None, n, len(row), limits))
                for j, value in enumerate(row):
                    if len(value) > limits.max_cell_chars:
                        raise LimitError(cell_over(path.name, n, j, value, limits))
                rows.append([restore(v) for v in row])
                if on_row is not None:
                    on_row(n)
        finally:
            csv.field_size_limit(old_limit)
    return rows


__all__ = ["read_csv_rows"]
