"""Tags (issue 18, item 5): free labels on people and interactions, completed by their
beginning, pinyin or initials; `tongxin tags`, `contacts search --tag`; audited; county
staff and confidential talks keep their rules. On both backends."""

from __future__ import annotations

import json

import pytest
from crm_cli.main import run
from sqlalchemy import select

from crm_core.app import Tongxin
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.models import AuditLog
from crm_core.pinyin import phrase_pinyin
from crm_core.services import accounts, contacts, interactions, tags


@pytest.fixture
def tx(db_url: str, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_phrase_pinyin_reads_every_character_as_a_word() -> None:
    assert phrase_pinyin("重点") == ("zhongdian", "zd")
    assert phrase_pinyin("单位") == ("danwei", "dw")  # not the surname 单 (shan)
    assert phrase_pinyin("AI 创业") == ("aichuangye", "acy")


def test_tags_on_people_and_interactions_complete_by_pinyin(app: Tongxin) -> None:
    with app.unit() as unit:
        zhang = contacts.create_person(unit, name="张三").id
        li = contacts.create_person(unit, name="李四").id
        assert tags.add_person_tags(unit, zhang, ["重点", " 书法 ", "重点"]) == ["书法", "重点"]
        tags.add_person_tags(unit, li, ["重点", "中医"])
        call = interactions.log_interaction(unit, kind="call", people=[zhang]).id
        assert tags.add_interaction_tags(unit, call, ["回访"]) == ["回访"]
    with app.unit() as unit:
        assert tags.all_tags(unit)[0] == ("重点", 2)
        assert tags.complete(unit, "zd") == ["重点"]
        assert tags.complete(unit, "zh") == ["重点", "中医"]
        assert tags.complete(unit, "z") == ["重点", "中医"]
        assert tags.complete(unit, "书") == ["书法"]
        assert tags.complete(unit, "hf") == ["回访"]
        assert tags.remove_person_tags(unit, zhang, ["书法"]) == ["重点"]
        page = contacts.search_people(unit, "", also=[tags.tag_filter(unit, "中医")])
        assert [p.name for p in page.items] == ["李四"]
    for bad, message in ((["a,b"], "commas"), (["长" * 31], "30"), ([" "], "at least one"),
                         (["x\x07"], "tag")):  # fmt: skip
        with pytest.raises(ValidationError, match=message), app.unit() as unit:
            tags.add_person_tags(unit, zhang, bad)
    with pytest.raises(ValidationError, match="not a tag"), app.unit() as unit:
        tags.remove_person_tags(unit, zhang, ["没有的"])
    with app.unit() as unit:
        actions = [
            (e.entity, e.action)
            for e in unit.session.scalars(
                select(AuditLog).where(AuditLog.entity.in_(["person_tag", "interaction_tag"]))
            )
        ]
        assert actions.count(("person_tag", "create")) == 4
        assert actions.count(("person_tag", "delete")) == 1
        assert ("interaction_tag", "create") in actions


def test_the_tags_of_a_confidential_talk_and_of_another_county_stay_hidden(
    app: Tongxin,
) -> None:
    with app.unit() as unit:
        accounts.create_account(unit, username="chair", role="leader")
        accounts.create_account(unit, username="xiaoli", role="staff")
        accounts.create_account(unit, username="gl", role="county_staff", region_scope="guangling")
        zhang = contacts.create_person(unit, name="张三", region="guangling").id
        li = contacts.create_person(unit, name="李四", region="hanjiang").id
        tags.add_person_tags(unit, li, ["邗江重点"])
    with app.unit("chair") as unit:
        talk = interactions.log_interaction(
            unit, kind="meeting", people=[zhang], confidential=True, summary="谈话"
        ).id
        tags.add_interaction_tags(unit, talk, ["思想动态"])
    with app.unit("xiaoli") as unit:
        assert tags.interaction_tags(unit, talk) == []
        assert "思想动态" not in dict(tags.all_tags(unit))
        with pytest.raises(PermissionDenied):
            tags.add_interaction_tags(unit, talk, ["x"])
    with app.unit("chair") as unit:
        assert tags.interaction_tags(unit, talk) == ["思想动态"]
    with app.unit("gl") as unit:
        assert "邗江重点" not in dict(tags.all_tags(unit))
        with pytest.raises(PermissionDenied):
            tags.add_person_tags(unit, li, ["x"])
        tags.add_person_tags(unit, zhang, ["广陵"])


def test_the_cli_adds_lists_completes_and_searches(tx) -> None:  # type: ignore[no-untyped-def]
    tx("contacts", "add", "--name", "张三", "--tag", "重点")
    tx("contacts", "add", "--name", "李四")
    code, out, err = tx("tags", "add", "书法", "中医", "--person", "李四", "--json")
    assert code == 0, err
    assert json.loads(out)["tags"] == sorted(["书法", "中医"])
    code, out, _ = tx("tags", "list", "--person", "李四", "--json")
    assert set(json.loads(out)) == {"书法", "中医"}
    code, out, _ = tx("tags", "list", "--prefix", "zd", "--json")
    assert json.loads(out) == ["重点"]
    code, out, _ = tx("tags", "list", "--json")
    assert {t["tag"]: t["count"] for t in json.loads(out)} == {"重点": 1, "书法": 1, "中医": 1}
    code, out, _ = tx("contacts", "search", "", "--tag", "书法", "--json")
    assert [r["name"] for r in json.loads(out)["results"]] == ["李四"]
    code, out, _ = tx("contacts", "show", "李四", "--json")
    assert set(json.loads(out)["tags"]) == {"书法", "中医"}
    code, out, _ = tx("tags", "remove", "书法", "--person", "李四", "--json")
    assert json.loads(out)["tags"] == ["中医"]
    code, _out, err = tx("tags", "add", "x")
    assert code == 1 and "--person" in err
