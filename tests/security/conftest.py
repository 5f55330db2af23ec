"""Fixtures of the security tests: logins that are really somebody else.

On SQLite a login is the operating-system user running tongxin: a test cannot switch
users, so ``login(name)`` makes a Tongxin whose login was read while
``crm_core.identity.os_login`` answered ``name`` (the database file, owned by whoever
runs the tests, is then not theirs). On PostgreSQL the login is the database role the
connection authenticated as: ``login(name)`` creates a real LOGIN role, member of
``tongxin_user``, and connects as it, so row-level security applies as in production.
Role names are global to the server, so every name gets a random suffix: use the name
``names(...)`` returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from crm_core import db, identity
from crm_core.app import Tongxin
from crm_core.config import Config
from crm_core.plugins import PluginHost

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def names() -> Callable[[str], str]:
    """``names("gl")`` → a username unique to this test run, e.g. ``gl_1a2b3c``."""
    suffix = uuid.uuid4().hex[:6]
    return lambda base: f"{base}_{suffix}"


def role_url(db_url: str, role: str) -> str:
    """The PostgreSQL URL of ``db_url`` with another user."""
    url = make_url(db.normalize_url(db_url)).set(username=role, password=None)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_roles() -> Iterator[Callable[[str], None]]:
    """``make(role)``: a LOGIN role in ``tongxin_user``, dropped after the test."""
    made: list[str] = []

    def make(role: str) -> None:
        if role in made:
            return
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
            conn.execute(f'GRANT tongxin_user TO "{role}"')
        made.append(role)

    yield make
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for role in made:
            # Connections still open (a failed test) would keep the role alive.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def login(
    backend: str,
    db_url: str,
    config: Config,
    plugins: PluginHost,
    pg_roles: Callable[[str], None],
) -> Iterator[Callable[..., Tongxin]]:
    """``login(name, as_user=None)``: a Tongxin authenticated as the login ``name``
    (not the owner of the database), acting as ``as_user`` if given."""
    made: list[Tongxin] = []

    def make(name: str, *, as_user: str | None = None) -> Tongxin:
        if backend == "sqlite":
            app = Tongxin(config, db_url=db_url, plugins=plugins)
            real = identity.os_login
            identity.os_login = lambda: name  # type: ignore[assignment]
            try:
                assert app.login().name == name  # read now, remembered for good
            finally:
                identity.os_login = real  # type: ignore[assignment]
        else:
            pg_roles(name)
            app = Tongxin(config, db_url=role_url(db_url, name), plugins=plugins)
        app.authenticate(as_user=as_user)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()


@pytest.fixture
def psql(
    db_url: str, pg_roles: Callable[[str], None]
) -> Iterator[Callable[[str], psycopg.Connection]]:
    """``psql(role)``: a plain autocommit psycopg connection to the test database as
    that LOGIN role (made a member of ``tongxin_user`` if new), as a person with psql
    would connect; closed after the test."""
    conns: list[psycopg.Connection] = []

    def connect(role: str) -> psycopg.Connection:
        pg_roles(role)
        url = make_url(db.normalize_url(db_url)).set(drivername="postgresql", username=role)
        conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
        conns.append(conn)
        return conn

    yield connect
    for c in conns:
        c.close()


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tx(
    db_url: str,
    backend: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_roles: Callable[[str], None],
) -> Cli:
    """``tx(*args, login=NAME)``: the real `tongxin` command (English) as login NAME
    (None: the test runner; on PostgreSQL the owner of the database): (exit code,
    standard output, standard error)."""

    def call(*args: str, login: str | None = None) -> tuple[int, str, str]:
        from crm_cli.main import run

        url = db_url
        with monkeypatch.context() as m:
            if login and backend == "sqlite":
                m.setattr(identity, "os_login", lambda: login)
            elif login:
                pg_roles(login)
                url = role_url(db_url, login)
            code = run(["--lang", "en", "--db", url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call
