"""Schema commands are for administrators and careful: `tongxin db downgrade` and
`tongxin db upgrade` on the real CLI, on SQLite and on PostgreSQL.

- A downgrade by anyone but an administrator (SQLite: the owner of the file or an
  administrator account; PostgreSQL: the owner of the tables; a real county role and a
  real role with an administrator account are refused) changes nothing.
- Without a terminal and without --yes it refuses, saying so.
- With --yes as an administrator: a checked backup first (its path and SHA-256
  printed), holding the audit entry of the downgrade; restoring it brings everything
  back.
- An upgrade by a PostgreSQL role that does not own the tables (`db upgrade`, and the
  automatic migration on first use) gets a clear message saying who can, never the raw
  SQL error or a traceback.

Each test gets a database of its own (``empty_db_url``), migrated here: a downgrade
would otherwise empty the session's shared database.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from crm_cli.main import run
from sqlalchemy import select

from crm_core import backup as backups
from crm_core import db, identity
from crm_core.app import Tongxin
from crm_core.config import Config
from crm_core.models import AuditLog, Person
from crm_core.plugins import PluginHost
from crm_core.services import accounts, contacts

from .conftest import role_url

from_cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def fresh(empty_db_url: str, config: Config, plugins: PluginHost) -> Iterator[str]:
    """A database of this test's own, migrated to the newest revision."""
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)
    engine.dispose()
    yield empty_db_url


@pytest.fixture
def people(
    fresh: str, config: Config, plugins: PluginHost, names: Callable[[str], str]
) -> dict[str, str]:
    n = {k: names(k) for k in ("office", "chair", "gl")}
    app = Tongxin(config, db_url=fresh, plugins=plugins)
    with app.unit() as unit:
        accounts.create_account(unit, username=n["office"], display_name="办公室", role="admin")
        accounts.create_account(unit, username=n["chair"], display_name="王主席", role="leader")
        accounts.create_account(
            unit, username=n["gl"], role="county_staff", region_scope="guangling"
        )
        contacts.create_person(unit, name="张三", region="guangling")
        contacts.create_person(unit, name="李四", region="hanjiang")
    app.close()
    return n


@pytest.fixture
def tx(
    fresh: str,
    backend: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_roles: Callable[[str], None],
) -> from_cli:
    """``tx(*args, login=NAME)``: the CLI on the fresh database as another login (on
    SQLite the OS login read by the program; on PostgreSQL the real role NAME)."""

    def call(*args: str, login: str | None = None) -> tuple[int, str, str]:
        url = fresh
        with monkeypatch.context() as m:
            if login and backend == "sqlite":
                m.setattr(identity, "os_login", lambda: login)
            elif login:
                pg_roles(login)
                url = role_url(fresh, login)
            code = run(["--lang", "en", "--db", url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def _state(url: str) -> tuple[str | None, int]:
    engine = db.make_engine(url)
    try:
        revision = db.current_revision(engine)
        if revision is None:
            return None, 0
        with engine.connect() as conn:
            return revision, len(conn.execute(select(Person.id)).all())
    finally:
        engine.dispose()


def test_a_downgrade_by_anyone_but_an_administrator_is_refused(
    tx: from_cli, people: dict[str, str], fresh: str, backend: str, names: Callable[[str], str]
) -> None:
    refused = [people["gl"], people["chair"], names("stranger")]
    if backend == "postgresql":
        # An administrator account is not the owner of the tables: only the owner may.
        refused.append(people["office"])
    for login in refused:
        code, out, err = tx("db", "downgrade", "base", "--yes", login=login)
        assert code == 1, (login, out, err)
        assert "may downgrade" in err and "Traceback" not in err
    assert _state(fresh) == (db.HEAD_REVISION, 2)


def test_a_downgrade_without_a_terminal_needs_yes(
    tx: from_cli, people: dict[str, str], fresh: str, backend: str
) -> None:
    admin = people["office"] if backend == "sqlite" else None  # PostgreSQL: the owner
    code, _, err = tx("db", "downgrade", "base", login=admin)
    said = " ".join(err.replace("│", " ").split())  # as read, out of click's box
    assert code == 2
    assert "there is no terminal to ask on: add --yes to go ahead" in said
    code, _, err = tx("db", "downgrade", "9999", "--yes", login=admin)
    assert code == 1 and "not a revision below" in err
    assert _state(fresh) == (db.HEAD_REVISION, 2)


def test_a_downgrade_is_backed_up_checked_and_audited_and_the_backup_restores(
    tx: from_cli, people: dict[str, str], fresh: str, backend: str, tmp_path: Path
) -> None:
    # SQLite: an administrator account that does not own the file; PostgreSQL: the owner.
    admin = people["office"] if backend == "sqlite" else None
    code, out, err = tx("db", "downgrade", "base", "--yes", "--json", login=admin)
    assert code == 0, err
    done = json.loads(out)
    assert done["from"] == db.HEAD_REVISION and done["to"] == "base"
    path = Path(done["backup"])
    # By default in the data directory's backups folder (this test's own).
    assert path.parent == tmp_path / "data" / "tongxin" / "backups"
    assert backups.verify_backup(path) == done["sha256"]
    assert _state(fresh) == (None, 0)  # emptied

    if backend == "sqlite":
        # The backup, as it lies, holds the entry saying who downgraded, from, to, where.
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT actor, entity_id, after FROM audit_log WHERE action = 'downgrade'"
            ).fetchall()
        finally:
            con.close()
        assert len(rows) == 1
        actor, entity_id, after = rows[0]
        assert actor == admin and entity_id == db.HEAD_REVISION
        assert json.loads(after) == {"from": db.HEAD_REVISION, "to": "base", "backup": str(path)}

    # Restoring the backup brings back every row, and the audit entry with them.
    code, out, err = tx("restore", str(path), "--yes", login=admin)
    assert code == 0, err
    assert _state(fresh) == (db.HEAD_REVISION, 2)
    engine = db.make_engine(fresh)
    try:
        with engine.connect() as conn:
            entries = conn.execute(
                select(AuditLog.actor, AuditLog.after).where(AuditLog.action == "downgrade")
            ).all()
    finally:
        engine.dispose()
    expected_actor = admin or "postgres"
    assert [(a, e["to"], e["backup"]) for a, e in entries] == [(expected_actor, "base", str(path))]


def test_a_downgrade_to_a_revision_keeps_both_audit_entries(
    tx: from_cli, people: dict[str, str], fresh: str, backend: str, tmp_path: Path
) -> None:
    admin = people["office"] if backend == "sqlite" else None
    target = tmp_path / "chosen" / "before.bak"
    code, out, err = tx("db", "downgrade", "0004", "--yes", "--backup-to", str(target), login=admin)
    assert code == 0, err
    assert str(target) in out and backups.verify_backup(target) in out
    assert _state(fresh) == ("0004", 2)
    engine = db.make_engine(fresh)
    try:
        with engine.connect() as conn:
            # At 0004 the audit log is still there: the entry before the backup and the
            # one with the backup's checksum (a file cannot hold its own).
            afters = conn.exec_driver_sql(
                "SELECT after FROM audit_log WHERE action = 'downgrade' ORDER BY at"
            ).scalars()
            afters = [a if isinstance(a, dict) else json.loads(a) for a in afters]
    finally:
        engine.dispose()
    assert [a.get("sha256") for a in afters] == [None, backups.verify_backup(target)]
    assert all(a["from"] == db.HEAD_REVISION and a["to"] == "0004" for a in afters)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_an_upgrade_by_a_role_that_does_not_own_the_tables_is_told_who_can(
    tx: from_cli, people: dict[str, str], fresh: str, names: Callable[[str], str]
) -> None:
    engine = db.make_engine(fresh)
    db.downgrade(engine, "0005")
    engine.dispose()
    for login in (people["gl"], people["office"]):
        code, out, err = tx("db", "upgrade", login=login)
        assert code == 1, out
        assert "only the owner of the database" in err and "tongxin db upgrade" in err
        assert "permission denied" not in err.lower() and "Traceback" not in err
        # The automatic migration on first use says the same.
        code, _, err = tx("contacts", "search", "张", login=login)
        assert code == 1
        assert "only the owner of the database" in err and "tongxin db upgrade" in err
    assert _state(fresh) == ("0005", 2)
    # The owner may.
    code, _, err = tx("db", "upgrade")
    assert code == 0, err
    assert _state(fresh) == (db.HEAD_REVISION, 2)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_program_role_cannot_move_the_schema_version_by_hand(
    people: dict[str, str], fresh: str, pg_roles: Callable[[str], None]
) -> None:
    # What the refused upgrade would otherwise have done by the back door.
    pg_roles(people["gl"])
    with (
        psycopg.connect(role_url(fresh, people["gl"]).replace("+psycopg", "")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("UPDATE alembic_version SET version_num = '0001'")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_on_a_terminal_a_downgrade_asks_and_no_changes_nothing(
    people: dict[str, str], fresh: str, tmp_path: Path
) -> None:
    import os
    import pty
    import subprocess
    import sys

    # A real process on a real pseudo-terminal, as the owner of the file, answering no.
    main, child = pty.openpty()
    env = {**os.environ, "TONGXIN_LANG": "en", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crm_cli.main", "--db", fresh, "db", "downgrade", "base"],
        stdin=child, stdout=child, stderr=child, env=env, close_fds=True,
    )  # fmt: skip
    os.close(child)
    seen = b""
    while b"[y/N]" not in seen:
        chunk = os.read(main, 4096)
        assert chunk, seen
        seen += chunk
    os.write(main, b"n\n")
    try:
        while chunk := os.read(main, 4096):
            seen += chunk
    except OSError:  # the terminal closes with the process
        pass
    assert proc.wait(timeout=60) == 1
    os.close(main)
    said = seen.decode("utf-8", "replace")
    assert "from revision " + db.HEAD_REVISION + " to base" in said
    assert "Nothing was changed." in said
    assert _state(fresh) == (db.HEAD_REVISION, 2)
    assert not (tmp_path / "data" / "tongxin" / "backups").exists()
