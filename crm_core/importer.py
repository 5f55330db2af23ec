"""Importing rosters (名单导入): the office's Excel and CSV sheets, as messy as they come.

:func:`read_sheet` reads ``.xlsx``, ``.xls``, ``.ods`` (python-calamine) and ``.csv``
(UTF-8 with or without BOM, else GB18030/GBK); :func:`import_roster` finds the header row,
recognises the columns (Chinese or English headers, or ``mapping``), reads every cell as
people type it (``1965.03``, ``65.03``, ``1965年3月``, full-width digits, ``+86`` phones,
several categories in one cell), finds duplicates against the database and inside the
file, and writes the good rows through the contacts service in bulk. Each bad cell
becomes a :class:`CellError` (sheet row, column header, value, reason); a row with one is
not imported, the others are. Nothing is committed here: the caller's unit is the one
transaction of the whole import, so a failed or killed run leaves the database as it was.

Re-importing the same file changes nothing: every value is compared with what is stored
before anything is written, and only real differences are written (and audited).
"""

from __future__ import annotations

import csv
import gc
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from crm_core import clock, pinyin, sheetguard
from crm_core.cellsafe import append_text_row, csv_row
from crm_core.config import ImportLimits, Term, Vocabulary
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.models import Person
from crm_core.phones import is_mobile, normalize_phone
from crm_core.private_files import private_open, private_path
from crm_core.services import contacts
from crm_core.services._common import clean_text
from crm_core.sheetguard import LimitError, RosterError
from crm_core.unit import Unit

# Not .xlsb: its binary records cannot be measured before calamine lays it all out.
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
HEADER_SCAN_ROWS = 50


class OnDuplicate(StrEnum):
    """What to do with a row that names someone already in the database or the file."""

    update = "update"  # fill in and replace fields with the file's non-empty cells
    skip = "skip"  # leave the existing record alone
    ask = "ask"  # ask the caller (``decide``) for each duplicate that would change things


# -- the fields a column can fill ------------------------------------------------------

# field -> its label (the Chinese label is the msgid's translation).
FIELDS: dict[str, str] = {
    "name": N_("name"),
    "gender": N_("gender"),
    "birth": N_("birth year and month"),
    "ethnicity": N_("ethnicity"),
    "party": N_("party"),
    "sector": N_("sector"),
    "region": N_("region"),
    "employer": N_("employer"),
    "title": N_("title"),
    "employer_title": N_("employer and title"),
    "mobile": N_("mobile"),
    "phone": N_("telephone"),
    "phones": N_("other phones"),
    "email": N_("e-mail"),
    "address": N_("address"),
    "categories": N_("categories"),
    "committees": N_("special committees"),
    "membership": N_("membership"),
    "notes": N_("notes"),
    "extra": N_("kept as an extra field"),
    "ignore": N_("ignored"),
}

_HEADERS: dict[str, str] = {}
for _field, _names in {
    "name": "姓名 名字 姓 名 委员姓名 name fullname 全名",
    "gender": "性别 gender sex",
    "birth": "出生年月 出生日期 出生年月日 出生时间 出生年份 生日 出生 birth birthday dateofbirth "
    "born",
    "ethnicity": "民族 ethnicity ethnic nationality",
    "party": "党派 政治面貌 党派政治面貌 政治面目 所属党派 party politicalaffiliation",
    "sector": "界别 所在界别 sector",
    "region": "所在地 县市区 县(市、区) 县（市、区） 县(市,区) 所在县市区 地区 区域 所属地区 辖区 "
    "region county district",
    "employer": "工作单位 单位 单位名称 工作单位名称 所在单位 employer organisation organization "
    "company workunit",
    "title": "职务 职称 职位 单位职务 title position jobtitle",
    "employer_title": "工作单位及职务 工作单位及职称 单位及职务 工作单位和职务 单位和职务 "
    "工作单位职务 工作单位及职务(职称) employerandtitle",
    "mobile": "手机 手机号 手机号码 移动电话 手机号码(必填) mobile mobilephone cellphone cell",
    "phone": "联系电话 电话 电话号码 联系方式 telephone phone tel",
    "phones": "其他电话 办公电话 固定电话 座机 otherphones",
    "email": "邮箱 电子邮箱 电子邮件 email e-mail mail",
    "address": "通讯地址 地址 联系地址 家庭住址 通信地址 address",
    "categories": "类别 联系对象类别 对象类别 人士类别 联系类别 category categories",
    "committees": "专委会 专门委员会 所在专委会 所属专委会 committee committees",
    "membership": "委员身份 身份 委员类别 是否常委 membership",
    "notes": "备注 说明 notes note remarks remark",
    "ignore": "序号 编号 no no. # 拼音 pinyin 原行号 错误说明 sourcerow errors",
}.items():
    for _name in _names.split():
        _HEADERS[_name.casefold()] = _field

# The columns of the errors file, recognised (and ignored) when it is imported again.
ERROR_ROW_HEADER = N_("Source row")
ERROR_TEXT_HEADER = N_("Errors")

_GENDERS = {"男": "male", "女": "female", "男性": "male", "女性": "female", "m": "male"}
_GENDERS |= {"f": "female", "male": "male", "female": "female"}
_MEMBERSHIP = {
    "常委": "standing",
    "常务委员": "standing",
    "standing": "standing",
    "委员": "member",
    "member": "member",
    "非委员": "none",
    "无": "none",
    "否": "none",
    "none": "none",
}
_LIST_SPLIT = re.compile(r"[、,，;；/／|｜\s]+")
_PHONE_SPLIT = re.compile(r"[,，;；、\n]+|\s/\s|\s{2,}|或")
_EMPLOYER_SPLIT = re.compile(r"\s*[\s/／|｜,，;；]\s*")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BIRTH = re.compile(
    r"^(\d{4}|\d{2})\s*(?:(?:[.\-/年]|\s)\s*(\d{1,2})\s*月?"
    r"(?:\s*[.\-/]?\s*(\d{1,2})\s*日?)?)?\s*年?$"
)
_BIRTH_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
# C0 control characters but tab, newline and carriage return (a cell's own line breaks).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MEMBER_SUFFIXES = ("党员", "盟员", "会员", "社员", "成员", "人士")


def header_field(text: str) -> str | None:
    """The field a header names ("出生年月" -> "birth"), or None."""
    key = _header_key(text)
    if not key:
        return None
    found = _HEADERS.get(key)
    if found is None:
        bare = re.sub(r"[(（\[【].*?[)）\]】]", "", key)
        found = _HEADERS.get(bare) if bare else None
    return found


def _header_key(text: str) -> str:
    key = unicodedata.normalize("NFKC", text).casefold()
    key = "".join(key.split()).lstrip("*※★").rstrip(":：")
    return key


# -- reading -----------------------------------------------------------------------


@dataclass
class Sheet:
    """The cells of one sheet, as Python values, with the sheet-row number of each row
    as the office sees it in Excel (1-based)."""

    name: str
    rows: list[list[Any]]
    first_row: int = 1  # the sheet row of rows[0]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    encoding: str | None = None  # CSV only


def read_sheet(
    path: Path | str, sheet: str | None = None, *, limits: ImportLimits | None = None
) -> Sheet:
    """Read the sheet ``sheet`` (default: the first one) of a workbook, or a CSV file,
    within ``limits`` (default: the shipped ``[import]`` bounds): a file over one is
    refused whole with a :class:`~crm_core.sheetguard.LimitError` (a RosterError)."""
    path = Path(path)
    limits = limits or ImportLimits()
    suffix = path.suffix.lower()
    if not path.exists():
        raise RosterError(_("file not found: {path}").format(path=path))
    if suffix == ".csv":
        rows, encoding = sheetguard.read_csv_rows(path, limits)
        return Sheet(path.name, rows, 1, [], encoding)
    if suffix not in SUFFIXES:
        raise RosterError(
            _("cannot read {name}: use .xlsx, .xls, .ods or .csv").format(name=path.name)
        )
    # calamine lays a whole sheet out in memory as soon as it opens it: measure the
    # file first (zip bombs, rows, columns), as a stream.
    if suffix in sheetguard.ZIP_FORMATS:
        sheetguard.check_workbook(path, limits)
    elif path.stat().st_size > limits.max_unzipped_mb * 1024 * 1024:
        # An .xls is not packed: its size bounds what calamine makes of it.
        raise LimitError(
            _("cannot import {name}: it is larger than {limit} MB; {hint}").format(
                name=path.name,
                limit=limits.max_unzipped_mb,
                hint=sheetguard.raise_hint("max_unzipped_mb"),
            )
        )
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise RosterError(
            _("cannot read {name}: {reason}").format(name=path.name, reason=exc)
        ) from None
    names = list(wb.sheet_names)
    if sheet is None:
        chosen = names[0] if names else None
    else:
        chosen = sheet if sheet in names else None
        if chosen is None and sheet.isdigit() and 1 <= int(sheet) <= len(names):
            chosen = names[int(sheet) - 1]
    if chosen is None:
        raise RosterError(
            _("no sheet {sheet!r} in {name}; its sheets: {names}").format(
                sheet=sheet, name=path.name, names="、".join(names)
            )
        )
    try:
        ws = wb.get_sheet_by_name(chosen)
        merged = list(getattr(ws, "merged_cell_ranges", None) or [])
        end = ws.end
        if end is not None and end[0] + 1 > limits.max_rows:
            raise LimitError(sheetguard.rows_over(path.name, chosen, limits))
        # iter_rows starts at row 1 but at the first column holding data: put the empty
        # columns before it back, so that cells keep their sheet columns. Row by row, so
        # a row or cell over the bounds is refused before the rest is converted.
        pad = [""] * (ws.start or (0, 0))[1]
        rows_in = (pad + r for r in ws.iter_rows()) if pad else ws.iter_rows()
        rows = sheetguard.sheet_cells(rows_in, path.name, chosen, limits)
    except LimitError:
        raise
    except Exception as exc:
        raise RosterError(
            _("cannot read {name}: {reason}").format(name=path.name, reason=exc)
        ) from None
    return Sheet(chosen, rows, 1, merged)


# -- cell values ---------------------------------------------------------------------


class CellProblem(ValueError):
    """A cell's value cannot be used; the message says why (translated)."""


def cell_text(value: Any) -> str:
    """A cell as the text the office sees (numbers without a trailing ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _nfkc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def parse_birth(value: Any, *, today: date | None = None) -> str:
    """A birth year and month as people type it, as ``YYYY-MM`` (or ``YYYY``).

    ``1965.03``, ``1965.3``, ``65.03``, ``1965年3月``, ``1965-3``, ``1965/03``,
    ``1965-03-12``, ``196503``, ``19650312``, full-width digits, an Excel date cell or
    date serial number. Two-digit years are 19xx unless 20xx is at least 20 years ago.
    Raises :class:`CellProblem` saying why a value is not a birth month.
    """
    today = today or clock.now().date()
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 10_000 <= value <= 80_000:
        day = date(1899, 12, 30) + timedelta(days=value)  # an Excel date serial number
        return f"{day.year:04d}-{day.month:02d}"
    text = _nfkc(cell_text(value)).replace(" ", "")
    m = _BIRTH.match(text)
    year_s, month_s = (m.group(1), m.group(2)) if m else (None, None)
    if m is None:
        c = _BIRTH_COMPACT.match(text)
        if c is None:
            raise CellProblem(_("not a birth year and month (like 1965.03 or 1965年3月)"))
        year_s, month_s = c.group(1), c.group(2)
    assert year_s is not None
    year = int(year_s)
    if len(year_s) == 2:
        year += 2000 if 2000 + year <= today.year - 20 else 1900
    if not 1900 <= year <= today.year:
        raise CellProblem(_("year {year} is not a plausible birth year").format(year=year))
    if month_s is None:
        return f"{year:04d}"
    month = int(month_s)
    if not 1 <= month <= 12:
        raise CellProblem(_("month {month} does not exist (1–12)").format(month=month_s))
    return f"{year:04d}-{month:02d}"


def parse_gender(value: str) -> str:
    """``male`` or ``female`` from what people type (男, 女, 男性, M, female …)."""
    key = _nfkc(value).casefold()
    if key in _GENDERS:
        return _GENDERS[key]
    raise CellProblem(_("gender must be 男 or 女"))


def parse_phones(value: str) -> list[str]:
    """The phone numbers in a cell, normalised (several may be separated by 、,; or 或)."""
    out = []
    for piece in _PHONE_SPLIT.split(unicodedata.normalize("NFKC", value)):
        if piece.strip():
            try:
                out.append(normalize_phone(piece))
            except ValueError as exc:
                raise CellProblem(_phone_reason(str(exc))) from None
    return out


def _phone_reason(message: str) -> str:
    m = re.match(r"a mobile number has 11 digits, this has (\d+)", message)
    if m:
        return _("a mobile number has 11 digits, this has {count}").format(count=m.group(1))
    m = re.match(r"not a mainland phone number \((\d+) digits\)", message)
    if m:
        return _("not a mainland phone number ({count} digits)").format(count=m.group(1))
    return _("not a phone number: it contains characters that are not digits")


def split_list(value: str) -> list[str]:
    """The items of a cell holding several (separated by 、，,;； / or spaces)."""
    return [p for p in _LIST_SPLIT.split(_nfkc(value)) if p]


def split_employer_title(value: str) -> tuple[str, str | None]:
    """``扬州大学 教授`` -> (扬州大学, 教授); without a clear separator (space, slash,
    comma, semicolon) everything is the employer."""
    text = _nfkc(value)
    parts = [p for p in _EMPLOYER_SPLIT.split(text) if p]
    if len(parts) < 2:
        return text, None
    cut = text.rstrip().rfind(parts[-1])
    employer = _EMPLOYER_SPLIT.sub(" ", text[:cut]).strip(" /／|｜,，;；")
    return employer, parts[-1]


class Resolver:
    """Reads a vocabulary label as people type it: the code, the Chinese or English
    label, an alias from config (``aliases = [...]`` on the term), or, failing those, a
    close reading that is reported: a membership suffix dropped (中共党员 -> 中共,
    无党派人士 -> 无党派), 界 ignored (少数民族人士 -> 少数民族界人士), or an abbreviation
    of exactly one label (科技界 -> 科学技术界)."""

    def __init__(self, vocab: Vocabulary, what: str) -> None:
        self.vocab = vocab
        self.what = what
        self.cache: dict[str, tuple[Term, bool]] = {}
        self.terms = list(vocab)
        self.exact: dict[str, Term] = {}
        for t in self.terms:
            for label in (t.code, t.zh, t.en, *(t.extra.get("aliases") or [])):
                self.exact.setdefault(_vkey(str(label)), t)

    def __call__(self, value: str) -> tuple[str, str | None]:
        """(code, the label it was read as when the reading was approximate)."""
        hit = self.cache.get(value)
        if hit is None:
            hit = self._resolve(value)
            self.cache[value] = hit
        term, approx = hit
        return term.code, (term.zh if approx else None)

    def _resolve(self, value: str) -> tuple[Term, bool]:
        term = self.vocab.resolve(value)
        if term is not None:
            return term, False
        key = _vkey(value)
        if key in self.exact:
            return self.exact[key], False
        for suffix in _MEMBER_SUFFIXES:
            if key.endswith(suffix) and key[: -len(suffix)] in self.exact:
                return self.exact[key[: -len(suffix)]], True
        if "界" in key or any("界" in t.zh for t in self.terms):
            bare = key.replace("界", "")
            found = {t.code: t for t in self.terms if _vkey(t.zh).replace("界", "") == bare}
            if len(found) == 1:
                return next(iter(found.values())), True
        if len(key) >= 2:
            found = {
                t.code: t
                for t in self.terms
                if (z := _vkey(t.zh))[0] == key[0] and z[-1] == key[-1] and _subsequence(key, z)
            }
            if len(found) == 1:
                return next(iter(found.values())), True
        shown = "、".join(t.zh for t in self.terms[:12])
        more = "…" if len(self.terms) > 12 else ""
        raise CellProblem(
            _("not one of the configured {what}: {labels}{more}").format(
                what=_(self.what), labels=shown, more=more
            )
        )


def _vkey(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-–—·・()（）]+", "", text)


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return len(short) < len(long) and all(c in it for c in short)


# -- results -------------------------------------------------------------------------


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
    alone) or ``refuse`` (a bad cell).
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

    def count(self, action: str) -> int:
        """How many rows had this action."""
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def totals(self) -> dict[str, int]:
        """Rows per action, and the people created and updated."""
        return {
            a: self.count(a)
            for a in ("create", "update", "unchanged", "duplicate", "skip", "refuse")
        }

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
                    if hit[1] is not None:
                        raise CellProblem(hit[1])
                    for k, v in hit[0].items():
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


def import_roster(
    unit: Unit,
    path: Path | str,
    *,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    on_duplicate: OnDuplicate | str = OnDuplicate.update,
    dry_run: bool = False,
    membership: str | None = None,
    decide: Callable[[Duplicate], str] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the people of a roster file into the unit's transaction.

    ``mapping`` maps a header (as written in the file) to a field of :data:`FIELDS` for
    columns that are not recognised, or to override a recognised one. ``on_duplicate``
    says what to do with a row naming a person already stored or already read from the
    file (same normalised name and birth month, or same mobile): ``update`` fills in and
    replaces fields with the row's non-empty cells, ``skip`` leaves them, ``ask`` calls
    ``decide(Duplicate)`` for each one that would change something and expects
    ``"update"`` or ``"skip"``. ``membership`` (``standing``/``member``/``none``) is
    given to people whose row does not say. With ``dry_run`` nothing is written; the
    report says what would be. ``progress(stage, done, total)`` is called as rows are
    read (``read``) and written (``write``).
    """
    on_duplicate = OnDuplicate(on_duplicate)
    if mapping:
        bad = {h: f for h, f in mapping.items() if f not in FIELDS}
        if bad:
            raise ValidationError.one(
                "--map",
                ", ".join(f"{h}={f}" for h, f in bad.items()),
                _("unknown field; the fields are: {fields}").format(fields=", ".join(FIELDS)),
            )
    if membership is not None and membership not in ("standing", "member", "none"):
        raise ValidationError.one("--membership", membership, "standing, member or none")
    if on_duplicate is OnDuplicate.ask and decide is None:
        raise RosterError(_("--on-duplicate ask needs someone to ask"))
    # The import makes hundreds of thousands of small objects and keeps most of them to
    # the end: the cyclic garbage collector would walk them all again and again (a
    # fifth of the time at 100,000 rows) to find almost nothing.
    with _collector_paused():
        data = read_sheet(path, sheet, limits=unit.config.import_limits)
        planner = _Planner(
            unit,
            data,
            file=str(path),
            mapping=mapping,
            membership=membership,
            on_duplicate=on_duplicate,
            decide=decide,
            dry_run=dry_run,
            progress=progress,
        )
        new_targets, db_targets = planner.plan()
        report = planner.report
        report.outcomes.sort(key=lambda o: o.row)
        report.errors.sort(key=lambda e: e.row)
        if not dry_run:
            _write(unit, new_targets, db_targets, progress)
    if dry_run:
        return report
    created = {t.first_row: t.person_id for t in new_targets}
    first_row_of = {o.row: o for o in report.outcomes}
    for o in report.outcomes:
        if o.person_id is None and o.action == "create":
            o.person_id = created.get(o.row)
        elif o.person_id is None and o.duplicate_of and o.action in ("duplicate", "skip"):
            m = re.search(r"(\d+)$", o.duplicate_of)
            if m and int(m.group(1)) in first_row_of:
                o.person_id = first_row_of[int(m.group(1))].person_id
    return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _write(
    unit: Unit,
    new_targets: list[_Target],
    db_targets: dict[uuid.UUID, _Target],
    progress: Progress | None,
) -> None:
    """Write the plan: new people in bulk, changed people one by one (only real changes)."""
    rows = [_create_fields(t.state) for t in new_targets]

    def written(done: int, total: int) -> None:
        if progress:
            progress("write", done, total)

    with contacts.bulk_writing(unit):
        ids = contacts.bulk_create_people(unit, rows, progress=written)
        for target, pid in zip(new_targets, ids, strict=True):
            target.person_id = pid
        for target in db_targets.values():
            changes = _fields_for_service(target.state, target.base)
            if changes:
                assert target.person_id is not None
                contacts.update_person(unit, target.person_id, **changes)
        unit.session.flush()


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
