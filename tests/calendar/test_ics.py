"""The iCalendar export: what it holds, that it is stable byte for byte, RFC 5545 form
(CRLF, folding at 75 octets between characters, VTIMEZONE, VALUE=DATE), confidentiality,
and what plugins add. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import vobject

from crm_core import clock
from crm_core.api import add_categories
from crm_core.calendar import calendar_range, export_ics
from crm_core.hookspecs import hookimpl
from crm_core.models import Interaction
from crm_core.services import accounts, interactions

from .conftest import World, local, unfold, vevents


def _events(body: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def uid(i: object) -> str:
    return f"interaction-{i}@tongxin"


def test_a_0930_shanghai_event_is_0130z_and_the_zone_is_compact(world: World) -> None:
    body = world.export()
    ev = _events(body)[uid(world.visit)]
    start = ev.decoded("dtstart")
    assert start == datetime(2026, 9, 20, 1, 30, tzinfo=UTC)
    assert start.astimezone(UTC).strftime("%H:%MZ") == "01:30Z"
    assert b"DTSTART;TZID=Asia/Shanghai:20260920T093000\r\n" in vevents(body)[uid(world.visit)]
    # An independent parser reads the same instant.
    parsed = vobject.readOne(body.decode("utf-8"), validate=True)
    mine = next(e for e in parsed.vevent_list if e.uid.value == uid(world.visit))
    assert mine.dtstart.value.astimezone(UTC) == datetime(2026, 9, 20, 1, 30, tzinfo=UTC)
    # One VTIMEZONE, one STANDARD block: Shanghai has had no daylight saving since 1991.
    tz = unfold(body).split(b"BEGIN:VTIMEZONE\r\n")[1].split(b"END:VTIMEZONE")[0]
    assert body.count(b"BEGIN:VTIMEZONE") == 1
    assert tz.count(b"BEGIN:STANDARD") == 1 and b"DAYLIGHT" not in tz
    assert b"TZOFFSETTO:+0800" in tz and b"TZID:Asia/Shanghai" in tz


def test_calendar_properties_and_octet_folding(world: World) -> None:
    body = world.export()
    head = body.split(b"BEGIN:VTIMEZONE")[0]
    assert (
        b"NAME:\xe5\x90\x8c\xe5\xbf\x83 \xc2\xb7 \xe7\x8e\x8b\xe4\xb8\xbb\xe5\xb8\xad\r\n" in head
    )
    assert "X-WR-CALNAME:同心 · 王主席\r\n".encode() in head
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in head
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in head
    assert body.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")
    assert b"\n" not in b"".join(lines), "every line ends with CRLF"
    assert any(len(line) > 60 and line.startswith(b" ") for line in lines), "long lines fold"
    for line in lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # no Chinese character split across a fold


def test_long_chinese_lines_fold_between_characters(world: World) -> None:
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(
            unit, world.visit, start=local(2026, 9, 20, 9, 30), location="扬州市" * 40
        )
    body = world.export()
    block = vevents(body)[uid(world.visit)]
    location = [ln for ln in block.split(b"\r\n") if ln.startswith(b"LOCATION")]
    assert location
    folded = block.split(b"LOCATION:")[1].split(b"\r\nSTATUS")[0].split(b"\r\n")
    assert len(folded) > 3
    for part in folded:
        assert len(part) <= 75
        part.decode("utf-8")
    assert _events(body)[uid(world.visit)]["LOCATION"] == "扬州市" * 40


def test_exporting_twice_gives_the_same_bytes(world: World) -> None:
    first = world.export()
    clock.freeze(clock.now() + timedelta(hours=3))  # later the same day: nothing changed
    second = world.export()
    assert second == first
    assert b"DTSTAMP:20260901T020000Z" in first  # when the items were written
    assert b"T050000Z" not in second  # never "now"


def test_editing_one_item_changes_only_its_bytes_and_bumps_sequence(world: World) -> None:
    before = vevents(world.export())
    clock.freeze(clock.now() + timedelta(hours=1))
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(unit, world.visit, start=local(2026, 9, 21, 9, 30))
    after = vevents(world.export())
    assert set(before) == set(after)
    changed = {u for u in before if before[u] != after[u]}
    assert changed == {uid(world.visit)}
    ev = _events(b"BEGIN:VCALENDAR\r\n" + after[uid(world.visit)] + b"END:VCALENDAR\r\n")
    event = ev[uid(world.visit)]
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("dtstamp") == datetime(2026, 9, 1, 3, 0, tzinfo=UTC)
    assert event.decoded("last-modified") == datetime(2026, 9, 1, 3, 0, tzinfo=UTC)


def test_a_change_of_place_alone_bumps_the_sequence(world: World) -> None:
    with world.app.unit("wangzx") as unit:
        i = interactions.reschedule_interaction(
            unit, world.visit, start=local(2026, 9, 20, 9, 30), location="高邮市委员活动之家"
        )
        assert i.sequence == 1
    event = _events(world.export())[uid(world.visit)]
    assert int(event["SEQUENCE"]) == 1 and event["LOCATION"] == "高邮市委员活动之家"


def test_what_a_users_calendar_holds(world: World) -> None:
    events = _events(world.export())
    assert uid(world.visit) in events
    assert uid(world.talk) in events
    # The done meeting was logged by wangzx: it takes part as the one who logged it.
    assert uid(world.meeting) in events
    # The office's calendar holds it all; the administrator takes part in nothing.
    office = _events(world.export("office"))
    assert uid(world.visit) not in office
    with world.app.unit() as unit:
        rng = calendar_range(unit, scope="office")
        export_ics_office = export_ics(unit, rng)
        everything = _events(export_ics_office)
        institutional = _events(export_ics(unit, calendar_range(unit, scope="institutional")))
    assert {uid(world.visit), uid(world.meeting), uid(world.talk)} <= set(everything)
    assert not [u for u in institutional if not u.startswith("series-")]
    tasks = {str(t["UID"]) for t in icalendar.Calendar.from_ical(export_ics_office).walk("VTODO")}
    assert f"followup-{world.follow_up}@tongxin" in tasks


def test_status_sequence_and_cancelled_items(world: World) -> None:
    events = _events(world.export())
    cancelled = events[uid(world.cancelled)]
    assert cancelled["STATUS"] == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 1
    assert str(cancelled["SUMMARY"]).startswith("[已取消]")
    assert not cancelled.walk("VALARM")
    assert "对方出差" in str(cancelled["DESCRIPTION"])
    done = events[uid(world.meeting)]
    assert done["STATUS"] == "CONFIRMED" and not done.walk("VALARM")
    # Complete the visit: the sequence moves again.
    with world.app.unit("wangzx") as unit:
        interactions.complete_interaction(unit, world.visit, summary="已走访")
    assert int(_events(world.export())[uid(world.visit)]["SEQUENCE"]) == 1


def test_a_deleted_item_is_gone(world: World) -> None:
    with world.app.unit() as unit:
        unit.session.delete(unit.session.get(Interaction, world.visit))
    assert uid(world.visit) not in _events(world.export())


def test_all_day_items_are_dates_with_an_exclusive_end(world: World) -> None:
    body = world.export()
    block = unfold(vevents(body)[uid(world.day_event)])
    assert b"DTSTART;VALUE=DATE:20260930\r\n" in block
    assert b"DTEND;VALUE=DATE:20261001\r\n" in block
    # A follow-up is a task due that day (tests/calendar/test_caldav_tasks.py), its
    # alarm at 09:00 on the due day.
    follow = unfold(body).split(b"BEGIN:VTODO\r\n")[1].split(b"END:VTODO")[0]
    assert b"DUE;VALUE=DATE:20260915\r\n" in follow
    assert "SUMMARY:企业用工难问题答复".encode() in follow
    assert b"TRIGGER;RELATED=END:PT9H\r\n" in follow


def test_descriptions_are_chinese_and_confidential_items_say_nothing(world: World) -> None:
    events = _events(world.export())
    visit = events[uid(world.visit)]
    assert str(visit["SUMMARY"]) == "会面交流：张三"
    text = str(visit["DESCRIPTION"])
    assert (
        "会面交流 · 已安排" in text and "对象：张三" in text and "地点：宝应县委员活动之家" in text
    )
    assert "摘要：走访了解企业用工情况" in text
    assert visit["LOCATION"] == "宝应县委员活动之家"
    assert [str(c) for c in visit["CATEGORIES"].cats] == ["会面交流"]
    body = world.export()
    # Notes are never exported; a confidential item shows its kind, time and place only.
    for secret in ("注意保密", "绝密的谈话内容", "家庭困难", "思想动态"):
        assert secret.encode() not in body
    talk = events[uid(world.talk)]
    assert str(talk["SUMMARY"]) == "会面交流"
    assert talk["CLASS"] == "CONFIDENTIAL"
    assert "李四" not in str(talk["DESCRIPTION"])


def test_alarms_per_kind_from_config(world: World, tmp_path: Path) -> None:
    events = _events(world.export())
    visit_alarms = [a.decoded("trigger") for a in events[uid(world.visit)].walk("VALARM")]
    assert visit_alarms == [timedelta(minutes=-30)]  # the default
    config = tmp_path / "office.toml"
    config.write_text(
        "[reminders]\ndefault_minutes = [45]\n[reminders.kinds]\nmeeting = [1440, 15]\n", "utf-8"
    )
    from crm_core.config import load_config

    world.app.config = load_config(config)
    events = _events(world.export())
    triggers = [a.decoded("trigger") for a in events[uid(world.visit)].walk("VALARM")]
    assert triggers == [timedelta(days=-1), timedelta(minutes=-15)]
    alarm = events[uid(world.visit)].walk("VALARM")[0]
    assert alarm["ACTION"] == "DISPLAY" and str(alarm["DESCRIPTION"]) == "会面交流：张三"
    # A kind without its own list takes the default.
    call = events[uid(world.cancelled)]  # cancelled: no alarm at all
    assert not call.walk("VALARM")
    with world.app.unit("wangzx") as unit:
        note = interactions.schedule_interaction(
            unit,
            kind="note",
            start=local(2026, 9, 26, 16, 0),
            people=[world.li],
            accounts=[world.leader],
        )
    events = _events(world.export())
    assert [a.decoded("trigger") for a in events[uid(note.id)].walk("VALARM")] == [
        timedelta(minutes=-45)
    ]
    # An all-day item rings at [reminders] all_day_time on its day.
    day = events[uid(world.day_event)].walk("VALARM")
    assert [a.decoded("trigger") for a in day] == [timedelta(hours=9)]


class CalendarPlugin:
    """A county plugin that decorates events, adds its own and asks for earlier alarms."""

    @hookimpl
    def decorate_event(self, interaction: Interaction, event: icalendar.Event) -> None:
        if interaction.location and "宝应" in interaction.location:
            add_categories(event, ["宝应"])

    @hookimpl
    def add_events(self, calendar_range: object) -> list[object]:
        good = icalendar.Event()
        good.add("uid", "tea-day-2026@baoying")
        good.add("dtstamp", datetime(2026, 1, 5, tzinfo=UTC))
        good.add("dtstart", date(2026, 10, 20))
        good.add("dtend", date(2026, 10, 21))
        good.add("summary", "宝应茶文化节")
        bad = icalendar.Event()
        bad.add("summary", "no uid")
        return [good, bad]

    @hookimpl
    def reminder_minutes(self, interaction: Interaction) -> list[int] | None:
        return [2 * 24 * 60] if interaction.location and "宝应" in interaction.location else None


def test_plugins_decorate_add_and_set_alarms(world: World) -> None:
    world.app.plugins.register(CalendarPlugin(), "baoying_calendar")
    body = world.export()
    events = _events(body)
    visit = events[uid(world.visit)]
    # One CATEGORIES line: the kind's own category and the plugin's, each once.
    block = unfold(vevents(body)[uid(world.visit)])
    assert block.count(b"\r\nCATEGORIES") == 1
    cats = [str(c) for c in visit.get("CATEGORIES").cats]  # type: ignore[union-attr]
    assert "宝应" in cats and len(cats) > 1 and len(set(cats)) == len(cats)
    triggers = [a.decoded("trigger") for a in visit.walk("VALARM")]
    assert triggers == [timedelta(days=-2), timedelta(minutes=-30)]
    assert "tea-day-2026@baoying" in events
    assert b"no uid" not in body
    info = world.app.plugins.info["baoying_calendar"]
    assert info.status == "failing" and "add_events" in (info.last_error or "")
    assert world.export() == body  # still stable


def test_strict_parsers_and_terminal_calendars_accept_it(world: World, tmp_path: Path) -> None:
    body = world.export()
    cal = vobject.readOne(body.decode("utf-8"), validate=True)
    cal.validate()
    summaries = {e.summary.value for e in cal.vevent_list}
    assert "会面交流：张三" in summaries
    path = tmp_path / "wangzx.ics"
    path.write_bytes(body)
    assert len(cal.vtodo_list) == 1  # the follow-up, a task
    _terminal_calendars_import(
        path, tmp_path, expected=len(cal.vevent_list), todos=len(cal.vtodo_list)
    )


def _terminal_calendars_import(
    path: Path, tmp: Path, expected: int, khal: bool = True, todos: int = 0
) -> None:
    # calcurse (C, its own parser): every item imported, none skipped, nothing on stderr.
    result = subprocess.run(
        ["calcurse", "-D", str(tmp / "calcurse"), "-i", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = re.search(r"(\d+) apps? / (\d+) events? / (\d+) todos? / (\d+) skipped", result.stdout)
    assert report is not None, result.stdout
    assert int(report.group(4)) == 0
    assert int(report.group(1)) + int(report.group(2)) == expected
    assert int(report.group(3)) == todos  # the follow-ups, as calcurse's todo list
    if not khal:
        return
    # khal: imports each event into a vdir calendar, without a warning.
    (tmp / "khal" / "cal").mkdir(parents=True)
    config = tmp / "khal" / "config"
    config.write_text(
        "[calendars]\n[[tongxin]]\npath = {cal}\ntype = calendar\n"
        "[locale]\nlocal_timezone = Asia/Shanghai\ndefault_timezone = Asia/Shanghai\n"
        "[sqlite]\npath = {db}\n".format(cal=tmp / "khal" / "cal", db=tmp / "khal" / "khal.db"),
        "utf-8",
    )
    result = subprocess.run(
        ["khal", "-c", str(config), "import", "--batch", "-a", "tongxin", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stderr
    assert len(list((tmp / "khal" / "cal").glob("*.ics"))) == expected


def test_the_demo_database_export_passes_the_parsers(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The built-in plugins, as the demo fills their kinds too.
    import crm_plugins.heart_talks
    import crm_plugins.union_liaison
    import crm_plugins.visits

    from crm_core import demo

    for module in (crm_plugins.visits, crm_plugins.heart_talks, crm_plugins.union_liaison):
        app.plugins.register(module, module.__name__.rsplit(".", 1)[-1])
    app.refresh_registries()
    clock.freeze(datetime(2026, 9, 1, 2, tzinfo=UTC))
    demo.generate(app, contacts=120, interactions=400, today=date(2026, 9, 1))
    with app.unit() as unit:
        rng = calendar_range(unit, scope="office")
        body = export_ics(unit, rng)
        leaders = [a for a in accounts.list_accounts(unit) if a.chair_meeting]
        personal = export_ics(unit, calendar_range(unit, account=leaders[0]))
    cal = vobject.readOne(body.decode("utf-8"), validate=True)
    assert len(cal.vevent_list) > 300
    vobject.readOne(personal.decode("utf-8"), validate=True)
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")
    path = tmp_path / "office.ics"
    path.write_bytes(body)
    _terminal_calendars_import(
        path,
        tmp_path / "office",
        expected=len(cal.vevent_list),
        khal=False,
        todos=len(getattr(cal, "vtodo_list", [])),
    )
    # khal takes a while per event: a chair-meeting member's own calendar.
    path = tmp_path / "leader.ics"
    path.write_bytes(personal)
    mine = vobject.readOne(personal.decode("utf-8"), validate=True)
    _terminal_calendars_import(
        path,
        tmp_path / "leader",
        expected=len(mine.vevent_list),
        todos=len(getattr(mine, "vtodo_list", [])),
    )
