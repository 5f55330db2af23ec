"""Tests of crm_core.services.contacts: people the office keeps in touch with.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_core import clock, i18n
from crm_core.app import Tongxin
from crm_core.errors import Ambiguous, Conflict, NotFound, ValidationError
from crm_core.models import (
    Assignment,
    AuditLog,
    FollowUp,
    InteractionParticipant,
    Person,
    PersonCategory,
    PersonCommittee,
)
from crm_core.services import accounts, assignments, contacts, followups, interactions
from crm_core.unit import Unit


def count(unit: Unit, model: Any) -> int:
    return unit.session.scalar(select(func.count()).select_from(model)) or 0


def add(unit: Unit, name: str, **values: Any) -> uuid.UUID:
    return contacts.create_person(unit, name=name, **values).id


def names(page: contacts.Page) -> list[str]:
    return [p.name for p in page.items]


# -- creating --------------------------------------------------------------------------


def test_create_takes_labels_or_codes_and_stores_codes(app: Tongxin) -> None:
    with app.unit() as unit:
        by_label = add(
            unit,
            "张三",
            party="民盟",
            sector="经济界",
            region="广陵区",
            categories=["党外知识分子", "非公有制经济人士"],
            committees=["提案委员会"],
        )
        by_code = add(
            unit,
            "李四",
            party="cdl",
            sector="economy",
            region="guangling",
            categories=["non_party_intellectual", "private_economy", ""],  # "a、b、" split
            committees=["proposals"],
        )
    with app.unit() as unit:
        for pid in (by_label, by_code):
            person = contacts.get_person(unit, pid)
            assert (person.party, person.sector, person.region) == ("cdl", "economy", "guangling")
            assert contacts.categories_of(unit, pid) == [
                "non_party_intellectual",
                "private_economy",
            ]
            assert contacts.committees_of(unit, pid) == ["proposals"]


def test_create_derives_pinyin_and_initials_from_the_normalised_name(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = add(unit, "　张  三 ")
        person = contacts.get_person(unit, pid)
        assert (person.name, person.name_pinyin, person.name_initials) == ("张三", "zhangsan", "zs")
        contacts.update_person(unit, pid, name="单雄信")
    with app.unit() as unit:
        person = contacts.get_person(unit, pid)
        assert (person.name, person.name_pinyin, person.name_initials) == (
            "单雄信",
            "shanxiongxin",
            "sxx",
        )


def test_create_normalises_phones_and_keeps_their_digits_for_search(app: Tongxin) -> None:
    with app.unit() as unit:
        a = add(unit, "张三", mobile="+86 138-1234-5678", phones=["(0514) 8733 1234", " "])
        b = add(unit, "李四", mobile="１３９１２３４５６７８", phones=["0086 137 0000 1111"])
    with app.unit() as unit:
        p = contacts.get_person(unit, a)
        assert p.mobile == "+8613812345678"
        assert p.phones == ["+8651487331234"]
        assert p.phone_digits == "13812345678 051487331234"
        q = contacts.get_person(unit, b)
        assert q.mobile == "+8613912345678"
        assert q.phones == ["+8613700001111"]
        assert q.phone_digits == "13912345678 13700001111"
        contacts.update_person(unit, a, mobile="13600000000")
    with app.unit() as unit:
        assert contacts.get_person(unit, a).phone_digits == "13600000000 051487331234"
        assert names(contacts.search_people(unit, "13812345678")) == []
        assert names(contacts.search_people(unit, "13600000000")) == ["张三"]


def test_create_reads_gender_and_birth_as_typed(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = add(unit, "王芳", gender="女", birth="1965-03", membership="standing")
        person = contacts.get_person(unit, pid)
        assert person.gender == "female"
        assert (person.birth_year, person.birth_month) == (1965, 3)
        assert contacts.person_json(unit, person)["birth"] == "1965-03"
        assert person.membership == "standing"


BAD_VALUES = [
    pytest.param({"name": "张三", "gender": "未知"}, "gender", "未知", id="gender"),
    pytest.param({"name": "张三", "birth": "1965-13"}, "birth", "1965-13", id="birth-month-13"),
    pytest.param({"name": "张三", "birth": "65年"}, "birth", "65年", id="birth-format"),
    pytest.param({"name": "张三", "mobile": "138123456"}, "mobile", "138123456", id="short-mobile"),
    pytest.param({"name": "张三", "sector": "火星界"}, "sector", "火星界", id="unknown-sector"),
    pytest.param({"name": "张三", "party": "火星党"}, "party", "火星党", id="unknown-party"),
    pytest.param({"name": "张三", "region": "火星区"}, "region", "火星区", id="unknown-region"),
    pytest.param(
        {"name": "张三", "categories": ["党外知识分子", "外星人"]},
        "categories",
        "外星人",
        id="unknown-category",
    ),
    pytest.param(
        {"name": "张三", "committees": ["火星委员会"]},
        "committees",
        "火星委员会",
        id="unknown-committee",
    ),
    pytest.param({"name": ""}, "name", "", id="empty-name"),
    pytest.param({"name": "　 "}, "name", "　 ", id="blank-name"),
    pytest.param({"name": "张三", "nickname": "小张"}, "nickname", "小张", id="unknown-field"),
    pytest.param({"name": "张三", "email": "zhang@"}, "email", "zhang@", id="email"),
]


@pytest.mark.parametrize(("values", "field", "value"), BAD_VALUES)
def test_refused_create_names_field_and_value_and_writes_nothing(
    app: Tongxin, values: dict[str, Any], field: str, value: Any
) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            contacts.create_person(unit, **values)
        assert [(e.field, e.value) for e in caught.value.errors] == [(field, value)]
        assert field in str(caught.value)
        # Nothing of the refused person is pending in this unit...
        for model in (Person, PersonCategory, PersonCommittee, AuditLog):
            assert count(unit, model) == 0, model
        # ...and the unit goes on: what it commits is only what it was asked to keep.
        add(unit, "李四")
    with app.unit() as unit:
        assert [p.name for p in unit.session.scalars(select(Person))] == ["李四"]
        assert count(unit, PersonCategory) == 0
        assert count(unit, PersonCommittee) == 0


def test_refusal_says_why_in_english_and_shows_it_in_chinese(app: Tongxin) -> None:
    """The reason is English in the message (logs, JSON) and Chinese in ``text``, what a
    user sees under the default language; a reason with a value in it keeps the value."""
    assert i18n.language() == "zh"
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            contacts.create_person(unit, name="张三", mobile="12345")
        [error] = caught.value.errors
        assert (error.field, error.value) == ("mobile", "12345")
        assert error.message == "a mobile number has 11 digits, this has 5"
        assert error.text == "手机号应为 11 位，这里是 5 位"
        assert caught.value.text == "mobile: 手机号应为 11 位，这里是 5 位"
        with pytest.raises(ValidationError) as caught:  # a landline is no mobile number
            contacts.create_person(unit, name="张三", mobile="0514-8733-1234")
        [error] = caught.value.errors
        assert error.message == "not a mobile number: 0514 8733 1234 is a landline"
        assert error.text == "不是手机号码：0514 8733 1234 是固定电话"
        with pytest.raises(ValidationError) as caught:
            contacts.create_person(unit, name="张三", birth="1965-13")
        [error] = caught.value.errors
        assert error.message == "month 13 is not 1-12"
        assert error.text == "月份 13 不在 1–12 之间"


def test_refused_update_leaves_the_person_as_it_was(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = add(unit, "张三", sector="经济界", categories=["党外知识分子"])
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            contacts.update_person(unit, pid, name="李四", title="教授", sector="火星界")
        assert caught.value.errors[0].field == "sector"
        with pytest.raises(ValidationError) as caught:
            contacts.update_person(unit, pid, title="教授", categories=["外星人"])
        assert caught.value.errors[0].field == "categories"
        person = contacts.get_person(unit, pid)
        assert (person.name, person.title, person.sector) == ("张三", None, "economy")
        # The unit commits normally after the caller handled the refusals.
    with app.unit() as unit:
        person = contacts.get_person(unit, pid)
        assert (person.name, person.title, person.sector, person.version) == (
            "张三",
            None,
            "economy",
            1,
        )
        assert contacts.categories_of(unit, pid) == ["non_party_intellectual"]


# -- concurrent edits ------------------------------------------------------------------


def test_update_with_a_stale_expected_version_is_a_conflict(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = add(unit, "张三")
        assert contacts.get_person(unit, pid).version == 1
    with app.unit() as unit:
        assert contacts.update_person(unit, pid, expected_version=1, title="教授").version == 2
    with pytest.raises(Conflict, match="当前为第 2 版"), app.unit() as unit:
        contacts.update_person(unit, pid, expected_version=1, title="主任")
    with app.unit() as unit:
        person = contacts.get_person(unit, pid)
        assert (person.title, person.version) == ("教授", 2)


def test_two_units_editing_the_same_person_the_second_is_refused(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = add(unit, "张三")
    # Two users open the same record; the second saves after the first committed.
    with pytest.raises(Conflict, match="他人"), app.unit() as first:
        held = contacts.get_person(first, pid)
        assert held.version == 1
        with app.unit() as second:
            contacts.update_person(second, pid, title="教授")
        contacts.update_person(first, pid, title="主任")
    with app.unit() as unit:
        person = contacts.get_person(unit, pid)
        assert (person.title, person.version) == ("教授", 2)


# -- searching -------------------------------------------------------------------------


def test_initials_rank_exact_before_longer(app: Tongxin) -> None:
    with app.unit() as unit:
        for name in ("张三丰", "赵四", "张三", "周杰"):
            add(unit, name)
    with app.unit() as unit:
        page = contacts.search_people(unit, "zs")
        assert names(page) == ["张三", "赵四", "张三丰"]
        assert page.total == 3
        assert names(contacts.search_people(unit, "ZS")) == ["张三", "赵四", "张三丰"]
        assert names(contacts.search_people(unit, "ｚｓ")) == ["张三", "赵四", "张三丰"]


def test_pinyin_exact_then_pinyin_prefix_then_initials_prefix(app: Tongxin) -> None:
    with app.unit() as unit:
        for name in ("张三", "张三丰", "赵四", "周浩", "曾浩祥", "李明"):
            add(unit, name)
    with app.unit() as unit:
        assert names(contacts.search_people(unit, "zhangsan")) == ["张三", "张三丰"]
        assert names(contacts.search_people(unit, "zhang")) == ["张三", "张三丰"]
        # 周浩's initials are exactly "zh"; 张三, 张三丰, 赵四 spell "zh..." in pinyin;
        # 曾浩祥 (zeng hao xiang) only has initials starting with "zh".
        assert names(contacts.search_people(unit, "zh")) == [
            "周浩",
            "张三",
            "张三丰",
            "赵四",
            "曾浩祥",
        ]
        assert names(contacts.search_people(unit, "zhangsanfengx")) == []


def test_chinese_exact_name_then_prefix_then_substring_then_employer(app: Tongxin) -> None:
    with app.unit() as unit:
        add(unit, "王五", employer="张三食品有限公司")
        add(unit, "小张三")
        add(unit, "张三丰")
        add(unit, "张三")
        add(unit, "李四", employer="扬州大学")
    with app.unit() as unit:
        page = contacts.search_people(unit, "张三")
        assert names(page) == ["张三", "张三丰", "小张三", "王五"]
        assert page.total == 4
        # A name typed with a space is still the name (the employer is matched as typed).
        assert names(contacts.search_people(unit, "张 三")) == ["张三", "张三丰", "小张三"]


def test_search_by_employer_or_title_substring(app: Tongxin) -> None:
    with app.unit() as unit:
        add(unit, "王五", employer="扬州大学文学院", title="院长")
        add(unit, "李四", employer="扬州市第一人民医院", title="主任医师")
        add(unit, "赵六", employer="江都区农业农村局")
    with app.unit() as unit:
        assert names(contacts.search_people(unit, "扬州大学")) == ["王五"]
        assert names(contacts.search_people(unit, "扬州")) == ["李四", "王五"]
        assert names(contacts.search_people(unit, "医师")) == ["李四"]
        assert names(contacts.search_people(unit, "南京")) == []


def test_search_by_phone_digits_exact_mobile_first(app: Tongxin) -> None:
    with app.unit() as unit:
        add(unit, "赵六", mobile="13812345678")
        add(unit, "艾青", mobile="13900000000", phones=["13812345678"])
        add(unit, "孙七", phones=["0514-87331234"])
    with app.unit() as unit:
        # 艾青 sorts first by pinyin, but 赵六's mobile is the number itself.
        assert names(contacts.search_people(unit, "13812345678")) == ["赵六", "艾青"]
        assert names(contacts.search_people(unit, "5678")) == ["艾青", "赵六"]
        assert names(contacts.search_people(unit, "138 1234")) == ["艾青", "赵六"]
        assert names(contacts.search_people(unit, "8733-1234")) == ["孙七"]
        assert names(contacts.search_people(unit, "999")) == []


def test_polyphonic_surname_is_found_by_its_surname_reading(app: Tongxin) -> None:
    with app.unit() as unit:
        add(unit, "单雄信")
        add(unit, "丹青")
    with app.unit() as unit:
        assert names(contacts.search_people(unit, "sxx")) == ["单雄信"]
        assert names(contacts.search_people(unit, "shanxiongxin")) == ["单雄信"]
        assert names(contacts.search_people(unit, "shan")) == ["单雄信"]
        assert names(contacts.search_people(unit, "dxx")) == []
        assert names(contacts.search_people(unit, "dan")) == ["丹青"]


def test_compound_surname_is_found_by_one_initial_per_character(app: Tongxin) -> None:
    with app.unit() as unit:
        add(unit, "欧阳修")
        add(unit, "欧文")
    with app.unit() as unit:
        assert names(contacts.search_people(unit, "oy")) == ["欧阳修"]
        assert names(contacts.search_people(unit, "oyx")) == ["欧阳修"]
        assert names(contacts.search_people(unit, "ouyang")) == ["欧阳修"]
        assert names(contacts.search_people(unit, "欧阳")) == ["欧阳修"]


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑"


def test_paging_gives_every_person_once_in_a_stable_order(app: Tongxin) -> None:
    with app.unit() as unit:
        for surname in SURNAMES:
            add(unit, f"{surname}明")
        add(unit, "李明", employer="扬州大学")  # same pinyin as another: the id breaks the tie
        add(unit, "李明", employer="扬州职业大学")
    with app.unit() as unit:
        everyone = contacts.list_people(unit, limit=100)
        assert everyone.total == len(SURNAMES) + 2
        keys = [(p.name_pinyin, p.id.hex) for p in everyone.items]
        assert keys == sorted(keys)
        pages = [contacts.list_people(unit, limit=10, offset=o) for o in (0, 10, 20)]
        assert [len(p.items) for p in pages] == [10, 10, 3]
        assert {p.total for p in pages} == {23}
        assert [p.id for page in pages for p in page.items] == [p.id for p in everyone.items]
        again = contacts.list_people(unit, limit=10, offset=10)
        assert [p.id for p in again.items] == [p.id for p in pages[1].items]
        searched = contacts.search_people(unit, "明", limit=5, offset=5)
        assert searched.total == 23
        assert [p.id for p in searched.items] == [p.id for p in everyone.items[5:10]]
        assert contacts.list_people(unit, limit=10, offset=30).items == []


def test_filters_narrow_lists_and_searches(app: Tongxin) -> None:
    with app.unit() as unit:
        add(
            unit,
            "张三",
            categories=["党外知识分子"],
            sector="经济界",
            party="民盟",
            committees=["提案委员会"],
            region="广陵区",
            membership="member",
        )
        add(
            unit,
            "李四",
            categories=["非公有制经济人士"],
            sector="教育界",
            party="九三学社",
            committees=["经济委员会"],
            region="邗江区",
            membership="standing",
        )
        add(
            unit,
            "王五",
            categories=["党外知识分子", "非公有制经济人士"],
            sector="经济界",
            party="民盟",
            committees=["提案委员会", "经济委员会"],
            region="广陵区",
        )
        add(unit, "赵六", status="inactive")

    def listed(**filters: Any) -> set[str]:
        with app.unit() as unit:
            return {p.name for p in contacts.list_people(unit, **filters).items}

    assert listed() == {"张三", "李四", "王五", "赵六"}
    assert listed(category="non_party_intellectual") == {"张三", "王五"}
    assert listed(category="private_economy", region="guangling") == {"王五"}
    assert listed(sector="economy") == {"张三", "王五"}
    assert listed(party="jiusan") == {"李四"}
    assert listed(committee="economy") == {"李四", "王五"}
    assert listed(region="hanjiang") == {"李四"}
    assert listed(membership="standing") == {"李四"}
    assert listed(membership="none") == {"王五", "赵六"}
    assert listed(status="inactive") == {"赵六"}
    assert listed(category="religious") == set()
    with app.unit() as unit:
        assert names(contacts.search_people(unit, "w", category="private_economy")) == ["王五"]
        assert names(contacts.search_people(unit, "zs", party="jiusan")) == []


# -- resolving -------------------------------------------------------------------------


def test_resolve_a_unique_person_by_name_pinyin_initials_phone_or_id(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = add(unit, "李四", mobile="13812345678")
        add(unit, "张三")
    with app.unit() as unit:
        for ref in ("李四", " 李四 ", "lisi", "ls", "13812345678", str(pid), f" {pid} "):
            assert contacts.resolve_person(unit, ref).id == pid, ref


def test_resolve_by_the_short_id_every_listing_shows(app: Tongxin) -> None:
    # `contacts search` and a "which one?" answer show `[c1ed8920]`: that is a reference.
    with app.unit() as unit:
        pid = add(unit, "张三", employer="扬州大学")
        other = add(unit, "张三", employer="广陵区人民医院")
    with app.unit() as unit:
        with pytest.raises(Ambiguous) as caught:
            contacts.resolve_person(unit, "张三")
        short = str(pid)[:8]
        assert any(f"[{short}]" in c for c in caught.value.candidates)
        for ref in (short, short.upper(), str(pid)[:13], str(pid).replace("-", "")[:20]):
            assert contacts.resolve_person(unit, ref).id == pid, ref
        assert contacts.resolve_person(unit, str(other)[:8]).id == other
        with pytest.raises(NotFound):
            contacts.resolve_person(unit, "0000000f")  # hex, nobody's id, no one's text
        with pytest.raises(NotFound):
            contacts.resolve_person(unit, str(pid)[:7])  # too short to be an id: text


def test_resolve_prefers_the_one_exact_match_over_longer_ones(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = add(unit, "张三")
        add(unit, "张三丰")
    with app.unit() as unit:
        assert contacts.resolve_person(unit, "zs").id == pid
        assert contacts.resolve_person(unit, "张三").id == pid
        assert contacts.resolve_person(unit, "张三丰").name == "张三丰"


def test_resolve_an_ambiguous_name_lists_the_candidates(app: Tongxin) -> None:
    with app.unit() as unit:
        add(unit, "张三", employer="扬州大学", title="教授")
        add(unit, "张三", employer="广陵区人民医院")
        add(unit, "张三丰")
    with app.unit() as unit:
        with pytest.raises(Ambiguous) as caught:
            contacts.resolve_person(unit, "张三")
        candidates = caught.value.candidates
        assert len(candidates) == 3
        assert any("扬州大学 教授" in c for c in candidates[:2])
        assert any("广陵区人民医院" in c for c in candidates[:2])
        assert candidates[2] == "… (3 in all)"
        assert "扬州大学" in str(caught.value)
        with pytest.raises(Ambiguous) as caught:
            contacts.resolve_person(unit, "zhang")
        assert len(caught.value.candidates) == 3


def test_resolve_nothing_is_not_found(app: Tongxin) -> None:
    with app.unit() as unit:
        add(unit, "张三")
    with app.unit() as unit:
        for ref in ("李四", "lisi", str(uuid.uuid4()), "13900000000"):
            with pytest.raises(NotFound):
                contacts.resolve_person(unit, ref)


# -- merging ---------------------------------------------------------------------------


def test_merge_moves_everything_to_the_kept_record(app: Tongxin, admin: str) -> None:
    clock.freeze(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    with app.unit(admin) as unit:
        keeper = accounts.create_account(unit, username="keeper", display_name="王主席")
        keep = add(
            unit,
            "张三",
            employer="扬州大学",
            mobile="13812345678",
            categories=["党外知识分子"],
            committees=["提案委员会"],
            notes="老委员",
            extra={"source": "roster", "rank": 1},
        )
        drop = add(
            unit,
            "张三",
            employer="扬州职业大学",
            title="教授",
            gender="男",
            birth="1965-03",
            mobile="13900000000",
            phones=["0514-87331234"],
            categories=["党外知识分子", "非公有制经济人士"],
            committees=["经济委员会"],
            notes="导入的重复记录",
            extra={"source": "excel", "wechat": "zs1965"},
        )
        other = add(unit, "李四")
        shared = interactions.log_interaction(
            unit, kind="meeting", people=[keep, drop, other], start=datetime(2026, 2, 1, tzinfo=UTC)
        )
        only_drop = interactions.log_interaction(unit, kind="call", people=[drop])
        fu = followups.raise_follow_up(unit, title="路灯不亮", person_id=drop)
        asg = assignments.assign(unit, keeper_id=keeper.id, contact_id=drop)
        linked = accounts.create_account(unit, username="zs", display_name="张三", person_id=drop)
        shared_id, only_drop_id, fu_id, asg_id, linked_id = (
            shared.id,
            only_drop.id,
            fu.id,
            asg.id,
            linked.id,
        )

    with app.unit(admin) as unit:
        kept = contacts.merge_people(unit, keep, drop)
        assert kept.id == keep

    with app.unit() as unit:
        kept = contacts.get_person(unit, keep)
        dropped = contacts.get_person(unit, drop)
        # Kept fields win; missing ones are filled from the duplicate.
        assert kept.employer == "扬州大学"
        assert kept.mobile == "+8613812345678"
        assert (kept.title, kept.gender, kept.birth_year, kept.birth_month) == (
            "教授",
            "male",
            1965,
            3,
        )
        assert kept.phones == ["+8613900000000", "+8651487331234"]
        assert kept.notes == "老委员\n导入的重复记录"
        assert kept.extra == {"source": "roster", "rank": 1, "wechat": "zs1965"}
        assert contacts.categories_of(unit, keep) == ["non_party_intellectual", "private_economy"]
        assert contacts.committees_of(unit, keep) == ["economy", "proposals"]
        # The duplicate stays, pointing at the kept record, with no links of its own.
        assert dropped.status == "merged"
        assert dropped.merged_into_id == keep
        assert contacts.categories_of(unit, drop) == []
        assert contacts.committees_of(unit, drop) == []
        # History moved; the shared interaction has the kept person once.
        assert [i.id for i in interactions.timeline(unit, keep)] == [only_drop_id, shared_id]
        assert interactions.timeline(unit, drop) == []
        shared_people = unit.session.scalars(
            select(InteractionParticipant.person_id).where(
                InteractionParticipant.interaction_id == shared_id,
                InteractionParticipant.person_id.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
        assert sorted(map(str, shared_people)) == sorted([str(keep), str(other)])
        assert unit.session.get(FollowUp, fu_id).person_id == keep  # type: ignore[union-attr]
        assert unit.session.get(Assignment, asg_id).contact_id == keep  # type: ignore[union-attr]
        assert accounts.get_account(unit, linked_id).person_id == keep
        # Searches find the kept record only, also by the duplicate's number.
        assert [p.id for p in contacts.search_people(unit, "张三").items] == [keep]
        assert [p.id for p in contacts.search_people(unit, "13900000000").items] == [keep]
        assert [p.id for p in contacts.list_people(unit, status="merged").items] == [drop]
        assert contacts.resolve_person(unit, "张三").id == keep
        # The audit log says who merged what.
        entry = unit.session.scalars(select(AuditLog).where(AuditLog.action == "merge")).one()
        assert entry.entity == "person"
        assert entry.entity_id == str(keep)
        assert entry.actor == admin
        assert entry.after is not None
        assert (entry.after["keep"], entry.after["merged"]) == (str(keep), str(drop))
        assert entry.before is not None
        assert entry.before["drop"]["employer"] == "扬州职业大学"


def test_merge_refuses_itself_and_an_already_merged_record(app: Tongxin) -> None:
    with app.unit() as unit:
        a, b, c = add(unit, "张三"), add(unit, "张三"), add(unit, "张三")
        contacts.merge_people(unit, a, b)
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            contacts.merge_people(unit, a, a)
        assert caught.value.errors[0].field == "drop_id"
        with pytest.raises(ValidationError, match="already merged"):
            contacts.merge_people(unit, c, b)
        with pytest.raises(NotFound):
            contacts.merge_people(unit, a, uuid.uuid4())


# -- JSON ------------------------------------------------------------------------------

PERSON_JSON_KEYS = {
    "id",
    "name",
    "pinyin",
    "initials",
    "gender",
    "birth",
    "ethnicity",
    "party",
    "sector",
    "region",
    "employer",
    "title",
    "mobile",
    "phones",
    "email",
    "address",
    "membership",
    "status",
    "categories",
    "committees",
    "organisation_id",
    "merged_into_id",
    "notes",
    "version",
    "created_at",
    "updated_at",
}


def test_person_json_has_a_stable_shape(app: Tongxin) -> None:
    clock.freeze(datetime(2026, 3, 1, 1, 30, tzinfo=UTC))
    with app.unit() as unit:
        full = add(
            unit,
            "张三",
            gender="男",
            birth="1965",
            ethnicity="回族",
            party="民盟",
            sector="经济界",
            region="广陵区",
            employer="扬州大学",
            title="教授",
            mobile="13812345678",
            phones=["0514-87331234"],
            email="zs@example.com",
            address="扬州市文昌中路1号",
            membership="member",
            categories=["党外知识分子"],
            committees=["提案委员会"],
        )
        bare = add(unit, "李四")
    with app.unit() as unit:
        data = contacts.person_json(unit, contacts.get_person(unit, full))
        assert set(data) == PERSON_JSON_KEYS
        assert data["id"] == str(full)
        assert (data["name"], data["pinyin"], data["initials"]) == ("张三", "zhangsan", "zs")
        assert (data["gender"], data["birth"], data["membership"]) == ("male", "1965", "member")
        assert (data["party"], data["sector"], data["region"]) == ("cdl", "economy", "guangling")
        assert data["phones"] == ["+8651487331234"]
        assert data["categories"] == ["non_party_intellectual"]
        assert data["committees"] == ["proposals"]
        assert data["version"] == 1
        assert data["created_at"] == "2026-03-01T01:30:00+00:00"
        empty = contacts.person_json(unit, contacts.get_person(unit, bare))
        assert set(empty) == PERSON_JSON_KEYS
        assert empty["birth"] is None
        assert empty["gender"] is None
        assert empty["phones"] == []
        assert empty["categories"] == []
        assert empty["membership"] == "none"
        assert empty["status"] == "active"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1965", (1965, None)),
        ("1965.03", (1965, 3)),
        ("1965年3月", (1965, 3)),
        ("1965/3", (1965, 3)),
    ],
)
def test_birth_as_people_write_it(app: Tongxin, typed: str, stored: tuple[int, int | None]) -> None:
    with app.unit() as unit:
        p = contacts.create_person(unit, name="王五", birth=typed)
        assert (p.birth_year, p.birth_month) == stored


def test_merge_keeps_one_active_assignment_per_keeper(app: Tongxin) -> None:
    from crm_core.services import accounts, assignments

    with app.unit() as unit:
        chair = accounts.create_account(unit, username="chair2", display_name="主席")
        keep = contacts.create_person(unit, name="周六")
        drop = contacts.create_person(unit, name="周六")
        assignments.assign(unit, keeper_id=chair.id, contact_id=keep.id)
        assignments.assign(unit, keeper_id=chair.id, contact_id=drop.id)
        contacts.merge_people(unit, keep.id, drop.id)
        active = assignments.list_assignments(unit, keeper_id=chair.id)
        assert [a.contact_id for a in active] == [keep.id]
        every = assignments.list_assignments(unit, keeper_id=chair.id, active_on=date.min)
        assert len(every) == 2


def test_has_people_says_whether_the_reader_sees_anyone(app: Tongxin) -> None:
    with app.unit() as unit:
        assert not contacts.has_people(unit)  # an empty database: the UI offers the demo
        contacts.create_person(unit, name="张宝应", region="baoying")
        accounts.create_account(
            unit, username="gaoyou", display_name="高邮", role="county_staff", region_scope="gaoyou"
        )
    with app.unit() as unit:
        assert contacts.has_people(unit)
    with app.unit("gaoyou") as unit:
        assert not contacts.has_people(unit)  # nobody in 高邮 yet
