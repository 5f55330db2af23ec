"""A confidential talk shows only that it happened, on every output path, on both
backends.

The chair holds a heart-to-heart talk (谈心谈话, confidential by kind) and plans another;
the summary, the notes and the kind's fields of both carry a unique sentinel. Then
another leader and a staffer (neither takes part nor recorded it) collect everything
tongxin shows them: the CLI as text and ``--json`` (run in-process, as their own login:
on PostgreSQL their own database role), exports read back from the files (csv, xlsx,
ics), every report (built-in and the built-in plugins') as JSON, csv and xlsx, the
calendar as the feed and CalDAV build it (pushed to a real Radicale), the reminders
computed acting as each recipient, search results, audit entries, the terminal UI's
screens (driven with Textual's Pilot) and, on PostgreSQL, plain SQL as their role. The
sentinel appears nowhere, while the talk itself (kind, day) is there. The chair and the
office's administrator still read all of it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import caldav
import openpyxl
import psycopg
import pytest
import radicale.config
from crm_cli.main import run
from crm_plugins import heart_talks, union_liaison, visits
from radicale.app import Application
from rich.console import Console
from sqlalchemy.engine import make_url

from crm_core import clock, db, identity
from crm_core.app import Tongxin
from crm_core.calendar import calendar_range, export_ics
from crm_core.calendar.caldav_sync import sync_caldav
from crm_core.i18n import set_language
from crm_core.reminders import plan
from crm_core.reports import Period, available_reports, report_json, run_report
from crm_core.services import accounts, audit, contacts, interactions

SENTINEL = "Q7X哨兵"
SUMMARY = f"摘要{SENTINEL}甲"
NOTES = f"谈到{SENTINEL}乙的家事"
TOPIC = f"话题{SENTINEL}丙"
DOCUMENT = f"《{SENTINEL}丁文件》"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Yangzhou
DONE_DAY = "2026-11-24"
PLANNED_DAY = "2026-11-26"
HIDDEN = "谈心谈话（保密）"
PLUGINS = "heart_talks,visits,union_liaison"


@dataclass
class World:
    admin: str  # the office's administrator
    chair: str  # the talker: takes part
    other: str  # another leader: does not
    staff: str  # a staffer: does not
    member: uuid.UUID  # 安然, the non-party member talked with
    talk: uuid.UUID  # done, yesterday
    planned: uuid.UUID  # planned, tomorrow


@pytest.fixture(autouse=True)
def _language_back() -> Iterator[None]:
    # The CLI and the terminal UI run here set the process's language: leave it as the
    # rest of the suite expects it (the default, Chinese).
    yield
    set_language("zh")


@pytest.fixture
def world(app: Tongxin, names: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", PLUGINS)  # the CLI loads the same plugins
    monkeypatch.setenv("TONGXIN_NOW", NOW.isoformat())
    for module in (heart_talks, visits, union_liaison):
        app.plugins.register(module, module.__name__.rsplit(".", 1)[-1])
    app.refresh_registries()
    clock.freeze(NOW)
    admin, chair, other, staff = (names(n) for n in ("office", "chair", "other", "staff"))
    with app.unit() as unit:
        new = accounts.create_account
        new(unit, username=admin, display_name="办公室", role="admin")
        chair_id = new(unit, username=chair, display_name="王主席", role="leader",
                       committee="economy").id  # fmt: skip
        new(unit, username=other, display_name="教科卫体委主任", role="leader")
        new(unit, username=staff, display_name="小李", role="staff")
        member = contacts.create_person(
            unit, name="安然", party="民盟", membership="member", committees=["经济委员会"],
            region="guangling",
        ).id  # fmt: skip
    with app.unit(chair) as unit:
        talk = interactions.log_interaction(
            unit, kind="heart_talk", people=[member], start=NOW - timedelta(days=1),
            summary=SUMMARY, notes=NOTES, data={"topics": [TOPIC], "agreed": ["推荐参加座谈"]},
        ).id  # fmt: skip
        planned = interactions.schedule_interaction(
            unit, kind="heart_talk", people=[member], accounts=[chair_id],
            start=NOW + timedelta(days=1), summary=SUMMARY, notes=NOTES,
            data={"topics": [TOPIC]},
        ).id  # fmt: skip
        # Any kind may be logged as confidential: a briefing's document is one of its fields.
        interactions.log_interaction(
            unit, kind="briefing", people=[member], start=NOW - timedelta(days=2),
            data={"document": DOCUMENT}, confidential=True,
        )  # fmt: skip
    return World(admin, chair, other, staff, member, talk, planned)


# -- the command line, as each login --------------------------------------------------------


@pytest.fixture
def cli(
    db_url: str,
    backend: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_roles: Callable[[str], None],
) -> Callable[..., tuple[int, str]]:
    """``cli(login, *args)``: exit code and everything printed, tongxin run in-process as
    that login (on PostgreSQL, connected as that database role)."""

    def call(login: str, *args: str) -> tuple[int, str]:
        url = db_url
        with monkeypatch.context() as m:
            if backend == "sqlite":
                m.setattr(identity, "os_login", lambda: login)
            else:
                pg_roles(login)
                url = (
                    make_url(db.normalize_url(db_url))
                    .set(username=login)
                    .render_as_string(hide_password=False)
                )
            code = run(["--lang", "zh", "--db", url, *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return call


def _xlsx_text(path: Path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    cells = [
        str(v)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for v in row
    ]
    book.close()
    return "\n".join(c for c in cells if c != "None")


def _csv_text(path: Path) -> str:
    return "\n".join(",".join(r) for r in csv.reader(io.StringIO(path.read_text("utf-8-sig"))))


def cli_outputs(cli: Callable[..., tuple[int, str]], login: str, folder: Path) -> dict[str, str]:
    """What every command shows ``login``: name → text (files read back)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}

    def cmd(name: str, *args: str) -> None:
        code, text = cli(login, *args)
        out[name] = f"[exit {code}]\n{text}"

    cmd("contacts show", "contacts", "show", "安然")
    cmd("contacts show --json", "contacts", "show", "安然", "--json")
    cmd("contacts search --json", "contacts", "search", "安然", "--json")
    cmd("contacts search", "contacts", "search", "安然")
    cmd("contacts duplicates --json", "contacts", "duplicates", "--json")
    for ext in ("csv", "xlsx"):
        path = folder / f"work.{ext}"
        cmd(f"export interactions {ext}", "export", "interactions", "-o", str(path),
            "--from", "2026-11-01", "--to", "2026-11-30")  # fmt: skip
        if path.exists():
            out[f"export interactions {ext} (file)"] = (
                _csv_text(path) if ext == "csv" else _xlsx_text(path)
            )
    for name, extra in (("own", []), ("office", ["--calendar", "office"])):
        path = folder / f"{name}.ics"
        cmd(f"export ics {name}", "export", "ics", *extra, "-o", str(path))
        if path.exists():
            out[f"export ics {name} (file)"] = path.read_text("utf-8")
    for report in ("coverage", "liaison", "visits", "followups", "talks", "briefings",
                   "gatherings"):  # fmt: skip
        cmd(f"report {report} --json", "report", report, "--year", "2026", "--json")
        for ext in ("csv", "xlsx"):
            path = folder / f"{report}.{ext}"
            cmd(f"report {report} {ext}", "report", report, "--year", "2026", "-o", str(path))
            if path.exists():
                out[f"report {report} {ext} (file)"] = (
                    _csv_text(path) if ext == "csv" else _xlsx_text(path)
                )
    cmd("talks coverage --json", "talks", "coverage", "--year", "2026", "--json")
    cmd("briefings", "briefings")
    cmd("briefings --json", "briefings", "--json")
    cmd("followups --json", "followups", "--json")
    cmd("overdue --json", "overdue", "--json")
    cmd("audit --json", "audit", "--json")
    cmd("audit --person", "audit", "--person", "安然")
    return out


def _leaks(outputs: dict[str, str]) -> list[str]:
    return [name for name, text in outputs.items() if SENTINEL in text]


@pytest.mark.parametrize("reader", ["other", "staff"])
def test_the_command_line_shows_a_non_reader_only_that_the_talk_happened(
    world: World, cli: Callable[..., tuple[int, str]], tmp_path: Path, reader: str
) -> None:
    for who in (getattr(world, reader),):  # another leader; a staffer
        outputs = cli_outputs(cli, who, tmp_path / who)
        assert _leaks(outputs) == [], who
        # That it happened: kind (marked confidential where the summary would be) and day.
        text = outputs["contacts show"]
        assert f"{DONE_DAY} 10:00  谈心谈话  已完成  {HIDDEN}" in text, text
        recent = json.loads(outputs["contacts show --json"].split("\n", 1)[1])["recent"]
        talk = next(r for r in recent if r["id"] == str(world.talk))
        assert (talk["kind"], talk["status"], talk["start"][:10]) == (
            "heart_talk", "done", DONE_DAY,
        )  # fmt: skip
        assert (talk["summary"], talk["notes"], talk["data"], talk["notes_hidden"]) == (
            None, None, None, True,
        )  # fmt: skip
        assert {p["person_id"] for p in talk["participants"]} >= {str(world.member)}
        for ext in ("csv", "xlsx"):
            exported = outputs[f"export interactions {ext} (file)"]
            assert HIDDEN in exported and DONE_DAY in exported and "安然" in exported, ext
        office = outputs["export ics office (file)"]
        assert "SUMMARY:谈心谈话" in office and "DTSTART;TZID=Asia/Shanghai:20261124" in office
        talks = json.loads(outputs["talks coverage --json"].split("\n", 1)[1])
        economy = next(c for c in talks["committees"] if c["committee"] == "economy")
        assert [m["name"] for m in economy["talked"]] == ["安然"]  # counted like any work
        assert outputs["audit --json"].startswith("[exit 1]")  # administrators only


def test_the_command_line_shows_the_talker_and_the_administrator_everything(
    world: World, cli: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    for who in (world.chair, world.admin):  # the talker; the administrator
        code, text = cli(who, "contacts", "show", "安然", "--json")
        recent = json.loads(text)["recent"]
        talk = next(r for r in recent if r["id"] == str(world.talk))
        assert (talk["summary"], talk["notes"], talk["data"]["topics"]) == (
            SUMMARY, NOTES, [TOPIC],
        ), who  # fmt: skip
        code, text = cli(who, "contacts", "show", "安然")
        assert SUMMARY in text, who
        path = tmp_path / f"{who}.csv"
        cli(who, "export", "interactions", "-o", str(path), "--from", "2026-11-01")
        exported = _csv_text(path)
        assert SUMMARY in exported and NOTES in exported, who
        code, text = cli(who, "briefings", "--json")
        assert DOCUMENT.strip("《》") in text, who
    code, text = cli(world.admin, "audit", "--json")
    assert code == 0 and NOTES in text  # the administrator reads the whole record


# -- in-process paths: reports, calendars, CalDAV, reminders, search, audit -------------------


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def radicale_url(tmp_path: Path) -> Iterator[str]:
    """A real Radicale on 127.0.0.1 (user ``office``, password ``pw``)."""
    users = tmp_path / "users"
    users.write_text("office:pw\n", "utf-8")
    config = radicale.config.load()
    config.update(
        {
            "storage": {"filesystem_folder": str(tmp_path / "collections")},
            "auth": {
                "type": "htpasswd",
                "htpasswd_filename": str(users),
                "htpasswd_encryption": "plain",
                "delay": "0",
            },
            "rights": {"type": "owner_only"},
            "logging": {"level": "warning"},
        },
        "tongxin test",
    )
    server = make_server(
        "127.0.0.1", 0, Application(config), server_class=_Threading, handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _caldav_text(url: str, calendar: str) -> str:
    client = caldav.DAVClient(url=url, username="office", password="pw", enable_rfc6764=False)
    found = [c for c in client.principal().calendars() if c.get_display_name() == calendar]
    return "\n".join(obj.data for c in found for obj in c.events())


def service_outputs(app: Tongxin, world: World, radicale: str, tag: str) -> dict[str, str]:
    """What the services give ``app``'s login, as text: name → text."""
    out: dict[str, str] = {}
    with app.unit() as unit:
        me = unit.actor
        assert me is not None
        i = interactions.get_interaction(unit, world.talk)
        out["interaction_json"] = repr(interactions.interaction_json(unit, i))
        out["shown"] = repr(interactions.shown(unit, i))
        timeline = interactions.timeline(unit, world.member)
        out["timeline"] = repr([interactions.interaction_json(unit, x) for x in timeline])
        period = Period(date(2026, 1, 1), date(2026, 12, 31))
        for code in available_reports(unit.app):
            spec, table = run_report(unit, code, period)
            out[f"report {code}"] = json.dumps(report_json(spec, period, table), ensure_ascii=False)
        for name, rng in (
            ("own", calendar_range(unit, account=me)),
            ("office", calendar_range(unit, scope="office")),
        ):
            out[f"ics {name}"] = export_ics(unit, rng).decode("utf-8")
        out["search"] = repr(contacts.search_people(unit, "安然"))
        out["briefed documents"] = repr(union_liaison.documents(unit))
        # Reminders: planned as the service does, each told acting as its recipient.
        lines = []
        for p in plan.item_reminders(unit, NOW, NOW + timedelta(days=3)):
            for account_id in p.account_ids:
                told = plan.message_for(unit, p, accounts.get_account(unit, account_id))
                lines.append(repr(told))
        for day in (date(2026, 11, 25), date(2026, 11, 26)):
            lines += [d.title() + "\n" + d.text() for d in plan.digests(unit, day)]
        out["reminders"] = "\n".join(lines)
    # CalDAV: the office calendar as this login pushes it, read back from the server.
    name = f"同心 · {tag}"
    sync_caldav(app, url=radicale, username="office", password="pw", calendar=name,
                scope="office")  # fmt: skip
    out["caldav office"] = _caldav_text(radicale, name)
    return out


@pytest.mark.parametrize("reader", ["other", "staff"])
def test_reports_calendars_caldav_reminders_and_search_show_only_that_it_happened(
    world: World, login: Callable[..., Tongxin], radicale_url: str, reader: str
) -> None:
    for who in (getattr(world, reader),):  # another leader; a staffer
        outputs = service_outputs(login(who), world, radicale_url, who)
        assert _leaks(outputs) == [], who
        assert HIDDEN in outputs["shown"]
        assert "SUMMARY:谈心谈话" in outputs["ics office"]
        assert "SUMMARY:谈心谈话" in outputs["caldav office"]
        assert "DTSTART;TZID=Asia/Shanghai:20261126" in outputs["caldav office"]


def test_the_talker_is_reminded_by_the_kind_alone_and_reads_the_rest(
    world: World, login: Callable[..., Tongxin], radicale_url: str
) -> None:
    # The talker is reminded, by the kind alone (a reminder leaves the office).
    chair = service_outputs(login(world.chair), world, radicale_url, world.chair)
    assert "谈心谈话" in chair["reminders"] and SENTINEL not in chair["reminders"]
    assert SUMMARY in chair["interaction_json"] and TOPIC in chair["interaction_json"]
    with login(world.admin).unit() as unit:
        shown = interactions.interaction_json(unit, interactions.get_interaction(unit, world.talk))
        assert (shown["summary"], shown["notes"]) == (SUMMARY, NOTES)


def test_audit_entries_of_a_confidential_talk_are_masked_for_whoever_may_not_read_it(
    world: World, login: Callable[..., Tongxin]
) -> None:
    admin, other, chair = login(world.admin), login(world.other), login(world.chair)
    with admin.unit() as a, other.unit() as o, chair.unit() as c:
        entries = audit.list_audit(a, person_id=world.member)
        about = [e for e in entries if e.entity == "interaction"]
        assert {e.entity_id for e in about} >= {str(world.talk), str(world.planned)}
        as_admin = json.dumps(audit.audit_entries_json(a, entries), ensure_ascii=False)
        assert SUMMARY in as_admin and NOTES in as_admin and TOPIC in as_admin
        as_other = audit.audit_entries_json(o, entries)
        assert SENTINEL not in json.dumps(as_other, ensure_ascii=False)
        created = next(e for e in as_other if e["entity_id"] == str(world.talk))
        assert created["after"]["kind"] == "heart_talk"
        assert created["after"]["start_at"].startswith(DONE_DAY)
        assert (created["after"]["summary"], created["after"]["notes"]) == (None, None)
        single = audit.audit_json(about[0], o)
        assert SENTINEL not in json.dumps(single, ensure_ascii=False)
        as_chair = json.dumps(audit.audit_entries_json(c, entries), ensure_ascii=False)
        assert SUMMARY in as_chair  # the talker reads their own talk's history


# -- the terminal UI ---------------------------------------------------------------------------


def _plain(content: Any) -> str:
    if isinstance(content, str):
        return content
    if hasattr(content, "plain"):
        return str(content.plain)
    buffer = io.StringIO()
    Console(file=buffer, width=300, color_system=None).print(content)
    return buffer.getvalue()


def _screen_text(app: Any) -> str:
    """Everything the current screen holds as text: statics, tables, option lists, and
    the screenshot of what is drawn."""
    from textual.widgets import DataTable, OptionList, Static

    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Static):
            parts.append(_plain(widget.content))
        elif isinstance(widget, DataTable):
            for r in range(widget.row_count):
                parts.append(" | ".join(_plain(c) for c in widget.get_row_at(r)))
        elif isinstance(widget, OptionList):
            for n in range(widget.option_count):
                parts.append(_plain(widget.get_option_at_index(n).prompt))
    parts.append(app.export_screenshot())
    return "\n".join(parts)


def tui_outputs(core: Tongxin, world: World) -> dict[str, str]:
    """Each screen of the terminal UI as ``core``'s login sees it: name → text."""
    from crm_tui.app import TongxinApp

    async def drive() -> dict[str, str]:
        out: dict[str, str] = {}
        app = TongxinApp(core, lang="zh")
        async with app.run_test(size=(200, 60)) as pilot:

            async def settle() -> None:
                for _ in range(3):
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                await pilot.pause()

            await settle()
            out["dashboard"] = _screen_text(app)
            await pilot.press("f4")
            await settle()
            out["agenda"] = _screen_text(app)
            await pilot.press("f5")
            await settle()
            out["followups"] = _screen_text(app)
            app.open_person(str(world.member))
            await settle()
            out["person"] = _screen_text(app)
            for name, iid in (("talk", world.talk), ("planned", world.planned)):
                app.open_interaction(str(iid))
                await settle()
                out[f"interaction {name}"] = _screen_text(app)
                await pilot.press("escape")
                await settle()
        return out

    return asyncio.run(drive())


@pytest.mark.parametrize("reader", ["other", "staff"])
def test_the_terminal_ui_shows_a_non_reader_only_that_the_talk_happened(
    world: World, login: Callable[..., Tongxin], reader: str
) -> None:
    for who in (getattr(world, reader),):  # another leader; a staffer
        screens = tui_outputs(login(who), world)
        assert _leaks(screens) == [], who
        for name in ("agenda", "person", "interaction talk", "interaction planned"):
            assert HIDDEN in screens[name], (who, name)
        assert "谈心谈话" in screens["dashboard"], who  # tomorrow's talk is on the week
        assert "2026-11-24" in screens["interaction talk"], who


def test_the_terminal_ui_shows_the_talker_and_the_administrator_everything(
    world: World, login: Callable[..., Tongxin]
) -> None:
    for who in (world.chair, world.admin):
        screens = tui_outputs(login(who), world)
        for name in ("person", "interaction talk"):
            assert SUMMARY in screens[name] and NOTES in screens[name], (who, name)
        assert TOPIC in screens["interaction talk"], who


# -- PostgreSQL: plain SQL as the person's own role ------------------------------------------


@pytest.mark.parametrize("backend", ["postgresql"])
def test_plain_sql_as_a_non_readers_role_shows_only_that_it_happened(
    world: World, psql: Callable[[str], Any]
) -> None:
    for who in (world.other, world.staff):
        conn = psql(who)
        seen = []
        for sql in (
            "SELECT * FROM tongxin_program.interaction",
            "SELECT * FROM interaction_overview",
            "SELECT * FROM interaction",
            "SELECT * FROM audit_log",
            "SELECT * FROM follow_up",
        ):
            seen.append(repr(conn.execute(sql).fetchall()))
        assert all(SENTINEL not in s for s in seen), who
        for view in ("tongxin_program.interaction", "interaction_overview"):
            row = conn.execute(
                f"SELECT kind, start_at::date::text, summary, notes, data::text FROM {view} "
                "WHERE id = %s",
                (world.talk,),
            ).fetchone()
            assert row[:2] == ("heart_talk", DONE_DAY), view
            assert row[2:4] == (None, None), view
            assert row[4] in (None, "{}"), view
        # A write through the view by someone shown NULL never blanks the summary (the
        # row is not theirs to change: nothing changes at all).
        conn.execute(
            "UPDATE tongxin_program.interaction SET location = '别处' WHERE id = %s", (world.talk,)
        )
    chair = psql(world.chair)
    row = chair.execute("SELECT summary, location FROM interaction WHERE id = %s", (world.talk,))
    assert row.fetchone() == (SUMMARY, None)
    for view in ("tongxin_program.interaction", "interaction_overview"):
        row = chair.execute(
            f"SELECT summary, notes FROM {view} WHERE id = %s", (world.talk,)
        ).fetchone()
        assert row == (SUMMARY, NOTES), view
    # The talker writes through the view without touching the summary: it stays.
    chair.execute(
        "UPDATE tongxin_program.interaction SET location = '市政协' WHERE id = %s", (world.talk,)
    )
    row = chair.execute(
        "SELECT summary, notes, location FROM interaction WHERE id = %s", (world.talk,)
    ).fetchone()
    assert row == (SUMMARY, NOTES, "市政协")


@pytest.mark.parametrize("backend", ["postgresql"])
def test_migration_0006_masks_the_summary_and_its_downgrade_restores_0004s_view(
    empty_db_url: str,
    config: Any,
    plugins: Any,
    names: Callable[[str], str],
    pg_roles: Callable[[str], None],
) -> None:
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)
    other = names("other")
    app = Tongxin(config, db_url=empty_db_url, plugins=plugins)
    try:
        with app.unit() as unit:
            accounts.create_account(unit, username="chair0", display_name="王主席", role="leader")
            accounts.create_account(unit, username=other, display_name="小李", role="staff")
            pid = contacts.create_person(unit, name="安然").id
        with app.unit("chair0") as unit:
            talk = interactions.log_interaction(
                unit, kind="meeting", people=[pid], summary=SUMMARY, notes=NOTES,
                confidential=True,
            ).id  # fmt: skip
    finally:
        app.close()
    pg_roles(other)
    url = make_url(db.normalize_url(empty_db_url)).set(drivername="postgresql", username=other)

    def seen() -> list[tuple[Any, ...]]:
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as c:
            return [
                c.execute(f"SELECT summary, notes FROM {view} WHERE id = %s", (talk,)).fetchone()
                for view in ("tongxin_program.interaction", "interaction_overview")
            ]

    try:
        assert seen() == [(None, None), (None, None)]
        db.downgrade(engine, "0005")
        assert seen() == [(SUMMARY, None), (SUMMARY, None)]  # as 0003/0004 made them
        db.upgrade(engine)
        assert seen() == [(None, None), (None, None)]
    finally:
        engine.dispose()
