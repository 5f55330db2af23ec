"""Follow-ups as tasks (VTODO): in the export as icalendar, vobject and ical.js read them,
and over CalDAV against a real Radicale on 127.0.0.1, where a phone (the caldav library,
as iOS Reminders, Tasks.org or jtx would) ticks one off, moves its due day, deletes it or
makes one: each comes back into tongxin after one sync, audited; a second sync writes
nothing; a change on both sides is reported."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import vobject
from sqlalchemy import select
from sqlmodel import col

from crm_core.models import AuditLog, FollowUp, FollowUpStatus
from crm_core.services import followups

from . import test_caldav
from .conftest import NOW, World, unfold
from .dav_server import Radicale, TwoWay
from .test_caldav import _server_events

ICALJS = Path(__file__).parent / "icaljs"


def _fuid(fid: object) -> str:
    return f"followup-{fid}@tongxin"


def _todos(body: bytes) -> dict[str, icalendar.Component]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(t["UID"]): t for t in cal.walk("VTODO")}


def _icaljs(body: bytes, tmp_path: Path) -> dict[str, dict[str, object]]:
    node = shutil.which("node")
    assert node, "Node.js is needed: ical.js is one of the readers checked"
    assert (ICALJS / "node_modules" / "ical.js").is_dir(), (
        "run `npm ci --prefix tests/calendar/icaljs` (as .ci/run does)"
    )
    path = tmp_path / "tasks.ics"
    path.write_bytes(body)
    done = subprocess.run(
        [node, str(ICALJS / "tasks.mjs"), str(path)],
        capture_output=True, text=True, check=True, cwd=ICALJS,
    )  # fmt: skip
    out: dict[str, dict[str, object]] = json.loads(done.stdout)
    return out


def test_a_follow_up_is_a_task_every_reader_reads_the_same(world: World, tmp_path: Path) -> None:
    uid = _fuid(world.follow_up)
    with world.app.unit("wangzx") as unit:
        own = followups.raise_follow_up(
            unit, title="材料报送", owner_id=world.leader, due_on=date(2026, 9, 18)
        )
        followups.update_follow_up(unit, own.id, status="closed")
    body = world.export()
    assert b"BEGIN:VEVENT\r\nUID:followup-" not in unfold(body)  # a task, not an event
    todo = _todos(body)[uid]
    assert todo.decoded("due") == date(2026, 9, 15)
    assert b"DUE;VALUE=DATE:20260915\r\n" in unfold(body)
    assert int(todo["PRIORITY"]) == 1  # raised by a member, who waits for the answer
    assert todo["STATUS"] == "NEEDS-ACTION" and "COMPLETED" not in todo
    assert str(todo["SUMMARY"]) == "企业用工难问题答复"
    assert "需人社局答复" in str(todo["DESCRIPTION"])
    [alarm] = todo.walk("VALARM")
    assert b"TRIGGER;RELATED=END:PT9H\r\n" in unfold(body)  # 09:00 on the due day
    assert alarm.decoded("trigger").total_seconds() == 9 * 3600
    done = _todos(body)[_fuid(own.id)]
    assert done["STATUS"] == "COMPLETED" and int(done["PERCENT-COMPLETE"]) == 100
    assert int(done["PRIORITY"]) == 5 and not done.walk("VALARM")
    assert done.decoded("completed") == NOW  # when it was closed, in UTC

    parsed = vobject.readOne(body.decode("utf-8"), validate=True)
    by_uid = {t.uid.value: t for t in parsed.vtodo_list}
    assert by_uid[uid].due.value == date(2026, 9, 15)
    assert by_uid[uid].priority.value == "1" and by_uid[uid].status.value == "NEEDS-ACTION"
    assert by_uid[_fuid(own.id)].completed.value == NOW

    js = _icaljs(body, tmp_path)
    assert js[uid] == {
        "due": "2026-09-15",
        "due_is_date": True,
        "status": "NEEDS-ACTION",
        "priority": 1,
        "percent": None,
        "completed": None,
        "alarms": [{"trigger": "PT9H", "related": "END"}],
    }
    assert js[_fuid(own.id)]["completed"] == int(NOW.timestamp())
    assert js[_fuid(own.id)]["percent"] == 100 and js[_fuid(own.id)]["status"] == "COMPLETED"


def _edit_task(two_way: TwoWay, uid: str, **changes: object) -> None:
    """Change a task as a phone does (fetch, edit, PUT with If-Match)."""
    obj = two_way.calendar().todo_by_uid(uid)
    cal = icalendar.Calendar.from_ical(obj.data)
    todo = cal.walk("VTODO")[0]
    for name, value in changes.items():
        todo.pop(name.upper(), None)
        todo.add(name, value)
    obj.data = cal.to_ical().decode()
    obj.save()


def _follow_up(world: World) -> FollowUp:
    with world.app.unit() as unit:
        row = unit.session.get(FollowUp, world.follow_up)
        assert row is not None
        unit.session.expunge(row)
        return row


def test_a_task_ticked_off_on_the_phone_closes_the_follow_up(world: World, two_way: TwoWay) -> None:
    uid = _fuid(world.follow_up)
    assert two_way.on_server()[uid].name == "VTODO"
    two_way.calendar().todo_by_uid(uid).complete(datetime(2026, 9, 1, 3, 0, tzinfo=UTC))
    report = two_way.sync()
    assert report.completed == [uid] and report.conflicts == []
    f = _follow_up(world)
    assert f.status is FollowUpStatus.closed and f.closed_on == date(2026, 9, 1)
    with world.app.unit() as unit:
        entry = unit.session.scalars(
            select(AuditLog)
            .where(
                col(AuditLog.entity_id) == str(world.follow_up), col(AuditLog.action) == "update"
            )
            .order_by(col(AuditLog.at).desc())
        ).first()
        assert entry is not None and "from the phone of wangzx" in (entry.actor or "")
        assert entry.after is not None and entry.after["status"] == "closed"
    on_server = two_way.on_server()[uid]
    assert on_server["STATUS"] == "COMPLETED"  # stays on the phone, ticked off
    two_way.quiet()
    # Reopened on the phone: open again in tongxin.
    _edit_task(two_way, uid, status="NEEDS-ACTION", percent_complete=0)
    obj = two_way.calendar().todo_by_uid(uid)
    cal = icalendar.Calendar.from_ical(obj.data)
    cal.walk("VTODO")[0].pop("COMPLETED")
    obj.data = cal.to_ical().decode()
    obj.save()
    report = two_way.sync()
    assert report.reopened == [uid]
    assert _follow_up(world).status is FollowUpStatus.open
    two_way.quiet()


def test_a_due_day_moved_on_the_phone_moves_the_follow_up(world: World, two_way: TwoWay) -> None:
    uid = _fuid(world.follow_up)
    _edit_task(two_way, uid, due=date(2026, 9, 19))
    report = two_way.sync()
    assert report.rescheduled == [uid]
    assert _follow_up(world).due_on == date(2026, 9, 19)
    assert two_way.on_server()[uid].decoded("due") == date(2026, 9, 19)
    two_way.quiet()


def test_a_task_deleted_on_the_phone_is_put_back(world: World, two_way: TwoWay) -> None:
    uid = _fuid(world.follow_up)
    two_way.calendar().todo_by_uid(uid).delete()
    report = two_way.sync()
    assert report.restored == [uid]  # a member's concern is not dropped from a phone
    assert _follow_up(world).status is FollowUpStatus.open
    assert uid in two_way.on_server()
    two_way.quiet()


def _phone_task(uid: str, **props: object) -> str:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//phone//EN")
    cal.add("version", "2.0")
    todo = icalendar.Todo()
    todo.add("uid", uid)
    todo.add("dtstamp", NOW)
    for name, value in props.items():
        todo.add(name, value)
    cal.add_component(todo)
    return str(cal.to_ical().decode())


def test_a_task_made_on_the_phone_becomes_a_follow_up(world: World, two_way: TwoWay) -> None:
    cal = two_way.calendar()
    cal.save_todo(_phone_task("PHONE-TASK-1", summary="回访李四", due=date(2026, 9, 24)))
    # What is not taken, and stays on the phone as it is: no due day, no title.
    cal.save_todo(_phone_task("PHONE-TASK-2", summary="买茶叶"))
    cal.save_todo(_phone_task("PHONE-TASK-3", summary="   ", due=date(2026, 9, 24)))
    report = two_way.sync()
    with world.app.unit() as unit:
        made = unit.session.scalars(select(FollowUp).where(col(FollowUp.title) == "回访李四")).one()
        assert made.owner_id == world.leader and made.due_on == date(2026, 9, 24)
        assert made.status is FollowUpStatus.open
    assert report.imported == [_fuid(made.id)]
    assert sorted(report.ignored) == ["PHONE-TASK-2", "PHONE-TASK-3"]
    server = two_way.on_server()
    assert "PHONE-TASK-1" not in server  # replaced by tongxin's task, not doubled
    assert server[_fuid(made.id)].decoded("due") == date(2026, 9, 24)
    assert {"PHONE-TASK-2", "PHONE-TASK-3"} <= set(server)
    two_way.quiet()


def test_a_task_changed_on_both_sides_is_reported_and_tongxin_wins(
    world: World, two_way: TwoWay
) -> None:
    uid = _fuid(world.follow_up)
    two_way.calendar().todo_by_uid(uid).complete()
    with world.app.unit("wangzx") as unit:
        followups.update_follow_up(unit, world.follow_up, due_on=date(2026, 9, 20))
    report = two_way.sync()
    assert [c["uid"] for c in report.conflicts] == [uid]
    assert report.conflicts[0]["state"] == "done"  # what the phone had
    assert report.completed == []
    f = _follow_up(world)
    assert f.status is FollowUpStatus.open and f.due_on == date(2026, 9, 20)
    task = two_way.on_server()[uid]
    assert task["STATUS"] == "NEEDS-ACTION" and task.decoded("due") == date(2026, 9, 20)
    two_way.quiet()


def test_an_events_only_calendar_gets_no_tasks(world: World, radicale_server: Radicale) -> None:
    rad = radicale_server
    home = rad.client().principal().calendar_home_set
    events_only = home.make_calendar(name="只有日程", supported_calendar_component_set=["VEVENT"])
    report = test_caldav.sync_caldav(
        world.app,
        url=str(events_only.url),
        username=test_caldav.USER,
        password=test_caldav.PASSWORD,
        account="wangzx",
    )
    server = _server_events(rad, str(events_only.url))
    assert report.created == len(server) > 0
    assert _fuid(world.follow_up) not in server
    assert all(c.name == "VEVENT" for c in server.values())
