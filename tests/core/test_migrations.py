"""Alembic owns the schema: every migration goes up and down on SQLite and PostgreSQL,
and the migrated schema is exactly what the models describe."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from crm_core import db
from crm_core.app import Tongxin
from crm_core.config import Config
from crm_core.services import contacts

CORE_TABLES = {
    "person", "person_category", "person_committee", "organisation", "organisation_contact",
    "account", "interaction", "interaction_participant", "assignment", "follow_up", "series",
    "audit_log",
}  # fmt: skip


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_then_downgrade_to_base_and_up_again(empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    try:
        assert db.current_revision(engine) is None
        db.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
        assert _tables(empty_db_url) >= CORE_TABLES
        db.downgrade(engine, "base")
        assert db.current_revision(engine) is None
        assert _tables(empty_db_url) == set()
        db.upgrade(engine)  # a second upgrade after a downgrade must work (no leftovers)
        assert _tables(empty_db_url) >= CORE_TABLES
    finally:
        engine.dispose()


def test_every_revision_steps_up_and_down(empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    script = ScriptDirectory.from_config(db.alembic_config(engine))
    revisions = list(reversed(list(script.walk_revisions())))
    try:
        for rev in revisions:
            db.upgrade(engine, rev.revision)
            assert db.current_revision(engine) == rev.revision
            db.downgrade(engine, rev.down_revision or "base")
            assert db.current_revision(engine) == rev.down_revision
            db.upgrade(engine, rev.revision)
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_first_use_creates_and_migrates_the_database(
    empty_db_url: str, config: Config, plugins: object
) -> None:
    app = Tongxin(config, db_url=empty_db_url, plugins=plugins)  # type: ignore[arg-type]
    try:
        assert db.current_revision(app.engine) == db.head_revision()
        with app.unit() as unit:
            contacts.create_person(unit, name="张三")
    finally:
        app.close()


def test_a_database_newer_than_the_program_is_refused(empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    try:
        db.upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff_future'")
        with pytest.raises(db.DatabaseError, match="newer than this program"):
            db.ensure_schema(engine)
    finally:
        engine.dispose()


def test_sqlite_connection_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = db.make_engine(str(tmp_path / "x.db"))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()


def test_urls_as_users_type_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert db.normalize_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.normalize_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.normalize_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    assert db.normalize_url(None).endswith("/tongxin/tongxin.db")
    with pytest.raises(db.DatabaseError, match="unsupported database"):
        db.make_engine("mysql://root@localhost/test")


def test_the_head_constant_is_the_newest_migration() -> None:
    # db.HEAD_REVISION spares Alembic's import when the schema is current; it must follow
    # every new migration script.
    assert db.head_revision() == db.HEAD_REVISION


def test_opening_a_current_database_does_not_import_alembic(db_url: str) -> None:
    # db_url is already migrated to head.
    code = (
        "import sys\n"
        "from crm_core.app import Tongxin\n"
        "from crm_core.config import load_config\n"
        f"app = Tongxin(load_config(), db_url={db_url!r})\n"
        "with app.unit() as unit:\n"
        "    pass\n"
        "app.close()\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
