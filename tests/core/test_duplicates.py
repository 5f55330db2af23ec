"""Finding duplicates by the rules of [duplicates] (issue 20), on both backends."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from crm_core import demo, pinyin
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.errors import ConfigError, PermissionDenied, ValidationError
from crm_core.models import Person
from crm_core.plugins import PluginHost
from crm_core.services import accounts, contacts, duplicates
from crm_core.unit import Unit


def add(unit: Unit, name: str, **values: Any) -> uuid.UUID:
    return contacts.create_person(unit, name=name, **values).id


def pairs_of(unit: Unit, **kwargs: Any) -> dict[frozenset[uuid.UUID], duplicates.Pair]:
    return {frozenset((p.a, p.b)): p for p in duplicates.find_duplicates(unit, **kwargs)}


def test_each_rule_finds_its_pair_with_reason_and_score(app: Tongxin) -> None:
    with app.unit() as unit:
        born = (add(unit, "王建华", birth="1965-03"), add(unit, "王建华", birth="1965年3月"))
        phone = (
            add(unit, "李明", mobile="13812345678"),
            add(unit, "李小明", mobile="138 1234 5678"),
        )
        work = (add(unit, "赵刚", employer="扬州大学"), add(unit, "赵刚", employer="扬州大学 "))
        width = (add(unit, "Tom Li"), add(unit, "TomLi"))
        sound = (add(unit, "张伟"), add(unit, "章伟"))
        # Alike but not the same person by these rules: other births, other employers.
        add(unit, "孙丽", birth="1970-01"), add(unit, "孙丽", birth="1971-01")
        add(unit, "周洁", employer="扬州大学"), add(unit, "周洁", employer="苏北人民医院")
        # Read alike but born years apart: two people (conflicts = birth).
        add(unit, "张丽", birth="1970-01"), add(unit, "章丽", birth="1985-06")
        # The same name and employer, born years apart: two people (conflicts = birth).
        add(unit, "吴若溪", employer="苏北人民医院", birth="1983-02")
        add(unit, "吴若溪", employer="苏北人民医院", birth="1973-03")
        found = pairs_of(unit)
        expect = {
            born: ("name_birth", "certain", 95),
            phone: ("mobile", "certain", 90),
            work: ("name_employer", "certain", 85),
            width: ("name_width", "possible", 70),
            sound: ("name_sound", "possible", 60),
        }
        assert {k: (p.rule, p.level, p.score) for k, p in found.items()} == {
            frozenset(k): v for k, v in expect.items()
        }
        # a is the record made first: the one to keep unless the reviewer says otherwise.
        assert found[frozenset(born)].a == born[0]
        assert duplicates.pair_json(found[frozenset(sound)]) == {
            "a": str(sound[0]), "b": str(sound[1]), "a_name": "张伟", "b_name": "章伟",
            "rule": "name_sound", "level": "possible", "score": 60, "rules": ["name_sound"],
        }  # fmt: skip
        only = pairs_of(unit, rules=["mobile", "name_sound"])
        assert set(only) == {frozenset(phone), frozenset(sound)}
        with pytest.raises(ValidationError, match="no such rule") as caught:
            duplicates.find_duplicates(unit, rules=["mobil"])
        assert caught.value.errors[0].value == "mobil"


def test_width_and_spaces_of_an_older_row_are_a_possible_pair(app: Tongxin) -> None:
    with app.unit() as unit:
        typed, old = add(unit, "张伟"), add(unit, "李四")
        # A row written before names were normalised: full-width space inside.
        unit.session.execute(
            update(Person)
            .where(Person.id == old)  # type: ignore[arg-type]
            .values(name="张\u3000伟", name_pinyin=pinyin.name_pinyin("张伟")[0])
        )
        pair = pairs_of(unit)[frozenset((typed, old))]
        assert (pair.rule, pair.level) == ("name_width", "possible")


def test_several_rules_pair_once_under_the_best(app: Tongxin) -> None:
    with app.unit() as unit:
        a = add(unit, "钱进", birth="1960-05", mobile="13900000001", employer="扬州大学")
        b = add(unit, "钱进", birth="1960-05", mobile="13900000001", employer="扬州大学")
        (pair,) = duplicates.find_duplicates(unit)
        assert (pair.a, pair.b, pair.rule) == (a, b, "name_birth")
        assert pair.rules == ("name_birth", "mobile", "name_employer")


def test_merged_records_are_not_offered(app: Tongxin) -> None:
    with app.unit() as unit:
        a, b = add(unit, "王五", birth="1960-01"), add(unit, "王五", birth="1960-01")
        contacts.merge_people(unit, a, b)
        assert duplicates.find_duplicates(unit) == []


def test_not_a_duplicate_sticks(app: Tongxin, admin: str) -> None:
    with app.unit() as unit:
        a, b = add(unit, "张伟"), add(unit, "章伟")
        c = add(unit, "张玮")  # 章伟/张玮 differ in two characters: not paired
    with app.unit(admin) as unit:
        assert set(pairs_of(unit)) == {frozenset((a, b)), frozenset((a, c))}
        assert duplicates.mark_not_duplicate(unit, b, a) is True
        assert duplicates.mark_not_duplicate(unit, a, b) is False  # either order, once
        with pytest.raises(ValidationError, match="same record"):
            duplicates.mark_not_duplicate(unit, a, a)
    with app.unit(admin) as unit:
        assert set(pairs_of(unit)) == {frozenset((a, c))}


def test_a_county_clerk_sees_only_pairs_inside_the_county(app: Tongxin) -> None:
    with app.unit() as unit:
        accounts.create_account(
            unit, username="gl", display_name="广陵", role="county_staff", region_scope="guangling"
        )
        inside = (add(unit, "刘洋", region="guangling", mobile="13700000001"),
                  add(unit, "刘洋", region="guangling", mobile="13700000001"))  # fmt: skip
        across = (add(unit, "陈静", region="guangling", birth="1980-02"),
                  add(unit, "陈静", region="hanjiang", birth="1980-02"))  # fmt: skip
        assert set(pairs_of(unit)) == {frozenset(inside), frozenset(across)}  # the office
    with app.unit("gl") as unit:
        assert set(pairs_of(unit)) == {frozenset(inside)}
        with pytest.raises(PermissionDenied):
            duplicates.mark_not_duplicate(unit, *across)


def test_no_certain_pair_on_the_demo_data(app: Tongxin) -> None:
    # The demo's 2,000 people are all different people: whatever a rule calls certain
    # there is a false match. (The people do not depend on the interactions.)
    demo.generate(app, contacts=2000, interactions=0)
    with app.unit() as unit:
        found = duplicates.find_duplicates(unit)
        assert [p for p in found if p.level == "certain"] == []
        assert {p.rule for p in found} <= {"name_sound", "name_width"}


def test_rules_come_from_the_config_and_are_checked(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "office.toml"
    path.write_text(
        "[duplicates.rules.name_sound]\nenabled = false\n"
        '[duplicates.rules.email_like]\nzh = "姓名和手机"\nname = "same"\nsame = ["mobile"]\n'
        'level = "certain"\nscore = 99\n',
        "utf-8",
    )
    config = load_config(path)
    assert "name_sound" not in duplicates.rules_of_config(config)
    app = Tongxin(config, db_url=db_url, plugins=PluginHost())
    try:
        with app.unit() as unit:
            a, b = add(unit, "张伟", mobile="13600000000"), add(unit, "章伟")
            c = add(unit, "张伟", mobile="13600000000")
            assert {(p.rule, p.score) for p in duplicates.find_duplicates(unit)} == {
                ("email_like", 99)
            }
            assert {frozenset((p.a, p.b)) for p in duplicates.find_duplicates(unit)} == {
                frozenset((a, c))
            }
            assert b
    finally:
        app.close()
    for text, message in (
        ("[duplicates.rules.mobile]\nscor = 3\n", "did you mean score"),
        ('[duplicates.rules.x]\nzh = "x"\nname = "any"\n', 'must compare "mobile"'),
        ('[duplicates.rules.mobile]\nlevel = "sure"\n', "certain"),
        ("[duplicates]\nundo_days = -1\n", "at least 0"),
    ):
        path.write_text(text, "utf-8")
        with pytest.raises(ConfigError, match=message):
            load_config(path)
