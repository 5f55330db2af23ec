"""Writing a report: a Word document the office can file as it is, an Excel workbook,
or CSV — the same for every report, built-in or from a plugin.

- Word (.docx): the title, the period, then each table with a
  bold header row repeated on every page, a note under it, and page numbers
  (第 N 页 / 共 M 页) in the footer; wide tables on landscape pages.
- Excel (.xlsx): one sheet per table with the title and period above a frozen, bold
  header row, typed cells (numbers, percentages, dates) and widths that fit Chinese text.
- CSV (.csv, UTF-8 with BOM): the tables one after another, each under its title.

In every format a text cell stays text (:mod:`crm_core.cellsafe`): CSV cells a
spreadsheet would run as a formula get a quote in front, xlsx text cells are typed text.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from crm_core.cellsafe import append_text_row, csv_cell, csv_row, xml_text
from crm_core.errors import TongxinError
from crm_core.formatting import value_text
from crm_core.i18n import _
from crm_core.private_files import private_open, private_path
from crm_core.reports import Period, ReportSpec, ReportTable, Section

FORMATS = (".xlsx", ".docx", ".csv")


class ReportOutputError(TongxinError):
    """The report cannot be written in the asked format."""


def cell_text(value: Any, kind: str) -> str:
    """A value as printed in Word and CSV (:func:`crm_core.formatting.value_text`)."""
    return value_text(value, kind)


def write_report(
    spec: ReportSpec, period: Period, result: ReportTable, path: Path | str, *, lang: str = "zh"
) -> Path:
    """Write ``result`` to ``path``; the format follows the suffix (.xlsx, .docx, .csv)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _xlsx(spec, period, result, path, lang)
    elif suffix == ".docx":
        _docx(spec, period, result, path, lang)
    elif suffix == ".csv":
        _csv(spec, period, result, path, lang)
    else:
        raise ReportOutputError(
            _("cannot write a report as {name}: use .xlsx, .docx or .csv").format(name=path.name)
        )
    return path


def _period_line(period: Period, lang: str) -> str:
    return (f"Period: {period.label('en')}" if lang == "en" else f"统计期间：{period.label()}") + (
        f" ({period.start.isoformat()} – {period.end.isoformat()})"
    )


# -- CSV -------------------------------------------------------------------------


def _csv(spec: ReportSpec, period: Period, result: ReportTable, path: Path, lang: str) -> None:
    with private_open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(csv_row([spec.title(lang)]))
        w.writerow(csv_row([_period_line(period, lang)]))
        for section in result.sections:
            w.writerow([])
            w.writerow(csv_row([section.title(lang)]))
            w.writerow(csv_row(c.title(lang) for c in section.columns))
            for row in section.rows:
                w.writerow([_csv_cell(row.get(c.key), c.kind) for c in section.columns])
            if section.note(lang):
                w.writerow(csv_row([section.note(lang)]))


def _csv_cell(value: Any, kind: str) -> str:
    # A text (or a list of texts) is neutralised; a number or date we format is not.
    return csv_cell(value, cell_text(value, kind))


# -- Excel -----------------------------------------------------------------------


def _xlsx(spec: ReportSpec, period: Period, result: ReportTable, path: Path, lang: str) -> None:
    from openpyxl import Workbook

    from crm_core.exporter import sheet_title, write_sheet

    wb = Workbook()
    first = True
    used: set[str] = set()
    for section in result.sections:
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        first = False
        name = sheet_title(section.title(lang))
        while name in used:
            name = sheet_title(name[:28] + f"_{len(used)}")
        used.add(name)
        ws.title = name
        columns, rows = (
            _name_rows(section, lang) if getattr(section, "paged", False) else _cells(section, lang)
        )
        write_sheet(
            ws,
            columns,
            rows,
            title=f"{spec.title(lang)} · {section.title(lang)}",
            subtitle=_period_line(period, lang),
        )
        if section.note(lang):
            ws.append([])
            append_text_row(ws, [section.note(lang)])
    wb.properties.title = spec.title(lang)
    wb.properties.creator = "tongxin"
    with private_path(path) as tmp:
        wb.save(tmp)


def _cells(section: Section, lang: str) -> tuple[list[Any], list[list[Any]]]:
    from crm_core.exporter import TableColumn

    columns = [
        TableColumn(c.title(lang), "text" if c.kind == "list" else c.kind) for c in section.columns
    ]
    rows = [[_xlsx_value(row.get(c.key), c.kind) for c in section.columns] for row in section.rows]
    return columns, rows


def _name_rows(section: Section, lang: str) -> tuple[list[Any], list[list[Any]]]:
    """A paged section (the names not reached) on its sheet: one row per name, so that
    tens of thousands of names never meet Excel's 32,767 characters per cell."""
    from crm_core.exporter import TableColumn

    texts = [c for c in section.columns if c.kind == "text"]
    lists = [c for c in section.columns if c.kind == "list"]
    columns = [TableColumn(c.title(lang), "text") for c in texts + lists]
    rows = [
        [row.get(c.key) for c in texts] + [name]
        for row in section.rows
        for c in lists[:1]
        for name in row.get(c.key) or []
    ]
    return columns, rows


def _xlsx_value(value: Any, kind: str) -> Any:
    if kind == "list" and isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return value


# -- Word ------------------------------------------------------------------------


def _docx(spec: ReportSpec, period: Period, result: ReportTable, path: Path, lang: str) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    styles = doc.styles
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        try:
            style = styles[style_name]
        except KeyError:
            continue
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), "宋体" if style_name in ("Normal", "Table Grid") else "黑体")
    styles["Normal"].font.size = Pt(10.5)
    wide = max((len(s.columns) for s in result.sections), default=0) > 6
    sec = doc.sections[0]
    if wide:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width
    for margin in ("left_margin", "right_margin"):
        setattr(sec, margin, Cm(2))
    _page_numbers(sec.footer.paragraphs[0], lang)

    title = doc.add_heading(spec.title(lang), level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = doc.add_paragraph(_period_line(period, lang))
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for section in result.sections:
        doc.add_heading(xml_text(section.title(lang)), level=1)
        if not section.rows:
            doc.add_paragraph(_("(none)"))
        else:
            # python-docx's default template sets the page size and margins.
            assert sec.page_width is not None
            assert sec.left_margin is not None and sec.right_margin is not None
            _docx_table(doc, section, lang, sec.page_width - sec.left_margin - sec.right_margin)
            for t in doc.tables[-1:]:
                t.alignment = WD_TABLE_ALIGNMENT.CENTER
        if section.note(lang):
            note = doc.add_paragraph(xml_text(section.note(lang)))
            note.runs[0].font.size = Pt(9)
    made = doc.add_paragraph(
        ("Prepared by tongxin on " if lang == "en" else "同心系统生成于 ")
        + date.today().isoformat()
    )
    made.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    made.runs[0].font.size = Pt(9)
    doc.core_properties.title = spec.title(lang)
    doc.core_properties.author = "tongxin"
    with private_path(path) as tmp:
        doc.save(str(tmp))


def _docx_table(doc: Any, section: Section, lang: str, available: int) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from crm_core.exporter import text_width

    cols = section.columns
    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    table.autofit = False
    # Column widths in proportion to their content (Chinese characters count double),
    # long texts capped so that a list of names wraps instead of squeezing the rest.
    wants = []
    for c in cols:
        texts = [c.title(lang)] + [cell_text(r.get(c.key), c.kind) for r in section.rows[:200]]
        wants.append(min(max(text_width(t) for t in texts) + 2, 60))
    widths = [int(available * w / sum(wants)) for w in wants]
    head = table.rows[0]
    # The header row repeats at the top of every page the table runs onto.
    tr_pr = head._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for cell, c in zip(head.cells, cols, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(xml_text(c.title(lang)))
        run.bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:fill"), "DDEBF7")
        cell._tc.get_or_add_tcPr().append(shading)
    for j, width in enumerate(widths):
        table.columns[j].width = width
        head.cells[j].width = width
    numeric = {"int", "float", "percent"}
    for row in section.rows:
        cells = table.add_row().cells
        for cell, c, width in zip(cells, cols, widths, strict=True):
            cell.width = width
            cell.text = xml_text(cell_text(row.get(c.key), c.kind))
            if c.kind in numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _page_numbers(paragraph: Any, lang: str) -> None:
    """第 N 页 共 M 页 (Page N of M), centred, from PAGE and NUMPAGES fields."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, middle, after = ("Page ", " of ", "") if lang == "en" else ("第 ", " 页  共 ", " 页")

    def field(instr: str) -> None:
        run = paragraph.add_run()
        begin = OxmlElement("w:fldChar")
        begin.set(qn("w:fldCharType"), "begin")
        text = OxmlElement("w:instrText")
        text.set(qn("xml:space"), "preserve")
        text.text = f" {instr} "
        sep = OxmlElement("w:fldChar")
        sep.set(qn("w:fldCharType"), "separate")
        shown = OxmlElement("w:t")
        shown.text = "1"
        end = OxmlElement("w:fldChar")
        end.set(qn("w:fldCharType"), "end")
        for el in (begin, text, sep, shown, end):
            run._r.append(el)

    paragraph.add_run(before)
    field("PAGE")
    paragraph.add_run(middle)
    field("NUMPAGES")
    if after:
        paragraph.add_run(after)
