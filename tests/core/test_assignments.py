"""Tests of crm_core.services.assignments: who keeps whom (二.9), at what cadence, and
when keeper and contact last met.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import NotFound, ValidationError
from crm_core.models import Assignment
from crm_core.services import accounts, assignments, contacts, interactions
from crm_core.services.assignments import Cadence

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # already 2026-03-02 01:00 in Yangzhou


@pytest.fixture
def people(app: Tongxin) -> dict[str, uuid.UUID]:
    """Two keepers (accounts), a staffer, and three contacts (people)."""
    clock.freeze(NOW)
    with app.unit() as unit:
        return {
            "wang": accounts.create_account(
                unit, username="wang", display_name="王主席", role="leader", chair_meeting=True
            ).id,
            "li": accounts.create_account(
                unit, username="li", display_name="李副主席", role="leader", chair_meeting=True
            ).id,
            "staff": accounts.create_account(unit, username="staff", display_name="小张").id,
            "zhang": contacts.create_person(unit, name="张教授", categories=["党外知识分子"]).id,
            "zhao": contacts.create_person(unit, name="赵总", categories=["非公有制经济人士"]).id,
            "sun": contacts.create_person(unit, name="孙律师").id,
        }


def test_assign_takes_the_categorys_cadence_from_config(
    app: Tongxin, people: dict[str, uuid.UUID]
) -> None:
    with app.unit() as unit:
        a = assignments.assign(
            unit, keeper_id=people["wang"], contact_id=people["zhang"], category="党外知识分子"
        )
        b = assignments.assign(
            unit, keeper_id=people["wang"], contact_id=people["zhao"], category="private_economy"
        )
        c = assignments.assign(unit, keeper_id=people["wang"], contact_id=people["sun"])
        d = assignments.assign(
            unit, keeper_id=people["li"], contact_id=people["sun"], category="宗教界人士"
        )
        ids = a.id, b.id, c.id, d.id
    with app.unit() as unit:
        rows = [unit.session.get(Assignment, i) for i in ids]
        assert [r.category for r in rows if r] == [
            "non_party_intellectual",
            "private_economy",
            None,
            "religious",
        ]
        assert [assignments.cadence(unit, r) for r in rows if r] == [
            Cadence(60, 90),
            Cadence(60, 90),
            Cadence(90, 180),
            Cadence(90, 180),
        ]
        # The assignment starts today, in the office's time zone.
        assert {r.start_on for r in rows if r} == {date(2026, 3, 2)}


def test_assign_with_an_explicit_cadence(app: Tongxin, people: dict[str, uuid.UUID]) -> None:
    with app.unit() as unit:
        row = assignments.assign(
            unit,
            keeper_id=people["wang"],
            contact_id=people["zhang"],
            category="党外知识分子",
            ideal_days=30,
            max_days=45,
            start_on=date(2026, 1, 1),
            notes="每月一次",
        )
        assert assignments.cadence(unit, row) == Cadence(30, 45)
        assert (row.start_on, row.notes) == (date(2026, 1, 1), "每月一次")


@pytest.mark.parametrize(
    ("values", "field", "value"),
    [
        ({"ideal_days": 100, "max_days": 60}, "ideal_days", 100),
        ({"ideal_days": 0}, "ideal_days", 0),
        ({"max_days": -5}, "max_days", -5),
        ({"category": "外星人"}, "category", "外星人"),
    ],
)
def test_assign_refuses_a_bad_cadence_or_category(
    app: Tongxin, people: dict[str, uuid.UUID], values: dict[str, object], field: str, value: object
) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            assignments.assign(
                unit,
                keeper_id=people["wang"],
                contact_id=people["zhang"],
                **values,  # type: ignore[arg-type]
            )
        assert [(e.field, e.value) for e in caught.value.errors] == [(field, value)]
        assert assignments.list_assignments(unit, active_on=date.min) == []


def test_assign_refuses_unknown_keeper_or_contact(
    app: Tongxin, people: dict[str, uuid.UUID]
) -> None:
    with app.unit() as unit:
        with pytest.raises(NotFound):
            assignments.assign(unit, keeper_id=uuid.uuid4(), contact_id=people["zhang"])
        with pytest.raises(NotFound):
            assignments.assign(unit, keeper_id=people["wang"], contact_id=uuid.uuid4())
        # A person is not an account, and the other way round.
        with pytest.raises(NotFound):
            assignments.assign(unit, keeper_id=people["zhang"], contact_id=people["wang"])


def test_a_second_active_assignment_of_the_same_pair_is_refused(
    app: Tongxin, people: dict[str, uuid.UUID]
) -> None:
    with app.unit() as unit:
        first = assignments.assign(unit, keeper_id=people["wang"], contact_id=people["zhang"])
        first_id = first.id
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            assignments.assign(
                unit, keeper_id=people["wang"], contact_id=people["zhang"], category="党外知识分子"
            )
        error = caught.value.errors[0]
        assert (error.field, error.value) == ("contact_id", str(people["zhang"]))
        assert "张教授" in error.message and "王主席" in error.message
        # Another keeper may keep the same contact.
        assignments.assign(unit, keeper_id=people["li"], contact_id=people["zhang"])
    with app.unit() as unit:
        assignments.end_assignment(unit, first_id, end_on=date(2026, 3, 10))
    with app.unit() as unit:
        with pytest.raises(ValidationError):  # overlaps the ended one
            assignments.assign(
                unit,
                keeper_id=people["wang"],
                contact_id=people["zhang"],
                start_on=date(2026, 3, 5),
            )
        again = assignments.assign(
            unit, keeper_id=people["wang"], contact_id=people["zhang"], start_on=date(2026, 3, 10)
        )
        assert again.id != first_id


def test_list_assignments_of_a_keeper_active_on_a_day(
    app: Tongxin, people: dict[str, uuid.UUID]
) -> None:
    with app.unit() as unit:
        old = assignments.assign(
            unit, keeper_id=people["wang"], contact_id=people["sun"], start_on=date(2025, 1, 1)
        )
        assignments.end_assignment(unit, old.id)  # today, in Yangzhou
        assert old.end_on == date(2026, 3, 2)
        now = assignments.assign(unit, keeper_id=people["wang"], contact_id=people["zhang"])
        theirs = assignments.assign(unit, keeper_id=people["li"], contact_id=people["zhao"])
        ids = old.id, now.id, theirs.id
    old_id, now_id, theirs_id = ids
    with app.unit() as unit:
        assert [a.id for a in assignments.list_assignments(unit, keeper_id=people["wang"])] == [
            now_id
        ]
        assert {a.id for a in assignments.list_assignments(unit)} == {now_id, theirs_id}
        assert [
            a.id
            for a in assignments.list_assignments(
                unit, keeper_id=people["wang"], active_on=date(2025, 6, 1)
            )
        ] == [old_id]
        assert {a.id for a in assignments.list_assignments(unit, active_on=date.min)} == set(ids)
        assert [a.id for a in assignments.list_assignments(unit, contact_id=people["zhao"])] == [
            theirs_id
        ]


def test_last_contact_is_the_latest_done_work_of_keeper_and_contact_together(
    app: Tongxin, people: dict[str, uuid.UUID]
) -> None:
    def at(month: int, day: int, hour: int = 10) -> datetime:
        return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)

    with app.unit() as unit:
        zhang = assignments.assign(unit, keeper_id=people["wang"], contact_id=people["zhang"]).id
        zhao = assignments.assign(unit, keeper_id=people["wang"], contact_id=people["zhao"]).id
        never = assignments.assign(unit, keeper_id=people["wang"], contact_id=people["sun"]).id
        li_zhang = assignments.assign(unit, keeper_id=people["li"], contact_id=people["zhang"]).id
    with app.unit("wang") as unit:  # wang logs his own visits: he takes part as an account
        log = interactions.log_interaction
        log(unit, kind="meeting", people=[people["zhang"]], start=at(1, 5))
        log(unit, kind="call", people=[people["zhang"]], start=at(2, 1))  # the latest together
        log(unit, kind="meeting", people=[people["zhao"]], start=at(1, 20))
        # wang without 张教授 (with 赵总 only): not a contact with 张教授.
        log(unit, kind="meeting", people=[people["zhao"]], start=at(2, 20))
        # 张教授 without wang: the staffer made the call.
        log(
            unit, kind="call", people=[people["zhang"]], accounts=[people["staff"]], start=at(2, 25)
        )
        # Planned, and planned then cancelled, work with both: not a contact yet.
        interactions.schedule_interaction(
            unit,
            kind="meeting",
            people=[people["zhang"]],
            accounts=[people["wang"]],
            start=at(3, 9),
        )
        cancelled = interactions.schedule_interaction(
            unit, kind="meeting", people=[people["sun"]], accounts=[people["wang"]], start=at(2, 27)
        )
        interactions.cancel_interaction(unit, cancelled.id, reason="改期")
    with app.unit() as unit:
        last = assignments.last_contacts(unit)
        assert last == {
            zhang: datetime(2026, 2, 1, 2, 0, tzinfo=UTC),
            zhao: datetime(2026, 2, 20, 2, 0, tzinfo=UTC),
            never: None,
            li_zhang: None,
        }
        for value in last.values():
            assert value is None or value.utcoffset() == timedelta(0)
        assert last[zhang] == at(2, 1)
        assert assignments.last_contacts(unit, keeper_id=people["li"]) == {li_zhang: None}
        assert set(assignments.last_contacts(unit, keeper_id=people["wang"])) == {
            zhang,
            zhao,
            never,
        }
    with app.unit("li") as unit:  # li visits 张教授 with the staffer: it counts for li only
        interactions.log_interaction(
            unit,
            kind="meeting",
            people=[people["zhang"]],
            accounts=[people["li"], people["staff"]],
            start=at(2, 28, 15),
        )
    with app.unit() as unit:
        last = assignments.last_contacts(unit)
        assert last[li_zhang] == datetime(2026, 2, 28, 7, 0, tzinfo=UTC)
        assert last[zhang] == datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
