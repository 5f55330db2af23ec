"""Erasure that erases (issue 11, item 6): after `tongxin person anonymise`, a person's
name, phones and e-mail are nowhere the program wrote them: not in any table (read with
plain SQL, every text and JSON column), the calendar feed (served over HTTP, with its
cache), the ICS, CSV, XLSX and vCard exports, nor `tongxin audit --json`. The one thing
left is what docs/security.md says remains: free text typed into a record that
is not linked to them (and that record's own audit entries).

Runs on SQLite and on PostgreSQL, through the real CLI, as a real administrator login
(on PostgreSQL a LOGIN role under row-level security, redacting through the SECURITY
DEFINER functions).
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from crm_cli.main import run
from sqlalchemy import select
from sqlalchemy.engine import make_url

from crm_core import clock, db, identity
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.calendar.server import FeedServer, make_server, serve_in_thread
from crm_core.errors import PermissionDenied
from crm_core.models import AuditLog, Interaction
from crm_core.services import accounts, assignments, contacts, followups, interactions

from .conftest import PG_ADMIN_URL

NAME = "诸葛青云"
MOBILE = "13988776655"
LANDLINE = "0514-87651234"
EMAIL = "Zhuge.Qingyun@example.cn"
# As people type them into free text too.
NEEDLES = (NAME, MOBILE, "139 8877 6655", "87651234", EMAIL.lower())
FREE_TEXT = f"{NAME}的邻居，常来往"  # typed into another person's notes: stays

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tx(
    db_url: str,
    backend: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_roles: Callable[[str], None],
) -> Cli:
    """``tx(*args, login=NAME, lang=None)``: the real `tongxin` command as login NAME."""

    def call(*args: str, login: str | None = None, lang: str | None = None) -> tuple[int, str, str]:
        url = db_url
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
            code = run([*(["--lang", lang] if lang else []), "--db", url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture
def world(app: Tongxin, names: Callable[[str], str]) -> dict[str, Any]:
    """A person with a distinctive name, mobile, landline (on a merged duplicate) and
    e-mail, in an interaction shared with another person, one of their own, follow-ups
    (one due soon, on the calendar), an assignment; and a namesake mention in another
    person's notes."""
    office, chair = names("office"), names("chair")
    now = clock.now()
    with app.unit() as unit:
        accounts.create_account(unit, username=office, display_name="办公室", role="admin")
        keeper = accounts.create_account(unit, username=chair, display_name="王主席", role="leader")
        pid = contacts.create_person(
            unit, name=NAME, mobile=MOBILE, email=EMAIL, region="guangling", sector="教育界",
            address="扬州市文昌中路8号", notes="喜欢围棋",
        ).id  # fmt: skip
        dup = contacts.create_person(unit, name=NAME, phones=[LANDLINE]).id
        contacts.merge_people(unit, pid, dup)
        li = contacts.create_person(unit, name="李四", region="guangling", notes=FREE_TEXT).id
        assignments.assign(
            unit, keeper_id=keeper.id, contact_id=pid, notes=f"先打{MOBILE}，再发邮件"
        )
    with app.unit(chair) as unit:
        shared = interactions.schedule_interaction(
            unit, kind="meeting", people=[pid, li], start=now + timedelta(days=3),
            summary=f"与{NAME}、李四座谈：{NAME}（139 8877 6655）谈教育",
            location=f"{NAME}工作室",
        ).id  # fmt: skip
        own = interactions.log_interaction(
            unit, kind="meeting", people=[pid], start=now - timedelta(days=2),
            summary=f"{NAME}来访", notes=f"{NAME}留下邮箱 {EMAIL}",
        ).id  # fmt: skip
        about = followups.raise_follow_up(
            unit, title=f"回访{NAME}（{MOBILE}）", person_id=pid, interaction_id=own,
            owner_id=keeper.id, due_on=clock.today(unit.config.tz) + timedelta(days=5),
            detail="家门口停车难",
        ).id  # fmt: skip
        followups.update_follow_up(unit, about, response=f"已回信 {EMAIL.lower()}")
        other = followups.raise_follow_up(
            unit, title=f"李四与{NAME}的联名提案", person_id=li, interaction_id=shared,
            owner_id=keeper.id,
        ).id  # fmt: skip
    return {"office": office, "chair": chair, "pid": str(pid), "dup": str(dup), "li": str(li),
            "shared": shared, "own": own, "about": about, "other": other}  # fmt: skip


def _found(text: str) -> list[str]:
    low = text.lower()
    return [n for n in NEEDLES if n.lower() in low]


def _unescaped(value: Any) -> str:
    """A cell as text, JSON documents with their strings unescaped (SQLite stores
    ``\\uXXXX``)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return str(value)
    try:
        doc = json.loads(value)
    except ValueError:
        return value
    return json.dumps(doc, ensure_ascii=False) if isinstance(doc, dict | list | str) else value


def grep_database(backend: str, db_url: str) -> list[tuple[str, str, str]]:
    """(table, column, the whole row as text) of every text or JSON cell of every table
    holding one of the needles, read with plain SQL outside the program."""
    hits: list[tuple[str, str, str]] = []
    if backend == "sqlite":
        conn = sqlite3.connect(db_url)
        try:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for t in tables:
                cur = conn.execute(f'SELECT * FROM "{t}"')
                cols = [d[0] for d in cur.description]
                for row in cur:
                    cells = [_unescaped(v) for v in row]
                    for c, cell in zip(cols, cells, strict=True):
                        if _found(cell):
                            hits.append((t, c, " ".join(cells)))
        finally:
            conn.close()
        return hits
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}") as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')"
        ).fetchall()
        for t, c in columns:
            for cell, whole in conn.execute(
                f'SELECT "{c}"::text, t::text FROM "{t}" t WHERE "{c}" IS NOT NULL'
            ):
                if _found(cell):
                    hits.append((t, c, whole))
    return hits


def grep_files(folder: Path) -> dict[str, list[str]]:
    """Needles found in each export file (an xlsx is read inside its zip), besides the
    free text about someone else that the docs say remains."""
    out: dict[str, list[str]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                text = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            text = path.read_bytes().decode("utf-8-sig", "replace")
            # ICS folds long lines: unfold before looking (RFC 5545, 3.1).
            text = text.replace("\r\n ", "").replace("\n ", "")
        # What the docs say remains (another person's notes) is allowed: nothing else.
        out[path.name] = _found(text.replace(FREE_TEXT, ""))
    return out


def exports(tx: Cli, office: str, chair: str, folder: Path) -> None:
    folder.mkdir()
    for args in (
        ("people", "-o", str(folder / "people.csv")),
        ("people", "-o", str(folder / "people.xlsx")),
        ("interactions", "--from", "2000-01-01", "--to", "2100-01-01", "-o",
         str(folder / "work.csv")),
        ("interactions", "--from", "2000-01-01", "--to", "2100-01-01", "-o",
         str(folder / "work.xlsx")),
        ("vcf", "-o", str(folder / "people.vcf")),
        ("ics", "--user", chair, "-o", str(folder / "chair.ics")),
        ("ics", "--calendar", "office", "-o", str(folder / "office.ics")),
    ):  # fmt: skip
        code, _out, err = tx("export", *args, login=office)
        assert code == 0, (args, err)
    code, out, err = tx("audit", "--json", login=office)
    assert code == 0, err
    (folder / "audit.json").write_text(out, "utf-8")


@pytest.fixture
def feed(app: Tongxin, world: dict[str, Any]) -> Iterator[tuple[FeedServer, list[str]]]:
    """The feed server (with its cache) and two tokens: the chair's own calendar and
    the office calendar."""
    with app.unit() as unit:
        chair = accounts.resolve_account(unit, world["chair"])
        tokens = [
            feeds.create_token(unit, account=chair, name="iPhone")[1],
            feeds.create_token(unit, scope="office", name="办公室大屏")[1],
        ]
    srv = make_server(app, "127.0.0.1", 0)
    serve_in_thread(srv)
    yield srv, tokens
    srv.shutdown()
    srv.server_close()


def fetch_feed(srv: FeedServer, token: str) -> str:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        conn.request("GET", f"/cal/{token}.ics")
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body
    finally:
        conn.close()
    return body.decode("utf-8").replace("\r\n ", "")


def test_anonymise_leaves_the_person_nowhere_but_in_free_text_about_others(
    app: Tongxin,
    world: dict[str, Any],
    feed: tuple[FeedServer, list[str]],
    tx: Cli,
    backend: str,
    db_url: str,
    tmp_path: Path,
) -> None:
    srv, tokens = feed
    office, chair = world["office"], world["chair"]
    # Before: the person is everywhere the test looks (so the test can fail).
    before_feeds = [fetch_feed(srv, t) for t in tokens]
    assert all(NAME in f and MOBILE in f for f in before_feeds)
    exports(tx, office, chair, tmp_path / "before")
    found = grep_files(tmp_path / "before")
    assert all(found.values()) and len(found) == 8, found
    tables = {t for t, _c, _row in grep_database(backend, db_url)}
    assert {"person", "interaction", "follow_up", "assignment", "audit_log"} <= tables

    code, out, err = tx("person", "anonymise", world["pid"], "--yes", login=office)
    assert code == 0, err
    # Said plainly (Chinese by default): what was done, and what remains.
    assert "已匿名" in out and "仍然保留" in out and "--keep" in out, out

    # The database, every text and JSON column of every table, read with plain SQL.
    for table, column, row in grep_database(backend, db_url):
        # Only the other person's notes (free text about someone else) and that
        # record's own audit entries: what the docs say remains.
        assert (table, column) in {("person", "notes"), ("audit_log", "after")}, (table, row)
        li = world["li"]
        assert (li in row or li.replace("-", "") in row) and FREE_TEXT in row, row
    # The calendar feeds, through the server and its cache: phones get the clean event,
    # with a higher SEQUENCE so they replace the old one.
    after_feeds = [fetch_feed(srv, t) for t in tokens]
    for text in after_feeds:
        assert not _found(text), _found(text)
        assert "已匿名" in text
    uid = f"UID:{feeds_uid(world['shared'])}"
    assert uid in after_feeds[1] and uid in before_feeds[1], after_feeds[1]
    assert sequence_of(after_feeds[1], uid) > sequence_of(before_feeds[1], uid)
    # Every export, and the audit log as the administrator reads it.
    exports(tx, office, chair, tmp_path / "after")
    for name, needles in grep_files(tmp_path / "after").items():
        if name != "audit.json":
            assert not needles, (name, needles)
    for entry in json.loads((tmp_path / "after" / "audit.json").read_text("utf-8")):
        if _found(json.dumps(entry, ensure_ascii=False)):
            assert entry["entity"] == "person" and entry["entity_id"] == world["li"], entry

    # Shared work keeps its meaning for the others: only the name was replaced.
    with app.unit(office) as unit:
        shared = interactions.get_interaction(unit, world["shared"])
        assert shared.summary == "与已匿名、李四座谈：已匿名（已匿名）谈教育"
        assert shared.location == "已匿名工作室"
        assert interactions.read_notes(unit, world["own"]) == "已匿名"
        about = followups.get_follow_up(unit, world["about"])
        assert (about.title, about.detail, about.response) == (
            "回访已匿名（已匿名）", "已匿名", "已回信 已匿名",
        )  # fmt: skip
        assert followups.get_follow_up(unit, world["other"]).title == "李四与已匿名的联名提案"
        assert contacts.get_person(unit, world["li"]).notes == FREE_TEXT


def feeds_uid(interaction_id: uuid.UUID) -> str:
    from crm_core.calendar.ics import interaction_uid

    return interaction_uid(interaction_id)


def sequence_of(ics: str, uid_line: str) -> int:
    event = ics.split(uid_line, 1)[1].split("END:VEVENT", 1)[0]
    start = ics.split(uid_line, 1)[0].rsplit("BEGIN:VEVENT", 1)[1]
    for line in (start + event).splitlines():
        if line.startswith("SEQUENCE:"):
            return int(line.split(":", 1)[1])
    return 0


def test_the_command_says_what_remains_in_english_and_with_json(
    world: dict[str, Any], tx: Cli
) -> None:
    code, out, err = tx("person", "anonymise", world["pid"], "--yes", login=world["office"],
                        lang="en")  # fmt: skip
    assert code == 0, err
    assert "What remains" in out and "tongxin backup --keep N" in out
    assert "free text typed into records not linked to them" in out
    code, out, err = tx("person", "anonymise", world["li"], "--yes", "--json",
                        login=world["office"], lang="en")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["name"] == "已匿名"  # stdout stays one JSON document
    assert "What remains" in err and "--keep" in err


@pytest.fixture
def text_redaction(backend: str, db_url: str) -> Iterator[None]:
    """On PostgreSQL, the function ``tongxin_redact_audit_text`` is there (migration
    0005 creates it): the redaction below goes through it, not around it."""
    if backend == "postgresql":
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db_url.rsplit("/", 1)[1]
        with psycopg.connect(url, autocommit=True) as conn:
            present = conn.execute(
                "SELECT to_regprocedure('tongxin_redact_audit_text(text, text[], text[], text)')"
                " IS NOT NULL"
            ).fetchone()
        assert present == (True,)
    yield


def test_the_audit_entries_of_shared_work_keep_everything_but_the_person(
    app: Tongxin, world: dict[str, Any], text_redaction: None, tx: Cli
) -> None:
    code, _out, err = tx("person", "anonymise", world["pid"], "--yes", login=world["office"])
    assert code == 0, err
    with app.unit(world["office"]) as unit:
        created = unit.session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "interaction",
                AuditLog.entity_id == str(world["shared"]),
                AuditLog.action == "create",
            )
        ).one()
        assert created.after is not None
        assert created.after["summary"] == "与已匿名、李四座谈：已匿名（已匿名）谈教育"
        assert created.after["location"] == "已匿名工作室"
        made = unit.session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "follow_up",
                AuditLog.entity_id == str(world["other"]),
                AuditLog.action == "create",
            )
        ).one()
        assert made.after is not None and made.after["title"] == "李四与已匿名的联名提案"
        assert unit.session.get(Interaction, world["shared"]) is not None


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_text_redaction_is_for_administrators_only(
    world: dict[str, Any], text_redaction: None, login: Callable[..., Tongxin]
) -> None:
    """On PostgreSQL a staff role calling the SECURITY DEFINER function directly is
    refused, and so is a needle too short to be a name."""
    from sqlalchemy import func
    from sqlalchemy.exc import DBAPIError

    staff = login(world["chair"])
    for who, needles, says in (
        (staff, [NAME], "only an administrator"),
        (login(world["office"]), ["诸"], "at least two characters"),
    ):
        with pytest.raises((PermissionDenied, DBAPIError), match=says), who.unit() as unit:
            unit.session.scalar(
                select(
                    func.tongxin_redact_audit_text(
                        "interaction", [str(world["shared"])], needles, "x"
                    )
                )
            )


@pytest.fixture
def radicale_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real Radicale CalDAV server on 127.0.0.1 (free port) and its storage folder."""
    import threading
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
    from wsgiref.simple_server import make_server as wsgi_server

    import radicale.config
    from radicale.app import Application

    users = tmp_path / "dav-users"
    users.write_text(f"{DAV_USER}:{DAV_PASSWORD}\n", "utf-8")
    storage = tmp_path / "collections"
    config = radicale.config.load()
    config.update(
        {
            "storage": {"filesystem_folder": str(storage)},
            "auth": {"type": "htpasswd", "htpasswd_filename": str(users),
                     "htpasswd_encryption": "plain", "delay": "0"},
            "rights": {"type": "owner_only"},
            "logging": {"level": "warning"},
        },
        "tongxin test",
    )  # fmt: skip

    class Threading(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = wsgi_server(
        "127.0.0.1", 0, Application(config), server_class=Threading, handler_class=Quiet
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", storage
    server.shutdown()
    server.server_close()


DAV_USER, DAV_PASSWORD = "office", "s3cret-口令"


def test_a_caldav_server_gets_the_events_replaced(
    app: Tongxin, world: dict[str, Any], radicale_url: tuple[str, Path], tx: Cli
) -> None:
    """The chair's calendar mirrored to Radicale before: after anonymising and the next
    sync, no file in the server's storage (its caches included) names the person."""
    from crm_core.calendar.caldav_sync import sync_caldav

    url, storage = radicale_url

    def push() -> Any:
        return sync_caldav(app, url=url, username=DAV_USER, password=DAV_PASSWORD,
                           calendar="同心 · 王主席", account=world["chair"])  # fmt: skip

    def stored() -> list[str]:
        found = []
        for path in storage.rglob("*"):
            if path.is_file():
                text = path.read_bytes().decode("utf-8", "replace").replace("\r\n ", "")
                found += [f"{path.name}: {n}" for n in _found(text)]
        return found

    first = push()
    assert first.created >= 2 and stored()  # the person was on the server
    code, _out, err = tx("person", "anonymise", world["pid"], "--yes", login=world["office"])
    assert code == 0, err
    second = push()
    assert second.updated >= 2
    assert stored() == []


def test_a_restore_of_an_older_backup_says_whom_to_anonymise_again(
    world: dict[str, Any], tx: Cli, backend: str, tmp_path: Path
) -> None:
    """A backup made before the anonymisation brings the person back: the restore says
    so (with the command), records it, and anonymising again clears it."""
    office = world["office"]
    owner = office if backend == "sqlite" else None  # PostgreSQL: the owner restores
    backup = tmp_path / "older.bak"
    assert tx("backup", str(backup), login=owner)[0] == 0
    assert tx("person", "anonymise", world["pid"], "--yes", login=office)[0] == 0
    code, out, err = tx("restore", str(backup), "--yes", login=owner, lang="en")
    assert code == 0, err
    assert "Anonymise them again" in out
    assert f"tongxin person anonymise {world['pid']} --yes" in out
    code, out, err = tx("audit", "--json", "--entity", "backup", login=office)
    assert code == 0, err
    assert json.loads(out)[0]["after"]["anonymise_again"] == [world["pid"]]
    # Anonymised again, backed up: a restore of that backup has nothing to say.
    assert tx("person", "anonymise", world["pid"], "--yes", login=office)[0] == 0
    later = tmp_path / "later.bak"
    assert tx("backup", str(later), login=owner)[0] == 0
    code, out, err = tx("restore", str(later), "--yes", "--json", login=owner)
    assert code == 0, err
    assert json.loads(out)["anonymise_again"] == []


def test_the_person_is_found_in_free_text_however_it_was_typed() -> None:
    """Phones with separators, +86 or without the area code, e-mail in any case; not a
    longer number that merely contains the phone, not a single character of the name."""
    from crm_core.models import Person
    from crm_core.services.privacy import identifying_pattern, replace_text

    people = [
        Person(name=NAME, name_pinyin="", name_initials="", mobile=MOBILE, email=EMAIL),
        Person(name="王", name_pinyin="", name_initials="", phones=["051487651234"]),
    ]
    pattern = identifying_pattern(people)
    assert pattern is not None
    typed = {
        f"{NAME}说": "已匿名说",
        "+86 139-8877-6655": "已匿名",
        "8613988776655；0086 139 8877 6655": "已匿名；已匿名",
        "座机(0514)8765-1234，或87651234": "座机(已匿名，或已匿名",
        "写信给 zhuge.qingyun@EXAMPLE.cn 吧": "写信给 已匿名 吧",
        "订单号 213988776655、1398877665512": "订单号 213988776655、1398877665512",
        "王主席到场": "王主席到场",
    }
    for text, expected in typed.items():
        assert replace_text(text, pattern) == expected, text
    assert replace_text({"a": [f"{NAME}", 3, None]}, pattern) == {"a": ["已匿名", 3, None]}
