"""The names not reached of ``coverage`` come from the database a page at a time for
``--json`` (``--offset``/``--limit``) and in full for a document; both read the same
names in the same pinyin order, over what the reader may see."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.authz import acting_for
from crm_core.models import Account
from crm_core.reports import Period, report_json, run_report
from crm_core.services import accounts, contacts, interactions

YEAR = Period.year(2026)
# Pinyin order: 艾一 ai, 白二 bai, 蔡三 cai, 丁四 ding, 方五 fang (all in 宝应县), 高六 gao.
NAMES = ["丁四", "方五", "艾一", "蔡三", "白二"]


@pytest.fixture
def people(app: Tongxin) -> dict[str, object]:
    clock.freeze(datetime(2026, 6, 1, 4, tzinfo=UTC))
    ids: dict[str, object] = {}
    with app.unit() as unit:
        for name in NAMES:
            ids[name] = contacts.create_person(unit, name=name, region="baoying").id
        ids["高六"] = contacts.create_person(unit, name="高六", region="gaoyou").id
        reached = contacts.create_person(unit, name="黄七", region="baoying")
        interactions.log_interaction(
            unit, kind="call", people=[reached.id], start=datetime(2026, 5, 1, 4, tzinfo=UTC)
        )
        county = accounts.create_account(
            unit, username="by", display_name="宝应", role="county_staff", region_scope="baoying"
        )
        ids["county"] = county.id
    return ids


def _everyone(result: dict) -> dict:
    rows = next(s for s in result["sections"] if s["key"] == "not_reached")["rows"]
    return next(r for r in rows if r["group"] == "全部联系对象")


def test_json_pages_the_names_and_a_document_lists_them_all(
    app: Tongxin, people: dict[str, object], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with app.unit() as unit:
        spec, full = run_report(unit, "coverage", YEAR)  # every name read
        spec, lazy = run_report(unit, "coverage", YEAR, lazy=True)
        pages = [report_json(spec, YEAR, lazy, offset=o, limit=2) for o in (0, 2, 4)]
        eager_page = report_json(spec, YEAR, full, offset=2, limit=2)
    everyone = next(r for r in full.sections[1].rows if r["group"] == "全部联系对象")
    assert everyone["names"] == ["艾一", "白二", "蔡三", "丁四", "方五", "高六"]
    assert [_everyone(p)["names"] for p in pages] == [
        ["艾一", "白二"],
        ["蔡三", "丁四"],
        ["方五", "高六"],
    ]
    assert all(_everyone(p)["not_reached"] == 6 for p in pages)
    assert eager_page == pages[1]  # the same page from the names read and from the database
    section = next(s for s in pages[1]["sections"] if s["key"] == "not_reached")
    assert (section["offset"], section["limit"]) == (2, 2)

    assert run(["--db", db_url, "report", "coverage", "--year", "2026", "--json",
                "--offset", "2", "--limit", "2"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out) == pages[1]


def test_county_staff_page_only_their_region(app: Tongxin, people: dict[str, object]) -> None:
    with app.unit() as unit:
        county = acting_for(unit, unit.session.get(Account, people["county"]))
        spec, result = run_report(county, "coverage", YEAR, lazy=True)
        page = report_json(spec, YEAR, result, limit=10)
    assert _everyone(page)["names"] == ["艾一", "白二", "蔡三", "丁四", "方五"]
    assert page["summary"] == {"people": 6, "reached": 1, "share": pytest.approx(1 / 6, abs=1e-4)}


def test_the_workbook_lists_the_names_one_a_row(
    app: Tongxin, people: dict[str, object], tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from crm_core.reports.output import write_report

    with app.unit() as unit:
        spec, result = run_report(unit, "coverage", YEAR)
    path = write_report(spec, YEAR, result, tmp_path / "c.xlsx")
    ws = load_workbook(path)["未联系名单"]
    assert [c.value for c in ws[3]] == ["分组方式", "分组", "未联系名单"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4) if r[0].value]
    everyone = [name for dim, group, name in rows if group == "全部联系对象"]
    assert everyone == ["艾一", "白二", "蔡三", "丁四", "方五", "高六"]
