"""A confidential interaction looks the same to a non-participant on both backends: the
row is there (a talk took place, with whom, when), its notes and fields are not, and it
cannot be changed. On PostgreSQL the program connects as the person's own role (the
``login`` fixture), reads through migration 0004's view ``tongxin_program.interaction``,
and the database itself masks the notes; on SQLite the services do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import PermissionDenied
from crm_core.reports import Period, run_report
from crm_core.services import accounts, agenda, contacts, interactions

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
PG = pytest.mark.parametrize("backend", ["postgresql"])
SECRET = "谈到子女就业问题"


@dataclass
class World:
    office: str
    chair: str
    xiaoli: str
    gl: str
    zhang: uuid.UUID  # 广陵区
    li: uuid.UUID  # 邗江区
    talk: uuid.UUID  # done, confidential: the chair with 张三, in 广陵区
    planned: uuid.UUID  # planned, confidential: the chair with 张三
    visit: uuid.UUID  # an ordinary meeting: the chair with 李四, in 邗江区


@pytest.fixture
def world(app: Tongxin, names: Callable[[str], str]) -> World:
    clock.freeze(NOW)
    office, chair, xiaoli, gl = (names(n) for n in ("office", "chair", "xiaoli", "gl"))
    with app.unit() as unit:
        accounts.create_account(unit, username=office, display_name="办公室", role="admin")
        accounts.create_account(unit, username=chair, display_name="王主席", role="leader")
        accounts.create_account(unit, username=xiaoli, display_name="小李", role="staff")
        accounts.create_account(
            unit, username=gl, display_name="广陵", role="county_staff", region_scope="guangling"
        )
        zhang = contacts.create_person(unit, name="张三", region="guangling").id
        li = contacts.create_person(unit, name="李四", region="hanjiang").id
    with app.unit(chair) as unit:
        talk = interactions.log_interaction(
            unit, kind="meeting", people=[zhang], region="guangling", summary="谈心谈话",
            notes=SECRET, data={"topic": "家庭"}, confidential=True,
            start=NOW - timedelta(days=1),
        ).id  # fmt: skip
        planned = interactions.schedule_interaction(
            unit, kind="meeting", people=[zhang], region="guangling", summary="再次谈心",
            notes="拟谈内容", confidential=True, start=NOW + timedelta(days=2),
        ).id  # fmt: skip
        visit = interactions.log_interaction(
            unit, kind="meeting", people=[li], region="hanjiang", summary="走访", notes="普通",
            start=NOW - timedelta(days=2),
        ).id  # fmt: skip
    return World(office, chair, xiaoli, gl, zhang, li, talk, planned, visit)


def test_a_non_participant_sees_that_a_talk_took_place_and_nothing_of_what_was_said(
    world: World, login: Callable[..., Tongxin]
) -> None:
    for who in (world.xiaoli, world.gl):  # staff; county staff of the talk's region
        with login(who).unit() as unit:
            timeline = interactions.timeline(unit, world.zhang)
            assert world.talk in {i.id for i in timeline}, who
            shown = interactions.interaction_json(
                unit, interactions.get_interaction(unit, world.talk)
            )
            assert (shown["summary"], shown["kind"]) == (None, "meeting")
            assert (shown["notes"], shown["data"], shown["notes_hidden"]) == (None, None, True)
            assert SECRET not in repr(shown)
            who_took_part = {
                (p.person_id, p.account_id) for p in interactions.participants_of(unit, world.talk)
            }
            chair = accounts.resolve_account(unit, world.chair).id
            assert who_took_part == {(world.zhang, None), (None, chair)}
            with pytest.raises(PermissionDenied, match="保密"):
                interactions.read_notes(unit, world.talk)
            # Counted like any work: the month's tally and the coverage report.
            month = agenda.counts_by_kind(unit, NOW - timedelta(days=9), NOW)
            assert month["meeting"] == (2 if who == world.xiaoli else 1)
            _spec, coverage = run_report(
                unit, "coverage", Period(date(2026, 3, 1), date(2026, 3, 31))
            )
            assert coverage.summary["reached"] == (2 if who == world.xiaoli else 1)
            # Not theirs to change.
            for change in (
                lambda: interactions.cancel_interaction(unit, world.planned, reason="改期"),
                lambda: interactions.reschedule_interaction(
                    unit, world.planned, start=NOW + timedelta(days=3)
                ),
            ):
                with pytest.raises(PermissionDenied, match=r"confidential|保密"):
                    change()


def test_participants_and_administrators_read_and_change_it(
    world: World, login: Callable[..., Tongxin]
) -> None:
    with login(world.chair).unit() as unit:
        assert interactions.read_notes(unit, world.talk) == SECRET
        moved = interactions.reschedule_interaction(
            unit, world.planned, start=NOW + timedelta(days=3), location="市政协"
        )
        assert moved.location == "市政协"
    with login(world.office).unit() as unit:
        planned = interactions.get_interaction(unit, world.planned)
        assert (planned.location, planned.notes) == ("市政协", "拟谈内容")  # notes kept
        assert interactions.read_notes(unit, world.talk) == SECRET
        shown = interactions.interaction_json(unit, interactions.get_interaction(unit, world.talk))
        assert shown["data"]["topic"] == "家庭"


def test_county_staff_see_only_their_region_even_through_the_view(
    world: World, login: Callable[..., Tongxin]
) -> None:
    with login(world.gl).unit() as unit:
        month = agenda.between(unit, NOW - timedelta(days=9), NOW + timedelta(days=9))
        assert {i.id for i in month.items} == {world.talk, world.planned}
        assert [p.name for p in contacts.list_people(unit).items] == ["张三"]


# -- PostgreSQL: the database does the masking ------------------------------------------


@PG
def test_through_psql_the_view_masks_and_the_table_hides(
    world: World, psql: Callable[[str], psycopg.Connection]
) -> None:
    xiaoli = psql(world.xiaoli)
    view = "SELECT summary, notes, data FROM tongxin_program.interaction WHERE id = %s"
    # Summary, notes and fields masked (the summary since migration 0006).
    assert xiaoli.execute(view, (world.talk,)).fetchall() == [(None, None, {})]
    assert xiaoli.execute(view, (world.visit,)).fetchall()[0][:2] == ("走访", "普通")
    hidden = "SELECT count(*) FROM interaction WHERE id = %s"
    assert xiaoli.execute(hidden, (world.talk,)).fetchall() == [(0,)]
    # Writing through the view: ordinary work yes, the talk not even blindly.
    write = "UPDATE tongxin_program.interaction SET {} WHERE id = %s"
    assert xiaoli.execute(write.format("notes = 'x'"), (world.talk,)).rowcount == 0
    assert xiaoli.execute(write.format("summary = 'x'"), (world.talk,)).rowcount == 0
    assert xiaoli.execute("DELETE FROM tongxin_program.interaction WHERE id = %s",
                          (world.talk,)).rowcount == 0  # fmt: skip
    assert xiaoli.execute(write.format("location = '江都'"), (world.visit,)).rowcount == 1
    chair = psql(world.chair)
    got = chair.execute(
        "SELECT summary, notes, data->>'topic' FROM tongxin_program.interaction WHERE id = %s",
        (world.talk,),
    ).fetchall()
    assert got == [("谈心谈话", SECRET, "家庭")]
    assert chair.execute(hidden, (world.talk,)).fetchall() == [(1,)]
    # Who took part in the talk is seen with it; it is not changed around the program.
    seen = "SELECT count(*) FROM interaction_participant WHERE interaction_id = %s"
    assert xiaoli.execute(seen, (world.talk,)).fetchall() == [(2,)]
    assert (
        xiaoli.execute(
            "DELETE FROM interaction_participant WHERE interaction_id = %s", (world.talk,)
        ).rowcount
        == 0
    )
    # County staff: the view holds their region's work only.
    gl = psql(world.gl)
    ids = {r[0] for r in gl.execute("SELECT id FROM tongxin_program.interaction").fetchall()}
    assert ids == {world.talk, world.planned}


@PG
def test_the_program_reads_the_view_as_a_role_and_the_table_as_the_owner(
    app: Tongxin, world: World, login: Callable[..., Tongxin]
) -> None:
    with login(world.xiaoli).engine.connect() as conn:
        path = conn.execute(text("SHOW search_path")).scalar()
        assert str(path).startswith("tongxin_program, ")
        assert conn.execute(text("SELECT count(*) FROM interaction")).scalar() == 3
    with app.engine.connect() as conn:  # the owner (who migrates) reads the tables
        assert not str(conn.execute(text("SHOW search_path")).scalar()).startswith("tongxin")


@PG
def test_the_view_has_every_column_of_the_table(app: Tongxin) -> None:
    # A migration that adds a column to interaction must make the view again.
    sql = (
        "SELECT column_name FROM information_schema.columns WHERE table_schema = {} "
        "AND table_name = 'interaction' ORDER BY ordinal_position"
    )
    with app.engine.connect() as conn:
        table = conn.execute(text(sql.format("current_schema()"))).scalars().all()
        view = conn.execute(text(sql.format("'tongxin_program'"))).scalars().all()
    assert view == table and "notes" in view
