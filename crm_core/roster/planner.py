"""Planning an import: each row read, matched against stored people and earlier rows,
and turned into the values to write (nothing is written here)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm_core import clock, pinyin, sheetguard
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.models import Person
from crm_core.phones import is_mobile
from crm_core.roster.cells import (
    _CONTROL,
    _EMAIL,
    _MEMBERSHIP,
    CellProblem,
    Resolver,
    _nfkc,
    cell_text,
    parse_birth,
    parse_gender,
    parse_phones,
    split_employer_title,
    split_list,
)
from crm_core.roster.report import CellError, Column, Duplicate, ImportReport, Progress, RowOutcome
from crm_core.roster.sheets import (
    _HEADERS,
    HEADER_SCAN_ROWS,
    OnDuplicate,
    Sheet,
    _header_key,
    header_field,
)
from crm_core.services import contacts
from crm_core.services._common import clean_text
from crm_core.sheetguard import RosterError
from crm_core.unit import Unit

# -- planning ------------------------------------------------------------------------

_SCALARS = (
    "name",
    "gender",
    "birth",
    "ethnicity",
    "party",
    "sector",
    "region",
    "employer",
    "title",
    "mobile",
    "email",
    "address",
    "membership",
    "notes",
)


@dataclass
class _Row:
    row: int
    values: dict[str, Any]  # canonical values of the non-empty cells
    errors: list[CellError]
    raw: list[str]
    how: str | None = None  # how it matched a known person


@dataclass
class _Target:
    """A person the import writes: a new one (``person_id`` None) or a stored one."""

    first_row: int
    person_id: uuid.UUID | None
    base: dict[str, Any]  # the stored values (empty for a new person)
    state: dict[str, Any]  # the values after the rows applied so far
    description: str = ""
    skipped: bool = False  # the user chose to leave this person alone (ask mode)


def _canonical(person: Person, cats: list[str], comms: list[str]) -> dict[str, Any]:
    birth = None
    if person.birth_year:
        birth = f"{person.birth_year:04d}" + (
            f"-{person.birth_month:02d}" if person.birth_month else ""
        )
    gender = person.gender.value if person.gender else None
    return {
        "name": person.name,
        "gender": gender,
        "birth": birth,
        "ethnicity": person.ethnicity,
        "party": person.party,
        "sector": person.sector,
        "region": person.region,
        "employer": person.employer,
        "title": person.title,
        "mobile": person.mobile,
        "phones": tuple(person.phones),
        "email": person.email,
        "address": person.address,
        "membership": person.membership.value,
        "notes": person.notes,
        "categories": tuple(sorted(cats)),
        "committees": tuple(sorted(comms)),
        "roster": dict((person.extra or {}).get("roster") or {}),
        "_extra": dict(person.extra or {}),
    }


class _Planner:
    def __init__(
        self,
        unit: Unit,
        sheet: Sheet,
        *,
        file: str,
        mapping: dict[str, str] | None,
        membership: str | None,
        on_duplicate: OnDuplicate,
        decide: Callable[[Duplicate], str] | None,
        dry_run: bool,
        progress: Progress | None,
    ) -> None:
        self.unit = unit
        self.sheet = sheet
        self.mapping = {_header_key(k): v for k, v in (mapping or {}).items()}
        self.membership = membership
        self.on_duplicate = on_duplicate
        self.decide = decide
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
        header_row, columns = self._find_header()
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
        self._caches: dict[int, dict[Any, tuple[dict[str, Any] | None, str | None]]] = {
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
            code, approx = self.resolvers[f](text)
            if approx:
                self.report.approximations[(header, text)] = approx
            return {f: code}
        if f in ("categories", "committees"):
            codes: set[str] = set()
            for item in split_list(text):
                code, approx = self.resolvers[f](item)
                codes.add(code)
                if approx:
                    self.report.approximations[(header, item)] = approx
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
        return {f: clean_text(text)}  # employer, title, ethnicity, address, notes

    def _parse(self, row_no: int, cells: list[Any], texts: list[str]) -> _Row:
        values: dict[str, Any] = {}
        errors: list[CellError] = []
        roster: dict[str, str] = {}
        phones: list[str] = []
        mobile_given = False
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
                            hit = (None, str(exc))
                        cache[raw] = hit
                    parsed, problem = hit
                    if problem is not None:
                        raise CellProblem(problem)
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
        return _Row(row_no, values, errors, texts)

    # duplicates ------------------------------------------------------------------

    def plan(self) -> tuple[list[_Target], dict[uuid.UUID, _Target]]:
        """Decide, row by row, whom each good row creates or changes."""
        rows = self._rows()
        stored = contacts.person_keys(self.unit)
        by_key: dict[tuple[str, int | None, int | None], list[uuid.UUID]] = {}
        by_mobile: dict[str, list[uuid.UUID]] = {}
        by_name: dict[str, list[uuid.UUID]] = {}
        for k in stored:
            by_key.setdefault((k.name, k.birth_year, k.birth_month), []).append(k.id)
            if k.mobile:
                by_mobile.setdefault(k.mobile, []).append(k.id)
            by_name.setdefault(k.name, []).append(k.id)
        # Which stored people do the rows name? Load them (and only them) at once.
        matched: set[uuid.UUID] = set()
        for r in rows:
            if not r.errors:
                matched.update(by_key.get(_key(r.values), ()))
                matched.update(by_mobile.get(r.values.get("mobile") or "", ()))
        self.people, cats, comms = contacts.people_by_ids(self.unit, matched)
        self.links = (cats, comms)
        file_key: dict[tuple[str, int | None, int | None], _Target] = {}
        file_mobile: dict[str, _Target] = {}
        file_name: dict[str, list[int]] = {}
        db_targets: dict[uuid.UUID, _Target] = {}
        new_targets: list[_Target] = []
        report = self.report
        for r in rows:
            name = r.values.get("name", "")
            if r.errors:
                report.errors += r.errors
                report.outcomes.append(RowOutcome(r.row, name, "refuse"))
                report.raw_rows[r.row] = r.raw
                continue
            key = _key(r.values)
            mobile = r.values.get("mobile")
            # 1. someone an earlier row of the file named
            target = self._pick(r, file_key.get(key), file_mobile.get(mobile or ""))
            if target is None:
                # 2. someone stored
                ids_k = by_key.get(key, [])
                ids_m = by_mobile.get(mobile, []) if mobile else []
                if len(ids_m) > 1:
                    who = "; ".join(self._describe(ids_m))
                    self._refuse(
                        r,
                        "mobile",
                        _("several stored people have this mobile: {who}").format(who=who),
                    )
                    continue
                if len(ids_k) > 1:
                    both = [i for i in ids_k if i in ids_m]
                    if len(both) != 1:
                        who = "; ".join(self._describe(ids_k))
                        self._refuse(
                            r,
                            "name",
                            _("several stored people have this name and birth month: {who}; "
                              "merge them first").format(who=who),
                        )  # fmt: skip
                        continue
                    ids_k = both
                target = self._pick(
                    r,
                    self._db_target(db_targets, ids_k[0]) if ids_k else None,
                    self._db_target(db_targets, ids_m[0]) if ids_m else None,
                )
                if isinstance(target, _Target) and target.first_row == 0:
                    target.first_row = r.row
            if target is False:
                continue
            if isinstance(target, _Target):
                self._apply(r, target)
                file_key.setdefault(key, target)
                if mobile:
                    file_mobile.setdefault(mobile, target)
                continue
            # 3. a new person
            new = _Target(r.row, None, {}, dict(r.values))
            outcome = RowOutcome(r.row, name, "create")
            stored_namesakes = by_name.get(name)
            file_namesakes = file_name.get(name)
            if stored_namesakes or file_namesakes:
                outcome.namesakes = self._describe(stored_namesakes or []) + [
                    f"row {x}" for x in file_namesakes or []
                ]
                if file_namesakes is None:
                    file_name[name] = [r.row]
                else:
                    file_namesakes.append(r.row)
            else:
                file_name[name] = [r.row]
            report.outcomes.append(outcome)
            new_targets.append(new)
            file_key.setdefault(key, new)
            if mobile:
                file_mobile.setdefault(mobile, new)
        return new_targets, db_targets

    def _describe(self, ids: list[uuid.UUID]) -> list[str]:
        out = []
        for pid in ids:
            p = self.people.get(pid) or self.unit.session.get(Person, pid)
            if p is not None:
                out.append(contacts.describe(p))
        return out

    def _db_target(self, targets: dict[uuid.UUID, _Target], pid: uuid.UUID) -> _Target:
        # One target per stored person, whichever key finds it; ``first_row`` stays 0
        # until a row is applied to it.
        if pid not in targets:
            person = self.people[pid]
            cats, comms = self.links
            base = _canonical(person, cats.get(pid, []), comms.get(pid, []))
            targets[pid] = _Target(0, pid, base, dict(base), contacts.describe(person))
        return targets[pid]

    def _pick(
        self, r: _Row, by_key: _Target | None, by_mobile: _Target | None
    ) -> _Target | bool | None:
        """The person a row names (by name and birth month, else by mobile), None for
        nobody known, or False when the row was refused for naming two different people
        (or a mobile someone else has)."""
        if by_key is not None and by_mobile is not None and by_key is not by_mobile:
            self._refuse(
                r,
                "mobile",
                _("the name and birth month match {first}, but the mobile belongs to "
                  "{second}").format(first=self._who(by_key), second=self._who(by_mobile)),
            )  # fmt: skip
            return False
        if by_key is not None:
            r.how = N_("name and birth month")
            return by_key
        if by_mobile is not None:
            if r.values.get("name") != by_mobile.state.get("name"):
                self._refuse(
                    r,
                    "mobile",
                    _("this mobile belongs to {owner}, a different name; correct one of "
                      "them (or merge the people) and import again").format(
                        owner=self._who(by_mobile)
                    ),
                )  # fmt: skip
                return False
            r.how = N_("mobile")
            return by_mobile
        return None

    @staticmethod
    def _who(target: _Target) -> str:
        if target.person_id is not None and target.first_row == 0:
            return target.description
        if target.person_id is not None:
            return f"{target.description} (" + _("row {row}").format(row=target.first_row) + ")"
        return _("row {row}").format(row=target.first_row)

    def _refuse(self, r: _Row, field_name: str, reason: str) -> None:
        col_ = next((c for c in self.report.columns if c.field == field_name), None)
        if col_ is None and field_name == "mobile":
            col_ = next((c for c in self.report.columns if c.field == "phone"), None)
        header = col_.header if col_ else field_name
        value = r.raw[col_.index] if col_ and col_.index < len(r.raw) else ""
        self.report.errors.append(CellError(r.row, header, value, reason))
        self.report.outcomes.append(RowOutcome(r.row, r.values.get("name", ""), "refuse"))
        self.report.raw_rows[r.row] = r.raw

    def _apply(self, r: _Row, target: _Target) -> None:
        view = _merged_view(target.state, r.values)
        changes = {k: (target.state.get(k), v) for k, v in view.items() if target.state.get(k) != v}
        first_touch = target.first_row == r.row  # only for a stored person
        action = "update" if changes else "unchanged" if first_touch else "duplicate"
        of = N_("database") if first_touch else f"row {target.first_row}"
        outcome = RowOutcome(
            r.row, r.values.get("name", ""), action, target.person_id, of, r.how, sorted(changes)
        )
        if changes:
            choice = self.on_duplicate.value
            if choice == "ask" and target.skipped:
                choice = "skip"  # asked once for this person already: not again
            elif choice == "ask":
                assert self.decide is not None
                existing = self._who(target) if not first_touch else target.description
                choice = self.decide(
                    Duplicate(r.row, outcome.name, existing, (_(r.how) if r.how else ""), changes)
                )
            if choice == "skip":
                target.skipped = True
                outcome.action = "skip"
                self.report.outcomes.append(outcome)
                return
            target.state.update(view)
        self.report.outcomes.append(outcome)


def _merged_view(state: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    # A non-empty cell replaces the stored value; the roster's extra columns are added
    # to those already kept.
    out = dict(values)
    if "roster" in values:
        out["roster"] = {**(state.get("roster") or {}), **values["roster"]}
    return out


def _key(values: dict[str, Any]) -> tuple[str, int | None, int | None]:
    birth = values.get("birth")
    year = int(birth[:4]) if birth else None
    month = int(birth[5:]) if birth and len(birth) > 4 else None
    return values.get("name", ""), year, month


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _looks_like_heading(text: str) -> bool:
    return bool(re.search(r"[\d、：:（(]|界$|委员会$|组$|名单", text)) or len(text) > 12


def _fields_for_service(state: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The PersonFields values that make a stored person (``base``) like ``state``."""
    out: dict[str, Any] = {}
    for k in (*_SCALARS, "phones", "categories", "committees"):
        if k in state and state[k] != base.get(k):
            v = state[k]
            out[k] = list(v) if isinstance(v, tuple) else v
    if "roster" in state and state["roster"] != base.get("roster"):
        out["extra"] = {**base.get("_extra", {}), "roster": state["roster"]}
    return out


def _create_fields(state: dict[str, Any]) -> dict[str, Any]:
    """The PersonFields values of a new person (lists where the state keeps tuples)."""
    out = {k: (list(v) if type(v) is tuple else v) for k, v in state.items() if k != "roster"}
    if "roster" in state:
        out["extra"] = {"roster": state["roster"]}
    return out


# -- the import ----------------------------------------------------------------------
