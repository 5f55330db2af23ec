"""Reading a roster sheet for an import: the header row and what each column holds,
then every row parsed into canonical values (nothing is matched or written here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_core import clock, pinyin, sheetguard
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.phones import is_mobile
from crm_core.roster.cells import (
    _CONTROL,
    _EMAIL,
    _MEMBERSHIP,
    CellProblem,
    LeftOut,
    Resolver,
    UnknownTerm,
    _nfkc,
    cell_text,
    parse_birth,
    parse_gender,
    parse_phones,
    split_employer_title,
    split_list,
)
from crm_core.roster.closest import value_key
from crm_core.roster.links import parse_relations, parse_tags
from crm_core.roster.report import CellError, Column, ImportReport, Progress
from crm_core.roster.sheets import (
    _HEADERS,
    HEADER_SCAN_ROWS,
    Sheet,
    _header_key,
    header_field,
)
from crm_core.roster.unknowns import Choice
from crm_core.services._common import clean_text
from crm_core.sheet_limits import rows_over
from crm_core.sheetguard import RosterError
from crm_core.unit import Unit


@dataclass
class _Row:
    row: int
    values: dict[str, Any]  # canonical values of the non-empty cells
    errors: list[CellError]
    raw: list[str]
    how: str | None = None  # how it matched a known person
    # (field, header, values) of the cells holding values the vocabulary does not know
    unknown: list[tuple[str, str, tuple[str, ...]]] | None = None
    left_out: bool = False  # it holds a value whose rows the user leaves out
    cells: list[Any] | None = None  # as read, kept to read the row again once answered
    dropped: bool = False  # --keep-partial: imported without its bad cells


class _Reader:
    """The first stages of planning an import: finds the header row, then reads the
    rows below it; :class:`crm_core.roster.planner._Planner` matches them."""

    def __init__(
        self,
        unit: Unit,
        sheet: Sheet,
        *,
        file: str,
        mapping: dict[str, str] | None,
        membership: str | None,
        dry_run: bool,
        progress: Progress | None,
        keep_partial: bool = False,
    ) -> None:
        self.unit = unit
        self.keep_partial = keep_partial
        # (field, value key) -> the choice for a value the vocabulary does not know
        self.choices: dict[tuple[str, str], Choice] = {}
        self.sheet = sheet
        self.mapping = {_header_key(k): v for k, v in (mapping or {}).items()}
        self.membership = membership
        self.progress = progress
        self.today = clock.today(unit.config.tz)
        vocab = unit.config.vocab
        self.resolvers = {
            "party": Resolver(vocab["parties"], N_("parties")),
            "sector": Resolver(vocab["sectors"], N_("sectors")),
            "region": Resolver(vocab["regions"], N_("regions")),
            "categories": Resolver(unit.app.categories, N_("categories")),
            "committees": Resolver(vocab["committees"], N_("committees")),
        }
        self.vocabs = {f: r.vocab for f, r in self.resolvers.items()}
        header_row, columns = self._find_header()
        # ``max_rows`` bounds the data rows, those below the header (the readers took up
        # to HEADER_SCAN_ROWS more, for the title rows and the header itself).
        limits = unit.config.import_limits
        if len(sheet.rows) - (header_row - sheet.first_row + 1) > limits.max_rows:
            csv_file = sheet.encoding is not None
            raise sheetguard.LimitError(
                rows_over(Path(file).name, None if csv_file else sheet.name, limits)
            )
        self.report = ImportReport(
            file=file,
            sheet=sheet.name,
            header_row=header_row,
            columns=columns,
            dry_run=dry_run,
            encoding=sheet.encoding,
            headers=[cell_text(v).strip() for v in sheet.rows[header_row - sheet.first_row]],
        )
        # Columns in sheet order; a separate 工作单位/职务 column is read after a combined
        # 工作单位及职务 one, so that it wins.
        self._plan_columns = sorted(
            ((c.index, c.header, c.field) for c in columns if c.field != "ignore"),
            key=lambda c: (c[2] in ("employer", "title"), c[0]),
        )
        self._caches: dict[int, dict[Any, tuple[dict[str, Any] | None, CellProblem | None]]] = {
            c.index: {} for c in columns
        }

    # header ----------------------------------------------------------------------

    def _field_of(self, text: str) -> tuple[str | None, bool]:
        key = _header_key(text)
        if key in self.mapping:
            return self.mapping[key], True
        return header_field(text), False

    def _find_header(self) -> tuple[int, list[Column]]:
        best: tuple[int, int] | None = None  # (score, index)
        for i, row in enumerate(self.sheet.rows[:HEADER_SCAN_ROWS]):
            fields = [self._field_of(cell_text(v))[0] for v in row if cell_text(v).strip()]
            if "name" not in fields:
                continue
            score = len({f for f in fields if f and f not in ("extra", "ignore")})
            if score >= 2 and (best is None or score > best[0]):
                best = (score, i)
        if best is None:
            raise RosterError(
                _(
                    "no header row found in the first {n} rows: a row naming 姓名 (name) and "
                    "at least one other known column, such as 性别, 出生年月, 手机 "
                    "(or use --map HEADER=field)"
                ).format(n=HEADER_SCAN_ROWS)
            )
        index = best[1]
        columns: list[Column] = []
        taken: set[str] = set()
        used_maps: set[str] = set()
        for j, v in enumerate(self.sheet.rows[index]):
            header = cell_text(v).strip()
            if not header:
                if any(
                    j < len(r) and cell_text(r[j]).strip() for r in self.sheet.rows[index + 1 :]
                ):
                    columns.append(
                        Column(j, _("column {letter}").format(letter=_letter(j)), "extra")
                    )
                continue
            field_name, mapped = self._field_of(header)
            if mapped:
                used_maps.add(_header_key(header))
            if field_name is None:
                field_name = "extra"
            elif field_name in taken and field_name not in ("extra", "ignore", "phones", "notes"):
                # A second column for the same field: its phones are extra phones, the
                # rest is kept rather than overwriting the first column.
                field_name = "phones" if field_name in ("mobile", "phone") else "extra"
            taken.add(field_name)
            columns.append(Column(j, header, field_name, mapped))
        unused = sorted(set(self.mapping) - used_maps)
        if unused:
            raise ValidationError.one(
                "--map",
                ", ".join(unused),
                _("no such column in the header row (row {row})").format(
                    row=index + self.sheet.first_row
                ),
            )
        return index + self.sheet.first_row, columns

    # rows ------------------------------------------------------------------------

    def _rows(self) -> list[_Row]:
        sheet = self.sheet
        start = self.report.header_row - sheet.first_row + 1
        header_keys = {c.index: _header_key(c.header) for c in self.report.columns}
        name_cols = [c.index for c in self.report.columns if c.field == "name"]
        name_col = name_cols[0] if name_cols else 0
        name_headers = {k for k, f in _HEADERS.items() if f == "name"} | {
            c.header for c in self.report.columns if c.field == "name"
        }
        fills = self._vertical_merges(start)
        skipped = self.report.skipped_rows
        out: list[_Row] = []
        total = len(sheet.rows) - start
        parse = self._parse
        for offset, cells in enumerate(sheet.rows[start:]):
            row_no = start + offset + sheet.first_row
            if fills:
                cells = [fills.get((start + offset, j), v) for j, v in enumerate(cells)]
            texts = [v.strip() if type(v) is str else cell_text(v).strip() for v in cells]
            filled = [j for j, t in enumerate(texts) if t]
            if not filled:
                skipped.append((row_no, N_("blank row")))
                continue
            name_text = texts[name_col] if name_col < len(texts) else ""
            if name_text in name_headers or (
                name_text.isascii() and header_field(name_text) == "name"
            ):
                same = sum(1 for j in filled if header_keys.get(j) == _header_key(texts[j]))
                if same * 2 >= len(filled) and same >= 2:
                    skipped.append((row_no, N_("repeated header row")))
                    continue
            if len(filled) == 1 and (
                filled[0] not in name_cols or _looks_like_heading(texts[filled[0]])
            ):
                skipped.append((row_no, N_("heading row")))
                continue
            out.append(parse(row_no, cells, texts))
            if self.progress and offset % 1000 == 0:
                self.progress("read", offset, total)
        if self.progress:
            self.progress("read", total, total)
        return out

    def _vertical_merges(self, start: int) -> dict[tuple[int, int], Any]:
        # A cell merged down over several data rows (所在地 for a block of people) holds
        # its value in the top cell only: give it to every row of the block. Merges
        # across a row only (titles, headings) are left alone.
        fills: dict[tuple[int, int], Any] = {}
        rows = self.sheet.rows
        for (r1, c1), (r2, c2) in self.sheet.merged:
            if r2 <= r1 or r1 < start or r1 >= len(rows):
                continue
            top = rows[r1][c1] if c1 < len(rows[r1]) else None
            for r in range(r1, min(r2, len(rows) - 1) + 1):
                for c in range(c1, c2 + 1):
                    fills[(r, c)] = top
        return fills

    _CACHED = frozenset(
        ("gender", "birth", "party", "sector", "region", "categories", "committees",
         "employer_title", "employer", "title", "ethnicity", "membership")
    )  # fmt: skip

    def _cell(self, f: str, header: str, raw: Any, text: str) -> dict[str, Any]:
        """What one non-empty cell of a column filling ``f`` contributes to the row's
        values; raises CellProblem."""
        if f == "gender":
            return {"gender": parse_gender(text)}
        if f == "birth":
            return {"birth": parse_birth(raw, today=self.today)}
        if f in ("party", "sector", "region"):
            return {f: self._codes(f, header, text)[0]}
        if f in ("categories", "committees"):
            codes: set[str] = set()
            unknown: list[str] = []
            for item in split_list(text):
                try:
                    codes.update(self._codes(f, header, item))
                except UnknownTerm:
                    unknown.append(item)
            if unknown:
                raise UnknownTerm(_("not in the configuration"), tuple(unknown))
            return {f: tuple(sorted(codes))}
        if f == "employer_title":
            employer, title = split_employer_title(text)
            return {"employer": employer, "title": title} if title else {"employer": employer}
        if f == "email":
            email = _nfkc(text)
            if not _EMAIL.match(email):
                raise CellProblem(_("not an e-mail address"))
            return {"email": email}
        if f == "membership":
            key = _nfkc(text).casefold()
            if key not in _MEMBERSHIP:
                raise CellProblem(_("membership must be 常委, 委员 or 非委员"))
            return {"membership": _MEMBERSHIP[key]}
        if f == "tags":
            return {"tags": parse_tags(text)}
        if f == "relations":
            return {"relations": parse_relations(self.unit, text)}
        return {f: clean_text(text)}  # employer, title, ethnicity, address, notes

    def _codes(self, f: str, header: str, text: str) -> tuple[str, ...]:
        """The codes a vocabulary value stands for: the entry it reads as, else the
        user's choice for it; raises UnknownTerm (no choice yet) or LeftOut."""
        try:
            code, approx = self.resolvers[f](text)
        except UnknownTerm:
            choice = self.choices.get((f, value_key(text)))
            if choice is None:
                raise
            if choice.action == "leave_out":
                raise LeftOut(_("left out by choice")) from None
            return choice.codes
        if approx:
            self.report.approximations[(header, text)] = approx
        return (code,)

    def _parse(self, row_no: int, cells: list[Any], texts: list[str]) -> _Row:
        values: dict[str, Any] = {}
        errors: list[CellError] = []
        roster: dict[str, str] = {}
        phones: list[str] = []
        mobile_given = False
        unknown: list[tuple[str, str, tuple[str, ...]]] = []
        left_out = False
        caches = self._caches
        for j, header, f in self._plan_columns:
            if j >= len(cells):
                continue
            text = texts[j]
            if not text:
                continue
            bad = _CONTROL.search(text)
            if bad:
                # Not stored: no screen, file or terminal should receive them.
                errors.append(
                    CellError(
                        row_no,
                        header,
                        sheetguard.preview(text),
                        _("holds the control character U+{code:04X}").format(code=ord(bad.group())),
                    )
                )
                continue
            try:
                if f == "name":
                    values["name"] = pinyin.normalize_name(text)
                elif f in self._CACHED:
                    raw = cells[j]
                    cache = caches[j]
                    hit = cache.get(raw)
                    if hit is None:
                        try:
                            hit = (self._cell(f, header, raw, text), None)
                        except CellProblem as exc:
                            hit = (None, exc)
                        cache[raw] = hit
                    parsed, problem = hit
                    if problem is not None:
                        raise problem
                    assert parsed is not None  # a cached cell is parsed or a problem
                    for k, v in parsed.items():
                        # The first column that gives a value wins (工作单位及职务 and a
                        # separate 职务: the separate one).
                        if k not in values or f not in ("employer_title",):
                            values[k] = v
                elif f in ("mobile", "phone", "phones"):
                    numbers = parse_phones(text)
                    if f == "mobile":
                        mobile_given = True
                        mobiles = [n for n in numbers if is_mobile(n)]
                        if not mobiles:
                            phones += numbers  # a landline typed in the mobile column
                        else:
                            values["mobile"] = mobiles[0]
                            phones += [n for n in numbers if n != mobiles[0]]
                    elif f == "phone":
                        for n in numbers:
                            if is_mobile(n) and "mobile" not in values and not mobile_given:
                                values["mobile"] = n
                            else:
                                phones.append(n)
                    else:
                        phones += numbers
                elif f == "notes":
                    note = clean_text(text)
                    values["notes"] = f"{values['notes']}；{note}" if "notes" in values else note
                elif f == "extra":
                    roster[header] = _nfkc(text)
                else:
                    values.update(self._cell(f, header, cells[j], text))
            except UnknownTerm as exc:
                unknown.append((f, header, exc.items))
            except LeftOut:
                left_out = True
            except CellProblem as exc:
                errors.append(CellError(row_no, header, text, str(exc)))
        if phones:
            phones = [p for p in dict.fromkeys(phones) if p != values.get("mobile")]
            if phones:
                values["phones"] = tuple(phones)
        if roster:
            values["roster"] = roster
        if self.membership and "membership" not in values:
            values["membership"] = self.membership
        if "name" not in values and not errors:
            header = next((c.header for c in self.report.columns if c.field == "name"), "姓名")
            errors.append(CellError(row_no, header, "", _("a name is required")))
        dropped = False
        if errors and self.keep_partial and "name" in values:
            # --keep-partial: the person without the bad cells (the errors file says so)
            self.report.dropped += errors
            self.report.raw_rows[row_no] = texts
            errors, dropped = [], True
        row = _Row(row_no, values, errors, texts, left_out=left_out, dropped=dropped)
        if unknown:
            row.unknown, row.cells = unknown, cells
        return row


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _looks_like_heading(text: str) -> bool:
    return bool(re.search(r"[\d、：:（(]|界$|委员会$|组$|名单", text)) or len(text) > 12
