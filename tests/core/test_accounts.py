"""Tests of crm_core.services.accounts: the office's users.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_core.app import Tongxin
from crm_core.errors import Ambiguous, NotFound, ValidationError
from crm_core.models import Account
from crm_core.services import accounts, contacts


def test_create_an_account(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = contacts.create_person(unit, name="王建国").id
        chair = accounts.create_account(
            unit,
            username="wangjg",
            display_name=" 王建国 ",
            role="leader",
            position="副主席",
            chair_meeting=True,
            committee="提案委员会",
            person_id=pid,
        )
        staff = accounts.create_account(unit, username="xiaoli")
        ids = chair.id, staff.id
    with app.unit() as unit:
        chair, staff = (accounts.get_account(unit, i) for i in ids)
        assert (chair.username, chair.display_name, chair.role) == ("wangjg", "王建国", "leader")
        assert (chair.position, chair.chair_meeting, chair.committee) == (
            "副主席",
            True,
            "proposals",
        )
        assert chair.person_id == pid
        assert chair.active is True
        # A display name defaults to the username; the role to staff.
        assert (staff.display_name, staff.role, staff.chair_meeting) == ("xiaoli", "staff", False)


def test_usernames_are_unique(app: Tongxin) -> None:
    with app.unit() as unit:
        accounts.create_account(unit, username="xiaoli", display_name="李明")
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            accounts.create_account(unit, username="xiaoli", display_name="李华")
        error = caught.value.errors[0]
        assert (error.field, error.value) == ("username", "xiaoli")
        assert "taken" in error.message
        assert unit.session.scalar(select(func.count()).select_from(Account)) == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"username": ""}, "username"),
        ({}, "username"),
        ({"username": "xiao li"}, "username"),
        ({"username": "xiaoli", "role": "chairman"}, "role"),
        ({"username": "xiaoli", "committee": "火星委员会"}, "committee"),
        ({"username": "xiaoli", "region_scope": "火星区"}, "region_scope"),
        ({"username": "xiaoli", "password": "123456"}, "password"),
        ({"username": "xiaoli", "person_id": "not-an-id"}, "person_id"),
    ],
)
def test_bad_account_values_are_refused(app: Tongxin, values: dict[str, Any], field: str) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            accounts.create_account(unit, **values)
        assert caught.value.errors[0].field == field
        assert unit.session.scalar(select(func.count()).select_from(Account)) == 0


def test_an_account_linked_to_no_person_is_refused(app: Tongxin) -> None:
    ghost = uuid.uuid4()
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            accounts.create_account(unit, username="xiaoli", person_id=ghost)
        assert (caught.value.errors[0].field, caught.value.errors[0].value) == (
            "person_id",
            str(ghost),
        )
        accounts.create_account(unit, username="xiaowang")
    with app.unit() as unit:
        assert [a.username for a in accounts.list_accounts(unit)] == ["xiaowang"]


def test_county_staff_need_a_region(app: Tongxin) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            accounts.create_account(unit, username="gl01", role="county_staff")
        assert caught.value.errors[0].field == "region_scope"
        row = accounts.create_account(
            unit,
            username="gl01",
            display_name="广陵区政协",
            role="county_staff",
            region_scope="广陵区",
        )
        assert (row.role, row.region_scope) == ("county_staff", "guangling")
        row = accounts.create_account(
            unit, username="hj01", role="county_staff", region_scope="hanjiang"
        )
        assert row.region_scope == "hanjiang"


def test_resolve_by_id_username_or_display_name(app: Tongxin) -> None:
    with app.unit() as unit:
        wang = accounts.create_account(unit, username="wangjg", display_name="王建国").id
        accounts.create_account(unit, username="lihua", display_name="李华")
    with app.unit() as unit:
        for ref in ("wangjg", " wangjg ", "王建国", str(wang)):
            assert accounts.resolve_account(unit, ref).id == wang, ref
        for ref in ("wang", "王", str(uuid.uuid4()), ""):
            with pytest.raises(NotFound):
                accounts.resolve_account(unit, ref)


def test_resolve_a_shared_display_name_is_ambiguous(app: Tongxin) -> None:
    with app.unit() as unit:
        accounts.create_account(unit, username="lihua1", display_name="李华")
        accounts.create_account(unit, username="lihua2", display_name="李华")
    with app.unit() as unit:
        with pytest.raises(Ambiguous) as caught:
            accounts.resolve_account(unit, "李华")
        assert sorted(caught.value.candidates) == ["李华 (lihua1)", "李华 (lihua2)"]
        assert accounts.resolve_account(unit, "lihua2").username == "lihua2"


def test_list_accounts_by_role_and_activity(app: Tongxin) -> None:
    with app.unit() as unit:
        accounts.create_account(unit, username="a", display_name="a", role="admin")
        accounts.create_account(
            unit, username="b", display_name="b", role="leader", chair_meeting=True
        )
        accounts.create_account(unit, username="c", display_name="c", role="leader")
        accounts.create_account(unit, username="d", display_name="d", active=False)
    with app.unit() as unit:

        def listed(**filters: Any) -> list[str]:
            return [a.username for a in accounts.list_accounts(unit, **filters)]

        assert listed() == ["a", "b", "c"]
        assert listed(role="leader") == ["b", "c"]
        assert listed(chair_meeting=True) == ["b"]
        assert listed(active=False) == ["d"]
        assert listed(active=None) == ["a", "b", "c", "d"]


def test_a_unit_acts_as_an_existing_account_only(app: Tongxin) -> None:
    with app.unit() as unit:
        accounts.create_account(unit, username="xiaoli", display_name="小李", role="admin")
    with app.unit("xiaoli") as unit:
        assert unit.actor is not None and unit.actor.display_name == "小李"
        assert unit.is_admin
    with pytest.raises(NotFound), app.unit("nobody"):
        pass
