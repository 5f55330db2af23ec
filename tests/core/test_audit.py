"""Tests of the audit log and row versions: every change through the services says who
did what, with the values before and after, and bumps the row's version.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.models import AuditLog
from crm_core.services import accounts, contacts, followups, interactions
from crm_core.unit import Unit

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
T2 = datetime(2026, 3, 5, 8, 15, tzinfo=UTC)


def log_of(unit: Unit, entity: str, entity_id: object) -> list[AuditLog]:
    return list(
        unit.session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
            .order_by(AuditLog.at)
        )
    )


def test_create_is_logged_with_the_actor_and_the_values(app: Tongxin, admin: str) -> None:
    clock.freeze(T0)
    with app.unit(admin) as unit:
        office_id = unit.actor.id if unit.actor else None
        pid = contacts.create_person(
            unit, name="张三", sector="经济界", mobile="138 1234 5678", categories=["党外知识分子"]
        ).id
    with app.unit() as unit:
        [entry] = log_of(unit, "person", pid)
        assert (entry.action, entry.actor, entry.actor_id) == ("create", admin, office_id)
        assert entry.at == T0
        assert entry.before is None
        assert entry.after is not None
        assert entry.after["name"] == "张三"
        assert entry.after["sector"] == "economy"
        assert entry.after["mobile"] == "+8613812345678"
        assert entry.after["version"] == 1
        assert entry.after["id"] == str(pid)
        [link] = log_of(unit, "person_category", f"{pid}/non_party_intellectual")
        assert link.action == "create"
        assert link.after == {"person_id": str(pid), "category": "non_party_intellectual"}


def test_update_logs_only_the_changed_columns(app: Tongxin, admin: str) -> None:
    clock.freeze(T0)
    with app.unit(admin) as unit:
        pid = contacts.create_person(unit, name="张三", employer="扬州大学").id
    clock.freeze(T1)
    with app.unit(admin) as unit:
        contacts.update_person(unit, pid, title="教授", employer="扬州大学")
    with app.unit() as unit:
        create, update = log_of(unit, "person", pid)
        assert create.action == "create"
        assert (update.action, update.actor, update.at) == ("update", admin, T1)
        assert update.before == {"title": None}
        assert update.after == {"title": "教授"}


def test_delete_is_logged_with_the_values_before(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = contacts.create_person(
            unit, name="张三", categories=["党外知识分子", "非公有制经济人士"]
        ).id
    with app.unit() as unit:
        contacts.update_person(unit, pid, categories=["非公有制经济人士"])
    with app.unit() as unit:
        create, delete = log_of(unit, "person_category", f"{pid}/non_party_intellectual")
        assert (create.action, delete.action) == ("create", "delete")
        assert delete.before == {"person_id": str(pid), "category": "non_party_intellectual"}
        assert delete.after is None
        # The login: the OS user on SQLite, the database role on PostgreSQL.
        assert delete.actor == app.login_name()
        assert delete.actor_id is None  # the login has no account
        assert [e.action for e in log_of(unit, "person_category", f"{pid}/private_economy")] == [
            "create"
        ]


def test_versions_and_updated_at_follow_every_change(app: Tongxin) -> None:
    clock.freeze(T0)
    with app.unit() as unit:
        pid = contacts.create_person(unit, name="张三").id
    clock.freeze(T1)
    with app.unit() as unit:
        contacts.update_person(unit, pid, title="教授")
    with app.unit() as unit:
        p = contacts.get_person(unit, pid)
        assert (p.version, p.created_at, p.updated_at) == (2, T0, T1)
    clock.freeze(T2)
    with app.unit() as unit:
        contacts.update_person(unit, pid, title="院长", expected_version=2)
    with app.unit() as unit:
        p = contacts.get_person(unit, pid)
        assert (p.version, p.created_at, p.updated_at) == (3, T0, T2)
        assert p.updated_at.utcoffset() == timedelta(0)
        titles = [(e.before, e.after) for e in log_of(unit, "person", pid)[1:]]
        assert titles == [
            ({"title": None}, {"title": "教授"}),
            ({"title": "教授"}, {"title": "院长"}),
        ]


def test_saving_without_a_change_is_no_change(app: Tongxin) -> None:
    clock.freeze(T0)
    with app.unit() as unit:
        pid = contacts.create_person(unit, name="张三", title="教授").id
    clock.freeze(T1)
    with app.unit() as unit:
        contacts.update_person(unit, pid, title="教授", name="张三")
    with app.unit() as unit:
        p = contacts.get_person(unit, pid)
        assert (p.version, p.updated_at) == (1, T0)
        assert [e.action for e in log_of(unit, "person", pid)] == ["create"]


def test_changes_of_interactions_and_follow_ups_are_logged(app: Tongxin) -> None:
    clock.freeze(T0)
    with app.unit() as unit:
        accounts.create_account(unit, username="xiaoli", display_name="小李")
        pid = contacts.create_person(unit, name="王委员").id
    with app.unit("xiaoli") as unit:
        iid = interactions.schedule_interaction(
            unit, kind="meeting", people=[pid], start=T0 + timedelta(days=1)
        ).id
        fid = followups.raise_follow_up(unit, title="路灯不亮", person_id=pid).id
    clock.freeze(T1)
    with app.unit("xiaoli") as unit:
        interactions.complete_interaction(unit, iid, summary="谈了路灯")
        followups.update_follow_up(unit, fid, status="closed")
    with app.unit() as unit:
        i_create, i_update = log_of(unit, "interaction", iid)
        assert (i_create.action, i_create.actor) == ("create", "xiaoli")
        assert i_update.before == {"status": "planned", "summary": None, "sequence": 0}
        assert i_update.after == {"status": "done", "summary": "谈了路灯", "sequence": 1}
        f_create, f_update = log_of(unit, "follow_up", fid)
        assert (f_create.action, f_create.actor) == ("create", "xiaoli")
        assert f_update.before == {"status": "open", "closed_on": None}
        assert f_update.after == {"status": "closed", "closed_on": "2026-03-02"}
        assert interactions.get_interaction(unit, iid).version == 2
        participants = unit.session.scalars(
            select(AuditLog).where(AuditLog.entity == "interaction_participant")
        ).all()
        assert {e.after["interaction_id"] for e in participants if e.after} == {str(iid)}


def test_a_rolled_back_unit_leaves_no_audit(app: Tongxin) -> None:
    try:
        with app.unit() as unit:
            contacts.create_person(unit, name="张三")
            raise RuntimeError("the import failed halfway")
    except RuntimeError:
        pass
    with app.unit() as unit:
        assert unit.session.scalars(select(AuditLog)).all() == []
