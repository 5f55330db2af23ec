"""Groups of people (issue 18, item 2) on both backends: a saved search found anew at
each use with the reader's rights, picked lists, personal and shared groups, a merge
keeping memberships (and its undo giving them back), a report narrowed to a group."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from crm_core.app import Tongxin
from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.models import AuditLog
from crm_core.reports import Period, run_report
from crm_core.services import accounts, contacts, duplicates_undo, groups, interactions


@dataclass
class World:
    ids: dict[str, uuid.UUID]


@pytest.fixture
def world(app: Tongxin, admin: str) -> World:
    ids: dict[str, uuid.UUID] = {}
    with app.unit(admin) as unit:
        accounts.create_account(unit, username="chair", display_name="主席", role="leader")
        accounts.create_account(unit, username="xiaoli", display_name="小李", role="staff")
        accounts.create_account(
            unit, username="gl", display_name="广陵", role="county_staff", region_scope="guangling"
        )
        for key, name, region, cat in (
            ("zhang", "张三", "guangling", "党外知识分子"),
            ("li", "李四", "baoying", "党外知识分子"),
            ("wang", "王五", "guangling", None),
            ("zhao", "赵六", "guangling", "党外知识分子"),
        ):
            ids[key] = contacts.create_person(
                unit, name=name, region=region, categories=[cat] if cat else []
            ).id
    return World(ids)


def test_a_saved_search_is_found_anew_with_the_readers_rights(app: Tongxin, world: World) -> None:
    with app.unit("chair") as unit:
        group = groups.save_group(
            unit, "党外知识分子", filters={"category": "党外知识分子"}, shared=True
        )
        assert [p.name for p in groups.members(unit, group)] == ["李四", "张三", "赵六"]
    with app.unit("chair") as unit:  # a new member matches at the next use
        contacts.create_person(unit, name="钱七", region="baoying", categories=["党外知识分子"])
    with app.unit("xiaoli") as unit:
        assert len(groups.people_of(unit, "党外知识分子")) == 4
    with app.unit("gl") as unit:  # the shared group, as the county clerk sees it
        assert [p.name for p in groups.members(unit, groups.find_group(unit, "党外知识分子"))] == [
            "张三",
            "赵六",
        ]


def test_personal_groups_are_their_owners_and_shared_ones_everyones(
    app: Tongxin, world: World
) -> None:
    with app.unit("chair") as unit:
        groups.save_group(unit, "我的", query="张")
        groups.save_group(unit, "大家的", query="李", shared=True)
    with app.unit("xiaoli") as unit:
        assert [g.name for g in groups.list_groups(unit)] == ["大家的"]
        with pytest.raises(NotFound):
            groups.find_group(unit, "我的")
        with pytest.raises(PermissionDenied):  # only its owner (or an administrator)
            groups.delete_group(unit, groups.find_group(unit, "大家的"))
    with app.unit("chair") as unit:
        assert [g.name for g in groups.list_groups(unit)] == ["我的", "大家的"]
        with pytest.raises(ValidationError, match="exists already"):
            groups.save_group(unit, "我的", query="王")
        with pytest.raises(ValidationError) as bad:
            groups.save_group(unit, "坏的", filters={"sector": "没有这个界别"})
        assert bad.value.errors[0].field == "sector"


def test_a_static_group_and_a_merge_keeps_its_membership_until_undone(
    app: Tongxin, admin: str, world: World
) -> None:
    ids = world.ids
    with app.unit("chair") as unit:
        group = groups.create_static(unit, "茶叙", people=[ids["zhang"], ids["li"]])
        assert groups.add_members(unit, group, [ids["li"], ids["wang"]]) == 1
        assert groups.member_ids(unit, group) == [ids["li"], ids["wang"], ids["zhang"]]
        assert [g.name for g in groups.groups_of(unit, ids["wang"])] == ["茶叙"]
    with app.unit(admin) as unit:  # 张三's record merged into 赵六's
        contacts.merge_people(unit, ids["zhao"], ids["zhang"])
    with app.unit("chair") as unit:
        group = groups.find_group(unit, "茶叙")
        assert groups.member_ids(unit, group) == [ids["li"], ids["wang"], ids["zhao"]]
        assert [g.name for g in groups.groups_of(unit, ids["zhao"])] == ["茶叙"]
    with app.unit(admin) as unit:
        entry = unit.session.scalars(select(AuditLog).where(AuditLog.action == "merge")).one()
        duplicates_undo.unmerge(unit, entry.id)
    with app.unit("chair") as unit:
        group = groups.find_group(unit, "茶叙")
        assert groups.member_ids(unit, group) == [ids["li"], ids["wang"], ids["zhang"]]
        assert groups.groups_of(unit, ids["zhao"]) == []
        assert groups.remove_members(unit, group, [ids["li"]]) == 1
    with app.unit("gl") as unit:  # the clerk sees no group of chair's, and no 李四
        assert groups.list_groups(unit) == []


def test_a_report_over_a_group_counts_its_people_only(app: Tongxin, world: World) -> None:
    ids = world.ids
    with app.unit("chair") as unit:
        interactions.log_interaction(unit, kind="call", people=[ids["zhang"]])
        group = groups.create_static(unit, "两人", people=[ids["zhang"], ids["wang"]], shared=True)
        period = Period.year(interactions.timeline(unit, ids["zhang"])[0].start_at.year)
        _spec, everyone = run_report(unit, "coverage", period)
        _spec, two = run_report(unit, "coverage", period, people=groups.member_ids(unit, group))
    total = {r["group"]: r for r in everyone.sections[0].rows if r["dimension"] == "县(市、区)"}
    mine = {r["group"]: r for r in two.sections[0].rows if r["dimension"] == "县(市、区)"}
    assert sum(r["total"] for r in total.values()) == 4
    assert sum(r["total"] for r in mine.values()) == 2
    assert sum(r["reached"] for r in mine.values()) == 1
