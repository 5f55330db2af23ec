"""Bulk actions (issue 18, item 3) on both backends: a dry run shows what would change
and writes nothing; a real run is one transaction with one audit entry per person; a
refusal for one person leaves everyone as they were and names that person and field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.models import Assignment, AuditLog, InteractionParticipant
from crm_core.services import accounts, bulk_actions, contacts, groups

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def people(app: Tongxin, admin: str) -> dict[str, uuid.UUID]:
    clock.freeze(NOW)
    with app.unit(admin) as unit:
        accounts.create_account(unit, username="chair", display_name="主席", role="leader")
        accounts.create_account(
            unit, username="gl", display_name="广陵", role="county_staff", region_scope="guangling"
        )
        made = {
            name: contacts.create_person(unit, name=name, region=region, party=party).id
            for name, region, party in (
                ("张三", "guangling", "民盟"),
                ("李四", "guangling", None),
                ("王五", "baoying", None),
            )
        }
    return made


def _audit(unit, ids) -> int:  # type: ignore[no-untyped-def]
    return unit.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(col(AuditLog.entity_id).in_([str(i) for i in ids]), AuditLog.at > NOW)
    )


def test_a_dry_run_shows_the_changes_and_writes_nothing(
    app: Tongxin, people: dict[str, uuid.UUID]
) -> None:
    with app.unit("chair") as unit:
        before = unit.session.scalar(select(func.count()).select_from(AuditLog))
        ids = bulk_actions.target_people(unit, filters={"region": "guangling"})
        result = bulk_actions.set_field(unit, ids, "party", "民盟", dry_run=True)
        assert (result.dry_run, result.people, result.unchanged) == (True, 2, 1)
        change = result.changes[0].as_json()
        assert (change["person_id"], change["name"], change["field"], change["before"]) == (
            str(people["李四"]), "李四", "party", None
        )  # fmt: skip
        assert change["after"] == contacts.get_person(unit, people["张三"]).party
    with app.unit("chair") as unit:
        assert contacts.get_person(unit, people["李四"]).party is None
        assert unit.session.scalar(select(func.count()).select_from(AuditLog)) == before


def test_each_action_writes_one_audit_entry_per_person_changed(
    app: Tongxin, people: dict[str, uuid.UUID]
) -> None:
    clock.freeze(NOW + timedelta(minutes=1))
    ids = list(people.values())
    with app.unit("chair") as unit:
        group = groups.create_static(unit, "三人", people=ids)
        result = bulk_actions.set_field(unit, groups.member_ids(unit, group), "title", "委员")
        assert len(result.changes) == 3
    with app.unit("chair") as unit:
        entries = list(
            unit.session.scalars(
                select(AuditLog).where(AuditLog.entity == "person", AuditLog.action == "update")
            )
        )
        assert sorted(e.entity_id for e in entries) == sorted(str(i) for i in ids)
        assert all(e.after == {"title": "委员"} and e.actor == "chair" for e in entries)
    with app.unit("chair") as unit:
        result = bulk_actions.add_category(unit, ids, "党外知识分子")
        assert len(result.changes) == 3
        cats = unit.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.entity == "person_category")
        )
        assert cats == 3
        again = bulk_actions.add_category(unit, ids, "党外知识分子")
        assert (len(again.changes), again.unchanged) == (0, 3)
    with app.unit("chair") as unit:
        chair = accounts.resolve_account(unit, "chair")
        result = bulk_actions.assign_keeper(unit, ids, chair.id, every_days=90)
        assert len(result.changes) == 3
        rows = list(unit.session.scalars(select(Assignment)))
        assert {(r.ideal_days, r.max_days) for r in rows} == {(90, 90)}
        result = bulk_actions.schedule_with_all(
            unit, ids, kind="meeting", start=NOW + timedelta(days=3), accounts=[chair.id]
        )
        made = result.created_id
    with app.unit("chair") as unit:
        parts = unit.session.scalar(
            select(func.count())
            .select_from(InteractionParticipant)
            .where(
                InteractionParticipant.interaction_id == made,
                col(InteractionParticipant.person_id).in_(ids),
            )
        )
        assert parts == 3
        assert (
            unit.session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.entity == "assignment", AuditLog.action == "create")
            )
            == 3
        )


def test_one_refusal_leaves_everyone_as_they_were_and_names_the_person(
    app: Tongxin, people: dict[str, uuid.UUID]
) -> None:
    with app.unit("gl") as unit:  # the clerk sees 张三 and 李四 only
        ids = bulk_actions.target_people(unit, query="", filters={"membership": "none"})
        assert sorted(ids) == sorted([people["张三"], people["李四"]])
        with pytest.raises(PermissionDenied, match=r"李四|张三"):
            bulk_actions.set_field(unit, ids, "region", "baoying")
    with app.unit("chair") as unit:
        with pytest.raises(ValidationError) as bad:
            bulk_actions.set_field(unit, list(people.values()), "membership", "大人物")
        assert bad.value.errors[0].field.endswith(".membership")
        assert "李四" in bad.value.errors[0].field or "张三" in bad.value.errors[0].field
    with app.unit("chair") as unit:
        assert {contacts.get_person(unit, i).region for i in people.values()} == {
            "guangling",
            "baoying",
        }
        assert contacts.get_person(unit, people["张三"]).region == "guangling"
    with app.unit("chair") as unit, pytest.raises(ValidationError, match="say who"):
        bulk_actions.target_people(unit)
