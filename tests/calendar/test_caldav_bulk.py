"""The first push into an empty Radicale calendar goes as one request (the whole
VCALENDAR PUT on the collection, with If-Match on its ETag), and what it leaves is the
same as item by item: every event and task there once, the state right, a second sync
quiet, a phone's move taken. A calendar that already holds something is pushed item by
item, and what the phone put there is kept."""

from __future__ import annotations

from datetime import timedelta

import icalendar

from crm_core.calendar.caldav_bulk import MIN_ITEMS
from crm_core.calendar.caldav_sync import state_rows
from crm_core.models import Interaction
from crm_core.services import interactions

from .conftest import World, local
from .test_caldav import Radicale, _export_uids, _push, _server_events
from .test_caldav_two_way import _calendar, _edit_on_phone, _quiet, _uid


def _many(world: World) -> None:
    with world.app.unit("wangzx") as unit:
        for n in range(MIN_ITEMS):
            interactions.schedule_interaction(
                unit,
                kind="call",
                start=local(2026, 9, 2, 8) + timedelta(hours=n),
                people=[world.zhang],
                accounts=[world.leader],
            )


def test_the_first_push_of_many_items_is_one_request(
    world: World, radicale_server: Radicale
) -> None:
    rad = radicale_server
    _many(world)
    report = _push(world, rad)
    wanted = _export_uids(world)
    puts = [r for r in rad.writes() if r[0] == "PUT"]
    # The events in one PUT on the collection; the follow-up's task on its own.
    assert len(puts) == 2 and report.writes == 2
    assert report.calendar_url.endswith(puts[0][1])  # on the collection itself
    assert puts[0][2].get("if-match")  # only over the empty collection it listed
    assert puts[1][1].endswith(".ics") and puts[1][2].get("if-none-match") == "*"
    assert report.created == len(wanted) > MIN_ITEMS
    server = _server_events(rad, report.calendar_url)
    assert set(server) == wanted
    rows = state_rows(world.app, report.calendar_url)
    assert {r.uid for r in rows} == wanted and all(r.etag for r in rows)
    _quiet(world, rad)
    # The state is right: a move on the phone comes back as usual.
    _edit_on_phone(
        rad,
        report.calendar_url,
        _uid(world.visit),
        dtstart=local(2026, 9, 21, 15),
        dtend=local(2026, 9, 21, 16),
    )
    again = _push(world, rad)
    assert again.rescheduled == [_uid(world.visit)]
    with world.app.unit() as unit:
        i = unit.session.get(Interaction, world.visit)
        assert i is not None and i.start_at == local(2026, 9, 21, 15)
    _quiet(world, rad)


def test_a_calendar_holding_something_is_pushed_item_by_item(
    world: World, radicale_server: Radicale
) -> None:
    rad = radicale_server
    _many(world)
    home = rad.client().principal().calendar_home_set
    cal = home.make_calendar(name="同心 · 王主席")
    phone = icalendar.Calendar()
    phone.add("prodid", "-//phone//EN")
    phone.add("version", "2.0")
    ev = icalendar.Event()
    ev.add("uid", "PHONE-RRULE")
    ev.add("dtstamp", local(2026, 9, 1, 9))
    ev.add("dtstart", local(2026, 9, 3, 9))
    ev.add("rrule", {"freq": "weekly"})
    ev.add("summary", "每周例会")
    phone.add_component(ev)
    cal.save_event(phone.to_ical().decode())
    rad.seen.clear()
    report = _push(world, rad)
    assert report.ignored == ["PHONE-RRULE"]  # a phone's series is left alone
    puts = [r for r in rad.writes() if r[0] == "PUT"]
    assert len(puts) == report.created == len(_export_uids(world))
    assert all(p[2].get("if-none-match") == "*" for p in puts)
    server = _server_events(rad, str(_calendar(rad, report.calendar_url).url))
    assert "PHONE-RRULE" in server and set(server) - {"PHONE-RRULE"} == _export_uids(world)
    _quiet(world, rad)


def test_a_resource_is_the_same_bytes_as_a_calendar_holding_the_event(world: World) -> None:
    # The sync serialises the calendar's head once and each event on its own: the bytes
    # (and so the stored hashes) are those of a VCALENDAR holding the zone and the event.
    import icalendar as ical

    from crm_core.calendar.caldav_base import _resource, event_bytes, resource_head
    from crm_core.calendar.ics import build_events, calendar_range, new_calendar
    from crm_core.services import accounts

    with world.app.unit() as unit:
        rng = calendar_range(unit, account=accounts.resolve_account(unit, "wangzx"))
        shell = new_calendar(unit, rng, method=False)
        head = resource_head(shell)
        items = build_events(unit, rng)
        assert len(items) > 5
        for ev in items:
            whole = ical.Calendar()
            for name, value in shell.property_items(recursive=False):
                if name not in ("BEGIN", "END"):
                    whole.add(name, value)
            for sub in shell.subcomponents:
                whole.add_component(sub)
            whole.add_component(ev)
            body = _resource(shell, ev, head)
            assert body == whole.to_ical()
            assert event_bytes(body, head) == ev.to_ical()
