"""Exports (导出): people and interactions as Excel or CSV tables, contacts as vCards.

Tables are written the way the office needs them: Chinese headers, typed cells (numbers
as numbers, dates as dates, phone numbers as text so Excel keeps every digit, in the form
users read them: ``138 1234 5678``, ``+852 9123 4567``), a frozen
header row and column widths that fit Chinese text (two units a character). CSV files
are UTF-8 with a byte-order mark, so Excel on a Chinese Windows opens them correctly.
A people export has the headers the importer recognises: it can be edited and imported
again.

vCards are version 3.0 (RFC 2426, what phones import): ``N`` and ``FN`` with the Chinese
name, ``X-PHONETIC-LAST-NAME``/``X-PHONETIC-FIRST-NAME`` with pinyin so phones sort
Chinese names by pinyin, ``TEL`` in the E.164 ``+`` form, CRLF line ends and long lines
folded at 75 octets.

Every export holds what the acting account may see (:mod:`crm_core.authz`), exactly as
its lists and reports: county staff export their region's people and work only, and a
confidential interaction's notes only reach those who may read them.
"""

from __future__ import annotations

import csv
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, pinyin
from crm_core.cellsafe import append_text_row, csv_cell, csv_row, xml_text
from crm_core.errors import TongxinError, ValidationError
from crm_core.formatting import value_text
from crm_core.i18n import N_, _
from crm_core.models import Account, Interaction, InteractionParticipant, Person
from crm_core.person_fields import (
    EXPORTED,
    GENDER_ZH,
    MEMBERSHIP_ZH,
    PERSON_FIELDS,
    FieldKind,
    PersonField,
)
from crm_core.phones import display_phone, vcard_tel
from crm_core.private_files import private_open, private_path
from crm_core.services import contacts, relations, tags
from crm_core.services.interactions import shown_all
from crm_core.unit import Unit

# -- tables ------------------------------------------------------------------------

KINDS = ("text", "int", "float", "percent", "date", "datetime", "month")


@dataclass(frozen=True)
class TableColumn:
    """A column of an exported table: its header and the type of its cells.

    ``kind``: ``text``, ``int``, ``float``, ``percent`` (a share 0–1, shown as 45.0%),
    ``date``, ``datetime`` (local, naive), or ``month`` (a birth month: a date shown as
    ``1965.03``, or a bare year as a number).
    """

    header: str
    kind: str = "text"


class ExportError(TongxinError):
    """The output cannot be written (unknown format, unwritable place)."""


def text_width(text: str) -> int:
    """Display width of ``text`` in a spreadsheet column: 2 per Chinese (wide) character,
    1 per other character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _display(value: Any, kind: str) -> str:
    """``value`` as text (:func:`crm_core.formatting.value_text`); kept for old callers."""
    return value_text(value, kind)


def fit_widths(ws: Any, rows: Iterable[Sequence[Any]], *, kinds: Sequence[str] = ()) -> None:
    """Set each column's width of worksheet ``ws`` to fit its widest cell in ``rows``
    (Chinese characters count double), between 6 and 60."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in rows:
        for j, value in enumerate(row):
            kind = kinds[j] if j < len(kinds) else "text"
            text = value_text(value, kind)
            w = max((text_width(line) for line in text.splitlines()), default=0)
            widths[j] = max(widths.get(j, 0), w)
    for j, w in widths.items():
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(w + 2, 6), 60)


_FORMATS = {
    "int": "0",
    "float": "0.##",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}


def write_sheet(
    ws: Any,
    columns: Sequence[TableColumn],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    subtitle: str | None = None,
) -> None:
    """Fill worksheet ``ws``: an optional title and subtitle line, the bold header row
    (frozen: it stays in view while scrolling), then ``rows`` with typed cells."""
    from openpyxl.styles import Alignment, Font, PatternFill

    preamble: list[list[Any]] = []
    # Titles and headers are text too: a header can come from an imported roster.
    if title:
        append_text_row(ws, [title])
        ws.cell(row=1, column=1).font = Font(bold=True, size=14)
        preamble.append([])
    if subtitle:
        append_text_row(ws, [subtitle])
        preamble.append([])
    header_row = len(preamble) + 1
    append_text_row(ws, [c.header for c in columns])
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    kinds = [c.kind for c in columns]
    written: list[Sequence[Any]] = [[c.header for c in columns]]
    for r in rows:
        values = [_cell_value(v, k) for v, k in zip(r, kinds, strict=False)]
        ws.append(values)
        row_cells = ws[ws.max_row]
        for j, (cell, k) in enumerate(zip(row_cells, kinds, strict=False)):
            raw = r[j] if j < len(r) else None
            if k == "month":
                cell.number_format = "yyyy.mm" if isinstance(raw, date) else "0"
            elif k in _FORMATS and cell.value is not None and not isinstance(cell.value, str):
                cell.number_format = _FORMATS[k]
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
                if "\n" in cell.value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        written.append(r)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    if title and len(columns) > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    if columns:
        from openpyxl.utils import get_column_letter

        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns))}{ws.max_row}"
    fit_widths(ws, written, kinds=kinds)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if len(columns) > 6 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _cell_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return xml_text(value)
    if kind == "month" and isinstance(value, date):
        return datetime.combine(value, time())
    if kind == "datetime" and isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def sheet_title(text: str) -> str:
    """``text`` as a valid worksheet name (no []:*?/\\, at most 31 characters)."""
    for c in "[]:*?/\\":
        text = text.replace(c, " ")
    return text.strip()[:31] or "Sheet"


def write_table(
    path: Path | str,
    columns: Sequence[TableColumn],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str = "Sheet1",
) -> Path:
    """Write one table to ``path``: ``.xlsx`` (typed cells, frozen header, fitted
    widths) or ``.csv`` (UTF-8 with BOM). Text cells that a spreadsheet would run as a
    formula are written as text (:mod:`crm_core.cellsafe`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with private_open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(csv_row(c.header for c in columns))
            for r in rows:
                w.writerow([_csv_value(v, c.kind) for v, c in zip(r, columns, strict=False)])
        return path
    if suffix != ".xlsx":
        raise ExportError(_("cannot write {name}: use .xlsx or .csv").format(name=path.name))
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(sheet)
    write_sheet(ws, columns, rows)
    with private_path(path) as tmp:
        wb.save(tmp)
    return path


def _csv_value(value: Any, kind: str) -> str:
    # Text is neutralised (OWASP); a number, date or time is formatted by us and is not.
    if value is None:
        return ""
    return csv_cell(value, value_text(value, kind))


# -- people ------------------------------------------------------------------------


def select_people(unit: Unit, **filters: str | None) -> list[Person]:
    """Active and inactive people (not merged) matching the filters, in pinyin order."""
    codes: dict[str, Any] = contacts.resolve_filters(unit, **filters)
    return contacts.list_people(unit, limit=10_000_000, **codes).items


def _label(vocab: Any, code: str | None) -> str | None:
    if not code:
        return None
    term = vocab.get(code)
    return term.zh if term else code


# The exported fields of crm_core.person_fields, with the headers the importer reads back.
PEOPLE_COLUMNS = [
    TableColumn(f.header, "month" if f.kind is FieldKind.birth else "text")
    for f in PERSON_FIELDS
    if f.header
]


def people_table(unit: Unit, people: list[Person]) -> tuple[list[TableColumn], list[list[Any]]]:
    """One row per person with Chinese headers (those the importer reads back), plus a
    column for each extra field kept from imported rosters."""
    _, cats, comms = contacts.people_by_ids(unit, {p.id for p in people})
    vocab = unit.config.vocab
    categories = unit.app.categories
    extra_keys: list[str] = []
    for p in people:
        for k in (p.extra or {}).get("roster") or {}:
            if k not in extra_keys:
                extra_keys.append(k)
    vocabularies = {**vocab, "categories": categories}
    links = {"categories": cats, "committees": comms}

    def cell(f: PersonField, p: Person) -> Any:
        """The export cell of field ``f`` of ``p``: labels for codes, Chinese words."""
        if f.kind is FieldKind.codes:
            vocabulary = vocabularies[f.vocabulary or f.name]
            codes = links[f.name].get(p.id, [])
            return "、".join(_label(vocabulary, c) or c for c in codes) or None
        if f.kind is FieldKind.birth:
            if p.birth_year and p.birth_month:
                return date(p.birth_year, p.birth_month, 1)
            return p.birth_year or None
        value = getattr(p, f.columns[0])
        if f.kind is FieldKind.code:
            return _label(vocabularies[f.vocabulary or f.name], value)
        if f.kind is FieldKind.gender:
            return GENDER_ZH.get(value.value) if value else None
        if f.kind is FieldKind.membership:
            return MEMBERSHIP_ZH.get(value.value)
        # Phones as users read them (138 1234 5678, +852 9123 4567): the importer reads
        # that form back to the same stored numbers.
        if f.kind is FieldKind.phones:
            return "、".join(display_phone(n) for n in value) or None
        if f.kind is FieldKind.mobile:
            return display_phone(value) if value else None
        return value

    rows = []
    related = person_links(unit, [p.id for p in people])
    for p in people:
        roster = (p.extra or {}).get("roster") or {}
        rows.append(
            [cell(f, p) for f in EXPORTED] + [roster.get(k) for k in extra_keys] + related[p.id]
        )
    columns = PEOPLE_COLUMNS + [TableColumn(k) for k in extra_keys] + LINK_COLUMNS
    return columns, rows


# Relationships and tags (issue 18) after the roster's own columns; the importer skips
# them (crm_core.roster.sheets), they live in their own tables.
LINK_COLUMNS = [TableColumn("关系"), TableColumn("标签")]


def person_links(unit: Unit, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str | None]]:
    """Per person, the 关系 cell ("介绍人：李四；配偶：王五", seen from them) and the 标签
    cell ("重点、书法")."""
    relation_cells = relations.relation_cells(unit, ids)
    tag_cells = tags.tags_by_person(unit, ids)
    return {
        pid: [
            "；".join(relation_cells.get(pid, [])) or None,
            "、".join(tag_cells.get(pid, [])) or None,
        ]
        for pid in ids
    }


def export_people(unit: Unit, path: Path | str, **filters: str | None) -> int:
    """Write the people matching ``filters`` (as :func:`select_people`) to ``path``
    (.xlsx or .csv); return how many."""
    people = select_people(unit, **filters)
    columns, rows = people_table(unit, people)
    write_table(path, columns, rows, sheet="联系人")
    return len(rows)


# -- interactions ------------------------------------------------------------------


def day_range(unit: Unit, start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """The UTC-comparable bounds of the local days ``start`` to ``end`` (inclusive)."""
    tz = unit.config.tz
    lo = datetime.combine(start or date(1900, 1, 1), time(), tz)
    hi = datetime.combine((end or date(2999, 12, 30)) + timedelta(days=1), time(), tz)
    if end is not None and start is not None and end < start:
        raise ValidationError.one(
            "to", end.isoformat(), N_("before --from {start}"), start=start.isoformat()
        )
    return lo, hi


def select_interactions(
    unit: Unit,
    *,
    start: date | None = None,
    end: date | None = None,
    kinds: Sequence[str] = (),
    statuses: Sequence[str] = (),
) -> list[Interaction]:
    """Interactions starting on the local days ``start``..``end`` (inclusive), of the
    given kinds (codes or labels of registered kinds; any code is accepted) and
    statuses, in time order."""
    lo, hi = day_range(unit, start, end)
    stmt = select(Interaction).where(
        col(Interaction.start_at) >= lo,
        col(Interaction.start_at) < hi,
        *authz.interaction_scope(unit),  # county staff: their region's work only
    )
    codes = [kind_code(unit, k) for k in kinds]
    if codes:
        stmt = stmt.where(col(Interaction.kind).in_(codes))
    if statuses:
        stmt = stmt.where(col(Interaction.status).in_(list(statuses)))
    return list(unit.session.scalars(stmt.order_by(col(Interaction.start_at), col(Interaction.id))))


def kind_code(unit: Unit, value: str) -> str:
    """The code of a kind given by code or label; an unknown value is taken as a code
    (a kind whose plugin is not installed still has its rows)."""
    value = value.strip()
    if value in unit.kinds:
        return value
    for code, spec in unit.kinds.items():
        if value in (spec.zh, spec.en) or value.casefold() == spec.en.casefold():
            return code
    return value


def participants_by_interaction(
    unit: Unit, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[list[Person], list[Account]]]:
    """The people and accounts taking part in each interaction, a few queries in all.
    People the unit may not see are left out (county staff: another region's people met
    in work of their own region), as PostgreSQL's row-level security would."""
    out: dict[uuid.UUID, tuple[list[Person], list[Account]]] = {i: ([], []) for i in ids}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = unit.session.execute(
            select(col(InteractionParticipant.interaction_id), Person)
            .join(Person, col(Person.id) == InteractionParticipant.person_id)
            .where(col(InteractionParticipant.interaction_id).in_(chunk), *authz.person_scope(unit))
            .order_by(col(Person.name_pinyin))
        ).all()
        for iid, person in rows:
            out[iid][0].append(person)
        rows = unit.session.execute(
            select(col(InteractionParticipant.interaction_id), Account)
            .join(Account, col(Account.id) == InteractionParticipant.account_id)
            .where(col(InteractionParticipant.interaction_id).in_(chunk))
            .order_by(col(Account.username))
        ).all()
        for iid, account in rows:
            out[iid][1].append(account)
    return out


INTERACTION_COLUMNS = [
    TableColumn("开始时间", "datetime"),
    TableColumn("结束时间", "datetime"),
    TableColumn("工作种类"),
    TableColumn("状态"),
    TableColumn("联系对象"),
    TableColumn("开展人员"),
    TableColumn("地点"),
    TableColumn("县(市、区)"),
    TableColumn("摘要"),
    TableColumn("详细记录"),
]
_STATUS_ZH = {"planned": "计划", "done": "已完成", "cancelled": "已取消"}


def interactions_table(
    unit: Unit, items: list[Interaction]
) -> tuple[list[TableColumn], list[list[Any]]]:
    """One row per interaction, local times. Of a confidential interaction the unit may
    not read (:func:`crm_core.authz.shown`) only that it happened: the kind's label
    marked 保密 where the summary would be and 保密 for the notes, whether or not there
    are any (on PostgreSQL they are not even told that)."""
    tz = unit.config.tz
    parts = participants_by_interaction(unit, [i.id for i in items])
    regions = unit.config.vocab["regions"]
    seen = shown_all(unit, items)
    rows = []
    for i in items:
        people, accounts = parts[i.id]
        spec = unit.kinds.get(i.kind)
        shown = seen[i.id]
        # The export is in Chinese whatever the program's language.
        summary = f"{spec.zh if spec else i.kind}（保密）" if shown.hidden else shown.summary
        notes = "（保密）" if shown.hidden else shown.notes
        rows.append(
            [
                i.start_at.astimezone(tz).replace(tzinfo=None),
                i.end_at.astimezone(tz).replace(tzinfo=None) if i.end_at else None,
                spec.zh if spec else i.kind,
                _STATUS_ZH.get(i.status.value, i.status.value),
                "、".join(p.name for p in people) or None,
                "、".join(a.display_name for a in accounts) or None,
                i.location,
                _label(regions, i.region),
                summary,
                notes,
            ]
        )
    return INTERACTION_COLUMNS, rows


def export_interactions(
    unit: Unit,
    path: Path | str,
    *,
    start: date | None = None,
    end: date | None = None,
    kinds: Sequence[str] = (),
) -> int:
    """Write the interactions of the period (and kinds) to ``path``; return how many."""
    items = select_interactions(unit, start=start, end=end, kinds=kinds)
    columns, rows = interactions_table(unit, items)
    write_table(path, columns, rows, sheet="工作记录")
    return len(rows)


# -- vCard -------------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name: compound surnames (欧阳, 上官) whole;
    a name with a space or middle dot, or without ideographs, is not split."""
    if not name or " " in name or "·" in name or not any(_is_han(c) for c in name):
        return "", name
    for size in (4, 3, 2):
        if len(name) > size and name[:size] in pinyin._COMPOUND_SURNAMES:
            return name[:size], name[size:]
    return (name[:1], name[1:]) if len(name) > 1 else ("", name)


def _is_han(c: str) -> bool:
    return unicodedata.category(c) == "Lo" and "CJK" in unicodedata.name(c, "CJK")


_VCARD_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _escape(text: str) -> str:
    # Every line break (a lone CR too) becomes \n: a raw one would start a property of
    # the attacker's choosing on the phone; other control characters are dropped.
    return _VCARD_CONTROLS.sub(
        "",
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n"),
    )


def fold(line: str) -> str:
    """One content line folded at 75 octets (RFC 2425 §5.8.1), never inside a UTF-8
    character; continuation lines start with one space. Lines end with CRLF."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out) + "\r\n"


def vcard(person: Person, categories: list[str] | None = None) -> str:
    """The vCard 3.0 of one person."""
    family, given = split_name(person.name)
    full_py = person.name_pinyin
    family_py = pinyin.name_pinyin(family)[0] if family else ""
    given_py = full_py[len(family_py) :] if family_py and full_py.startswith(family_py) else full_py
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{_escape(family)};{_escape(given)};;;",
        f"FN:{_escape(person.name)}",
    ]
    if family_py:
        lines.append(f"X-PHONETIC-LAST-NAME:{family_py.capitalize()}")
    if given_py:
        lines.append(f"X-PHONETIC-FIRST-NAME:{given_py.capitalize()}")
    if person.mobile:
        lines.append(f"TEL;TYPE=CELL:{vcard_tel(person.mobile)}")  # E.164, + form
    for phone in person.phones:
        lines.append(f"TEL;TYPE=VOICE:{vcard_tel(phone)}")
    if person.email:
        lines.append(f"EMAIL;TYPE=INTERNET:{_escape(person.email)}")
    if person.employer:
        lines.append(f"ORG:{_escape(person.employer)}")
    if person.title:
        lines.append(f"TITLE:{_escape(person.title)}")
    if person.address:
        lines.append(f"ADR;TYPE=WORK:;;{_escape(person.address)};;;;")
    if categories:
        lines.append("CATEGORIES:" + ",".join(_escape(c) for c in categories))
    lines.append(f"UID:urn:uuid:{person.id}")
    lines.append(f"REV:{person.updated_at.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def export_vcf(unit: Unit, path: Path | str, **filters: str | None) -> int:
    """Write the vCards of the active people matching ``filters``; return how many."""
    codes: dict[str, Any] = contacts.resolve_filters(unit, **filters)
    people = contacts.list_people(unit, limit=10_000_000, status="active", **codes).items
    _, cats, _comms = contacts.people_by_ids(unit, {p.id for p in people})
    categories = unit.app.categories
    with private_open(path, "w", encoding="utf-8", newline="") as fh:
        for p in people:
            labels = [_label(categories, c) or c for c in cats.get(p.id, [])]
            fh.write(vcard(p, labels))
    return len(people)
