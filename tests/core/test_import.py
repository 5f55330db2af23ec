"""Importing the office's rosters: the sample roster as it comes (merged title, blank and
repeated header rows, birth months and phones typed every way, duplicates, three bad
cells), every file format, duplicates against the database, the errors file, dry runs,
and an import killed half-way (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import gc
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import col

from crm_core import clock, db, i18n, identity
from crm_core.app import Tongxin
from crm_core.config import Config, load_config
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.importer import (
    CellProblem,
    Duplicate,
    import_roster,
    parse_birth,
    parse_gender,
    parse_phones,
    split_employer_title,
    split_list,
    write_errors,
)
from crm_core.models import AuditLog, Person, PersonCategory
from crm_core.services import accounts, contacts
from tests.conftest import PG_ADMIN_URL

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
XLSX = DATA / "sample-roster.xlsx"
CSV_GB = DATA / "sample-roster-gb18030.csv"
BAD_CELLS = {
    (8, "出生年月", "1970.00"),
    (42, "手机", "138001380"),
    (43, "性别", "未知"),
}


@pytest.fixture
def config() -> Config:
    """The office's config: the shipped defaults plus its functional areas and the
    committee name the roster uses."""
    return load_config(DATA / "office-config.toml")


@pytest.fixture(autouse=True)
def english() -> Any:
    i18n.set_language("en")
    yield
    i18n.set_language("zh")


def counts(app: Tongxin) -> dict[str, int]:
    with app.unit() as unit:
        s = unit.session
        return {
            "person": s.scalar(select(func.count()).select_from(Person)) or 0,
            "person_category": s.scalar(select(func.count()).select_from(PersonCategory)) or 0,
            "audit_log": s.scalar(select(func.count()).select_from(AuditLog)) or 0,
        }


def person_checksum(app: Tongxin) -> str:
    """A digest of every column of every person, in id order."""
    with app.unit() as unit:
        rows = unit.session.execute(select(Person.__table__).order_by(Person.__table__.c.id))
        digest = hashlib.sha256()
        for row in rows:
            digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()


def by_name(app: Tongxin) -> dict[str, dict[str, Any]]:
    with app.unit() as unit:
        people = contacts.list_people(unit, limit=1000).items
        return {p.name: contacts.person_json(unit, p) for p in people}


def test_the_copies_of_the_shared_sample_are_current() -> None:
    assert XLSX.exists() and CSV_GB.exists()
    for name in ("sample-roster.xlsx", "sample-roster-gb18030.csv"):
        shared = SHARED / name
        if shared.exists():  # beside the clone in CI; the copies are what tests use
            assert (DATA / name).read_bytes() == shared.read_bytes(), f"refresh tests/data/{name}"


# -- the sample roster ---------------------------------------------------------------


def test_sample_roster_imports_the_good_rows_and_reports_every_bad_one(app: Tongxin) -> None:
    with app.unit() as unit:
        report = import_roster(unit, XLSX)
    assert report.header_row == 3  # under the merged title row and a blank one
    assert report.totals == {
        "create": 40, "update": 0, "unchanged": 0, "duplicate": 2, "skip": 0, "refuse": 3,
        "left_out": 0, "pending": 0,
    }  # fmt: skip
    assert {(e.row, e.column, e.value) for e in report.errors} == BAD_CELLS
    reasons = {e.row: e.reason for e in report.errors}
    assert "month 00 does not exist" in reasons[8]
    assert "11 digits, this has 9" in reasons[42]
    assert "男 or 女" in reasons[43]
    assert report.skipped_rows == [(24, "blank row"), (25, "repeated header row")]
    dups = {o.row: (o.duplicate_of, o.match) for o in report.outcomes if o.action == "duplicate"}
    assert dups == {48: ("row 22", "name and birth month"), 50: ("row 12", "name and birth month")}
    assert {c.header: c.field for c in report.columns}["工作单位及职务"] == "employer_title"
    assert report.unknown_columns == []
    assert counts(app)["person"] == 40
    assert counts(app)["audit_log"] == 40  # one entry per person created

    people = by_name(app)
    assert len(people) == 40
    assert {"赵荣华", "秦瑞英", "孔磊松"}.isdisjoint(people)  # the refused rows
    # Birth months typed five ways, stray full-width spaces, phones as typed.
    assert people["曹荣"]["birth"] == "1984-10"  # 84.10
    assert people["闫祥刚"]["birth"] == "1953-04"  # 1953年4月
    assert people["陈柏华"]["birth"] == "1969-01"  # 1969.1
    assert people["苏凯建"]["birth"] == "1955-11"  # 1955/11
    assert people["姜磊艳"]["birth"] == "1954-09"  # 1954-9
    assert people["石凯海"]["birth"] == "1962-12"  # " 石凯海　", 62.12
    assert people["乐娟飞"]["mobile"] == "+8619538757987"  # full-width digits
    assert people["姜磊艳"]["mobile"] == "+8619800682505"  # +86
    assert people["马军宁"]["mobile"] == "+8618046522692"  # spaces
    assert people["闫祥刚"]["mobile"] == "+8619849957339"  # dashes
    # Polyphonic and compound surnames, and a name outside the BMP.
    assert (people["欧阳兰"]["pinyin"], people["欧阳兰"]["initials"]) == ("ouyanglan", "oyl")
    assert people["上官静勇"]["initials"] == "sgjy"
    assert people["盖伟"]["pinyin"] == "gewei"
    assert "廖𠇔柏" in people
    with app.unit() as unit:
        found = contacts.search_people(unit, "廖𠇔柏").items
        assert [p.name for p in found] == ["廖𠇔柏"]
    # Several categories and committees per cell, whatever the separator.
    assert people["闫祥刚"]["categories"] == ["new_social_stratum", "religious"]  # ,
    assert people["韦祥明"]["categories"] == ["new_social_stratum", "religious"]  # ；
    assert people["谢丽"]["categories"] == ["ethnic_minority", "non_affiliated"]  # 、
    assert people["曹荣"]["committees"] == ["economy", "education_science"]
    # Labels read through the vocabularies, the approximate ones reported.
    assert (people["盖伟"]["party"], people["陈柏华"]["party"]) == ("ccp", "non_affiliated")
    assert people["蒋刚娟"]["sector"] == "science_technology"  # 科技界
    assert people["武祥"]["region"] == "shouxihu"
    assert report.approximations[("党派", "中共党员")] == "中共"
    assert report.approximations[("界别", "科技界")] == "科学技术界"
    assert report.approximations[("联系对象类别", "少数民族人士")] == "少数民族界人士"
    # No clear separator between employer and title: all of it is the employer.
    assert (people["林宁"]["employer"], people["林宁"]["title"]) == ("大明寺总经理", None)


def test_a_second_import_of_the_same_file_changes_nothing(app: Tongxin) -> None:
    with app.unit() as unit:
        import_roster(unit, XLSX)
    before = counts(app), person_checksum(app)
    for path in (XLSX, CSV_GB, XLSX):
        with app.unit() as unit:
            report = import_roster(unit, path)
        assert report.totals["unchanged"] == 40 and report.totals["create"] == 0
        assert report.totals["update"] == 0 and report.totals["refuse"] == 3
        assert (counts(app), person_checksum(app)) == before  # no rows, versions, audit


def test_dry_run_writes_nothing(app: Tongxin) -> None:
    with app.unit() as unit:
        report = import_roster(unit, XLSX, dry_run=True)
    assert report.dry_run and report.totals["create"] == 40 and report.totals["refuse"] == 3
    assert counts(app) == {"person": 0, "person_category": 0, "audit_log": 0}
    with app.unit() as unit:
        import_roster(unit, XLSX)
    before = person_checksum(app)
    with app.unit() as unit:
        contacts.update_person(unit, contacts.resolve_person(unit, "林宁").id, employer="别处")
    changed = counts(app), person_checksum(app)
    with app.unit() as unit:
        report = import_roster(unit, XLSX, dry_run=True)
    row = next(o for o in report.outcomes if o.name == "林宁")
    assert (row.action, row.changes, row.duplicate_of) == ("update", ["employer"], "database")
    assert report.totals["unchanged"] == 39
    assert (counts(app), person_checksum(app)) == changed
    assert changed[1] != before


@pytest.mark.parametrize(
    "name", ["sample-roster-gb18030.csv", "sample-roster.xls", "sample-roster.ods"]
)
def test_every_format_reads_the_same_people(app: Tongxin, name: str) -> None:
    with app.unit() as unit:
        report = import_roster(unit, DATA / name)
    assert report.totals["create"] == 40 and report.totals["duplicate"] == 2
    expected_rows = {8, 42, 43} if name != "sample-roster-gb18030.csv" else {6, 38, 39}
    assert {e.row for e in report.errors} == expected_rows
    if name.endswith(".csv"):
        assert report.encoding == "gb18030"
    people = by_name(app)
    assert people["曹荣"]["birth"] == "1984-10" and people["乐娟飞"]["mobile"] == "+8619538757987"
    assert "廖𠇔柏" in people


def test_utf8_csv_with_and_without_bom(app: Tongxin, tmp_path: Path) -> None:
    rows = [["姓名", "性别", "手机"], ["张三", "男", "138 0013 8000"], ["李四", "女", ""]]
    for i, encoding in enumerate(("utf-8-sig", "utf-8")):
        path = tmp_path / f"r{i}.csv"
        with path.open("w", encoding=encoding, newline="") as fh:
            csv.writer(fh).writerows(rows)
        with app.unit() as unit:
            report = import_roster(unit, path)
        assert report.encoding == "utf-8"
        assert report.totals["create" if i == 0 else "unchanged"] == 2
    assert by_name(app)["张三"]["mobile"] == "+8613800138000"


# -- cells as people type them -------------------------------------------------------


def test_birth_months_as_people_type_them() -> None:
    today = date(2026, 11, 27)
    for typed, expected in [
        ("1965.03", "1965-03"), ("1965.3", "1965-03"), ("1965年3月", "1965-03"),
        ("1965-3", "1965-03"), ("65.03", "1965-03"), ("1965/03", "1965-03"),
        ("１９６５．０３", "1965-03"), ("1965年3月12日", "1965-03"), ("1965-03-12", "1965-03"),
        ("196503", "1965-03"), ("19650312", "1965-03"), ("1965", "1965"), ("1965年", "1965"),
        (1965.03, "1965-03"), (1965, "1965"), (23814.0, "1965-03"),  # an Excel serial
        (date(1965, 3, 12), "1965-03"), (datetime(1965, 3, 12, 0, 0), "1965-03"),
        ("05.06", "2005-06"), ("07.06", "1907-06"),
    ]:  # fmt: skip
        assert parse_birth(typed, today=today) == expected, typed
    for bad in ("1970.00", "1965.13", "1965年13月", "abc", "1850.01", "2030.01", "1965.3.4.5"):
        with pytest.raises(CellProblem):
            parse_birth(bad, today=today)


def test_other_cells_as_people_type_them() -> None:
    assert [parse_gender(g) for g in ("男", " 女 ", "男性", "F", "male")] == [
        "male", "female", "male", "female", "male",
    ]  # fmt: skip
    with pytest.raises(CellProblem, match="男 or 女"):
        parse_gender("未知")
    assert parse_phones("+86 138-0013-8000、0514-87331234") == ["+8613800138000", "+8651487331234"]
    assert parse_phones("１３８００１３８０００") == ["+8613800138000"]
    with pytest.raises(CellProblem, match="11 digits"):
        parse_phones("138001380")
    assert split_list("党外知识分子、宗教界人士；港澳委员,无党派人士 新的社会阶层人士") == [
        "党外知识分子", "宗教界人士", "港澳委员", "无党派人士", "新的社会阶层人士",
    ]  # fmt: skip
    assert split_employer_title("扬州大学　教授") == ("扬州大学", "教授")
    assert split_employer_title("扬州市 某某局 / 副局长") == ("扬州市 某某局", "副局长")
    assert split_employer_title("扬州大学教授") == ("扬州大学教授", None)


def _sheet(
    tmp_path: Path, rows: list[list[Any]], name: str = "r.xlsx", merges: tuple[str, ...] = ()
) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    for m in merges:
        ws.merge_cells(m)
    path = tmp_path / name
    wb.save(path)
    return path


def test_headings_merged_cells_english_headers_and_unknown_columns(
    app: Tongxin, tmp_path: Path
) -> None:
    path = _sheet(
        tmp_path,
        [
            ["政协委员联系名册"],
            [],
            ["Name", "Gender", "Birth", "Region", "Mobile", "籍贯", "Category", "工作单位", "职务"],
            ["一、经济界（2人）"],
            ["张三", "M", date(1965, 3, 1), "宝应县", 13800138000, "江苏扬州", "党外知识分子",
             "扬州大学", "教授"],
            ["李四", "F", 1970.05, None, "13800138001", "", "", "扬州中学", ""],
            ["二、教育界"],
            ["王五", "男", "1971.6", "高邮市", "13800138002", "安徽", "", "", ""],
        ],
        merges=("A1:I1", "A4:I4", "D5:D6", "A7:I7"),
    )  # fmt: skip
    with app.unit() as unit:
        report = import_roster(unit, path)
    assert report.header_row == 3
    assert report.unknown_columns == ["籍贯"]
    assert [r for r, _ in report.skipped_rows] == [4, 7]
    assert report.totals["create"] == 3 and not report.errors
    people = by_name(app)
    assert people["张三"]["birth"] == "1965-03" and people["张三"]["mobile"] == "+8613800138000"
    assert people["李四"]["region"] == "baoying"  # the merged 所在地 cell covers row 6
    assert (people["张三"]["employer"], people["张三"]["title"]) == ("扬州大学", "教授")
    with app.unit() as unit:
        zhang = contacts.resolve_person(unit, "张三")
        assert zhang.extra == {"roster": {"籍贯": "江苏扬州"}}  # kept, not dropped


def test_map_names_columns_and_unknown_labels_wait_for_an_answer(
    app: Tongxin, tmp_path: Path
) -> None:
    path = _sheet(
        tmp_path,
        [
            ["委员姓名", "性别", "联系人电话", "县区", "界别"],
            ["张三", "男", "13800138000", "火星区", "经济界"],
            ["李四", "女", "13800138001", "宝应县", "经济界"],
        ],
    )
    with app.unit() as unit:
        report = import_roster(unit, path, mapping={"联系人电话": "mobile", "县区": "region"})
    assert report.totals["create"] == 1 and report.totals["pending"] == 1
    assert report.errors == []  # an unknown value is a question, not a bad cell
    [unknown] = report.unknown_values
    assert (unknown.column, unknown.field, unknown.value, unknown.rows) == (
        "县区", "region", "火星区", 1
    )  # fmt: skip
    assert unknown.choice is None
    assert by_name(app)["李四"]["mobile"] == "+8613800138001"
    with pytest.raises(ValidationError, match="unknown field"), app.unit() as unit:
        import_roster(unit, path, mapping={"县区": "county"})
    with pytest.raises(ValidationError, match="no such column"), app.unit() as unit:
        import_roster(unit, path, mapping={"户籍": "extra"})


# -- duplicates against the database -----------------------------------------------


def test_duplicates_in_the_database_update_skip_or_ask(app: Tongxin) -> None:
    with app.unit() as unit:
        kept = contacts.create_person(unit, name="韦涛玲", birth="1967-01", employer="旧单位")
        other = contacts.create_person(unit, name="张冠", mobile="13079796023")  # 邹兰磊's
    with app.unit() as unit:
        report = import_roster(unit, XLSX, on_duplicate="skip")
    rows = {o.row: o for o in report.outcomes}
    assert (rows[22].action, rows[22].duplicate_of, rows[22].person_id) == (
        "skip",
        "database",
        kept.id,
    )
    assert rows[48].action in ("duplicate", "skip")
    # Same mobile as a stored person with another name: refused, naming who has it.
    refused = {e.row: e for e in report.errors}
    assert refused[35].column == "手机" and "张冠" in refused[35].reason
    with app.unit() as unit:
        assert contacts.get_person(unit, kept.id).employer == "旧单位"
        assert contacts.get_person(unit, other.id).name == "张冠"

    asked: list[Duplicate] = []

    def decide(dup: Duplicate) -> str:
        asked.append(dup)
        return "update"

    with app.unit() as unit:
        report = import_roster(unit, XLSX, on_duplicate="ask", decide=decide)
    assert [d.row for d in asked] == [22]
    assert asked[0].changes["employer"] == ("旧单位", "扬州大学校长")
    rows = {o.row: o for o in report.outcomes}
    assert rows[22].action == "update" and "mobile" in rows[22].changes
    with app.unit() as unit:
        person = contacts.get_person(unit, kept.id)
        assert (person.employer, person.mobile, person.version) == (
            "扬州大学校长",
            "+8618328656873",
            2,
        )
        audit = unit.session.scalars(
            select(AuditLog).where(AuditLog.entity_id == str(kept.id), AuditLog.action == "update")
        ).all()
        assert len(audit) == 1 and audit[0].after["employer"] == "扬州大学校长"
    with app.unit() as unit:
        assert import_roster(unit, XLSX, on_duplicate="update").totals["update"] == 0


# -- the errors file ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_errors_file_can_be_corrected_and_imported(
    app: Tongxin, tmp_path: Path, suffix: str
) -> None:
    with app.unit() as unit:
        report = import_roster(unit, XLSX)
    out = write_errors(report, tmp_path / f"errors{suffix}")
    if suffix == ".xlsx":
        wb = load_workbook(out)
        ws = wb.active
        assert ws is not None and ws.freeze_panes == "A2"
        header = [c.value for c in ws[1]]
        assert header[-2:] == ["Source row", "Errors"]
        rows = {r[-2].value: r for r in ws.iter_rows(min_row=2)}
        assert set(rows) == {8, 42, 43}
        assert "month 00" in rows[8][-1].value
        bad = rows[8][header.index("出生年月")]
        assert bad.fill.fgColor.rgb.endswith("FFC7CE") and bad.comment is not None
        rows[8][header.index("出生年月")].value = "1970.01"
        rows[42][header.index("手机")].value = "13800138000"
        rows[43][header.index("性别")].value = "男"
        wb.save(out)
    else:
        with out.open(encoding="utf-8-sig", newline="") as fh:
            table = list(csv.reader(fh))
        assert table[0][-2:] == ["Source row", "Errors"] and [r[-2] for r in table[1:]] == [
            "8",
            "42",
            "43",
        ]
        fixes = {"出生年月": "1970.01", "手机": "13800138000", "性别": "男"}
        for r in table[1:]:
            for col_name, value in fixes.items():
                if col_name in r[-1]:
                    r[table[0].index(col_name)] = value
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(table)
    with app.unit() as unit:
        again = import_roster(unit, out)
    assert again.totals["create"] == 3 and not again.errors
    assert counts(app)["person"] == 43
    assert by_name(app)["赵荣华"]["birth"] == "1970-01"


# -- the bulk path of the contacts service -----------------------------------------


def test_bulk_create_stores_what_create_person_stores(app: Tongxin) -> None:
    values = dict(
        name=" 欧阳　修 ", gender="男", birth="1965.03", party="民盟", sector="经济界",
        region="宝应县", employer="扬州大学  ", title="教授", mobile="+86 139-0000-1111",
        phones=["0514-87331234"], categories=["党外知识分子"], committees=["提案委员会"],
        notes="备注", extra={"roster": {"籍贯": "扬州"}},
    )  # fmt: skip
    with app.unit() as unit:
        one = contacts.create_person(unit, **values)
        [two_id] = contacts.bulk_create_people(unit, [{**values, "mobile": "13900001112"}])
        canonical = dict(values, name="欧阳修", gender="male", birth="1965-03", party="cdl",
                         sector="economy", region="baoying", mobile="13900001113",
                         employer="扬州大学", phones=["051487331234"],
                         categories=["non_party_intellectual"],
                         committees=["proposals"])  # fmt: skip
        [three_id] = contacts.bulk_create_people(unit, [canonical])
    with app.unit() as unit:
        forms = [
            contacts.person_json(unit, contacts.get_person(unit, pid))
            for pid in (one.id, two_id, three_id)
        ]
        for f in forms:
            for key in ("id", "created_at", "updated_at", "mobile"):
                f.pop(key)
        assert forms[0] == forms[1] == forms[2]
        assert contacts.get_person(unit, two_id).extra == {"roster": {"籍贯": "扬州"}}
        entry = unit.session.scalars(
            select(AuditLog).where(AuditLog.entity_id == str(two_id))
        ).one()
        assert entry.action == "create" and entry.after["categories"] == ["non_party_intellectual"]
        assert entry.after["name_pinyin"] == "ouyangxiu"
    with pytest.raises(ValidationError) as exc, app.unit() as unit:
        contacts.bulk_create_people(unit, [{"name": "甲"}, {"name": "乙", "birth": "1965-13"}])
    assert [e.field for e in exc.value.errors] == ["rows[1].birth"]
    assert counts(app)["person"] == 3  # the refused batch wrote nothing


# -- all or nothing: an import killed half-way ---------------------------------------

KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from crm_core.app import Tongxin
    from crm_core.config import load_config
    from crm_core.importer import import_roster
    from crm_core.plugins import PluginHost

    config, db_url, path = sys.argv[1:4]
    host = PluginHost()
    host.load(entry_points_too=False)
    app = Tongxin(load_config(Path(config)), db_url=db_url, plugins=host)

    def progress(stage, done, total):
        print(stage, done, total, flush=True)

    with app.unit() as unit:
        import_roster(unit, path, progress=progress)
        print("imported", flush=True)
    print("committed", flush=True)
    """
)


def big_roster(path: Path, count: int) -> Path:
    """A roster of ``count`` distinct people (CSV, as an office's export would be)."""
    surnames = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"
    given = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "性别", "出生年月", "党派", "所在地", "手机", "联系对象类别"])
        for i in range(count):
            n = len(given)
            name = surnames[i % 20] + given[(i // 20) % n] + given[(i // (20 * n)) % n]
            w.writerow(
                [name, "男女"[i % 2], f"{1950 + i % 40}.{1 + i % 12:02d}", "民盟",
                 "宝应县", f"13{i:09d}", "党外知识分子、宗教界人士"]
            )  # fmt: skip
    return path


def test_an_import_killed_half_way_leaves_the_database_as_it_was(
    app: Tongxin, db_url: str, tmp_path: Path
) -> None:
    with app.unit() as unit:
        import_roster(unit, XLSX)
    before = counts(app), person_checksum(app)
    path = big_roster(tmp_path / "big.csv", 25_000)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(DATA / "office-config.toml"), db_url, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    written = 0
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        parts = line.split()
        if parts and parts[0] == "write":
            written = int(parts[1])
            if written >= 6000:  # several batches are in the database, uncommitted
                break
        assert parts[:1] not in (["imported"], ["committed"]), "finished before it was killed"
        assert time.monotonic() < deadline
    assert written >= 6000, proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    after = counts(app), person_checksum(app)
    assert after == before
    # And the database is fine afterwards: an import that is not killed goes through.
    with app.unit() as unit:
        report = import_roster(unit, big_roster(tmp_path / "small.csv", 500))
    assert report.totals["create"] == 500
    assert counts(app)["person"] == before[0]["person"] + 500


def test_an_import_that_fails_leaves_nothing(app: Tongxin, tmp_path: Path) -> None:
    path = big_roster(tmp_path / "r.csv", 5000)
    with pytest.raises(RuntimeError), app.unit() as unit:
        import_roster(unit, path)
        raise RuntimeError("the power went out")
    assert counts(app) == {"person": 0, "person_category": 0, "audit_log": 0}
    with app.unit() as unit:
        assert unit.session.execute(text("SELECT 1")).scalar() == 1


def test_sheets_by_name_or_number_and_unreadable_files(app: Tongxin, tmp_path: Path) -> None:
    from crm_core.importer import RosterError

    with app.unit() as unit:
        assert import_roster(unit, XLSX, sheet="委员名单", dry_run=True).totals["create"] == 40
        assert import_roster(unit, XLSX, sheet="1", dry_run=True).sheet == "委员名单"
    with pytest.raises(RosterError, match="委员名单"), app.unit() as unit:
        import_roster(unit, XLSX, sheet="第二页")
    (tmp_path / "notes.txt").write_text("姓名,性别\n", "utf-8")
    with pytest.raises(RosterError, match=r"notes\.txt"), app.unit() as unit:
        import_roster(unit, tmp_path / "notes.txt")
    (tmp_path / "empty.csv").write_text("说明\n这不是名单\n", "utf-8")
    with pytest.raises(RosterError, match="姓名"), app.unit() as unit:
        import_roster(unit, tmp_path / "empty.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip file")
    with pytest.raises(RosterError, match=r"broken\.xlsx"), app.unit() as unit:
        import_roster(unit, tmp_path / "broken.xlsx")


# -- the bulk path: audit, batches, county scope -----------------------------------------

PERSON = dict(
    name="欧阳修", gender="male", birth="1965-03", party="cdl", sector="economy",
    region="baoying", employer="扬州大学", title="教授", mobile="13900001111",
    phones=["051487331234"], categories=["non_party_intellectual"], committees=["proposals"],
    notes="备注", extra={"roster": {"籍贯": "扬州"}},
)  # fmt: skip


def test_a_bulk_audit_entry_holds_what_the_listener_writes(app: Tongxin) -> None:
    # The same person made by hand and in bulk, by an administrator acting as another
    # account: the two entries name the same who and when, and the same values.
    clock.freeze(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    with app.unit() as unit:
        accounts.create_account(unit, username=app.login_name(), role="admin")
        accounts.create_account(unit, username="chair", role="leader")
    app.authenticate(as_user="chair")
    with app.unit() as unit:
        by_hand = contacts.create_person(unit, **PERSON).id
        [bulk] = contacts.bulk_create_people(unit, [{**PERSON, "mobile": "13900001112"}])
    with app.unit() as unit:
        hand_entry, bulk_entry = (
            unit.session.scalars(
                select(AuditLog).where(
                    col(AuditLog.entity) == "person", col(AuditLog.entity_id) == str(p)
                )
            ).one()
            for p in (by_hand, bulk)
        )
    who = ("action", "actor", "actor_id", "real_actor_id", "at", "before")
    assert [getattr(bulk_entry, k) for k in who] == [getattr(hand_entry, k) for k in who]
    assert bulk_entry.actor == f"{app.login_name()} (as chair)"
    assert bulk_entry.real_actor_id is not None and bulk_entry.before is None
    hand, made = dict(hand_entry.after or {}), dict(bulk_entry.after or {})
    # The listener writes the links as entries of their own; the bulk entry holds them.
    assert made.pop("categories") == ["non_party_intellectual"]
    assert made.pop("committees") == ["proposals"]
    assert (hand.pop("id"), made.pop("id")) == (str(by_hand), str(bulk))
    assert (hand.pop("mobile"), made.pop("mobile")) == ("+8613900001111", "+8613900001112")
    hand.pop("phone_digits"), made.pop("phone_digits")
    assert made == hand


def test_bulk_create_writes_batch_by_batch_with_ordered_ids(
    app: Tongxin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Several batches (on PostgreSQL each written while the next one is made), progress
    # after each, ids of version 7 in ascending order, one audit entry per person.
    monkeypatch.setattr(contacts, "BULK_BATCH", 3)
    calls: list[tuple[int, int]] = []
    people = [{**PERSON, "name": f"张{n}", "mobile": f"1390000200{n}"} for n in range(7)]
    with app.unit() as unit:
        ids = contacts.bulk_create_people(
            unit, people, progress=lambda done, total: calls.append((done, total))
        )
    assert calls == [(3, 7), (6, 7), (7, 7)]
    assert ids == sorted(ids) and {i.version for i in ids} == {7} and len(set(ids)) == 7
    with app.unit() as unit:
        stored = {p.id: p.name for p in contacts.list_people(unit, limit=10).items}
        assert stored == {pid: f"张{n}" for n, pid in enumerate(ids)}
        assert [contacts.categories_of(unit, pid) for pid in ids] == [
            ["non_party_intellectual"]
        ] * 7
        entries = unit.session.scalars(
            select(AuditLog).where(col(AuditLog.entity) == "person").order_by(col(AuditLog.id))
        ).all()
        assert [e.entity_id for e in entries] == [str(i) for i in ids]
        assert [e.after["name"] for e in entries if e.after] == [f"张{n}" for n in range(7)]
    assert counts(app) == {"person": 7, "person_category": 7, "audit_log": 7}


def test_bulk_rows_without_a_column_are_refused(app: Tongxin) -> None:
    from crm_core.unit import insert_rows

    links, people = PersonCategory.__table__, Person.__table__  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"\[.category.\]"), app.unit() as unit:
        insert_rows(unit.session, links, [{"person_id": uuid.uuid4()}])
    with pytest.raises(ValueError, match="colour"), app.unit() as unit:
        insert_rows(unit.session, people, [{"colour": "red"}])


def test_the_import_leaves_the_collector_and_the_cache_as_it_found_them(
    app: Tongxin, backend: str, tmp_path: Path
) -> None:
    def cache_size(unit: Any) -> Any:
        return unit.session.execute(text("PRAGMA cache_size")).scalar()

    path = big_roster(tmp_path / "r.csv", 50)
    with app.unit() as unit:
        before = cache_size(unit) if backend == "sqlite" else None
        assert import_roster(unit, path).totals["create"] == 50
        assert gc.isenabled()
        if backend == "sqlite":
            assert cache_size(unit) == before
    gc.disable()
    try:
        with app.unit() as unit:
            assert import_roster(unit, path).totals["unchanged"] == 50
            assert not gc.isenabled()  # left off, as the caller had it
    finally:
        gc.enable()
    from crm_core.importer import RosterError

    with pytest.raises(RosterError), app.unit() as unit:
        import_roster(unit, XLSX, sheet="第二页")
    assert gc.isenabled()


@pytest.fixture
def county_login(
    backend: str,
    db_url: str,
    config: Config,
    plugins: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[str], Tongxin]]:
    """``county_login(name)``: a Tongxin authenticated as the login ``name`` (not the
    owner of the database): on PostgreSQL a real LOGIN role in ``tongxin_user``, so that
    row-level security applies to what it writes, as on the shared server."""
    made: list[Tongxin] = []
    roles: list[str] = []

    def make(name: str) -> Tongxin:
        if backend == "sqlite":
            monkeypatch.setattr(identity, "os_login", lambda: name)
            county = Tongxin(config, db_url=db_url, plugins=plugins)
            assert county.login().name == name and not county.login().owner
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE ROLE "{name}" LOGIN')
                conn.execute(f'GRANT tongxin_user TO "{name}"')
            roles.append(name)
            url = make_url(db.normalize_url(db_url)).set(username=name, password=None)
            county = Tongxin(
                config, db_url=url.render_as_string(hide_password=False), plugins=plugins
            )
        county.authenticate()
        made.append(county)
        return county

    yield make
    for county in made:
        county.close()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for role in roles:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_county_staff_import_their_own_county_only(
    app: Tongxin, backend: str, tmp_path: Path, county_login: Callable[[str], Tongxin]
) -> None:
    # On PostgreSQL as their own database role: row-level security applies, COPY is not
    # allowed there, and the rows go in by INSERTs that the policies check.
    name = f"by_{uuid.uuid4().hex[:6]}"
    with app.unit() as unit:
        accounts.create_account(unit, username=name, role="county_staff", region_scope="baoying")
    county = county_login(name)
    with county.unit() as unit:
        if backend == "postgresql":
            assert unit.session.execute(text("SELECT row_security_active('person')")).scalar()
        report = import_roster(unit, big_roster(tmp_path / "baoying.csv", 300))
    assert report.totals["create"] == 300
    assert counts(app) == {"person": 300, "person_category": 600, "audit_log": 301}
    with app.unit() as unit:
        regions = unit.session.scalars(select(col(Person.region)).distinct()).all()
        assert regions == ["baoying"]
        actors = unit.session.scalars(
            select(col(AuditLog.actor)).where(col(AuditLog.entity) == "person").distinct()
        ).all()
        assert actors == [name]
    # A roster naming another county is refused as a whole: nothing is written.
    other = tmp_path / "gaoyou.csv"
    other.write_text("姓名,所在地\n周九,宝应县\n吴十,高邮市\n", "utf-8")
    with pytest.raises(PermissionDenied, match="吴十"), county.unit() as unit:
        import_roster(unit, other)
    assert counts(app)["person"] == 300
