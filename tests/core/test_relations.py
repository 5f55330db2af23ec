"""Relationships (issue 18, item 1): typed and two-way, from config, with dates; shown
from both sides, searchable, exported, kept by merges and restored by their undo, and
confined to a county clerk's region. On both backends."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from crm_cli.main import run
from openpyxl import load_workbook
from sqlalchemy import select

from crm_core import exporter
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.errors import ConfigError, PermissionDenied, ValidationError
from crm_core.models import AuditLog
from crm_core.services import (
    accounts,
    contacts,
    duplicates_undo,
    organisations,
    privacy,
    relations,
    tags,
)


@pytest.fixture
def tx(db_url: str, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """`tongxin --db URL ARGS...` in-process: (exit code, stdout, stderr)."""

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def _labels(unit: Any, person: uuid.UUID) -> list[tuple[str, str]]:
    return [(v.label, v.other_name) for v in relations.relations_of(unit, person)]


def test_a_relation_reads_from_both_sides_with_its_two_labels(app: Tongxin) -> None:
    with app.unit() as unit:
        zhang = contacts.create_person(unit, name="张三").id
        li = contacts.create_person(unit, name="李四").id
        wang = contacts.create_person(unit, name="王五").id
        relations.add_relation(unit, zhang, li, type="introduced_by")
        relations.add_relation(
            unit, zhang, wang, type="配偶", start_on=date(1990, 5, 1)
        )  # a label names the type too
        relations.add_relation(unit, li, wang, type="teacher")
    with app.unit() as unit:
        assert _labels(unit, zhang) == [("介绍人", "李四"), ("配偶", "王五")]
        assert _labels(unit, li) == [("经其介绍", "张三"), ("老师", "王五")]
        assert _labels(unit, wang) == [("配偶", "张三"), ("学生", "李四")]
        spouse = relations.relations_of(unit, wang)[0]
        assert relations.relation_json(spouse)["start_on"] == "1990-05-01"
        assert relations.relation_json(spouse)["id"] == str(zhang)


def test_bad_relations_are_refused_naming_the_field(app: Tongxin) -> None:
    with app.unit() as unit:
        zhang = contacts.create_person(unit, name="张三").id
        li = contacts.create_person(unit, name="李四").id
        relations.add_relation(unit, zhang, li, type="spouse")
        org = organisations.create_organisation(unit, name="民盟扬州市委", kind="other").id
    cases: list[tuple[dict[str, Any], str]] = [
        ({"person_id": zhang, "other_id": li, "type": "enemy"}, "type='enemy'"),
        ({"person_id": li, "other_id": zhang, "type": "spouse"}, "related so already"),
        ({"person_id": zhang, "other_id": zhang, "type": "colleague"}, "themselves"),
        ({"person_id": zhang, "other_id": li, "type": "colleague",
          "start_on": date(2020, 1, 1), "end_on": date(2019, 1, 1)}, "end_on"),
        ({"person_id": zhang, "other_id": li, "type": "heads"}, "organisation"),
        ({"person_id": zhang, "organisation_id": org, "type": "colleague"}, "two people"),
    ]  # fmt: skip
    for values, message in cases:
        with pytest.raises(ValidationError, match=message), app.unit() as unit:
            relations.add_relation(unit, **values)
    with app.unit() as unit:
        relations.add_relation(unit, zhang, organisation_id=org, type="heads")
        assert _labels(unit, zhang) == [("配偶", "李四"), ("负责的单位", "民盟扬州市委")]


def test_types_come_from_config_and_a_bad_type_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "tongxin.toml"
    path.write_text('[relations.types.neighbour]\nzh = "邻居"\n', "utf-8")
    config = load_config(path)
    assert config.sections.relations.types["neighbour"].zh == "邻居"
    assert "introduced_by" in config.sections.relations.types  # the defaults stay
    path.write_text('[relations.types.neighbour]\nzh = "邻居"\ntarget = "dog"\n', "utf-8")
    with pytest.raises(ConfigError, match="target"):
        load_config(path)


def test_the_cli_relates_lists_searches_and_removes(tx) -> None:  # type: ignore[no-untyped-def]
    assert tx("contacts", "add", "--name", "李四")[0] == 0
    code, out, err = tx("contacts", "add", "--name", "张三", "--introduced-by", "李四", "--json")
    assert code == 0, err
    zhang = json.loads(out)
    assert [(r["label"], r["name"]) for r in zhang["relations"]] == [("介绍人", "李四")]
    tx("contacts", "add", "--name", "王五")
    code, out, err = tx("relations", "add", "王五", "李四", "--type", "colleague", "--json")
    assert code == 0, err
    assert json.loads(out)["label"] == "同事"
    code, out, _ = tx("relations", "list", "李四", "--json")
    items = json.loads(out)
    assert [(i["label"], i["name"]) for i in items] == [("经其介绍", "张三"), ("同事", "王五")]
    assert items[0]["id"] == zhang["id"]  # the other person's id
    code, out, _ = tx("contacts", "show", "李四")
    assert "经其介绍" in out and "张三" in out and "同事" in out
    code, out, _ = tx("contacts", "search", "", "--related-to", "李四", "--json")
    assert {r["name"] for r in json.loads(out)["results"]} == {"张三", "王五"}
    code, out, _ = tx("contacts", "search", "", "--related-to", "李四", "--relation-type",
                      "introduced_by", "--json")  # fmt: skip
    assert [r["name"] for r in json.loads(out)["results"]] == ["张三"]
    code, out, _ = tx("contacts", "search", "", "--relation-type", "同事", "--json")
    assert {r["name"] for r in json.loads(out)["results"]} == {"李四", "王五"}
    code, out, err = tx("relations", "remove", "李四", "王五", "--json")
    assert code == 0, err
    code, out, _ = tx("relations", "list", "王五", "--json")
    assert json.loads(out) == []
    code, _out, err = tx("relations", "add", "王五", "李四", "--type", "cousin")
    assert code == 1 and "type = 'cousin'" in err


def test_relations_are_audited(app: Tongxin) -> None:
    with app.unit() as unit:
        zhang = contacts.create_person(unit, name="张三").id
        li = contacts.create_person(unit, name="李四").id
        rid = relations.add_relation(unit, zhang, li, type="colleague").id
    with app.unit() as unit:
        relations.remove_relation(unit, rid)
    with app.unit() as unit:
        entries = unit.session.scalars(
            select(AuditLog).where(AuditLog.entity == "relation").order_by(AuditLog.at)
        ).all()
        assert [e.action for e in entries] == ["create", "delete"]
        assert entries[0].after and entries[0].after["type"] == "colleague"


def test_a_county_clerk_relates_and_sees_only_their_region(app: Tongxin) -> None:
    with app.unit() as unit:
        accounts.create_account(unit, username="gl", role="county_staff", region_scope="guangling")
        zhang = contacts.create_person(unit, name="张三", region="guangling").id
        zhao = contacts.create_person(unit, name="赵六", region="guangling").id
        li = contacts.create_person(unit, name="李四", region="hanjiang").id
        relations.add_relation(unit, zhang, li, type="introduced_by")
    with app.unit("gl") as unit:
        relations.add_relation(unit, zhang, zhao, type="colleague")
        assert _labels(unit, zhang) == [("同事", "赵六")]  # 李四 is not shown
        with pytest.raises(PermissionDenied):
            relations.add_relation(unit, zhao, li, type="spouse")
        with pytest.raises(PermissionDenied):
            relations.relations_of(unit, li)
        page = contacts.search_people(unit, "", also=[relations.related_filter(unit, zhang)])
        assert [p.name for p in page.items] == ["赵六"]
    with app.unit() as unit:
        assert _labels(unit, zhang) == [("介绍人", "李四"), ("同事", "赵六")]


def test_exports_hold_relations_and_tags(app: Tongxin, admin: str, tmp_path: Path) -> None:
    with app.unit() as unit:
        zhang = contacts.create_person(unit, name="张三").id
        li = contacts.create_person(unit, name="李四").id
        relations.add_relation(unit, zhang, li, type="introduced_by")
        tags.add_person_tags(unit, zhang, ["重点", "书法"])
    with app.unit() as unit:
        exporter.export_people(unit, tmp_path / "p.xlsx")
    sheet = load_workbook(tmp_path / "p.xlsx").active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    head = rows[0]
    by_name = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    assert by_name["张三"]["关系"] == "介绍人：李四" and by_name["张三"]["标签"] == "书法、重点"
    assert by_name["李四"]["关系"] == "经其介绍：张三" and by_name["李四"]["标签"] is None
    with app.unit(admin) as unit:
        doc = privacy.export_person(unit, li)
        assert [(r["label"], r["name"]) for r in doc["relations"]] == [("经其介绍", "张三")]
        assert privacy.export_person(unit, zhang)["tags"] == ["书法", "重点"]


def test_a_merge_keeps_both_sides_relations_and_the_undo_restores_them(
    app: Tongxin, admin: str
) -> None:
    with app.unit(admin) as unit:
        keep = contacts.create_person(unit, name="张三").id
        drop = contacts.create_person(unit, name="张三").id
        li = contacts.create_person(unit, name="李四").id
        wang = contacts.create_person(unit, name="王五").id
        relations.add_relation(unit, keep, li, type="colleague")
        relations.add_relation(unit, li, drop, type="colleague")  # the same, other way
        relations.add_relation(unit, drop, wang, type="introduced_by")
        relations.add_relation(unit, keep, drop, type="spouse")  # between the two: dropped
        tags.add_person_tags(unit, keep, ["重点"])
        tags.add_person_tags(unit, drop, ["书法", "重点"])
        before = {p: _labels(unit, p) for p in (keep, drop, li, wang)}
    with app.unit(admin) as unit:
        contacts.merge_people(unit, keep, drop)
    with app.unit(admin) as unit:
        assert _labels(unit, keep) == [("介绍人", "王五"), ("同事", "李四")]
        assert _labels(unit, li) == [("同事", "张三")]
        assert _labels(unit, wang) == [("经其介绍", "张三")]
        assert tags.person_tags(unit, keep) == ["书法", "重点"]
        entry = unit.session.scalars(select(AuditLog).where(AuditLog.action == "merge")).one()
        duplicates_undo.unmerge(unit, entry.id)
    with app.unit(admin) as unit:
        assert {p: _labels(unit, p) for p in (keep, drop, li, wang)} == before
        assert tags.person_tags(unit, keep) == ["重点"]
        assert tags.person_tags(unit, drop) == ["书法", "重点"]


def test_anonymising_a_person_scrubs_their_name_from_relation_notes(
    app: Tongxin, admin: str
) -> None:
    with app.unit() as unit:
        zhang = contacts.create_person(unit, name="张三丰").id
        li = contacts.create_person(unit, name="李四").id
        relations.add_relation(unit, li, zhang, type="introduced_by", notes="张三丰推荐")
    with app.unit(admin) as unit:
        privacy.anonymise(unit, zhang)
    with app.unit(admin) as unit:
        [view] = relations.relations_of(unit, li)
        assert view.other_name == "已匿名" and view.relation.notes == "已匿名推荐"
