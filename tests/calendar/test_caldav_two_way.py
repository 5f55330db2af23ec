"""Two-way `tongxin sync caldav` against a real Radicale on 127.0.0.1: what a phone does on
the server (through the caldav library, as DAVx5 or iOS would) comes back into tongxin
after one sync, audited; a second sync writes nothing; both-sides changes are reported."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import caldav
import icalendar
import pytest
from sqlalchemy import select
from sqlmodel import col

from crm_core.models import AuditLog, Interaction, InteractionParticipant, InteractionStatus
from crm_core.services import interactions

from .conftest import World, local
from .dav_server import Radicale, TwoWay
from .test_caldav import _push


def _uid(iid: object) -> str:
    return f"interaction-{iid}@tongxin"


def _calendar(rad: Radicale, url: str) -> caldav.Calendar:
    return caldav.Calendar(client=rad.client(), url=url)


def _on_server(rad: Radicale, url: str) -> dict[str, icalendar.Event]:
    out = {}
    for obj in _calendar(rad, url).events():
        ev = icalendar.Calendar.from_ical(obj.data).walk("VEVENT")[0]
        out[str(ev["UID"])] = ev
    return out


def _edit_on_phone(rad: Radicale, url: str, uid: str, **changes: Any) -> int:
    """Change an event as a phone does (fetch, edit, PUT with If-Match); its SEQUENCE."""
    obj = _calendar(rad, url).event_by_uid(uid)
    cal = icalendar.Calendar.from_ical(obj.data)
    ev = cal.walk("VEVENT")[0]
    for name, value in changes.items():
        ev.pop(name.upper(), None)
        ev.add(name, value)
    obj.data = cal.to_ical().decode()
    obj.save()
    return int(ev.get("SEQUENCE", 0))


def _quiet(world: World, rad: Radicale) -> None:
    """A second sync: no HTTP write, no database write."""
    TwoWay(world, rad, "").quiet()


def test_a_time_and_place_moved_on_the_phone_become_a_reschedule(
    world: World, radicale_server: Radicale
) -> None:
    rad = radicale_server
    url = _push(world, rad).calendar_url
    uid = _uid(world.visit)
    phone_seq = _edit_on_phone(
        rad,
        url,
        uid,
        dtstart=local(2026, 9, 21, 15, 0),
        dtend=local(2026, 9, 21, 16, 30),
        location="市政协二楼会议室",
        sequence=7,  # a phone that bumps SEQUENCE itself
    )
    report = _push(world, rad)
    assert report.rescheduled == [uid]
    assert report.conflicts == []
    with world.app.unit() as unit:
        i = unit.session.get(Interaction, world.visit)
        assert i is not None
        assert i.start_at == local(2026, 9, 21, 15, 0)
        assert i.end_at == local(2026, 9, 21, 16, 30)
        assert i.location == "市政协二楼会议室"
        assert i.status is InteractionStatus.planned
        entry = unit.session.scalars(
            select(AuditLog)
            .where(col(AuditLog.entity_id) == str(world.visit), col(AuditLog.action) == "update")
            .order_by(col(AuditLog.at).desc())
        ).first()
        assert entry is not None and entry.actor is not None
        assert "from the phone of wangzx" in entry.actor
    ev = _on_server(rad, url)[uid]
    assert int(ev["SEQUENCE"]) > phone_seq == 7  # never a SEQUENCE the phone already used
    assert ev.decoded("dtstart") == local(2026, 9, 21, 15, 0)
    assert str(ev["LOCATION"]) == "市政协二楼会议室"
    _quiet(world, rad)


def test_a_title_edited_on_the_phone_is_left_alone(world: World, radicale_server: Radicale) -> None:
    rad = radicale_server
    url = _push(world, rad).calendar_url
    _edit_on_phone(rad, url, _uid(world.visit), summary="我自己的标题")
    report = _push(world, rad)
    assert report.writes == 0 and report.rescheduled == [] and report.conflicts == []
    assert str(_on_server(rad, url)[_uid(world.visit)]["SUMMARY"]) == "我自己的标题"
    _quiet(world, rad)


def test_a_deletion_on_the_phone_cancels_planned_work_and_restores_done_work(
    world: World, radicale_server: Radicale
) -> None:
    rad = radicale_server
    with world.app.unit("wangzx") as unit:
        done = interactions.schedule_interaction(
            unit, kind="meeting", start=local(2026, 8, 28, 9, 0), accounts=[world.leader]
        )
        interactions.complete_interaction(unit, done.id, summary="已开完")
    url = _push(world, rad).calendar_url
    cal = _calendar(rad, url)
    cal.event_by_uid(_uid(world.visit)).delete()
    cal.event_by_uid(_uid(done.id)).delete()
    report = _push(world, rad)
    assert report.cancelled == [_uid(world.visit)]
    assert report.restored == [_uid(done.id)]
    with world.app.unit() as unit:
        visit = unit.session.get(Interaction, world.visit)
        kept = unit.session.get(Interaction, done.id)
        assert visit is not None and kept is not None
        assert visit.status is InteractionStatus.cancelled
        assert visit.cancel_reason == "deleted on the phone"
        assert kept.status is InteractionStatus.done
    server = _on_server(rad, url)
    assert _uid(world.visit) not in server  # stays off the phone
    assert _uid(done.id) in server  # put back
    _quiet(world, rad)


def test_an_event_made_on_the_phone_becomes_planned_work(
    world: World, radicale_server: Radicale
) -> None:
    rad = radicale_server
    url = _push(world, rad).calendar_url
    phone = icalendar.Calendar()
    phone.add("prodid", "-//phone//EN")
    phone.add("version", "2.0")
    ev = icalendar.Event()
    ev.add("uid", "A1B2C3-phone")
    ev.add("dtstamp", local(2026, 9, 1, 9, 0))
    ev.add("dtstart", local(2026, 9, 26, 10, 0))
    ev.add("dtend", local(2026, 9, 26, 11, 0))
    ev.add("summary", "走访民营企业")
    ev.add("location", "江都区")
    phone.add_component(ev)
    _calendar(rad, url).save_event(phone.to_ical().decode())
    report = _push(world, rad)
    assert len(report.imported) == 1
    with world.app.unit() as unit:
        made = unit.session.scalars(
            select(Interaction).where(col(Interaction.summary) == "走访民营企业")
        ).one()
        assert made.status is InteractionStatus.planned
        assert made.kind == "note"  # [caldav] new_event_kind, by default
        assert made.start_at == local(2026, 9, 26, 10, 0)
        assert made.end_at == local(2026, 9, 26, 11, 0)
        assert made.location == "江都区"
        taking_part = unit.session.scalars(
            select(InteractionParticipant.account_id).where(
                col(InteractionParticipant.interaction_id) == made.id
            )
        ).all()
        assert taking_part == [world.leader]
    assert report.imported == [_uid(made.id)]
    server = _on_server(rad, url)
    assert "A1B2C3-phone" not in server  # replaced by tongxin's event, not doubled
    assert server[_uid(made.id)].decoded("dtstart") == local(2026, 9, 26, 10, 0)
    _quiet(world, rad)


def test_both_sides_changed_is_reported_and_tongxin_wins(
    world: World, radicale_server: Radicale
) -> None:
    rad = radicale_server
    url = _push(world, rad).calendar_url
    _edit_on_phone(rad, url, _uid(world.visit), dtstart=local(2026, 9, 23, 8, 0))
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(unit, world.visit, start=local(2026, 9, 24, 14, 0))
    report = _push(world, rad)
    assert [c["uid"] for c in report.conflicts] == [_uid(world.visit)]
    assert report.conflicts[0]["rule"] == "tongxin wins"
    assert "2026-09-23 00:00:00+00:00" in report.conflicts[0]["start"]  # what the phone had
    assert report.rescheduled == []
    with world.app.unit() as unit:
        i = unit.session.get(Interaction, world.visit)
        assert i is not None and i.start_at == local(2026, 9, 24, 14, 0)
    assert _on_server(rad, url)[_uid(world.visit)].decoded("dtstart") == local(2026, 9, 24, 14, 0)
    _quiet(world, rad)


def test_a_series_moved_on_the_phone_is_put_back(world: World, radicale_server: Radicale) -> None:
    rad = radicale_server
    url = _push(world, rad).calendar_url
    uid = "series-theory_study_monthly@tongxin"
    first = _on_server(rad, url)[uid].decoded("dtstart")
    _edit_on_phone(rad, url, uid, dtstart=first + timedelta(hours=2))
    report = _push(world, rad)
    assert report.restored == [uid]
    assert _on_server(rad, url)[uid].decoded("dtstart") == first
    _quiet(world, rad)


def test_the_command_says_what_came_from_the_phone_and_each_conflict(
    world: World,
    radicale_server: Radicale,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crm_cli.main import run

    from .test_caldav import PASSWORD, USER

    rad = radicale_server
    monkeypatch.setenv("RADICALE_PW", PASSWORD)
    args = [
        "--db", db_url, "sync", "caldav", "--url", rad.url, "--username", USER,
        "--password-env", "RADICALE_PW", "--target", "同心 · 王主席", "--user", "wangzx",
    ]  # fmt: skip
    # The command's first run puts the calendar there (the library's and the command's
    # calendars differ: the command loads the installed plugins).
    assert run([*args, "--json"]) == 0
    url = json.loads(capsys.readouterr().out)["calendar_url"]
    _edit_on_phone(
        rad,
        url,
        _uid(world.visit),
        dtstart=local(2026, 9, 21, 15, 0),
        dtend=local(2026, 9, 21, 16, 0),
    )
    _edit_on_phone(rad, url, _uid(world.talk), dtstart=local(2026, 9, 23, 8, 0))
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(unit, world.talk, start=local(2026, 9, 24, 14, 0))
    capsys.readouterr()
    assert run(args) == 0
    said = capsys.readouterr()
    assert "手机上改了时间、已在同心中改期：1 项" in said.out
    assert f"冲突：{_uid(world.talk)} 两边都有改动（服务器上已改动），保留同心的版本。" in said.err
    assert "覆盖" not in said.err  # each told once, not again as "overwritten"
    assert run(args) == 0
    quiet = capsys.readouterr()
    assert "手机上" not in quiet.out and quiet.err == ""
