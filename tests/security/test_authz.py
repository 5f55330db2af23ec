"""Authorization in the services: county staff read and change only their region's
people and interactions; confidential notes are for participants and administrators;
only administrators manage accounts. Lists are filtered, direct access is refused.

Every test runs on SQLite and on PostgreSQL; the ``login`` ones on PostgreSQL connect as
real roles, so the database's row-level security must agree with the services.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from crm_core import clock, exporter
from crm_core.app import Tongxin
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.services import (
    accounts,
    agenda,
    assignments,
    contacts,
    followups,
    interactions,
    overdue,
)

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@dataclass
class Office:
    office: str  # admin
    chair: str  # leader
    xiaoli: str  # staff
    gl: str  # county staff of 广陵区
    hj: str  # county staff of 邗江区
    zhang: uuid.UUID  # a member in 广陵区
    li: uuid.UUID  # a member in 邗江区
    wang: uuid.UUID  # a member of no region


@pytest.fixture
def office(app: Tongxin, names: Callable[[str], str]) -> Office:
    clock.freeze(NOW)
    o = Office(names("office"), names("chair"), names("xiaoli"), names("gl"), names("hj"),
               uuid.uuid4(), uuid.uuid4(), uuid.uuid4())  # fmt: skip
    with app.unit() as unit:
        accounts.create_account(unit, username=o.office, display_name="办公室", role="admin")
        accounts.create_account(unit, username=o.chair, display_name="王主席", role="leader")
        accounts.create_account(unit, username=o.xiaoli, display_name="小李", role="staff")
        accounts.create_account(
            unit, username=o.gl, display_name="广陵", role="county_staff", region_scope="广陵区"
        )
        accounts.create_account(
            unit, username=o.hj, display_name="邗江", role="county_staff", region_scope="hanjiang"
        )
        o.zhang = contacts.create_person(unit, name="张三", region="guangling").id
        o.li = contacts.create_person(unit, name="李四", region="hanjiang").id
        o.wang = contacts.create_person(unit, name="王五").id
    return o


def names_of(page: contacts.Page) -> set[str]:
    return {p.name for p in page.items}


# -- county scope ---------------------------------------------------------------------


def test_county_staff_search_and_list_only_their_region(app: Tongxin, office: Office) -> None:
    with app.unit(office.gl) as unit:
        assert names_of(contacts.list_people(unit)) == {"张三"}
        assert contacts.list_people(unit).total == 1
        assert names_of(contacts.search_people(unit, "李四")) == set()
        assert names_of(contacts.search_people(unit, "zs")) == {"张三"}
    for staff in (office.chair, office.xiaoli, office.office):
        with app.unit(staff) as unit:
            assert names_of(contacts.list_people(unit)) == {"张三", "李四", "王五"}


def test_county_staff_cannot_read_or_change_another_countys_person(
    app: Tongxin, office: Office
) -> None:
    with app.unit(office.gl) as unit:
        assert contacts.get_person(unit, office.zhang).name == "张三"
        for pid in (office.li, office.wang):
            with pytest.raises(PermissionDenied):
                contacts.get_person(unit, pid)
            with pytest.raises(PermissionDenied):
                contacts.update_person(unit, pid, title="主任")
            with pytest.raises(PermissionDenied):
                interactions.timeline(unit, pid)
        with pytest.raises(PermissionDenied):
            contacts.resolve_person(unit, str(office.li))
        with pytest.raises(PermissionDenied):
            contacts.merge_people(unit, office.zhang, office.li)
        contacts.update_person(unit, office.zhang, title="主任")
        # Nor move their own people elsewhere.
        with pytest.raises(PermissionDenied):
            contacts.update_person(unit, office.zhang, region="hanjiang")
        with pytest.raises(PermissionDenied):
            contacts.update_person(unit, office.zhang, region=None)
    with app.unit() as unit:
        assert contacts.get_person(unit, office.li).title is None
        assert contacts.get_person(unit, office.zhang).region == "guangling"


def test_what_county_staff_create_lands_in_their_region(app: Tongxin, office: Office) -> None:
    with app.unit(office.gl) as unit:
        assert contacts.create_person(unit, name="赵六").region == "guangling"
        assert contacts.create_person(unit, name="钱七", region="广陵区").region == "guangling"
        with pytest.raises(PermissionDenied):
            contacts.create_person(unit, name="孙八", region="hanjiang")
        ids = contacts.bulk_create_people(unit, [{"name": "周九"}, {"name": "吴十"}])
        assert {contacts.get_person(unit, i).region for i in ids} == {"guangling"}
        with pytest.raises(PermissionDenied):
            contacts.bulk_create_people(unit, [{"name": "郑十一", "region": "hanjiang"}])


def test_county_staff_log_and_see_only_their_regions_work(app: Tongxin, office: Office) -> None:
    with app.unit(office.chair) as unit:
        li_visit = interactions.log_interaction(
            unit, kind="meeting", people=[office.li], summary="邗江座谈"
        ).id
        both = interactions.log_interaction(
            unit, kind="meeting", people=[office.zhang, office.li], summary="联合座谈"
        ).id
    with app.unit(office.gl) as unit:
        mine = interactions.log_interaction(unit, kind="call", people=[office.zhang]).id
        assert interactions.get_interaction(unit, mine).region == "guangling"
        with pytest.raises(PermissionDenied):
            interactions.log_interaction(unit, kind="call", people=[office.li])
        with pytest.raises(PermissionDenied):
            interactions.log_interaction(
                unit, kind="call", people=[office.zhang], region="hanjiang"
            )
        with pytest.raises(PermissionDenied):
            interactions.get_interaction(unit, li_visit)
        # With one of their people it is visible, but not theirs to change.
        assert interactions.get_interaction(unit, both).summary == "联合座谈"
        with pytest.raises(PermissionDenied):
            interactions.add_participants(unit, both, people=[office.zhang], accounts=[])
        assert {i.id for i in interactions.timeline(unit, office.zhang)} == {mine, both}
        # The agenda and the exports list the same, and nothing else.
        day = timedelta(days=1)
        assert {i.id for i in agenda.between(unit, NOW - day, NOW + day).items} == {mine, both}
        assert {i.id for i in exporter.select_interactions(unit)} == {mine, both}
    with app.unit(office.xiaoli) as unit:
        assert {i.id for i in exporter.select_interactions(unit)} == {mine, both, li_visit}


def test_follow_ups_and_assignments_follow_the_region(app: Tongxin, office: Office) -> None:
    with app.unit(office.office) as unit:
        chair = accounts.resolve_account(unit, office.chair).id
        fz = followups.raise_follow_up(unit, title="路灯", person_id=office.zhang).id
        fl = followups.raise_follow_up(unit, title="停车", person_id=office.li).id
        az = assignments.assign(unit, keeper_id=chair, contact_id=office.zhang,
                                start_on=NOW.date() - timedelta(days=400)).id  # fmt: skip
        al = assignments.assign(unit, keeper_id=chair, contact_id=office.li,
                                start_on=NOW.date() - timedelta(days=400)).id  # fmt: skip
    with app.unit(office.gl) as unit:
        assert [f.id for f in followups.list_follow_ups(unit)] == [fz]
        assert followups.count_follow_ups(unit) == 1
        with pytest.raises(PermissionDenied):
            followups.get_follow_up(unit, fl)
        with pytest.raises(PermissionDenied):
            followups.update_follow_up(unit, fl, status="closed")
        with pytest.raises(PermissionDenied):
            followups.raise_follow_up(unit, title="x", person_id=office.li)
        assert [a.id for a in assignments.list_assignments(unit)] == [az]
        with pytest.raises(PermissionDenied):
            assignments.end_assignment(unit, al)
        assert [i.contact_id for i in overdue.overdue(unit).items] == [office.zhang]
    with app.unit(office.xiaoli) as unit:
        assert len(followups.list_follow_ups(unit)) == 2
        assert len(overdue.overdue(unit).items) == 2


# -- confidential notes --------------------------------------------------------------------


def test_a_talks_notes_are_refused_to_non_participants(app: Tongxin, office: Office) -> None:
    with app.unit(office.chair) as unit:
        talk = interactions.log_interaction(
            unit, kind="meeting", people=[office.zhang], summary="谈心谈话",
            notes="谈到子女就业问题", data={"topic": "家庭"}, confidential=True,
        ).id  # fmt: skip
    for reader in (office.chair, office.office):
        with app.unit(reader) as unit:
            assert interactions.read_notes(unit, talk) == "谈到子女就业问题"
    for reader in (office.xiaoli, office.gl, None):
        with app.unit(reader) as unit:
            with pytest.raises(PermissionDenied):
                interactions.read_notes(unit, talk)
            shown = interactions.interaction_json(unit, interactions.get_interaction(unit, talk))
            assert (shown["notes"], shown["data"], shown["notes_hidden"]) == (None, None, True)
    # Whoever wrote the record down knows what it says.
    with app.unit(office.xiaoli) as unit:
        chair = accounts.resolve_account(unit, office.chair).id
        planned = interactions.schedule_interaction(
            unit, kind="meeting", people=[office.wang], accounts=[chair],
            start=NOW + timedelta(days=1), confidential=True, notes="拟谈内容",
        ).id  # fmt: skip
        assert interactions.read_notes(unit, planned) == "拟谈内容"
    with app.unit(office.hj) as unit, pytest.raises(PermissionDenied):
        interactions.complete_interaction(unit, planned, notes="谈话内容")
    with app.unit(office.chair) as unit:
        interactions.complete_interaction(unit, planned, notes="谈话内容")


# -- accounts --------------------------------------------------------------------------------


def test_only_administrators_manage_accounts(app: Tongxin, office: Office) -> None:
    for who in (office.chair, office.xiaoli, office.gl):
        with app.unit(who) as unit:
            with pytest.raises(PermissionDenied):
                accounts.create_account(unit, username="newcomer")
            with pytest.raises(PermissionDenied):
                accounts.set_active(unit, accounts.resolve_account(unit, office.hj).id, False)
            with pytest.raises(PermissionDenied):
                accounts.set_role(unit, accounts.resolve_account(unit, who).id, "admin")
    with app.unit(office.office) as unit:
        hj = accounts.resolve_account(unit, office.hj).id
        row = accounts.set_role(unit, hj, "staff")
        assert (row.role, row.region_scope) == ("staff", None)
        with pytest.raises(ValidationError):
            accounts.set_role(unit, hj, "county_staff")  # which county?
        row = accounts.set_role(unit, hj, "county_staff", region_scope="邗江区")
        assert (row.role, row.region_scope) == ("county_staff", "hanjiang")
        assert not accounts.set_active(unit, hj, False).active


def test_the_last_administrator_stays(app: Tongxin, office: Office) -> None:
    with app.unit(office.office) as unit:
        me = accounts.resolve_account(unit, office.office).id
        with pytest.raises(PermissionDenied):
            accounts.set_active(unit, me, False)
        with pytest.raises(PermissionDenied):
            accounts.set_role(unit, me, "staff")
        accounts.set_role(unit, accounts.resolve_account(unit, office.chair).id, "admin")
        accounts.set_role(unit, me, "staff")  # another administrator exists now
