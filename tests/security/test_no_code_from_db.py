"""No code runs from the database (issue 11, item 1).

APScheduler 3's SQLAlchemyJobStore keeps jobs as pickles in ``apscheduler_jobs``, and a
pickle runs code when it is loaded: whoever could write that table (any ``tongxin_user``
role on PostgreSQL, anyone who may write the SQLite file) ran code as the reminder
service. The service now keeps its jobs in memory, planned from tongxin's own tables,
and migration 0005 drops the table.

Each test forges the attack for real: a table ``apscheduler_jobs`` holding a due job
whose pickle creates a marker file when loaded. First the pickle is shown to be live
(APScheduler's own job store, in another process, creates the marker); then
``tongxin remind --once`` runs as a real subprocess: the marker never appears, and the
reminders still go out.
"""

from __future__ import annotations

import ast
import os
import pickle
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect

from crm_core.app import Tongxin
from crm_core.services import accounts, contacts, interactions

from .conftest import PG_ADMIN_URL, role_url

PG = pytest.mark.parametrize("backend", ["postgresql"])
SQLITE = pytest.mark.parametrize("backend", ["sqlite"])
TONGXIN = str(Path(sys.executable).parent / "tongxin")


class _Payload:
    """Loading its pickle opens (so creates) the marker file: code run by ``loads``."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


def _evil(marker: Path) -> bytes:
    return pickle.dumps(_Payload(marker))


JOB_TABLE = (
    "CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, "
    "next_run_time DOUBLE PRECISION, job_state {blob} NOT NULL)"
)


def _prove_the_payload_is_live(db_url: str, marker: Path) -> None:
    """The old way (APScheduler's SQLAlchemyJobStore on the table) runs the payload."""
    code = (
        "import sys\n"
        "from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore\n"
        "store = SQLAlchemyJobStore(url=sys.argv[1], tablename='apscheduler_jobs')\n"
        "try:\n"
        "    store.get_all_jobs()\n"
        "except Exception:\n"
        "    pass\n"
    )
    subprocess.run([sys.executable, "-c", code, db_url], check=True, timeout=60)
    assert marker.exists(), "the forged job's pickle should run when loaded the old way"
    marker.unlink()


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "remind.toml"
    path.write_text(
        '[reminders]\ndefault_minutes = [30]\nchannels = ["log"]\ndigest_time = "23:59"\n',
        "utf-8",
    )
    return path


def _due_reminder(app: Tongxin, username: str, *, admin: str | None = None) -> None:
    """A leader's call in ten minutes: its 30-minute reminder is due now."""
    with app.unit() as unit:
        if admin is not None:
            accounts.create_account(unit, username=admin, display_name="办公室", role="admin")
        me = contacts.create_person(unit, name="王主席")
        zhang = contacts.create_person(unit, name="张三")
        leader = accounts.create_account(
            unit, username=username, display_name="王主席", role="leader", person_id=me.id
        )
    with app.unit(username) as unit:
        interactions.schedule_interaction(
            unit,
            kind="call",
            start=datetime.now(UTC) + timedelta(minutes=10),
            people=[zhang.id],
            accounts=[leader.id],
        )


def _remind_once(db: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TONGXIN_CONFIG": str(_config(tmp_path)), "TONGXIN_LANG": "zh"}
    return subprocess.run(
        [TONGXIN, "--db", db, "remind", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@SQLITE
def test_a_forged_job_in_the_sqlite_file_never_runs(
    app: Tongxin, db_url: str, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    _due_reminder(app, "wangzx")
    assert "apscheduler_jobs" not in inspect(app.engine).get_table_names()  # 0005 dropped it
    # Someone who may write the file puts the table back, with a due job in it.
    with sqlite3.connect(db_url) as conn:
        conn.execute(JOB_TABLE.format(blob="BLOB"))
        conn.execute(
            "INSERT INTO apscheduler_jobs VALUES (?, ?, ?)",
            ("tongxin:digest", time.time() - 60, _evil(marker)),
        )
    _prove_the_payload_is_live(f"sqlite:///{db_url}", marker)

    done = _remind_once(db_url, tmp_path)

    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert "[wangzx] 提醒：电话联系：张三" in done.stdout
    # Run again: nothing runs from the table, and the reminder is not sent twice.
    again = _remind_once(db_url, tmp_path)
    assert again.returncode == 0, again.stderr
    assert not marker.exists()
    assert "提醒：" not in again.stdout


@PG
def test_a_county_role_cannot_create_a_table_in_the_programs_schemas(
    app: Tongxin,
    db_url: str,
    psql: Callable[[str], psycopg.Connection],
    names: Callable[[str], str],
) -> None:
    gl = names("gl")
    with app.unit() as unit:
        accounts.create_account(unit, username=gl, role="county_staff", region_scope="guangling")
    conn = psql(gl)
    schemas = [
        r[0]
        for r in conn.execute(
            "SELECT nspname FROM pg_namespace "
            "WHERE has_schema_privilege('tongxin_user', oid, 'USAGE') "
            "AND nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND nspname NOT LIKE 'pg_toast%%' AND nspname NOT LIKE 'pg_temp%%'"
        )
    ]
    assert "tongxin_program" in schemas and len(schemas) == 2
    for schema in schemas:
        # Neither the group role nor PUBLIC (everyone) may create there.
        granted = conn.execute(
            "SELECT has_schema_privilege('tongxin_user', %s, 'CREATE'), "
            "EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a "
            "        WHERE n.nspname = %s AND a.grantee = 0 AND a.privilege_type = 'CREATE')",
            (schema, schema),
        ).fetchone()
        assert granted == (False, False), schema
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f'CREATE TABLE "{schema}".apscheduler_jobs (id text)')
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f'CREATE VIEW "{schema}".apscheduler_jobs AS SELECT 1 AS id')
    # Nor a schema of its own that would come first on someone's search_path
    # ("$user": a schema named like the service's role).
    assert conn.execute(
        "SELECT has_database_privilege('tongxin_user', current_database(), 'CREATE')"
    ).fetchone() == (False,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f'CREATE SCHEMA "{names("office")}"')


@PG
def test_a_forged_job_on_postgresql_never_runs(
    app: Tongxin,
    db_url: str,
    tmp_path: Path,
    pg_roles: Callable[[str], None],
    names: Callable[[str], str],
) -> None:
    marker = tmp_path / "pwned"
    office = names("office")
    pg_roles(office)  # the service's own LOGIN role, an administrator's account
    _due_reminder(app, names("wangzx"), admin=office)
    # A forged job table, made where the service would look (by the superuser: no
    # person's role may create one, see above), granted to every person's role.
    super_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db_url.rsplit("/", 1)[1]
    with psycopg.connect(super_url, autocommit=True) as conn:
        conn.execute(JOB_TABLE.format(blob="bytea"))
        conn.execute("GRANT ALL ON apscheduler_jobs TO tongxin_user")
        conn.execute(
            "INSERT INTO apscheduler_jobs VALUES (%s, %s, %s)",
            ("tongxin:digest", time.time() - 60, _evil(marker)),
        )
    try:
        _prove_the_payload_is_live(
            super_url.replace("postgresql://", "postgresql+psycopg://"), marker
        )
        done = _remind_once(role_url(db_url, office), tmp_path)
        assert done.returncode == 0, done.stderr
        assert not marker.exists()
        assert "提醒：电话联系：张三" in done.stdout
    finally:
        with psycopg.connect(super_url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def test_no_module_of_the_program_loads_pickles_or_evaluates_stored_text() -> None:
    """The class, not the instance: no module of the program imports a deserialiser
    that runs code (pickle, marshal, shelve, dill, jsonpickle), uses SQLAlchemy's
    PickleType or APScheduler's SQLAlchemyJobStore, calls ``eval``/``exec``, or loads
    YAML unsafely. (Loading a county's plugin folder, named in the office's config, is
    the one place code is run on purpose: it reads files, not rows.)"""
    root = Path(__file__).resolve().parents[2]
    modules = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "jsonpickle"}
    names = {"PickleType", "SQLAlchemyJobStore", "eval", "exec"}
    found = []
    for folder in ("crm_core", "cli", "tui", "plugins"):
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"), str(path))
            for node in ast.walk(tree):
                where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Import):
                    found += [where for a in node.names if a.name.split(".")[0] in modules]
                elif isinstance(node, ast.ImportFrom):
                    if (node.module or "").split(".")[0] in modules:
                        found.append(where)
                    found += [where for a in node.names if a.name in names]
                elif isinstance(node, ast.Name) and node.id in names:
                    found.append(where)
                elif isinstance(node, ast.Attribute) and node.attr in names | {"load"}:
                    owner = node.value
                    if node.attr != "load" or (isinstance(owner, ast.Name) and owner.id == "yaml"):
                        found.append(where)
    assert found == []
