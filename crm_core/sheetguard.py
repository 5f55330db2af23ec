"""The bounds of a roster file, checked before the file is opened for real.

python-calamine reads a whole sheet into memory the moment it is opened (an ``.ods``
file: every sheet), as a dense grid of rows × columns. A hostile or careless file can
make that grid enormous from a few bytes: a zip bomb (a sheet of gigabytes of zeros
packed into kilobytes), one cell at row 1,048,576 or column XFD, an ``.ods`` row
repeated a million times. So before calamine sees a workbook, :func:`check_workbook`

- reads the zip's central directory: at most ``max_unzipped_mb`` unpacked in all, no
  part packed more than ``max_zip_ratio`` times, only the methods office programs use;
- unpacks every part once, as a stream (nothing kept), without trusting the sizes the
  zip declares: a part that unpacks to more than it declares is refused, and the count
  stops at the bound, so a bomb is refused in a fraction of a second;
- on the way, measures each sheet: rows and columns as calamine would lay them out
  (``.xlsx``: the ``r`` references of rows and cells; ``.ods``: rows and cells with
  their repeat counts, up to the last one holding something).

CSV files are read as a stream by :func:`read_csv_rows` (in :mod:`crm_core.csv_rows`),
with the same bounds on rows, columns and cell size, and a bound on a line's length so
that a file of one gigantic line is refused without being held in memory.

Every refusal is a :class:`LimitError` naming the file, the sheet, the row or column,
the bound and the config key that raises it.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from crm_core.config import ImportLimits
from crm_core.csv_rows import read_csv_rows
from crm_core.i18n import _
from crm_core.sheet_limits import (
    LimitError,
    RosterError,
    cell_over,
    column_letter,
    columns_over,
    preview,
    raise_hint,
    row_cap,
    rows_over,
)

ZIP_FORMATS = (".xlsx", ".xlsm", ".ods")
MAX_PARTS = 10_000
_RATIO_GRACE = 1 << 20  # parts under 1 MiB unpacked may pack as tightly as they like
_CHUNK = 1 << 20


def _column_index(letters: bytes) -> int:
    n = 0
    for b in letters:
        n = n * 26 + (b - 64)
    return n  # 1-based


# -- zip workbooks ---------------------------------------------------------------------


@dataclass
class SheetSize:
    """The extent of one sheet as calamine would lay it out."""

    name: str
    rows: int = 0
    columns: int = 0


def check_workbook(path: Path, limits: ImportLimits) -> list[SheetSize]:
    """Refuse ``path`` (an .xlsx, .xlsm or .ods workbook) with a :class:`LimitError`
    when it is a zip bomb or a sheet is over the row or column bound; return the sizes
    of its sheets. Reads the file as a stream: memory stays small whatever it holds."""
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RosterError(
            _("cannot read {name}: not a workbook ({reason})").format(name=name, reason=exc)
        ) from None
    with zf:
        infos = zf.infolist()
        cap = limits.max_unzipped_mb * 1024 * 1024
        if len(infos) > MAX_PARTS:
            raise LimitError(
                _("cannot read {name}: it has {count} parts, a workbook has far fewer").format(
                    name=name, count=len(infos)
                )
            )
        declared = sum(i.file_size for i in infos)
        if declared > cap:
            raise LimitError(_bomb(name, declared, limits))
        for info in infos:
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise LimitError(
                    _(
                        "cannot read {name}: its part {part} is packed with method {method}, "
                        "which office programs do not use"
                    ).format(name=name, part=info.filename, method=info.compress_type)
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _RATIO_GRACE and ratio > limits.max_zip_ratio:
                raise LimitError(
                    _(
                        "cannot read {name}: its part {part} unpacks to {ratio:.0f} times its "
                        "packed size (at most {limit}): a zip bomb? {hint}"
                    ).format(
                        name=name,
                        part=info.filename,
                        ratio=ratio,
                        limit=limits.max_zip_ratio,
                        hint=raise_hint("max_zip_ratio"),
                    )
                )
        ods = path.suffix.lower() == ".ods"
        names = {} if ods else _xlsx_sheet_names(zf)
        try:
            sheets = _measure(path, infos, names, ods, cap, limits)
        except _Over as over:
            sheets = [over.size]  # refused below without reading the rest
    for size in sheets:
        if size.rows > row_cap(limits):
            raise LimitError(
                _(
                    "cannot import {name}: its sheet {sheet} has {rows} rows or more, over the "
                    "limit of {limit} rows; {hint}, or split the file"
                ).format(
                    name=name,
                    sheet=size.name,
                    rows=size.rows,
                    limit=limits.max_rows,
                    hint=raise_hint("max_rows"),
                )
            )
        if size.columns > limits.max_columns:
            raise LimitError(
                _(
                    "cannot import {name}: its sheet {sheet} reaches column {letter} "
                    "({count} columns), more than the limit of {limit}; {hint}"
                ).format(
                    name=name,
                    sheet=size.name,
                    letter=column_letter(size.columns - 1),
                    count=size.columns,
                    limit=limits.max_columns,
                    hint=raise_hint("max_columns"),
                )
            )
    return sheets


def _measure(
    path: Path,
    infos: list[zipfile.ZipInfo],
    names: dict[str, str],
    ods: bool,
    cap: int,
    limits: ImportLimits,
) -> list[SheetSize]:
    """Unpack every part as a stream, refusing a forged size or the total over ``cap``;
    the sizes of the sheets met on the way."""
    name = path.name
    sheets: list[SheetSize] = []
    total = 0
    with path.open("rb") as raw:
        for info in infos:
            part = info.filename
            if ods and part == "content.xml":
                meter: _Meter = _OdsMeter()
            elif not ods and (
                part in names or (part.startswith("xl/worksheets/") and part.endswith(".xml"))
            ):
                meter = _XlsxMeter(SheetSize(names.get(part, part)), name, limits)
            else:
                meter = _Meter()
            got = 0
            for chunk in _unpack(raw, info, name):
                got += len(chunk)
                if got > info.file_size:
                    raise LimitError(
                        _(
                            "cannot read {name}: its part {part} unpacks to more than the "
                            "{size} bytes it declares (a forged zip)"
                        ).format(name=name, part=part, size=info.file_size)
                    )
                if total + got > cap:
                    raise LimitError(_bomb(name, total + got, limits))
                meter.feed(chunk)
            total += got
            sheets += meter.close()
    return sheets


def _bomb(name: str, size: int, limits: ImportLimits) -> str:
    return _(
        "cannot read {name}: it unpacks to more than {limit} MB (at least {size} MB): "
        "a zip bomb? {hint}"
    ).format(
        name=name,
        limit=limits.max_unzipped_mb,
        size=size // (1024 * 1024),
        hint=raise_hint("max_unzipped_mb"),
    )


def _unpack(raw: Any, info: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """The unpacked bytes of one part, in chunks, read from the packed data itself (the
    local header, then ``compress_size`` bytes, as calamine reads them)."""
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise LimitError(
            _("cannot read {name}: its part {part} is damaged").format(
                name=name, part=info.filename
            )
        )
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    raw.seek(info.header_offset + 30 + name_len + extra_len)
    left = info.compress_size
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while left > 0:
        data = raw.read(min(_CHUNK, left))
        if not data:
            break
        left -= len(data)
        if inflate is None:
            yield data
            continue
        try:
            while data:
                # Bounded output per step: a packed megabyte of zeros is a gigabyte.
                out = inflate.decompress(data, _CHUNK)
                data = inflate.unconsumed_tail
                if out:
                    yield out
                if inflate.eof:
                    return
        except zlib.error as exc:
            raise LimitError(
                _("cannot read {name}: its part {part} is damaged ({reason})").format(
                    name=name, part=info.filename, reason=exc
                )
            ) from None


def _xlsx_sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → sheet name, from xl/workbook.xml and its relationships (for the
    messages only: an unreadable mapping leaves the part names)."""
    try:
        infos = {i.filename: i for i in zf.infolist()}
        parts = [infos.get("xl/workbook.xml"), infos.get("xl/_rels/workbook.xml.rels")]
        if any(p is None or p.file_size > 10 * 1024 * 1024 for p in parts):
            return {}
        book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except Exception:
        return {}
    targets = {}
    for m in re.finditer(r"<Relationship\b[^>]*>", rels):
        ident = re.search(r'\bId="([^"]+)"', m.group(0))
        target = re.search(r'\bTarget="([^"]+)"', m.group(0))
        if ident and target:
            t = target.group(1)
            targets[ident.group(1)] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    out = {}
    for m in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", book):
        sheet_name = re.search(r'\bname="([^"]*)"', m.group(0))
        rid = re.search(r'\br:id="([^"]+)"', m.group(0))
        if sheet_name and rid and rid.group(1) in targets:
            out[targets[rid.group(1)]] = sheet_name.group(1)
    return out


class _Meter:
    """Consumes a part's bytes (and measures nothing)."""

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk of the part."""

    def close(self) -> list[SheetSize]:
        """The sizes of the sheets measured."""
        return []


def _xlsx_patterns(prefix: bytes) -> tuple[re.Pattern[bytes], ...]:
    p = re.escape(prefix)
    return (
        re.compile(rb"<" + p + rb"row\b"),  # a row
        re.compile(rb"<" + p + rb'row\b[^>]*?\sr="(\d+)"'),  # its reference
        re.compile(rb"<" + p + rb"c[\s/>]"),  # a cell
        re.compile(rb"<" + p + rb'c\s[^>]*?\br="([A-Z]{1,4})\d+"'),  # its column
        re.compile(rb"<" + p + rb"(row\b|c[\s/>])"),  # rows and cells in order
    )


_X_PREFIX = re.compile(rb"<(\w+:)?sheetData\b")


class _XlsxMeter(_Meter):
    """Rows and columns of an .xlsx worksheet, from its XML as a stream: the highest
    row and column references (calamine lays cells out by them), and rows and cells
    without references counted in order."""

    def __init__(self, size: SheetSize, file: str, limits: ImportLimits) -> None:
        self.size = size
        self.file = file
        self.limits = limits
        self.tail = b""
        self.rows_seen = 0
        self.cells_in_row = 0  # only for cells without references
        self.patterns: tuple[re.Pattern[bytes], ...] | None = None

    def feed(self, chunk: bytes) -> None:
        data = self.tail + chunk
        cut = data.rfind(b"<")
        if cut < 0:
            cut = len(data)
        self.tail = data[cut:]
        if len(self.tail) > _CHUNK:
            raise LimitError(
                _("cannot read {name}: the sheet {sheet} is not a worksheet's XML").format(
                    name=self.file, sheet=self.size.name
                )
            )
        body = data[:cut]
        if self.patterns is None:
            # The element names' prefix ("" as Excel writes them, or "x:"), read once:
            # patterns without an optional prefix run several times faster.
            found_prefix = _X_PREFIX.search(body)
            if found_prefix is None:
                self.tail = data  # the sheet data has not started yet
                if len(self.tail) > 4 * _CHUNK:
                    raise LimitError(
                        _("cannot read {name}: the sheet {sheet} is not a worksheet's XML").format(
                            name=self.file, sheet=self.size.name
                        )
                    )
                return
            self.patterns = _xlsx_patterns(found_prefix.group(1) or b"")
        x_row, x_row_ref, x_cell, x_cell_ref, x_row_or_cell = self.patterns
        size = self.size
        self.rows_seen += len(x_row.findall(body))
        refs = x_row_ref.findall(body)
        if refs:
            size.rows = max(size.rows, max(map(int, refs)))
        size.rows = max(size.rows, self.rows_seen)
        cells = len(x_cell.findall(body))
        found = x_cell_ref.findall(body)
        if found:
            size.columns = max(size.columns, *(_column_index(x) for x in set(found)))
        if cells > len(found):
            # Cells without a reference take the next column: count them row by row.
            for m in x_row_or_cell.finditer(body):
                if m.group(1).startswith(b"row"):
                    self.cells_in_row = 0
                else:
                    self.cells_in_row += 1
                    size.columns = max(size.columns, self.cells_in_row)
        if size.rows > row_cap(self.limits) or size.columns > self.limits.max_columns:
            # No need to read further to refuse it.
            raise _Over(size)

    def close(self) -> list[SheetSize]:
        """The sheet's size."""
        return [self.size]


class _Over(Exception):
    def __init__(self, size: SheetSize) -> None:
        self.size = size


class _OdsMeter(_Meter):
    """Rows and columns of every table of an .ods content.xml, with the repeat counts
    of rows and cells, up to the last row and cell holding a value (as calamine)."""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start
        self.sizes: list[SheetSize] = []
        self.row_repeat = 1
        self.row_has_value = False
        self.row_width = 0
        self.col = 0
        self.rows_before = 0  # rows of the current table before this row
        self.cell_repeat = 1
        self.cell_start = 0
        self.parser.EndElementHandler = self._end

    _NS_T = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    _NS_O = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    _NS_X = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        t = self._NS_T
        if tag == f"{t} table":
            self.sizes.append(SheetSize(attrs.get(f"{t} name", "?")))
            self.rows_before = 0
        elif tag == f"{t} table-row":
            self.row_repeat = _int(attrs.get(f"{t} number-rows-repeated"))
            self.row_has_value = False
            self.row_width = 0
            self.col = 0
        elif tag in (f"{t} table-cell", f"{t} covered-table-cell"):
            self.cell_repeat = _int(attrs.get(f"{t} number-columns-repeated"))
            self.cell_start = self.col
            self.col += self.cell_repeat
            if f"{self._NS_O} value-type" in attrs:
                self._mark()
        elif tag.startswith(self._NS_X + " ") and self.sizes:
            self._mark()

    def _mark(self) -> None:
        self.row_has_value = True
        self.row_width = max(self.row_width, self.cell_start + self.cell_repeat)

    def _end(self, tag: str) -> None:
        if tag == f"{self._NS_T} table-row" and self.sizes:
            size = self.sizes[-1]
            self.rows_before += self.row_repeat
            if self.row_has_value:
                size.rows = max(size.rows, self.rows_before)
                size.columns = max(size.columns, self.row_width)

    def feed(self, chunk: bytes) -> None:
        try:
            self.parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            raise LimitError(_("cannot read the workbook: {reason}").format(reason=exc)) from None

    def close(self) -> list[SheetSize]:
        """The size of every table."""
        return self.sizes


def _int(value: str | None) -> int:
    try:
        return max(int(value), 1) if value else 1
    except ValueError:
        return 1


def sheet_cells(
    rows: Iterator[list[Any]], name: str, sheet: str, limits: ImportLimits
) -> list[list[Any]]:
    """The rows of a sheet read by calamine, checked as they come: refused at the first
    row past :func:`~crm_core.sheet_limits.row_cap` or text cell past
    ``max_cell_chars`` (the data rows are checked against ``max_rows`` once the header
    row is found)."""
    out: list[list[Any]] = []
    cap = row_cap(limits)
    for row in rows:
        n = len(out) + 1
        if n > cap:
            raise LimitError(rows_over(name, sheet, limits))
        if len(row) > limits.max_columns:
            raise LimitError(columns_over(name, sheet, n, len(row), limits))
        for j, value in enumerate(row):
            if type(value) is str and len(value) > limits.max_cell_chars:
                raise LimitError(cell_over(name, n, j, value, limits))
        out.append(row)
    return out


# The errors, messages and CSV reader live in crm_core.sheet_limits and crm_core.csv_rows;
# they stay importable from here, where the importer and the docs name them.
__all__ = [
    "ZIP_FORMATS",
    "LimitError",
    "RosterError",
    "SheetSize",
    "cell_over",
    "check_workbook",
    "column_letter",
    "columns_over",
    "preview",
    "raise_hint",
    "read_csv_rows",
    "rows_over",
    "sheet_cells",
]
