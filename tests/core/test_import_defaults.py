"""The shared sample roster on the shipped defaults alone (issue 12, item 6): a fresh
install with no office config imports every good row, asks nothing, and refuses only
the three genuinely bad cells, each named by row, column and value (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core import i18n
from crm_core.app import Tongxin
from crm_core.importer import import_roster
from crm_core.services import contacts

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
XLSX = DATA / "sample-roster.xlsx"
CSV_GB = DATA / "sample-roster-gb18030.csv"


def test_the_sample_roster_imports_on_the_shipped_defaults_alone(
    app: Tongxin, tmp_path: Path
) -> None:
    # conftest's config is the shipped defaults with an empty office file
    assert app.config.vocab["regions"].resolve("经济技术开发区") is not None
    with app.unit() as unit:
        report = import_roster(unit, XLSX)
    assert report.totals == {
        "create": 40, "update": 0, "unchanged": 0, "duplicate": 2, "skip": 0, "refuse": 3,
        "left_out": 0, "pending": 0,
    }  # fmt: skip
    # The three refused rows are the sheet's three bad cells, not config values.
    assert [(e.row, e.column, e.value) for e in report.errors] == [
        (8, "出生年月", "1970.00"),
        (42, "手机", "138001380"),
        (43, "性别", "未知"),
    ]
    assert all(e.reason for e in report.errors)
    # The merged committee is read as both of its committees, through the shipped
    # mapping: nobody is asked, and no value waits.
    assert [(u.value, u.choice and u.choice.origin) for u in report.unknown_values] == [
        ("民族宗教和港澳台侨委员会", "saved")
    ]
    assert report.config_written is None
    with app.unit() as unit:
        people = {
            p.name: contacts.person_json(unit, p)
            for p in contacts.list_people(unit, limit=1000).items
        }
    assert len(people) == 40
    assert people["武祥"]["region"] == "shouxihu"  # a functional zone of the defaults
    merged = [p for p in people.values() if "ethnic_religious" in p["committees"]]
    assert merged and all("hk_macao_taiwan" in p["committees"] for p in merged)
    zones = {p["region"] for p in people.values()}
    assert {"development_zone", "shouxihu"} <= zones


@pytest.mark.parametrize("path", [XLSX, CSV_GB], ids=["xlsx", "gb18030-csv"])
def test_tongxin_import_of_the_sample_on_a_fresh_install_says_what_a_user_checks(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, path: Path
) -> None:
    errors = tmp_path / "errors.xlsx"
    code = run(["--db", db_url, "--lang", "en", "import", str(path), "--errors", str(errors)])
    out = capsys.readouterr().out
    i18n.set_language("zh")
    assert code == 4, out  # rows were refused (docs/cli-json.md)
    assert "is not in the config" not in out  # no question asked
    assert "month 00 does not exist" in out and "'1970.00'" in out
    assert "'138001380'" in out and "'未知'" in out
    assert errors.exists()
    code = run(["--db", db_url, "--lang", "en", "import", str(path), "--json"])
    data = json.loads(capsys.readouterr().out)
    i18n.set_language("zh")
    assert code == 4
    assert data["totals"]["unchanged"] == 40 and data["totals"]["refuse"] == 3
    assert data["totals"]["create"] == 0 and data["totals"]["pending"] == 0
    assert data["config_written"] is None
    code = run(["--db", db_url, "contacts", "search", "", "--limit", "1000", "--json"])
    assert len(json.loads(capsys.readouterr().out)["results"]) == 40


def test_hong_kong_macao_and_taiwan_mobiles_in_a_sheet_are_stored_in_e164_and_found(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "港澳台委员.csv"
    path.write_text(
        "姓名,性别,手机\n陈大文,男,+852 9123 4567\n何美玲,女,+853 6612 3456\n"
        "林志明,男,+886 912 345 678\n",
        "utf-8",
    )
    assert run(["--db", db_url, "--lang", "en", "import", str(path)]) == 0
    capsys.readouterr()

    def tx(*args: str) -> dict:  # type: ignore[type-arg]
        assert run(["--db", db_url, *args, "--json"]) == 0
        return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]

    stored = {n: tx("contacts", "show", n)["mobile"] for n in ("陈大文", "何美玲", "林志明")}
    assert stored == {"陈大文": "+85291234567", "何美玲": "+85366123456", "林志明": "+886912345678"}
    # +852 9123 4567, and 0912 345 678 (Taiwan's national form) hold the run 9123
    found = sorted(r["name"] for r in tx("contacts", "search", "9123")["results"])
    assert found == ["林志明", "陈大文"]
    assert [r["name"] for r in tx("contacts", "search", "6612")["results"]] == ["何美玲"]
    i18n.set_language("zh")
