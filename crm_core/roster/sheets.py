"""Reading roster sheets and recognising their headers (the fields a column can fill)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from crm_core import sheetguard
from crm_core.config import ImportLimits
from crm_core.i18n import N_, _
from crm_core.person_fields import ROSTER_FIELDS
from crm_core.sheet_limits import HEADER_ROWS, row_cap
from crm_core.sheetguard import LimitError, RosterError

# Not .xlsb: its binary records cannot be measured before calamine lays it all out.
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
HEADER_SCAN_ROWS = HEADER_ROWS  # the header row is looked for in these first rows


class OnDuplicate(StrEnum):
    """What to do with a row that names someone already in the database or the file."""

    update = "update"  # fill in and replace fields with the file's non-empty cells
    skip = "skip"  # leave the existing record alone
    ask = "ask"  # ask the caller (``decide``) for each duplicate that would change things


# -- the fields a column can fill ------------------------------------------------------

# Columns a roster may have that are no field of a person: the planner splits them
# (employer and title in one cell; a telephone that is a mobile or another phone). Each
# is listed after the field named here.
_AFTER: dict[str, tuple[str, str]] = {
    "title": ("employer_title", N_("employer and title")),
    "mobile": ("phone", N_("telephone")),
}

# field -> its label (the Chinese label is the msgid's translation): the person's fields
# a column can fill (crm_core.person_fields), then what else a column can be.
FIELDS: dict[str, str] = {}
for _f in ROSTER_FIELDS:
    FIELDS[_f.name] = _f.label
    if _f.name in _AFTER:
        _extra_name, _extra_label = _AFTER[_f.name]
        FIELDS[_extra_name] = _extra_label
# A people export's 标签 and 关系 columns (crm_core.roster.links): no field of the person
# itself, written to the tags and relations after it.
FIELDS["tags"] = N_("Tags")
FIELDS["relations"] = N_("Relationships")
FIELDS["extra"] = N_("kept as an extra field")
FIELDS["ignore"] = N_("ignored")

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
    "tags": "标签 tags",
    "relations": "关系 relations relationships",
    "ignore": "序号 编号 no no. # 拼音 pinyin 原行号 错误说明 sourcerow errors",
}.items():
    for _name in _names.split():
        _HEADERS[_name.casefold()] = _field

# The columns of the errors file, recognised (and ignored) when it is imported again.
ERROR_ROW_HEADER = N_("Source row")
ERROR_TEXT_HEADER = N_("Errors")


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
        if end is not None and end[0] + 1 > row_cap(limits):
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
