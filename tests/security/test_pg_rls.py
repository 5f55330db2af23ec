"""PostgreSQL as the shared deployment: row-level security (migration 0003) holds for a
person who connects with their own role directly, as with psql, and the program works
for them through the same rules.

These tests connect as real LOGIN roles (members of ``tongxin_user``) with plain SQL,
so they run on PostgreSQL only; ``test_the_program_works_as_each_role`` runs on both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text

from crm_core import clock, db
from crm_core.app import Tongxin
from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.services import accounts, contacts, followups, interactions

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
PG = pytest.mark.parametrize("backend", ["postgresql"])


@dataclass
class World:
    office: str
    chair: str
    xiaoli: str
    gl: str
    stranger: str
    zhang: uuid.UUID  # 广陵区
    li: uuid.UUID  # 邗江区
    talk: uuid.UUID  # confidential: chair with 张三, in 广陵区
    visit: uuid.UUID  # chair with 李四, in 邗江区


@pytest.fixture
def world(app: Tongxin, names: Callable[[str], str]) -> World:
    clock.freeze(NOW)
    w = World(names("office"), names("chair"), names("xiaoli"), names("gl"), names("stranger"),
              uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4())  # fmt: skip
    with app.unit() as unit:
        accounts.create_account(unit, username=w.office, role="admin")
        accounts.create_account(unit, username=w.chair, role="leader")
        accounts.create_account(unit, username=w.xiaoli, role="staff")
        accounts.create_account(unit, username=w.gl, role="county_staff", region_scope="guangling")
        w.zhang = contacts.create_person(
            unit, name="张三", region="guangling", mobile="13800000001"
        ).id
        w.li = contacts.create_person(unit, name="李四", region="hanjiang").id
        followups.raise_follow_up(unit, title="路灯", person_id=w.zhang)
        followups.raise_follow_up(unit, title="停车", person_id=w.li)
    with app.unit(w.chair) as unit:
        w.talk = interactions.log_interaction(
            unit, kind="meeting", people=[w.zhang], region="guangling", summary="谈心谈话",
            notes="绝密内容", confidential=True,
        ).id  # fmt: skip
        w.visit = interactions.log_interaction(
            unit, kind="meeting", people=[w.li], region="hanjiang", summary="走访", notes="普通"
        ).id
    return w


def rows(conn: psycopg.Connection, sql: str, *args: object) -> list[tuple]:  # type: ignore[type-arg]
    return list(conn.execute(sql, args or None).fetchall())


@PG
def test_a_county_role_sees_only_its_county_through_plain_sql(
    world: World, psql: Callable[[str], psycopg.Connection]
) -> None:
    gl = psql(world.gl)
    assert rows(gl, "SELECT name FROM person") == [("张三",)]
    assert rows(gl, "SELECT count(*) FROM person WHERE region = 'hanjiang'") == [(0,)]
    assert rows(gl, "SELECT title FROM follow_up") == [("路灯",)]
    assert rows(gl, "SELECT count(*) FROM interaction WHERE id = %s", world.visit) == [(0,)]
    their = "SELECT count(*) FROM interaction_participant WHERE person_id = %s"
    assert rows(gl, their, world.li) == [(0,)]
    # Writing around the program is refused too.
    assert gl.execute("UPDATE person SET title = 'x' WHERE name = '李四'").rowcount == 0
    assert gl.execute("DELETE FROM person WHERE name = '李四'").rowcount == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        gl.execute(
            "INSERT INTO person (id, created_at, updated_at, version, name, name_pinyin, "
            "name_initials, phones, phone_digits, membership, status, extra, region) VALUES "
            "(gen_random_uuid(), now(), now(), 1, '王五', 'wangwu', 'ww', '[]', '', 'none', "
            "'active', '{}', 'hanjiang')"
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        gl.execute("UPDATE person SET region = 'hanjiang' WHERE name = '张三'")
    # Not an administrator: no audit log, no accounts written.
    assert rows(gl, "SELECT count(*) FROM audit_log") == [(0,)]
    promote = "UPDATE account SET role = 'admin' WHERE username = %s"
    assert gl.execute(promote, (world.gl,)).rowcount == 0
    assert rows(gl, "SELECT role FROM tongxin_me") == [("county_staff",)]


@PG
def test_confidential_notes_are_not_readable_by_non_participants_through_sql(
    world: World, psql: Callable[[str], psycopg.Connection]
) -> None:
    for role in (world.xiaoli, world.gl):
        conn = psql(role)
        assert rows(conn, "SELECT notes FROM interaction WHERE confidential") == []
        assert rows(conn, "SELECT count(*) FROM interaction WHERE id = %s", world.talk) == [(0,)]
        # That the talk took place is no secret; what it was about is (its summary too,
        # since migration 0006).
        assert rows(
            conn, "SELECT summary, notes, data FROM interaction_overview WHERE id = %s", world.talk
        ) == [(None, None, None)]
    xiaoli = psql(world.xiaoli)
    assert rows(xiaoli, "SELECT notes FROM interaction WHERE id = %s", world.visit) == [("普通",)]
    for role in (world.chair, world.office):
        conn = psql(role)
        assert rows(conn, "SELECT notes FROM interaction WHERE id = %s", world.talk) == [
            ("绝密内容",)
        ]
        assert rows(conn, "SELECT notes FROM interaction_overview WHERE id = %s", world.talk) == [
            ("绝密内容",)
        ]


@PG
def test_a_role_without_an_account_sees_nothing(
    world: World, psql: Callable[[str], psycopg.Connection]
) -> None:
    stranger = psql(world.stranger)
    for table in ("person", "interaction", "follow_up", "audit_log", "interaction_overview"):
        assert rows(stranger, f"SELECT count(*) FROM {table}") == [(0,)], table
    # Only who the administrators are (whom to ask for an account).
    assert rows(stranger, "SELECT username FROM account") == [(world.office,)]


@PG
def test_the_audit_log_is_append_only_for_everyone(
    app: Tongxin, world: World, psql: Callable[[str], psycopg.Connection], db_url: str
) -> None:
    office = psql(world.office)
    assert rows(office, "SELECT count(*) FROM audit_log")[0][0] > 0
    for sql in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            office.execute(sql)
    # Nobody writes an entry in someone else's name.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        office.execute(
            "INSERT INTO audit_log (id, at, actor, action, entity, entity_id) "
            "VALUES (gen_random_uuid(), now(), 'chair', 'update', 'person', 'x')"
        )
    # Not even the owner, whose privileges are all there: the trigger refuses.
    engine = db.make_engine(db_url)
    try:
        for sql in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql))
    finally:
        engine.dispose()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        psql(world.xiaoli).execute(
            "SELECT tongxin_redact_audit('person', ARRAY['x'], ARRAY['name'], '已匿名')"
        )


def test_the_program_works_as_each_role(world: World, login: Callable[..., Tongxin]) -> None:
    gl = login(world.gl)
    with gl.unit() as unit:
        assert [p.name for p in contacts.list_people(unit).items] == ["张三"]
        call = interactions.log_interaction(unit, kind="call", people=[world.zhang]).id
        assert {i.id for i in interactions.timeline(unit, world.zhang)} >= {call}
        # Refused by the program; as a PostgreSQL role, 李四 does not even exist for them.
        with pytest.raises((PermissionDenied, NotFound)):
            contacts.get_person(unit, world.li)
        with pytest.raises((PermissionDenied, ValidationError)):
            interactions.log_interaction(unit, kind="call", people=[world.li])
        assert [f.title for f in followups.list_follow_ups(unit)] == ["路灯"]
    with login(world.xiaoli).unit() as unit:
        assert {p.name for p in contacts.list_people(unit).items} == {"张三", "李四"}
        # Refused by the program; on PostgreSQL the database does not even show the row.
        with pytest.raises((PermissionDenied, NotFound)):
            interactions.read_notes(unit, world.talk)
    with login(world.chair).unit() as unit:
        assert interactions.read_notes(unit, world.talk) == "绝密内容"
        contacts.update_person(unit, world.li, title="主任")
