"""A busy database on the command line: `tongxin import` and `tongxin feed token create`
meet another process's write lock. While the lock goes away soon, the command is run
again and succeeds; while it stays, the user is told the database is busy and that
nothing was saved, never shown a raw database error.

The other process is a real second connection holding the lock (SQLite: BEGIN
IMMEDIATE; PostgreSQL: LOCK TABLE). Waits are made short so the test is quick: SQLite's
busy timeout, and PostgreSQL's ``lock_timeout`` through libpq's PGOPTIONS.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from crm_cli.main import run

from crm_core import db, i18n
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.services import accounts, contacts


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=100")


@contextmanager
def locked(backend: str, db_url: str, table: str, seconds: float | None) -> Iterator[None]:
    """Another connection holds the write lock (on ``table`` on PostgreSQL) for
    ``seconds``, or for the whole block (None)."""
    if backend == "sqlite":
        conn: object = sqlite3.connect(db_url, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
        release = conn.rollback  # type: ignore[attr-defined]
    else:
        conn = psycopg.connect(db_url)
        conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # type: ignore[attr-defined]
        release = conn.rollback  # type: ignore[attr-defined]
    timer = threading.Timer(seconds, release) if seconds is not None else None
    if timer is not None:
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.join()
        else:
            release()
        conn.close()  # type: ignore[attr-defined]


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    def call(*args: str) -> tuple[int, str, str]:
        before = i18n.language()
        code = run(["--lang", "en", "--db", db_url, *args])
        i18n.set_language(before)
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("姓名,手机,所在地\n张三,13800000001,广陵区\n李四,13800000002,邗江区\n", "utf-8")
    return path


def commands(roster: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Command name -> (the table it writes, its arguments)."""
    return {
        "import": ("person", ("import", str(roster))),
        "feed token": ("feed_token", ("feed", "token", "create", "chair")),
    }


@pytest.fixture
def chair(app: Tongxin) -> None:
    with app.unit() as unit:
        accounts.create_account(unit, username="chair", display_name="王主席", role="leader")


@pytest.mark.parametrize("command", ["import", "feed token"])
def test_a_short_lock_is_waited_out(
    app: Tongxin,
    backend: str,
    db_url: str,
    chair: None,
    roster: Path,
    short_waits: None,
    cli: Callable[..., tuple[int, str, str]],
    command: str,
) -> None:
    table, args = commands(roster)[command]
    started = time.monotonic()
    with locked(backend, db_url, table, seconds=1.0):
        code, _out, err = cli(*args)
    assert code == 0, err
    assert time.monotonic() - started >= 1.0  # it did wait past the lock's holder
    with app.unit() as unit:
        if command == "import":
            assert [p.name for p in contacts.list_people(unit).items] == ["李四", "张三"]
        else:
            holder = accounts.resolve_account(unit, "chair")
            assert len(feeds.list_tokens(unit, account=holder)) == 1


@pytest.mark.parametrize("command", ["import", "feed token"])
def test_a_lock_that_stays_gives_a_clear_message(
    app: Tongxin,
    backend: str,
    db_url: str,
    chair: None,
    roster: Path,
    short_waits: None,
    cli: Callable[..., tuple[int, str, str]],
    command: str,
) -> None:
    table, args = commands(roster)[command]
    with locked(backend, db_url, table, seconds=None):
        code, _out, err = cli(*args)
    assert code == 1
    assert "database is busy" in err and "nothing was saved" in err
    for raw in ("Traceback", "sqlite3", "psycopg", "OperationalError", "lock timeout", "SQL"):
        assert raw not in err, err
    with app.unit() as unit:  # and indeed nothing was
        assert contacts.list_people(unit).total == 0
        holder = accounts.resolve_account(unit, "chair")
        assert feeds.list_tokens(unit, account=holder) == []
