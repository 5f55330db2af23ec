"""Gaps of issue 12 found by trying the import as an office would (SQLite and
PostgreSQL): ``max_rows`` bounds the data rows, not the header or title rows above them;
the aliases of the config are read everywhere a code or label is, not by the import only."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from crm_core import exporter, i18n
from crm_core.app import Tongxin
from crm_core.config import Config, ImportLimits
from crm_core.errors import ValidationError
from crm_core.importer import LimitError, import_roster
from crm_core.plugins import PluginHost
from crm_core.relation_models import Relation
from crm_core.services import bulk_actions, contacts, contacts_search, relations, tags


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("zh")


HEADER = ["姓名", "性别", "手机"]


def _people(n: int) -> list[list[str]]:
    return [[f"测试{i:03d}", "男", f"1390000{i:04d}"] for i in range(n)]


def _limited(config: Config, db_url: str, plugins: PluginHost, max_rows: int) -> Tongxin:
    limits = ImportLimits(max_rows=max_rows)
    limited = dataclasses.replace(config, import_limits=limits)
    return Tongxin(limited, db_url=db_url, plugins=plugins)


def test_max_rows_counts_the_data_rows_not_the_header_or_the_title_above_it(
    db_url: str, config: Config, plugins: PluginHost, tmp_path: Path
) -> None:
    exact = tmp_path / "exact.csv"
    with exact.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *_people(5)])
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2026年委员名单"])  # a title row above the header
    sheet.append(HEADER)
    for row in _people(5):
        sheet.append(row)
    titled = tmp_path / "titled.xlsx"
    book.save(titled)
    app = _limited(config, db_url, plugins, 5)
    try:
        for path in (exact, titled):
            with app.unit() as unit:
                report = import_roster(unit, path, dry_run=True)
            assert report.totals["create"] == 5, path
        over = tmp_path / "over.csv"
        with over.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([HEADER, *_people(6)])
        with pytest.raises(LimitError, match="limit of 5 rows") as refused, app.unit() as unit:
            import_roster(unit, over)
        assert "max_rows" in str(refused.value)
        sheet.append(["测试999", "女", "13900009999"])
        book.save(titled)
        with pytest.raises(LimitError, match="limit of 5 rows"), app.unit() as unit:
            import_roster(unit, titled)
        with app.unit() as unit:
            assert contacts.list_people(unit, limit=10).total == 0
    finally:
        app.close()


def test_an_alias_of_the_config_is_read_by_every_service_not_only_the_import(
    app: Tongxin,
) -> None:
    # 经开区 is an alias of the 经济技术开发区 of the shipped Yangzhou config.
    with app.unit() as unit:
        zone = unit.config.vocab["regions"].resolve("经开区")
        assert zone is not None and zone.zh == "经济技术开发区"
        committee = unit.config.vocab["committees"].resolve("科教卫体委员会")
        assert committee is not None
        person = contacts.create_person(unit, name="王经开", region="经开区")
        assert person.region == zone.code
        other = contacts.create_person(unit, name="李委员", region="广陵区")
        contacts.update_person(unit, other.id, region=" 扬州经济技术开发区 ")
        assert contacts.get_person(unit, other.id).region == zone.code
        contacts.update_person(unit, other.id, committees=["科教卫体委员会"])
        assert contacts_search.committees_of(unit, other.id) == [committee.code]
        assert contacts_search.resolve_filters(unit, region="开发区") == {"region": zone.code}
        found = contacts_search.search_people(unit, "", region=zone.code).items
        assert {p.name for p in found} == {"王经开", "李委员"}
        third = contacts.create_person(unit, name="赵三", region="广陵区")
        bulk_actions.set_field(unit, [third.id], "region", "经开区")
        assert contacts.get_person(unit, third.id).region == zone.code
        with pytest.raises(ValidationError) as bad:
            contacts.create_person(unit, name="钱四", region="经开")
        assert bad.value.errors[0].value == "经开"


def _links(app: Tongxin) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per name: the 关系 cell items as the export writes them (in Chinese), and the tags."""
    i18n.set_language("zh")
    with app.unit() as unit:
        people = contacts.list_people(unit, limit=100).items
        ids = [p.id for p in people]
        names = {p.id: p.name for p in people}
        rel = relations.relation_cells(unit, ids)
        tag = tags.tags_by_person(unit, ids)
        i18n.set_language("en")
        return (
            {names[i]: sorted(v) for i, v in rel.items()},
            {names[i]: sorted(v) for i, v in tag.items()},
        )


def test_the_tags_and_relations_an_export_writes_import_back(app: Tongxin, tmp_path: Path) -> None:
    with app.unit() as unit:
        zhang = contacts.create_person(unit, name="张三", region="广陵区")
        li = contacts.create_person(unit, name="李四", region="广陵区")
        wang = contacts.create_person(unit, name="王五", region="广陵区")
        contacts.create_person(unit, name="赵六", region="广陵区")
        relations.add_relation(unit, zhang.id, li.id, type="introduced_by")
        relations.add_relation(unit, zhang.id, wang.id, type="spouse")
        relations.add_relation(unit, li.id, wang.id, type="teacher")
        tags.add_person_tags(unit, zhang.id, ["联谊会", "港澳"])
        tags.add_person_tags(unit, wang.id, ["联谊会"])
    before = _links(app)
    assert before[0]["李四"] == ["经其介绍：张三", "老师：王五"]
    exported = tmp_path / "people.xlsx"
    with app.unit() as unit:
        exporter.export_people(unit, exported)
        # Forget the links: the import of the export must give them back.
        for pid in (zhang.id, li.id, wang.id):
            for view in relations.relations_of(unit, pid):
                if unit.session.get(Relation, view.id) is not None:
                    relations.remove_relation(unit, view.id)
        tags.remove_person_tags(unit, zhang.id, ["联谊会", "港澳"])
        tags.remove_person_tags(unit, wang.id, ["联谊会"])
    assert _links(app) == ({}, {})
    with app.unit() as unit:
        report = import_roster(unit, exported)
    assert report.errors == []
    assert {o.name: o.action for o in report.outcomes} == {
        "张三": "update", "李四": "update", "王五": "update", "赵六": "unchanged",
    }  # fmt: skip
    assert _links(app) == before
    with app.unit() as unit:
        again = import_roster(unit, exported)
    assert again.totals["unchanged"] == 4 and _links(app) == before


def test_unknown_relation_types_and_people_found_nowhere_are_cell_errors(
    app: Tongxin, tmp_path: Path
) -> None:
    with app.unit() as unit:
        contacts.create_person(unit, name="张三", region="广陵区")
    sheet = tmp_path / "links.csv"
    with sheet.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["姓名", "性别", "关系", "标签"],
                ["甲一", "男", "配偶：张三", "党外 联谊会；港澳"],
                ["乙二", "女", "舅舅：张三", ""],
                ["丙三", "男", "同事：无此人", "联谊会"],
                ["丁四", "女", "介绍人：甲一；同事：丙三", "、"],
            ]
        )
    with app.unit() as unit:
        report = import_roster(unit, sheet)
    assert [(e.row, e.column, e.value) for e in report.errors] == [
        (3, "关系", "舅舅：张三"),
        (4, "关系", "同事：无此人"),
        (5, "关系", "同事：丙三"),  # 丙三 is refused: nobody to relate with
    ]
    assert "no relation type 舅舅" in report.errors[0].reason
    assert "no person 无此人 in the sheet or the database" in report.errors[1].reason
    assert report.totals["create"] == 1 and report.totals["refuse"] == 3
    assert _links(app) == (
        {"张三": ["配偶：甲一"], "甲一": ["配偶：张三"]},
        {"甲一": ["党外", "港澳", "联谊会"]},
    )
    with app.unit() as unit:
        partial = import_roster(unit, sheet, keep_partial=True)
    assert [(e.row, e.value) for e in partial.dropped] == [(3, "舅舅：张三"), (4, "同事：无此人")]
    assert partial.errors == [] and partial.totals["create"] == 3
    rel, tag = _links(app)
    assert tag["丙三"] == ["联谊会"] and "乙二" not in rel
    assert rel["丁四"] == ["介绍人：甲一", "同事：丙三"]
