"""Tests of crm_core.services.followups: concerns raised by members (社情民意、诉求) and
what the office did about them.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import Conflict, NotFound, ValidationError
from crm_core.services import accounts, contacts, followups, interactions

# 17:00 UTC on 1 March is already 01:00 on 2 March in Yangzhou: the office's dates are
# Yangzhou dates.
EVENING_UTC = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
YANGZHOU_TODAY = date(2026, 3, 2)


@pytest.fixture
def ids(app: Tongxin) -> dict[str, uuid.UUID]:
    clock.freeze(EVENING_UTC - timedelta(days=1))
    with app.unit() as unit:
        owner = accounts.create_account(unit, username="xiaoli", display_name="小李")
        other = accounts.create_account(unit, username="xiaowang", display_name="小王")
        pid = contacts.create_person(unit, name="王委员")
        qid = contacts.create_person(unit, name="李委员")
        visit = interactions.log_interaction(unit, kind="call", people=[pid.id])
        return {
            "owner": owner.id,
            "other": other.id,
            "person": pid.id,
            "person2": qid.id,
            "visit": visit.id,
        }


def test_raise_a_follow_up(app: Tongxin, ids: dict[str, uuid.UUID]) -> None:
    with app.unit() as unit:
        row = followups.raise_follow_up(
            unit,
            title="  东关街 路灯不亮 ",
            detail=" 已三个月 \n",
            person_id=ids["person"],
            interaction_id=ids["visit"],
            owner_id=str(ids["owner"]),
            due_on=date(2026, 3, 31),
        )
        fid = row.id
    with app.unit() as unit:
        row = followups.get_follow_up(unit, fid)
        assert (row.title, row.detail) == ("东关街 路灯不亮", "已三个月")
        assert (row.person_id, row.interaction_id, row.owner_id) == (
            ids["person"],
            ids["visit"],
            ids["owner"],
        )
        assert (row.status, row.due_on, row.response) == ("open", date(2026, 3, 31), None)
        assert (row.answered_on, row.closed_on) == (None, None)


def test_raise_refuses_no_title_and_unknown_links(app: Tongxin, ids: dict[str, uuid.UUID]) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            followups.raise_follow_up(unit, title=" 　", person_id=ids["person"])
        assert caught.value.errors[0].field == "title"
        for links in (
            {"person_id": uuid.uuid4()},
            {"interaction_id": uuid.uuid4()},
            {"owner_id": uuid.uuid4()},
            {"owner_id": ids["person"]},  # a person is not an account
        ):
            with pytest.raises(NotFound):
                followups.raise_follow_up(unit, title="路灯", **links)  # type: ignore[arg-type]
        assert followups.list_follow_ups(unit) == []


def test_status_moves_and_the_dates_it_stamps(app: Tongxin, ids: dict[str, uuid.UUID]) -> None:
    with app.unit() as unit:
        fid = followups.raise_follow_up(unit, title="路灯不亮", person_id=ids["person"]).id
    clock.freeze(EVENING_UTC)
    with app.unit() as unit:
        row = followups.update_follow_up(unit, fid, status="in_progress", owner_id=ids["owner"])
        assert (row.status, row.owner_id, row.answered_on) == ("in_progress", ids["owner"], None)
        with pytest.raises(ValidationError) as caught:
            followups.update_follow_up(unit, fid, status="answered")
        assert caught.value.errors[0].field == "response"
        with pytest.raises(ValidationError) as caught:
            followups.update_follow_up(unit, fid, status="answered", response="   ")
        assert caught.value.errors[0].field == "response"
        with pytest.raises(ValidationError) as caught:
            followups.update_follow_up(unit, fid, status="done")
        assert (caught.value.errors[0].field, caught.value.errors[0].value) == ("status", "done")
    with app.unit() as unit:
        assert followups.get_follow_up(unit, fid).status == "in_progress"
        row = followups.update_follow_up(
            unit, fid, status="answered", response=" 已转市城管局，本月修复 "
        )
        assert (row.status, row.response) == ("answered", "已转市城管局，本月修复")
        assert row.answered_on == YANGZHOU_TODAY
        assert row.closed_on is None
    clock.freeze(EVENING_UTC + timedelta(days=3))
    with app.unit() as unit:
        row = followups.update_follow_up(unit, fid, status="closed")
        assert row.closed_on == YANGZHOU_TODAY + timedelta(days=3)
        assert row.answered_on == YANGZHOU_TODAY
    with app.unit() as unit:
        row = followups.update_follow_up(unit, fid, status="open")  # the lamp broke again
        assert (row.status, row.closed_on) == ("open", None)
        assert row.response == "已转市城管局，本月修复"
    with app.unit() as unit:
        row = followups.get_follow_up(unit, fid)
        assert (row.status, row.closed_on, row.answered_on) == ("open", None, YANGZHOU_TODAY)


def test_update_with_a_stale_version_is_a_conflict(app: Tongxin, ids: dict[str, uuid.UUID]) -> None:
    with app.unit() as unit:
        row = followups.raise_follow_up(unit, title="路灯不亮")
        fid, version = row.id, row.version
    with app.unit() as unit:
        followups.update_follow_up(unit, fid, status="in_progress", expected_version=version)
    with pytest.raises(Conflict), app.unit() as unit:
        followups.update_follow_up(unit, fid, status="closed", expected_version=version)
    with app.unit() as unit:
        assert followups.get_follow_up(unit, fid).status == "in_progress"


def test_list_soonest_due_first_undated_last(app: Tongxin, ids: dict[str, uuid.UUID]) -> None:
    made = {}
    for minute, (title, due, person) in enumerate(
        [
            ("无期限甲", None, "person"),
            ("三月底", date(2026, 3, 31), "person"),
            ("三月初", date(2026, 3, 5), "person2"),
            ("无期限乙", None, "person2"),
            ("四月", date(2026, 4, 15), "person"),
        ]
    ):
        clock.freeze(EVENING_UTC + timedelta(minutes=minute))
        with app.unit() as unit:
            made[title] = followups.raise_follow_up(
                unit, title=title, due_on=due, person_id=ids[person], owner_id=ids["owner"]
            ).id
    with app.unit() as unit:
        followups.update_follow_up(unit, made["三月底"], status="answered", response="已答复")
        followups.update_follow_up(unit, made["四月"], status="closed")
        followups.update_follow_up(unit, made["无期限乙"], owner_id=ids["other"])
    with app.unit() as unit:

        def titles(**filters: object) -> list[str]:
            return [f.title for f in followups.list_follow_ups(unit, **filters)]  # type: ignore[arg-type]

        assert titles() == ["三月初", "三月底", "四月", "无期限甲", "无期限乙"]
        assert titles(open_only=True) == ["三月初", "无期限甲", "无期限乙"]
        assert titles(due_before=date(2026, 4, 1)) == ["三月初", "三月底"]
        assert titles(due_before=date(2026, 3, 5)) == []
        assert titles(open_only=True, due_before=date(2026, 4, 30)) == ["三月初"]
        assert titles(status="answered") == ["三月底"]
        assert titles(person_id=ids["person2"]) == ["三月初", "无期限乙"]
        assert titles(owner_id=ids["other"]) == ["无期限乙"]
        assert titles(open_only=True, owner_id=ids["owner"]) == ["三月初", "无期限甲"]


def test_limit_and_count_agree_with_the_full_list(app: Tongxin) -> None:
    from crm_core.services import contacts

    with app.unit() as unit:
        person = contacts.create_person(unit, name="许多")
        for n in range(7):
            followups.raise_follow_up(
                unit, title=f"问题{n}", person_id=person.id, due_on=date(2026, 12, 1 + n)
            )
        everything = followups.list_follow_ups(unit, open_only=True)
        first = followups.list_follow_ups(unit, open_only=True, limit=3)
        assert [f.id for f in first] == [f.id for f in everything[:3]]
        assert followups.count_follow_ups(unit, open_only=True) == len(everything) == 7
        assert followups.count_follow_ups(unit, due_before=date(2026, 12, 3)) == 2
