"""Fixtures shared by the whole suite.

Every test that takes ``app`` (or ``db_url``) runs twice: on SQLite and on PostgreSQL.
PostgreSQL comes from ``TONGXIN_TEST_PG`` (default: the local server at 127.0.0.1:5432,
trust auth); each test session gets a fresh database of its own, dropped at the end.
``TONGXIN_TEST_BACKENDS=sqlite`` runs SQLite only, for a machine without PostgreSQL.
Entry-point plugins are not loaded in tests: a test registers the plugins it needs.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import typer.main
import typer.utils

from crm_core import clock, db
from crm_core.app import Tongxin
from crm_core.config import Config, load_config
from crm_core.i18n import set_language
from crm_core.plugins import PluginHost

PG_ADMIN_URL = os.environ.get("TONGXIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b for b in os.environ.get("TONGXIN_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]

# Each in-process `tongxin` run (crm_cli.main.run) builds the whole Typer tree again, and
# Typer reads every command function's signature anew: inspect.signature(eval_str=True)
# plus get_type_hints evaluate ~2000 string annotations, ~0.5 s of every run, for a
# result that depends on the function object alone (Typer copies the ParameterInfo it
# finds and never changes the ParamMeta it gets back). The tests run the CLI in-process
# thousands of times: remembering the answer per function makes a run ~4x faster and
# leaves everything else as users get it (the Click tree, its translation, the plugins'
# commands are still built afresh for every run; a new function is read when first seen).
typer.main.get_params_from_function = functools.cache(typer.utils.get_params_from_function)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # No test reads the developer's own config or database, or loads installed plugins.
    empty = tmp_path / "empty-config.toml"
    empty.write_text("", "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(empty))
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "")
    for var in ("TONGXIN_DB", "TONGXIN_LANG", "TONGXIN_TZ", "TONGXIN_NOW"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    yield
    clock.freeze(None)
    # A test that ran the CLI or the TUI with another language leaves the process in it.
    set_language("zh")


@pytest.fixture
def config() -> Config:
    """The shipped defaults (the test's config file is empty)."""
    return load_config()


def _pg_database(worker: str) -> str:
    name = f"tongxin_test_{worker}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.exit(
            f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc}); start it, point "
            "TONGXIN_TEST_PG at one, or run SQLite only with TONGXIN_TEST_BACKENDS=sqlite",
            returncode=3,
        )
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip a test pinned to a backend this run leaves out.

    Tests that only make sense on PostgreSQL parametrize ``backend`` themselves; with
    ``TONGXIN_TEST_BACKENDS=sqlite`` there is no PostgreSQL template for them, so they are
    skipped with a reason instead of failing with a KeyError.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        wanted = callspec.params.get("backend") if callspec is not None else None
        if wanted is not None and wanted not in BACKENDS:
            item.add_marker(
                pytest.mark.skip(reason=f"backend {wanted} not in TONGXIN_TEST_BACKENDS")
            )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file for the whole session (per xdist worker): copy it
    (a millisecond) where a test would otherwise migrate a new file (a second or more)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = db.make_engine(str(path))
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def migrated_templates(request: pytest.FixtureRequest, worker_id: str) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session (per xdist worker)."""
    out: dict[str, str] = {}
    if "sqlite" in BACKENDS:
        out["sqlite"] = str(request.getfixturevalue("sqlite_template"))
    if "postgresql" in BACKENDS:
        url = _pg_database(worker_id)
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        out["postgresql"] = url
    yield out
    if "postgresql" in out:
        name = out["postgresql"].rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_pg(url: str) -> None:
    """Delete every row of every table (not alembic_version) of the database at ``url``.

    DELETE with triggers off (``session_replication_role = replica``: the append-only
    audit log's trigger and the foreign keys' checks) empties a test's few rows several
    times faster than TRUNCATE, which makes new files for every table and index and
    waits for them on disk; it is the same end state, and the tables are read from the
    catalogue, so a table a migration adds is emptied too. A server where the tests'
    login may not switch triggers off gets the TRUNCATE.
    """
    with psycopg.connect(url, connect_timeout=5) as conn:
        tables = [
            f'"{schema}"."{name}"'
            for schema, name in conn.execute(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN "
                "('pg_catalog', 'information_schema') AND tablename <> 'alembic_version'"
            )
        ]
        try:
            conn.execute("SET LOCAL session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            conn.rollback()
            conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                conn.execute(f"DELETE FROM {table}")
        conn.commit()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this run of the test: "sqlite" or "postgresql"."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, migrated_templates: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of the current backend."""
    if backend == "sqlite":
        path = tmp_path / "tongxin.db"
        shutil.copy(migrated_templates["sqlite"], path)
        yield str(path)
    else:
        url = migrated_templates["postgresql"]
        yield url
        _empty_pg(url)


@pytest.fixture(scope="session")
def libreoffice_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LibreOffice user profile for this test worker's conversions. Made on the first
    run and reused (a fresh profile adds seconds to every start); tests of one worker
    run one after another, so no two LibreOffice processes ever share it."""
    return tmp_path_factory.mktemp("lo-profile")


@pytest.fixture
def plugins() -> PluginHost:
    """A plugin host with the core plugins only; tests register more."""
    host = PluginHost()
    host.load(entry_points_too=False)
    return host


@pytest.fixture
def app(db_url: str, config: Config, plugins: PluginHost) -> Iterator[Tongxin]:
    """A Tongxin on a fresh database of the current backend."""
    application = Tongxin(config, db_url=db_url, plugins=plugins)
    yield application
    application.close()


@pytest.fixture
def admin(app: Tongxin) -> str:
    """The username of an office administrator account."""
    from crm_core.services import accounts

    with app.unit() as unit:
        accounts.create_account(unit, username="office", display_name="办公室", role="admin")
    return "office"


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, worker_id: str) -> Iterator[str]:
    """A database with no schema at all, of the current backend (dropped afterwards)."""
    if backend == "sqlite":
        yield str(tmp_path / "empty.db")
        return
    url = _pg_database(worker_id)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
