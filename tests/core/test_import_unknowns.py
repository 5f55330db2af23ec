"""Values a roster holds that the config does not know (issue 12): a question, not a
refusal. Listed once each, answered by adding, mapping or leaving out, the answers
written to the office's own config file (comments kept, hostile values escaped) and
remembered, so a second run changes nothing and next month's sheet asks nothing
(SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import hashlib
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crm_cli.main import run
from openpyxl import load_workbook
from sqlalchemy import select

from crm_core import i18n
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.errors import ValidationError
from crm_core.importer import Choice, UnknownPolicy, ValueMap, import_roster, write_errors
from crm_core.models import Person
from crm_core.plugins import PluginHost
from crm_core.services import contacts

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
OFFICE = """\
# 扬州市政协办公室的配置（手写，注释要保留）
[settings]
follow_up_days = 30  # 一个月

# 本办自己的类别
[[categories]]
code = "retired"
zh = "退休委员"
"""
HEADER = ["姓名", "性别", "出生年月", "所在地", "专委会", "手机"]
NOVEMBER = [
    HEADER,
    ["张三", "男", "1965.03", "广陵区", "提案委员会", "13800138000"],
    ["李四", "女", "1970.05", "扬州综合保税区", "提案委员会", "13800138001"],
    ["王五", "男", "1971.06", "扬州综合保税区", "智库委员会、经济委员会", "13800138002"],
    ["赵六", "女", "1972.07", "邗江区", "智库委员会", "13800138003"],
    ["钱七", "男", "1973.08", "宝应县", "民族宗教和港澳台侨委员会", "13800138004"],
    ["孙八", "女", "1974.13", "宝应县", "经济委员会", "13800138005"],  # a bad month
]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("zh")


@pytest.fixture
def office_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "office.toml"
    path.write_text(OFFICE, "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(path))
    return path


def _app(db_url: str, office_file: Path) -> Tongxin:
    """A Tongxin reading the office's file as it is now (as next month's run would)."""
    host = PluginHost()
    host.load(entry_points_too=False)
    return Tongxin(load_config(office_file), db_url=db_url, plugins=host)


def _csv(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _people(app: Tongxin) -> dict[str, dict[str, Any]]:
    with app.unit() as unit:
        return {
            p.name: contacts.person_json(unit, p)
            for p in contacts.list_people(unit, limit=1000).items
        }


def _checksum(app: Tongxin) -> str:
    with app.unit() as unit:
        rows = unit.session.execute(select(Person.__table__).order_by(Person.__table__.c.id))
        return hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()


def _import(db_url: str, office_file: Path, path: Path, **kw: Any) -> Any:
    app = _app(db_url, office_file)
    try:
        with app.unit() as unit:
            return import_roster(unit, path, **kw)
    finally:
        app.close()


def test_unknown_values_are_listed_once_then_added_then_a_second_run_changes_nothing(
    db_url: str, office_file: Path, tmp_path: Path
) -> None:
    november = _csv(tmp_path, "2026-11.csv", NOVEMBER)
    # A dry run lists each unknown value once, with its column, rows and closest entries.
    report = _import(db_url, office_file, november, dry_run=True)
    by_value = {u.value: u for u in report.unknown_values}
    assert set(by_value) == {"扬州综合保税区", "智库委员会", "民族宗教和港澳台侨委员会"}
    zone, think_tank = by_value["扬州综合保税区"], by_value["智库委员会"]
    assert (zone.column, zone.field, zone.rows) == ("所在地", "region", 2)
    assert (think_tank.column, think_tank.field, think_tank.rows) == ("专委会", "committees", 2)
    assert zone.choice is None and think_tank.choice is None
    # The shipped defaults' saved mapping reads the merged committee as both of its own.
    assert by_value["民族宗教和港澳台侨委员会"].choice == Choice(
        "map", ("ethnic_religious", "hk_macao_taiwan"), "saved"
    )
    # the closest entries are offered (经济技术开发区 shares 扬州…区; 智库 has no near one)
    assert all(t.code != "" for t in zone.suggestions)
    # The rows carrying them are not bad: three wait, one (the bad month) is refused.
    assert report.totals["pending"] == 3 and report.totals["refuse"] == 1
    assert [(e.row, e.column) for e in report.errors] == [(7, "出生年月")]
    [merged] = [o for o in report.outcomes if o.name == "钱七"]
    assert merged.action == "create"
    assert office_file.read_text("utf-8") == OFFICE  # a dry run writes nothing

    report = _import(db_url, office_file, november, unknowns=UnknownPolicy(add_missing=True))
    assert report.totals["create"] == 5 and report.totals["pending"] == 0
    assert report.config_written == str(office_file)
    text = office_file.read_text("utf-8")
    assert text.startswith(OFFICE)  # the office's comments and entries kept as they were
    data = tomllib.loads(text)
    added = {e["zh"]: e["code"] for e in data["regions"] + data["committees"]}
    assert set(added) == {"扬州综合保税区", "智库委员会"}
    assert all(code.isascii() and code.islower() for code in added.values())
    app = _app(db_url, office_file)
    people = _people(app)
    assert people["李四"]["region"] == added["扬州综合保税区"]
    assert sorted(people["王五"]["committees"]) == sorted([added["智库委员会"], "economy"])
    assert sorted(people["钱七"]["committees"]) == ["ethnic_religious", "hk_macao_taiwan"]
    assert "孙八" not in people
    before = _checksum(app)
    app.close()

    # A second run of the same file, with the config as it now is: nothing changes.
    again = _import(db_url, office_file, november, unknowns=UnknownPolicy(add_missing=True))
    assert [u.value for u in again.unknown_values] == ["民族宗教和港澳台侨委员会"]
    assert again.totals["create"] == 0
    assert again.totals["unchanged"] == 5 and again.config_written is None
    assert office_file.read_text("utf-8") == text
    app = _app(db_url, office_file)
    assert _checksum(app) == before
    app.close()


def test_maps_and_left_out_rows_are_saved_for_next_months_sheet(
    db_url: str, office_file: Path, tmp_path: Path
) -> None:
    november = _csv(tmp_path, "2026-11.csv", NOVEMBER)
    maps = [
        ValueMap.parse("所在地:扬州综合保税区=development_zone"),
        # by label, and to two committees
        ValueMap.parse("committees:智库委员会=提案委员会,经济委员会"),
    ]
    report = _import(db_url, office_file, november, unknowns=UnknownPolicy(value_maps=maps))
    assert report.totals["create"] == 5 and report.totals["pending"] == 0
    app = _app(db_url, office_file)
    people = _people(app)
    app.close()
    assert people["李四"]["region"] == "development_zone"
    assert sorted(people["赵六"]["committees"]) == ["economy", "proposals"]
    saved = tomllib.loads(office_file.read_text("utf-8"))["import"]["mappings"]["default"]
    assert saved == {
        "region": {"扬州综合保税区": ["development_zone"]},
        "committees": {"智库委员会": ["proposals", "economy"]},
    }
    # Next month: new people, the same values, no options: no questions.
    december = _csv(
        tmp_path,
        "2026-12.csv",
        [
            HEADER,
            ["周九", "男", "1980.01", "扬州综合保税区", "智库委员会", "13900139000"],
            ["吴十", "女", "1981.02", "宝应县", "提案委员会", "13900139001"],
        ],
    )
    nobody_asked: list[str] = []

    def ask(uv: Any) -> Choice | None:
        nobody_asked.append(uv.value)
        return None

    report = _import(db_url, office_file, december, unknowns=UnknownPolicy(ask=ask))
    assert nobody_asked == [] and report.totals["create"] == 2 and report.complete
    assert {u.choice.origin for u in report.unknown_values if u.choice} == {"saved"}
    # Leaving rows out is remembered too, per source.
    leave = [ValueMap.parse("所在地:扬州综合保税区=-")]
    report = _import(
        db_url,
        office_file,
        december,
        unknowns=UnknownPolicy(value_maps=leave, source="县里报送"),
    )
    assert report.totals["left_out"] == 1 and report.complete  # deliberately skipped
    report = _import(db_url, office_file, december, unknowns=UnknownPolicy(source="县里报送"))
    assert report.totals["left_out"] == 1 and report.totals["unchanged"] == 1


def test_hostile_values_cannot_break_or_rewrite_the_config_file(
    db_url: str, office_file: Path, tmp_path: Path
) -> None:
    hostile = [
        'x"\n[settings]\nlanguage = "en',
        "三引号'''\"\"\"区",
        "反斜杠\\u0041]]区",
    ]
    rows = [HEADER] + [
        [f"人{i}", "男", f"198{i}.01", value, "提案委员会", f"1390013900{i}"]
        for i, value in enumerate(hostile)
    ]
    path = _csv(tmp_path, "hostile.csv", rows)
    report = _import(db_url, office_file, path, unknowns=UnknownPolicy(add_missing=True))
    assert report.totals["create"] == 3
    config = load_config(office_file)  # still a valid config file
    assert config.language == "zh"  # the "[settings]" in a value was not a table
    labels = {t.zh for t in config.vocab["regions"]}
    assert set(hostile) <= labels
    # and the values read back exactly: a second run finds every one known
    again = _import(db_url, office_file, path)
    assert again.unknown_values == [] and again.totals["unchanged"] == 3
    # hostile mapping values too
    maps = [ValueMap.parse('所在地:"]]\n[smtp]=-')]
    path = _csv(
        tmp_path, "h2.csv", [HEADER, ["甲", "男", "1990.01", '"]]\n[smtp]', "提案委员会", ""]]
    )
    report = _import(db_url, office_file, path, unknowns=UnknownPolicy(value_maps=maps))
    assert report.totals["left_out"] == 1
    saved = load_config(office_file).sections.import_.mappings["default"]["region"]
    assert saved == {'"]]\n[smtp]': []}


def test_bad_maps_are_clear_errors_and_write_nothing(
    db_url: str, office_file: Path, tmp_path: Path
) -> None:
    november = _csv(tmp_path, "2026-11.csv", NOVEMBER)
    cases = [
        ("所在地:扬州综合保税区=no_such_zone", "no_such_zone is not a code or label"),
        ("籍贯:扬州=guangling", "no column 籍贯"),
        ("所在地:扬州综合保税区=guangling,hanjiang", "one region"),
    ]
    for text, message in cases:
        with pytest.raises(ValidationError, match=message) as caught:
            _import(db_url, office_file, november, unknowns=UnknownPolicy(value_maps=[
                ValueMap.parse(text)]))  # fmt: skip
        assert text.split("=")[0] in str(caught.value)  # names the map given
    for text in ("所在地扬州=guangling", "所在地:=guangling", "所在地:扬州="):
        with pytest.raises(ValidationError, match="COLUMN:VALUE=CODE"):
            ValueMap.parse(text)
    assert office_file.read_text("utf-8") == OFFICE
    app = _app(db_url, office_file)
    assert _people(app) == {}
    app.close()


def test_keep_partial_imports_the_person_without_the_bad_cell(
    db_url: str, office_file: Path, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "r.csv", NOVEMBER[:2] + NOVEMBER[-1:])
    report = _import(db_url, office_file, path, keep_partial=True)
    assert report.totals["create"] == 2 and report.totals["refuse"] == 0 and report.complete
    assert [(e.row, e.column, e.value) for e in report.dropped] == [(3, "出生年月", "1974.13")]
    errors = write_errors(report, tmp_path / "errors.xlsx")
    ws = load_workbook(errors).active
    assert ws is not None
    [row] = list(ws.iter_rows(min_row=2, values_only=True))
    assert row[0] == "孙八" and row[-2] == 3 and "imported without this field" in str(row[-1])
    app = _app(db_url, office_file)
    people = _people(app)
    app.close()
    assert people["孙八"]["birth"] is None and people["孙八"]["mobile"] == "+8613800138005"


def test_the_cli_asks_nothing_without_a_terminal_and_saves_the_answers(
    db_url: str, office_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    november = _csv(tmp_path, "2026-11.csv", NOVEMBER)

    def tx(*args: str) -> tuple[int, Any]:
        code = run(["--db", db_url, "--lang", "en", "import", str(november), "--json", *args])
        return code, json.loads(capsys.readouterr().out)

    code, data = tx("--dry-run")
    assert code == 4  # rows wait for an answer (and one is refused)
    assert {u["value"]: u["rows"] for u in data["unknown_values"]} == {
        "扬州综合保税区": 2, "智库委员会": 2, "民族宗教和港澳台侨委员会": 1,
    }  # fmt: skip
    code, data = tx("--add-missing", "--map", "专委会:智库委员会=-", "--keep-partial")
    assert code == 0, data["totals"]  # everything imported or deliberately left out
    assert data["totals"]["create"] == 4 and data["totals"]["left_out"] == 2
    assert data["config_written"] == str(office_file)
    code, data = tx("--keep-partial")  # next time: no --add-missing, no --map
    assert code == 0 and data["totals"]["create"] == 0 and data["totals"]["unchanged"] == 4
    assert data["config_written"] is None


def test_on_a_terminal_each_unknown_value_is_asked_once(
    db_url: str, office_file: Path, tmp_path: Path
) -> None:
    import os
    import pty
    import select as select_
    import subprocess
    import sys
    import time

    rows = [*NOVEMBER[:6], ["周九", "男", "1980.01", "扬州综合保税区", "智库委员会", ""]]
    november = _csv(tmp_path, "2026-11.csv", rows)
    master, slave = pty.openpty()
    env = {**os.environ, "TONGXIN_CONFIG": str(office_file), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crm_cli.main", "--db", db_url, "--lang", "en", "import",
         str(november)],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    seen, asked, answered = b"", [], 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select_.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            text = seen.decode("utf-8", "replace")
            while True:
                question = text.find("[a/m/s]", answered)
                codes = text.find("separated by commas", answered)
                if question != -1 and (codes == -1 or question < codes):
                    value = "zone" if "扬州综合保税区" in text[answered:question] else "tank"
                    asked.append(value)
                    os.write(master, b"a\n" if value == "zone" else b"m\n")
                    answered = question + 7
                elif codes != -1:
                    os.write(master, "提案委员会, economy\n".encode())
                    answered = codes + 19
                else:
                    break
        elif proc.poll() is not None:
            break
    if proc.poll() is None:
        proc.kill()
    code = proc.wait(timeout=60)
    os.close(master)
    text = seen.decode("utf-8", "replace")
    assert sorted(asked) == ["tank", "zone"], text  # once each, though each is on 3 rows
    assert "'扬州综合保税区' (3 rows) is not in the config" in text
    assert code == 0, text  # every row imported
    saved = tomllib.loads(office_file.read_text("utf-8"))
    assert [e["zh"] for e in saved["regions"]] == ["扬州综合保税区"]
    assert saved["import"]["mappings"]["default"]["committees"] == {
        "智库委员会": ["proposals", "economy"]
    }
    app = _app(db_url, office_file)
    people = _people(app)
    app.close()
    assert sorted(people["周九"]["committees"]) == ["economy", "proposals"]
    assert set(people) == {"张三", "李四", "王五", "赵六", "钱七", "周九"}
