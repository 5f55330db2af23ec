"""Imports are bounded (issue 11, item 9b): `tongxin import` of hostile files.

A 1,048,576-row sheet, zip bombs (4 GiB of spaces in 27 MB; a part that lies about its
size; a part packed a thousand times; one cell at XFD1048576; an .ods row repeated a
million times), a cell of 20,000 characters, a CSV of one 64 MiB line, binary junk, NUL
and control characters, formula cells, and a fuzz of random hostile rosters: each goes
through the real CLI; none gives a traceback; a refusal names the row, column or part,
the bound and the ``[import]`` key that raises it, is quick, writes nothing, and leaves
the office's data and exports as they were. The bounds are the office's to raise
(``[import]`` in its config file), and the peak memory of the refused million-row
import is measured in a subprocess of its own.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from crm_cli.main import run
from openpyxl import Workbook

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "import_bounds.py"
Tx = Callable[..., tuple[int, str, str]]


def _bench() -> ModuleType:
    """bench/import_bounds.py: the generators of hostile files (shared with the bench)."""
    spec = importlib.util.spec_from_file_location("_import_bounds_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hostile = _bench()


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The office's config file (the sample roster's regions), read by every CLI run."""
    path = tmp_path / "office.toml"
    path.write_text((DATA / "office-config.toml").read_text("utf-8"), "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(path))
    return path


@pytest.fixture
def tx(db_url: str, config_file: Path, capsys: pytest.CaptureFixture[str]) -> Tx:
    """`tongxin --db URL ARGS...` in this process: (exit code, out, err). An exception
    that is not a clear refusal escapes ``run`` and fails the test."""

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, "--lang", "en", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture
def office(tx: Tx) -> int:
    """The office's data before the hostile imports: the sample roster (40 people)."""
    code, _, err = tx("import", str(DATA / "sample-roster.xlsx"))
    assert code == 4, err  # its three bad rows are refused (exit 4), the rest written
    return len(people(tx))


def people(tx: Tx) -> list[str]:
    code, out, err = tx("contacts", "search", "", "--limit", "100000", "--json")
    assert code == 0, err
    return sorted(r["name"] for r in json.loads(out)["results"])


def refused(tx: Tx, path: Path, *needles: str) -> str:
    """Import ``path``: refused with exit code 1, no traceback, the message holding every
    needle; returns the message. (How quickly is measured in bench/import_bounds.py, not
    asserted here: bench/RESULTS.md has the checks' times.)"""
    code, out, err = tx("import", str(path))
    message = " ".join(err.split())
    assert code == 1, (out, err)
    assert "Traceback" not in err + out
    for needle in needles:
        assert needle in message, (needle, message)
    assert len(message) < 2000  # a preview of the value, never all of it
    return message


def intact(tx: Tx, before: list[str], tmp_path: Path) -> None:
    """Nothing was written, and everybody's export still works with every row."""
    assert people(tx) == before
    out = tmp_path / "after.csv"
    code, _, err = tx("export", "people", "-o", str(out))
    assert code == 0, err
    with out.open(encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == len(before) + 1


def test_a_million_row_sheet_is_refused_at_the_limit_quickly_and_in_small_memory(
    office: int, tx: Tx, db_url: str, config_file: Path, tmp_path: Path
) -> None:
    before = people(tx)
    path = hostile.million_row_xlsx(tmp_path / "million.xlsx", people=False)
    message = refused(tx, path, "million.xlsx", "100000", "[import] max_rows", str(config_file))
    assert "rows or more" in message
    # The same, in a process of its own: its peak memory (RSS) while refusing.
    env = dict(os.environ, TONGXIN_CONFIG=str(config_file))
    code, _, peak_mib, line = hostile.measure(["--db", db_url, "import", str(path)], env)
    assert code == 1 and "[import] max_rows" in line, line
    assert peak_mib < 500, f"peak RSS {peak_mib:.0f} MiB"
    intact(tx, before, tmp_path)


def test_zip_bombs_are_refused_before_anything_unpacks_them(
    office: int, tx: Tx, tmp_path: Path
) -> None:
    before = people(tx)
    bomb = hostile.zip_bomb_xlsx(tmp_path / "bomb.xlsx")  # 4 GiB of spaces in 27 MB
    assert bomb.stat().st_size < 30_000_000
    refused(tx, bomb, "more than 1024 MB", "4096 MB", "zip bomb", "max_unzipped_mb")
    # Its sizes are the attacker's to write: a part declaring 1,000 bytes, holding 256 MiB.
    forged = hostile.forged_zip_xlsx(tmp_path / "forged.xlsx")
    refused(tx, forged, "xl/worksheets/sheet1.xml", "1000 bytes it declares")
    ratio = hostile.dense_ratio_xlsx(tmp_path / "ratio.xlsx")  # a real, valid workbook
    refused(tx, ratio, "times its packed size", "at most 200", "max_zip_ratio")
    far = hostile.far_cell_xlsx(tmp_path / "far.xlsx")  # 1.6 KB, one cell at XFD1048576
    refused(tx, far, "1048576 rows or more", "max_rows")
    wide = hostile.far_cell_xlsx(tmp_path / "wide.xlsx", ref="XFD3")
    refused(tx, wide, "column XFD", "16384 columns", "max_columns")
    ods = hostile.repeated_rows_ods(tmp_path / "repeated.ods")  # 547 bytes
    refused(tx, ods, "1000001 rows or more", "max_rows")
    ods_wide = hostile.repeated_rows_ods(tmp_path / "wide.ods", rows=3, columns=1_000_000)
    refused(tx, ods_wide, "1000000 columns", "max_columns")
    intact(tx, before, tmp_path)


def test_the_bounds_are_the_offices_to_raise(tx: Tx, config_file: Path, tmp_path: Path) -> None:
    text = config_file.read_text("utf-8")
    for roster in (DATA / "sample-roster.xlsx", DATA / "sample-roster-gb18030.csv"):
        before = people(tx)
        config_file.write_text(text + "\n[import]\nmax_rows = 40\n", "utf-8")
        refused(tx, roster, roster.name, "limit of 40 rows", "max_rows")
        assert people(tx) == before
        config_file.write_text(text + "\n[import]\nmax_rows = 50\n", "utf-8")  # its 50 rows
        code, out, err = tx("import", str(roster), "--json")
        assert code == 4, err  # its three bad rows
        assert json.loads(out)["totals"]["create"] in (40, 0)
        assert len(people(tx)) == 40
    config_file.write_text(text + "\n[import]\nmax_rows = 0\n", "utf-8")
    code, _, err = tx("import", str(DATA / "sample-roster.xlsx"))
    assert code == 1 and "max_rows = 0" in err and "must be at least 1" in err
    config_file.write_text(text + "\n[import]\nmax_row = 10\n", "utf-8")
    code, _, err = tx("import", str(DATA / "sample-roster.xlsx"))
    assert code == 1 and "[import] max_row: unknown key (did you mean max_rows?)" in err


def test_huge_cells_and_lines_are_refused_naming_where(office: int, tx: Tx, tmp_path: Path) -> None:
    before = people(tx)
    big = tmp_path / "big-cell.csv"
    big.write_text("姓名,性别,备注\n张三,男,短\n李四,女," + "长" * 20_000 + "\n", "utf-8")
    message = refused(tx, big, "row 3", "column C", "长" * 40 + "…", "20000 characters")
    assert "limit of 10000" in message and "max_cell_chars" in message
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "性别", "备注"])
    ws.append(["张三", "男", "x" * 20_000])
    wb.save(tmp_path / "big-cell.xlsx")
    refused(tx, tmp_path / "big-cell.xlsx", "row 2", "column C", "20000 characters")
    line = hostile.one_line_csv(tmp_path / "one-line.csv")  # 64 MiB, no line break
    refused(tx, line, "line 2 is longer than", "max_cell_chars")
    quoted = tmp_path / "quoted.csv"  # one quoted cell running over many lines
    quoted.write_text('姓名,备注\n张三,"' + "多行\n" * 5_000 + '"\n', "utf-8")
    refused(tx, quoted, "limit of 10000", "max_cell_chars")
    many = tmp_path / "many-columns.csv"
    many.write_text("姓名,性别," + ",".join(f"c{i}" for i in range(600)) + "\n", "utf-8")
    refused(tx, many, "row 1 has 602 columns", "limit of 500", "max_columns")
    intact(tx, before, tmp_path)


def test_binary_junk_and_nul_bytes_are_refused_as_files(
    office: int, tx: Tx, tmp_path: Path
) -> None:
    before = people(tx)
    rnd = random.Random(11)
    junk = bytes(rnd.randrange(256) for _ in range(200_000))
    for name in ("junk.csv", "junk.xlsx", "junk.ods", "junk.xls"):
        (tmp_path / name).write_bytes(junk)
        refused(tx, tmp_path / name, name)
    nul = tmp_path / "nul.csv"
    nul.write_bytes("姓名,性别\n张\x00三,男\n".encode())
    refused(tx, nul, "NUL bytes", "not a CSV text file")
    undecodable = tmp_path / "latin.csv"
    undecodable.write_bytes("姓名,性别\n".encode() + b"\xff\xfe\x80\x80,\xff\n")
    refused(tx, undecodable, "neither UTF-8 nor GB18030")
    (tmp_path / "roster.xlsb").write_bytes(b"PK\x03\x04")
    refused(tx, tmp_path / "roster.xlsb", "use .xlsx, .xls, .ods or .csv")
    intact(tx, before, tmp_path)


def test_control_characters_refuse_their_row_and_formula_cells_are_values(
    tx: Tx, tmp_path: Path
) -> None:
    roster = tmp_path / "controls.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "性别", "备注"])
        w.writerow(["张\x01三", "男", ""])
        w.writerow(["李四", "女", "红\x1b[31m字"])
        w.writerow(["王五", "男", "换行\n和\t制表符可以"])
    code, out, err = tx("import", str(roster), "--json")
    assert code == 4, err  # rows refused
    data = json.loads(out)
    assert data["totals"]["create"] == 1 and data["totals"]["refuse"] == 2
    reasons = {e["row"]: (e["column"], e["reason"], e["value"]) for e in data["errors"]}
    assert reasons[2][0] == "姓名" and "U+0001" in reasons[2][1] and reasons[2][2] == "张\\x01三"
    assert reasons[3][0] == "备注" and "U+001B" in reasons[3][1]
    assert people(tx) == ["王五"]
    # Formula cells: the value Excel showed (calamine reads the cached result), never
    # the formula; a formula with no cached value is an empty cell.
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "性别", "工作单位", "备注"])
    ws.append(["赵六", "男", '=HYPERLINK("http://evil.example","点我")', "=1+2"])
    ws.append(["钱七", "女", "=cmd|' /C calc'!A0", '=WEBSERVICE("http://evil.example")'])
    wb.save(tmp_path / "formulas.xlsx")
    code, out, err = tx("import", str(tmp_path / "formulas.xlsx"), "--json")
    assert code == 0, err
    assert json.loads(out)["totals"]["create"] == 2
    code, out, _ = tx("contacts", "search", "", "--json")
    for person in json.loads(out)["results"]:
        assert not any(str(v).startswith("=") for v in person.values()), person


@pytest.mark.timeout(900)  # a shared machine under load: a dozen imports
def test_fuzz_random_hostile_rosters_never_crash_or_half_write(
    office: int, tx: Tx, tmp_path: Path, config_file: Path
) -> None:
    """Seeded random rosters (CSV and xlsx) of hostile cells: every import ends in a
    report or a clear refusal; a refused file writes nothing, an imported one exactly
    the rows its report says."""
    config_file.write_text(
        config_file.read_text("utf-8") + "\n[import]\nmax_cell_chars = 2000\nmax_rows = 60\n",
        "utf-8",
    )
    rnd = random.Random(2026)
    alphabet = (
        "张王李赵钱孙男女常委委员,;\t\"'=+-@|!()%$ 　\n\r\x01\x07\x1b\x7f\u202e\ufeff𠇔"
        "0123456789.年月abc"
    )
    heads = ["姓名", "性别", "出生年月", "手机", "党派", "界别", "备注", "=HEAD()", ""]

    def cell() -> object:
        kind = rnd.random()
        if kind < 0.05:
            return "长" * rnd.choice((1999, 2000, 2001, 5000))
        if kind < 0.10:
            return rnd.choice((-1, 0, 1e308, -3.5, 19650312, 2**62))
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))

    count = len(people(tx))
    outcomes = {"imported": 0, "refused": 0}
    for i in range(12):
        cols = rnd.sample(heads, rnd.randint(2, len(heads)))
        if "姓名" not in cols:
            cols[0] = "姓名"
        rows = [[cell() for _ in cols] for _ in range(rnd.choice((1, 5, 30, 61)))]
        if i % 8 == 0:
            rows[0][-1] = "N\x00UL"  # a NUL byte: the CSV is refused, the xlsx cannot hold it
        if i % 2:
            path = tmp_path / f"fuzz{i}.xlsx"
            wb = Workbook()
            ws = wb.active
            assert ws is not None
            ws.append(cols)
            for r in rows:
                ws.append(["".join(c for c in v if c >= " " or c in "\t\n\r")  # what XML holds
                           if isinstance(v, str) else v for v in r])  # fmt: skip
            for row in ws.iter_rows(min_row=2):
                for c in row:
                    if isinstance(c.value, str):
                        c.data_type = "s"  # text as typed, even "=…"
            wb.save(path)
        else:
            path = tmp_path / f"fuzz{i}.csv"
            with path.open("w", encoding=rnd.choice(("utf-8", "gb18030")), errors="replace",
                           newline="") as fh:  # fmt: skip
                w = csv.writer(fh)
                w.writerow(cols)
                w.writerows(rows)
        code, out, err = tx("import", str(path), "--json")
        assert "Traceback" not in out + err
        if code in (0, 4):  # 4: written, some rows refused or waiting for an answer
            report = json.loads(out)
            count += report["totals"]["create"]
            outcomes["imported"] += 1
        else:
            assert code == 1 and err.strip(), (path.name, out, err)
            outcomes["refused"] += 1
        assert len(people(tx)) == count, path.name  # exactly what the report said
    assert outcomes["imported"] and outcomes["refused"]  # the fuzz reached both ends
    intact(tx, people(tx), tmp_path)
