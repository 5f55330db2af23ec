"""County staff get their region only, wherever the data reaches them: every built-in
report (service API and `tongxin report NAME --json`), exports, their phone feed (from a
real `tongxin serve` running as the database's owner), `tongxin export ics`, and the
reminder service's digest and reminders (run by the owner, computed as each person).

The office: 广陵区 has 张三 and 赵六, 邗江区 has 李四, 王五 has no region. The county
staff member ``gl`` (广陵区) keeps 张三 and 李四 and owns the follow-ups 路灯 (张三) and
停车 (李四); today at 15:00 gl and the chair meet 张三 and 李四 together in 广陵区.
On PostgreSQL ``gl`` connects with a real role of its own (row-level security applies).
"""

from __future__ import annotations

import http.client
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from crm_cli.main import run
from crm_plugins import visits as visits_plugin
from openpyxl import load_workbook
from sqlalchemy.engine import make_url

from crm_core import clock, db, exporter, i18n, identity
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.calendar.server import FeedServer, make_server, serve_in_thread
from crm_core.config import load_config
from crm_core.errors import PermissionDenied
from crm_core.plugins import PluginHost
from crm_core.reminders import plan as planning
from crm_core.reminders.channels import Message
from crm_core.reminders.service import ReminderService
from crm_core.reports import Period, report_json, run_report
from crm_core.services import accounts, assignments, contacts, followups, interactions

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Yangzhou
Q1 = Period.quarter(2026, 1)
REPORTS = ("coverage", "liaison", "visits", "followups")


def at(month: int, day: int, hour: int = 10) -> datetime:
    """A time of 2026 in Yangzhou (UTC+8), as an aware UTC instant."""
    return datetime(2026, month, day, hour - 8, 0, tzinfo=UTC)


@dataclass
class Office:
    office: str
    chair: str
    vice: str
    gl: str
    zhang: uuid.UUID
    li: uuid.UUID
    meeting: uuid.UUID


@pytest.fixture
def office(app: Tongxin, plugins: PluginHost, names: Callable[[str], str]) -> Office:
    i18n.set_language("zh")  # calendars and reminders in Chinese, as an office has them
    plugins.register(visits_plugin, "visits")  # its kinds and its report "visits"
    app.refresh_registries()
    clock.freeze(NOW)
    o = Office(names("office"), names("chair"), names("vice"), names("gl"),
               uuid.uuid4(), uuid.uuid4(), uuid.uuid4())  # fmt: skip
    with app.unit() as unit:
        accounts.create_account(unit, username=o.office, display_name="办公室", role="admin")
        chair = accounts.create_account(
            unit, username=o.chair, display_name="王主席", role="leader", chair_meeting=True
        ).id
        vice = accounts.create_account(
            unit, username=o.vice, display_name="李副主席", role="leader", chair_meeting=True
        ).id
        gl = accounts.create_account(
            unit, username=o.gl, display_name="广陵区政协", role="county_staff",
            region_scope="guangling",
        ).id  # fmt: skip
        o.zhang = contacts.create_person(unit, name="张三", region="guangling").id
        zhao = contacts.create_person(unit, name="赵六", region="guangling").id
        o.li = contacts.create_person(unit, name="李四", region="hanjiang").id
        wang = contacts.create_person(unit, name="王五").id
        for keeper, contact in ((chair, o.zhang), (chair, o.li), (vice, o.li), (gl, o.zhang),
                                (gl, o.li)):  # fmt: skip
            assignments.assign(
                unit, keeper_id=keeper, contact_id=contact, ideal_days=10, max_days=20,
                start_on=date(2025, 12, 1),
            )  # fmt: skip
        followups.raise_follow_up(
            unit, title="路灯", person_id=o.zhang, owner_id=gl, due_on=NOW.date()
        )
        followups.raise_follow_up(
            unit, title="停车", person_id=o.li, owner_id=gl, due_on=NOW.date()
        )
        followups.raise_follow_up(
            unit, title="排水", person_id=o.li, owner_id=chair, due_on=NOW.date()
        )
    with app.unit(o.chair) as unit:
        interactions.log_interaction(
            unit, kind="visit", people=[o.zhang], region="guangling", start=at(2, 10)
        )
        interactions.log_interaction(
            unit, kind="visit", people=[o.li], region="hanjiang", start=at(2, 12)
        )
        interactions.log_interaction(unit, kind="call", people=[wang], start=at(2, 15))
        interactions.log_interaction(  # last year: not in the reports' quarter
            unit, kind="meeting", people=[zhao, o.li], start=datetime(2025, 12, 20, 2, tzinfo=UTC)
        )
        o.meeting = interactions.schedule_interaction(
            unit, kind="meeting", people=[o.zhang, o.li], accounts=[gl, chair],
            region="guangling", summary="两地委员座谈", start=at(3, 10, 15),
        ).id  # fmt: skip
    return o


@pytest.fixture
def tx(
    db_url: str,
    backend: str,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    pg_roles: Callable[[str], None],
) -> Callable[..., tuple[int, bytes, str]]:
    """``tx(*args, login=NAME, lang="en")``: tongxin run in-process as the login NAME
    (the real database role on PostgreSQL), giving (exit code, stdout bytes, stderr)."""

    def call(*args: str, login: str | None = None, lang: str = "en") -> tuple[int, bytes, str]:
        url = db_url
        before = i18n.language()
        with monkeypatch.context() as m:
            if login and backend == "sqlite":
                m.setattr(identity, "os_login", lambda: login)
            elif login:
                pg_roles(login)
                url = (
                    make_url(db.normalize_url(db_url))
                    .set(username=login)
                    .render_as_string(hide_password=False)
                )
            code = run(["--lang", lang, "--db", url, *args])
        i18n.set_language(before)  # the command set its own
        captured = capsysbinary.readouterr()
        return code, captured.out, captured.err.decode()

    return call


# -- reports --------------------------------------------------------------------------


def _report(app: Tongxin, code: str) -> dict[str, Any]:
    with app.unit() as unit:
        spec, result = run_report(unit, code, Q1)
        return report_json(spec, Q1, result, "en") | {"notes": [s.note_en for s in result.sections]}


def _rows(report: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return next(s["rows"] for s in report["sections"] if s["key"] == section)


def test_every_report_of_county_staff_covers_their_region_only(
    app: Tongxin, office: Office, login: Callable[..., Tongxin]
) -> None:
    gl = login(office.gl)
    mine = {code: _report(gl, code) for code in REPORTS}
    everyone = {code: _report(login(office.office), code) for code in REPORTS}
    for code in REPORTS:
        text = json.dumps(mine[code], ensure_ascii=False)
        assert "李四" not in text and "王五" not in text and "邗江区" not in text, code
        assert "covers Guangling District only" in mine[code]["notes"][0], code
        assert "covers" not in " ".join(everyone[code]["notes"]), code
    assert "李四" in json.dumps(everyone, ensure_ascii=False)  # the office sees them all

    coverage = mine["coverage"]
    assert coverage["summary"] == {"people": 2, "reached": 1, "share": 0.5}
    assert everyone["coverage"]["summary"]["people"] == 4
    regions = [r["group"] for r in _rows(coverage, "coverage") if r["dimension"] == "县(市、区)"]
    assert regions == ["广陵区"]
    assert [r["names"] for r in _rows(coverage, "not_reached") if r["group"] == "广陵区"] == [
        ["赵六"]
    ]

    liaison = _rows(mine["liaison"], "members")
    assert [(r["keeper"], r["assigned"], r["contacts"]) for r in liaison] == [("王主席", 1, 1)]
    assert [r["contact"] for r in _rows(mine["liaison"], "assignments")] == ["张三"]
    assert {r["keeper"]: r["assigned"] for r in _rows(everyone["liaison"], "members")} == {
        "王主席": 2,
        "李副主席": 1,
    }

    by_month = _rows(mine["visits"], "by_month")
    assert [(r["county"], r["total"]) for r in by_month] == [("广陵区", 1), ("合计", 1)]
    assert mine["visits"]["summary"]["total"] == 1
    assert everyone["visits"]["summary"]["total"] == 2

    concerns = {r["title"]: r["person"] for r in _rows(mine["followups"], "list")}
    assert concerns == {"路灯": "张三", "停车": ""}  # their own, about someone they may not see
    assert {r["title"] for r in _rows(everyone["followups"], "list")} == {"路灯", "停车", "排水"}


def test_the_report_command_gives_county_staff_the_same(
    app: Tongxin,
    office: Office,
    login: Callable[..., Tongxin],
    tx: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "visits")  # the report "visits" is its
    for code in REPORTS:
        status, out, err = tx("report", code, "--quarter", "2026Q1", "--json", login=office.gl)
        assert status == 0, err
        shown = json.loads(out)
        expected = _report(login(office.gl), code)
        assert shown["summary"] == expected["summary"], code
        assert [s["rows"] for s in shown["sections"]] == [
            s["rows"] for s in expected["sections"]
        ], code
        assert "李四" not in out.decode(), code


def test_exports_of_county_staff_hold_their_region_only(
    app: Tongxin, office: Office, login: Callable[..., Tongxin], tmp_path: Path
) -> None:
    people, work = tmp_path / "people.xlsx", tmp_path / "work.xlsx"
    with login(office.gl).unit() as unit:
        assert exporter.export_people(unit, people) == 2
        exporter.export_interactions(unit, work)
    names = [r[0] for r in load_workbook(people).active.iter_rows(min_row=2, values_only=True)]  # type: ignore[union-attr]
    assert names == ["张三", "赵六"]
    rows = list(load_workbook(work).active.iter_rows(min_row=2, values_only=True))  # type: ignore[union-attr]
    assert [(r[2], r[4]) for r in rows] == [
        ("会面交流", "赵六"),  # with 李四 of 邗江区, whom they do not see
        ("走访看望", "张三"),
        ("会面交流", "张三"),
    ]


# -- calendars ----------------------------------------------------------------------------


@pytest.fixture
def server(app: Tongxin, office: Office) -> Iterator[FeedServer]:
    srv = make_server(app, "127.0.0.1", 0)  # as the owner of the database
    serve_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


def fetch(srv: FeedServer, token: str) -> bytes:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        conn.request("GET", f"/cal/{token}.ics")
        response = conn.getresponse()
        assert response.status == 200
        return response.read()
    finally:
        conn.close()


def test_the_feed_of_county_staff_holds_their_region_only(
    app: Tongxin, office: Office, server: FeedServer, tx: Callable[..., Any]
) -> None:
    with app.unit(office.office) as unit:
        _row, token = feeds.create_token(unit, account=accounts.resolve_account(unit, office.gl))
    body = fetch(server, token)
    text = body.decode()
    assert "会面交流：张三" in text.replace("\r\n ", "")  # their meeting, 李四 not named
    assert "路灯" in text and "停车" in text and "排水" not in text
    assert "李四" not in text and "王五" not in text
    # The same bytes as their own export, and as the office's export of their calendar.
    assert tx("export", "ics", login=office.gl, lang="zh")[1] == body
    assert tx("export", "ics", "--user", office.gl, login=office.office, lang="zh")[1] == body
    # The chair's feed names everyone of the meeting.
    with app.unit(office.office) as unit:
        _row, chair = feeds.create_token(unit, account=accounts.resolve_account(unit, office.chair))
    assert "会面交流：李四、张三" in fetch(server, chair).decode().replace("\r\n ", "")


def met(body: bytes) -> set[str]:
    """Whom the calendar's items are with: what follows the kind in their titles."""
    titles = [
        line.removeprefix("SUMMARY:")
        for line in body.decode().replace("\r\n ", "").split("\r\n")
        if line.startswith("SUMMARY:")
    ]
    return {t.split("：", 1)[1] for t in titles if "：" in t and not t.startswith("跟踪事项")}


def test_county_staff_get_their_region_of_the_office_calendar_and_no_one_elses(
    office: Office, tx: Callable[..., Any]
) -> None:
    status, body, err = tx("export", "ics", "--calendar", "office", login=office.gl, lang="zh")
    assert status == 0, err
    assert met(body) == {"张三", "赵六"}
    assert "李四" not in body.decode() and "王五" not in body.decode()
    status, body, _ = tx("export", "ics", "--calendar", "office", login=office.office, lang="zh")
    assert met(body) == {"张三", "李四", "王五", "李四、张三", "李四、赵六"}
    # Not another person's calendar, nor a feed of anyone else's or of the office's.
    for args in (
        ("export", "ics", "--user", office.chair),
        ("feed", "token", "create", office.chair),
        ("feed", "token", "create", "--calendar", "office"),
    ):
        status, _out, err = tx(*args, login=office.gl)
        assert status == 1 and ("may not" in err or "only an administrator" in err), args
    status, _out, err = tx("feed", "token", "create", office.gl, login=office.gl)
    assert status == 0, err


# -- reminders ----------------------------------------------------------------------------


def test_digest_and_reminders_of_county_staff_name_their_region_only(
    app: Tongxin, office: Office, db_url: str, plugins: PluginHost, tmp_path: Path
) -> None:
    config = tmp_path / "office.toml"
    config.write_text('[reminders]\nchannels = ["log"]\n', "utf-8")
    owner = Tongxin(load_config(config), db_url=db_url, plugins=plugins)  # the service's login
    got: list[Message] = []
    service = ReminderService(owner, stream=io.StringIO(), listener=got.append)
    try:
        assert service.send_digest(NOW) >= 2
        digests = {m.username: m.body for m in got}
        gl = digests[office.gl]
        assert "张三" in gl and "路灯" in gl and "停车" in gl and "15:00" in gl
        assert "李四" not in gl
        assert "李四" in digests[office.chair] and "排水" in digests[office.chair]
        with owner.unit() as unit:
            due = planning.item_reminders(unit, NOW, at(3, 11))
        meeting = next(p for p in due if p.interaction_id == office.meeting)
        got.clear()
        service.send(meeting)
        titles = {m.username: m.title for m in got}
        assert "张三" in titles[office.gl] and "李四" not in titles[office.gl]
        assert "李四、张三" in titles[office.chair]
    finally:
        owner.close()


def test_the_feed_server_and_the_reminder_service_need_an_administrator(
    office: Office, login: Callable[..., Tongxin]
) -> None:
    staff = login(office.gl)
    with pytest.raises(PermissionDenied, match="只有管理员"):
        make_server(staff, "127.0.0.1", 0)
    with pytest.raises(PermissionDenied, match="只有管理员"):
        ReminderService(staff, stream=None).start()
