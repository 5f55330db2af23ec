"""Correcting and deleting an interaction (issue 14): through the kind's schema and the
plugins' checks, refused whole, audited. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_core.models import AuditLog, InteractionParticipant
from crm_core.services import accounts, contacts, followups, interactions

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


def _setup(app: Tongxin, admin: str) -> dict[str, object]:
    clock.freeze(T0)
    with app.unit(admin) as unit:
        zs = contacts.create_person(unit, name="张三").id
        ls = contacts.create_person(unit, name="李四").id
        office = unit.actor.id if unit.actor else None
        met = interactions.log_interaction(
            unit,
            kind="meeting",
            people=[zs],
            accounts=[office],
            summary="座谈",
            data={"topic": "科研", "concerns": ["经费紧张"]},
        )
        fu = followups.list_follow_ups(unit, interaction_id=met.id)[0]
        return {
            "zs": zs,
            "ls": ls,
            "office": office,
            "id": met.id,
            "version": met.version,
            "fu": fu.id,
        }


def test_a_correction_replaces_what_is_given_and_is_audited(app: Tongxin, admin: str) -> None:
    ids = _setup(app, admin)
    with app.unit(admin) as unit:
        i = interactions.update_interaction(
            unit,
            ids["id"],
            summary="座谈高校科研",
            notes="  补记：建议设立基金 ",
            data={"topic": "科研成果转化"},
            start=T1,
            people=[ids["zs"], ids["ls"]],
            expected_version=ids["version"],
        )
        assert (i.summary, i.notes, i.data["topic"]) == (
            "座谈高校科研",
            "补记：建议设立基金",
            "科研成果转化",
        )
        assert i.start_at == T1 and i.end_at == T1.replace(hour=7, minute=30)  # 60 min kept
        who = {(p.person_id, p.account_id) for p in interactions.participants_of(unit, i.id)}
        # The people given; the account kept, as only people were given.
        assert who == {(ids["zs"], None), (ids["ls"], None), (None, ids["office"])}
        entries = list(
            unit.session.scalars(
                select(AuditLog).where(
                    AuditLog.entity == "interaction", AuditLog.action == "update"
                )
            )
        )
        changed = [e for e in entries if e.after and "summary" in e.after]
        assert [(e.before["summary"], e.after["summary"]) for e in changed] == [
            ("座谈", "座谈高校科研")
        ]
        assert all(e.actor == "office" and e.entity_id == str(ids["id"]) for e in entries)


def test_a_refused_correction_writes_nothing(app: Tongxin, admin: str) -> None:
    ids = _setup(app, admin)
    with app.unit(admin) as unit:
        with pytest.raises(ValidationError) as refused:
            interactions.update_interaction(
                unit, ids["id"], summary="改了", data={"topic": ["不是文字"]}
            )
        assert any(e.field.startswith("data.topic") for e in refused.value.errors)
        with pytest.raises(ValidationError):
            interactions.update_interaction(unit, ids["id"], people=[], accounts=[])
        with pytest.raises(Conflict):
            interactions.update_interaction(unit, ids["id"], summary="晚了", expected_version=0)
    with app.unit(admin) as unit:
        assert interactions.get_interaction(unit, ids["id"]).summary == "座谈"


def test_a_cancelled_one_is_not_corrected(app: Tongxin, admin: str) -> None:
    clock.freeze(T0)
    with app.unit(admin) as unit:
        zs = contacts.create_person(unit, name="张三").id
        planned = interactions.schedule_interaction(unit, kind="call", people=[zs], start=T1)
        interactions.cancel_interaction(unit, planned.id, reason="改期")
        with pytest.raises(ValidationError):
            interactions.update_interaction(unit, planned.id, summary="x")


def test_delete_removes_it_keeps_its_follow_ups_and_the_audit(app: Tongxin, admin: str) -> None:
    ids = _setup(app, admin)
    with app.unit(admin) as unit:
        interactions.delete_interaction(unit, ids["id"], expected_version=ids["version"])
    with app.unit(admin) as unit:
        with pytest.raises(NotFound):
            interactions.get_interaction(unit, ids["id"])
        rows = unit.session.scalars(
            select(InteractionParticipant).where(InteractionParticipant.interaction_id == ids["id"])
        )
        assert list(rows) == []
        fu = followups.get_follow_up(unit, ids["fu"])
        assert fu.title == "经费紧张" and fu.interaction_id is None
        [gone] = unit.session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "interaction",
                AuditLog.entity_id == str(ids["id"]),
                AuditLog.action == "delete",
            )
        )
        assert (
            gone.before is not None and gone.before["summary"] == "座谈" and gone.actor == "office"
        )


def test_confidential_work_is_deleted_only_by_who_may_read_it(app: Tongxin, admin: str) -> None:
    clock.freeze(T0)
    with app.unit(admin) as unit:
        accounts.create_account(unit, username="xiaoli", display_name="小李", role="staff")
        zs = contacts.create_person(unit, name="张三").id
        talk = interactions.log_interaction(
            unit, kind="note", people=[zs], accounts=[unit.actor.id], confidential=True
        )
    with app.unit("xiaoli") as unit, pytest.raises(PermissionDenied):
        interactions.delete_interaction(unit, talk.id)
    with app.unit("xiaoli") as unit, pytest.raises(PermissionDenied):
        interactions.update_interaction(unit, talk.id, summary="看看")
    with app.unit(admin) as unit:
        assert interactions.get_interaction(unit, talk.id).confidential
