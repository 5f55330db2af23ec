"""`tongxin sync caldav` against a real Radicale server started here on 127.0.0.1 (a free
port, a temporary storage folder, htpasswd users): create, update (SEQUENCE, If-Match)
and delete mirror the database, a second run writes nothing, an interrupted run
resumes, Chinese text arrives intact. Every request the server receives is counted by
a WSGI layer in front of it."""

from __future__ import annotations

import json
from typing import Any

import caldav
import icalendar
import pytest
from crm_cli.main import run

from crm_core.calendar import calendar_range, export_ics
from crm_core.calendar.caldav_sync import CaldavError, resource_name, state_rows, sync_caldav
from crm_core.models import Interaction
from crm_core.services import accounts, interactions

from .conftest import World, local
from .dav_server import PASSWORD, USER, Radicale


def _push(world: World, rad: Radicale, **kw: Any) -> Any:
    return sync_caldav(
        world.app,
        url=rad.url,
        username=USER,
        password=PASSWORD,
        calendar="同心 · 王主席",
        account="wangzx",
        **kw,
    )


def _server_events(rad: Radicale, calendar_url: str) -> dict[str, icalendar.Component]:
    """Every event and task on the server, by UID."""
    cal = caldav.Calendar(client=rad.client(), url=calendar_url)
    out = {}
    for obj in [*cal.events(), *cal.todos(include_completed=True)]:
        parsed = icalendar.Calendar.from_ical(obj.data)
        ev = next(c for c in parsed.subcomponents if c.name in ("VEVENT", "VTODO"))
        out[str(ev["UID"])] = ev
    return out


def _export_uids(world: World) -> set[str]:
    with world.app.unit() as unit:
        rng = calendar_range(unit, account=accounts.resolve_account(unit, "wangzx"))
        cal = icalendar.Calendar.from_ical(export_ics(unit, rng))
    return {str(e["UID"]) for e in cal.subcomponents if e.name in ("VEVENT", "VTODO")}


def test_create_update_delete_mirror_the_database(world: World, radicale_server: Radicale) -> None:
    rad = radicale_server
    report = _push(world, rad)
    wanted = _export_uids(world)
    assert report.created == len(wanted) and report.writes == len(wanted)
    assert all(h.get("if-none-match") == "*" for m, _p, h in rad.writes() if m == "PUT")
    on_server = _server_events(rad, report.calendar_url)
    assert set(on_server) == wanted
    visit = on_server[f"interaction-{world.visit}@tongxin"]
    assert str(visit["SUMMARY"]) == "会面交流：张三"
    assert "地点：宝应县委员活动之家" in str(visit["DESCRIPTION"])
    assert visit.decoded("dtstart") == local(2026, 9, 20, 9, 30)
    resource = rad.client().request(
        report.calendar_url + resource_name(f"interaction-{world.visit}@tongxin"), "GET", "", {}
    )
    assert "会面交流：张三".encode() in resource.raw.encode("utf-8")
    assert b"METHOD:" not in resource.raw.encode("utf-8")  # CalDAV resources carry none

    # A second run with no change sends no write.
    rad.seen.clear()
    again = _push(world, rad)
    assert (again.created, again.updated, again.deleted, again.writes) == (0, 0, 0, 0)
    assert again.unchanged == len(wanted)
    assert rad.writes() == []

    # Update: a new SEQUENCE, sent with If-Match.
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(unit, world.visit, start=local(2026, 9, 21, 15, 0))
    rad.seen.clear()
    update = _push(world, rad)
    assert (update.created, update.updated, update.deleted, update.writes) == (0, 1, 0, 1)
    [(method, path, headers)] = rad.writes()
    assert method == "PUT" and path.endswith(resource_name(f"interaction-{world.visit}@tongxin"))
    assert headers["if-match"].startswith('"')
    visit = _server_events(rad, update.calendar_url)[f"interaction-{world.visit}@tongxin"]
    assert int(visit["SEQUENCE"]) == 1
    assert visit.decoded("dtstart") == local(2026, 9, 21, 15, 0)

    # Delete.
    with world.app.unit() as unit:
        unit.session.delete(unit.session.get(Interaction, world.meeting))
    rad.seen.clear()
    gone = _push(world, rad)
    assert (gone.created, gone.updated, gone.deleted) == (0, 0, 1)
    assert [m for m, _p, _h in rad.writes()] == ["DELETE"]
    assert f"interaction-{world.meeting}@tongxin" not in _server_events(rad, gone.calendar_url)
    assert {s.uid for s in state_rows(world.app, gone.calendar_url)} == wanted - {
        f"interaction-{world.meeting}@tongxin"
    }


def test_an_interrupted_run_resumes(world: World, radicale_server: Radicale) -> None:
    rad = radicale_server
    first = _push(world, rad)
    with world.app.unit("wangzx") as unit:
        for day in (3, 4, 5):
            interactions.schedule_interaction(
                unit,
                kind="call",
                start=local(2026, 10, day, 10, 0),
                people=[world.li],
                accounts=[world.leader],
            )

    class Crash(Exception):
        pass

    def crashing(url: str, username: str | None, password: str | None) -> Any:
        client = caldav.DAVClient(
            url=url, username=username, password=password, enable_rfc6764=False
        )
        real = client.request
        puts = [0]

        def request(href: str, method: str = "GET", body: str = "", headers: Any = None) -> Any:
            if method == "PUT":
                puts[0] += 1
                if puts[0] == 3:
                    raise Crash("the network went away")
            return real(href, method, body, headers)

        client.request = request  # type: ignore[method-assign]
        return client

    with pytest.raises(Crash):
        _push(world, rad, client_factory=crashing)
    rad.seen.clear()
    resumed = _push(world, rad)
    assert (resumed.created, resumed.updated, resumed.writes) == (1, 0, 1)
    assert set(_server_events(rad, first.calendar_url)) == _export_uids(world)


def test_the_database_wins_over_a_change_made_on_the_server(
    world: World, radicale_server: Radicale
) -> None:
    rad = radicale_server
    report = _push(world, rad)
    href = report.calendar_url + resource_name(f"interaction-{world.visit}@tongxin")
    client = rad.client()
    body = client.request(href, "GET", "", {}).raw
    client.request(
        href, "PUT", body.replace("会面交流：张三", "被改动"), {"Content-Type": "text/calendar"}
    )
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(unit, world.visit, start=local(2026, 9, 20, 10, 0))
    again = _push(world, rad)
    assert again.overwritten == [f"interaction-{world.visit}@tongxin"]
    ev = _server_events(rad, report.calendar_url)[f"interaction-{world.visit}@tongxin"]
    assert str(ev["SUMMARY"]) == "会面交流：张三"


def test_a_wrong_password_is_a_clear_error(world: World, radicale_server: Radicale) -> None:
    with pytest.raises(CaldavError, match="CalDAV server"):
        sync_caldav(
            world.app, url=radicale_server.url, username=USER, password="wrong", calendar="x"
        )


def test_the_command(
    world: World,
    radicale_server: Radicale,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADICALE_PW", PASSWORD)
    args = [
        "--db", db_url, "sync", "caldav", "--url", radicale_server.url, "--username", USER,
        "--password-env", "RADICALE_PW", "--target", "同心", "--user", "wangzx",
    ]  # fmt: skip
    capsys.readouterr()
    assert run(args) == 0
    out = capsys.readouterr().out
    assert f"新建 {len(_export_uids(world))}" in out
    assert run(args) == 0
    assert "新建 0，更新 0，删除 0" in capsys.readouterr().out
    # --calendar chooses what to sync, with export's words; a server name is refused
    # with a pointer to --target (it meant that before).
    base = args[: args.index("--target")]
    assert run([*base, "--calendar", "同心"]) == 1
    assert "--target" in capsys.readouterr().err
    assert run([*base, "--target", "机关", "--calendar", "institutional", "--user", "wangzx"]) == 1
    assert "--user" in capsys.readouterr().err
    assert run([*base, "--target", "机关", "--calendar", "institutional", "--json"]) == 0
    shared = json.loads(capsys.readouterr().out)
    uids = set(_server_events(radicale_server, shared["calendar_url"]))
    assert len(uids) == shared["created"] > 0
    assert all(u.startswith("series-") for u in uids)  # the institutional series only
    monkeypatch.delenv("RADICALE_PW")
    assert run(args) == 1
