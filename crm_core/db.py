"""Engines, sessions and schema migrations, for SQLite (embedded default) and PostgreSQL.

The embedded database is one SQLite file in the user's data directory, in WAL mode with
foreign keys on and a busy timeout; it is created and migrated on first use. A shared
office server is a PostgreSQL URL (``--db`` or ``TONGXIN_DB``), driven by psycopg 3.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

import platformdirs
from sqlalchemy import Engine as Engine  # re-export: front ends type engines as db.Engine
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from crm_core.config import APP_NAME
from crm_core.errors import TongxinError
from crm_core.i18n import N_
from crm_core.identity import os_login
from crm_core.identity import sqlite_main_file as sqlite_main_file  # re-export: it moved
from crm_core.private_files import create_private_file, make_private_dirs

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration shipped. Kept here so that opening a current database never imports
# Alembic (a tenth of a second on every command); tests/core/test_migrations.py checks it
# against the migration scripts.
HEAD_REVISION = "0014"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseError(TongxinError):
    """The database URL is unusable or the schema is not what this version expects."""


def default_db_path() -> Path:
    """The embedded database file: ``tongxin.db`` in the platformdirs data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "tongxin.db"


def normalize_url(url: str | None) -> str:
    """Turn what a user types (a file path, ``sqlite:///...``, ``postgresql://...``) into
    a SQLAlchemy URL with the driver tongxin uses."""
    if not url:
        return f"sqlite:///{default_db_path()}"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names, as SQLite will open it (absolute, symbolic links
    resolved), or None for an in-memory database. Understands plain paths and
    ``file:`` URI filenames (``file:/x.db?mode=rwc``, ``file:///x.db``, ``file:x.db``),
    which SQLAlchemy hands to SQLite as URIs when ``uri=true`` is given (without it, it
    makes the name an absolute path: ``./file:x.db``).

    For creating the file private before SQLite opens it. Who owns the database is
    never decided on this: see :func:`sqlite_main_file`, which asks SQLite."""
    database = url.database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:") and str(url.query.get("uri", "")).lower() in ("true", "1"):
        rest, _, query = database[len("file:") :].partition("?")
        rest = rest.split("#", 1)[0]
        params = dict(parse_qsl(query.split("#", 1)[0]))
        params.update({k: str(v) for k, v in url.query.items()})
        if params.get("mode") == "memory" or params.get("vfs") == "memdb":
            return None
        if rest.startswith("//"):  # file://host/path: SQLite accepts "" and localhost
            rest = "/" + rest[2:].partition("/")[2]
        database = unquote(rest)
        if database in ("", ":memory:"):
            return None
    return Path(os.path.realpath(Path(database).expanduser()))


def _sqlite_may_create(url: URL) -> bool:
    # SQLite creates a missing file unless a URI says mode=ro, mode=rw or immutable=1:
    # only then would creating it here change what happens.
    params = {k: str(v) for k, v in url.query.items()}
    database = url.database or ""
    if database.startswith("file:") and "?" in database:
        params.update(parse_qsl(database.split("?", 1)[1].split("#", 1)[0]))
    return params.get("mode", "rwc") == "rwc" and params.get("immutable", "0") in ("0", "")


_redaction = threading.local()


@contextmanager
def audit_redaction() -> Iterator[None]:
    """Let this thread's statements change audit-log rows on SQLite, for the redaction
    of an anonymised person's data (migration 0003's trigger refuses any other change;
    on PostgreSQL the function ``tongxin_redact_audit`` does the same)."""
    _redaction.on = True
    try:
        yield
    finally:
        _redaction.on = False


def _redaction_allowed() -> int:
    return 1 if getattr(_redaction, "on", False) else 0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite (Python 3.11) begins transactions itself, late and without savepoint
    # support: a SAVEPOINT that is the first statement of a transaction is committed for
    # good when released. Taking transaction control from the driver (SQLAlchemy's
    # documented recipe; BEGIN is emitted in _sqlite_begin) makes savepoints and
    # rollbacks behave as on PostgreSQL.
    dbapi_conn.isolation_level = None
    # Asked by the audit log's append-only trigger (migration 0003); a connection made
    # by anything else (the sqlite3 shell) lacks it, so its changes are refused too.
    dbapi_conn.create_function("tongxin_audit_redaction", 0, _redaction_allowed)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Deferred, like pysqlite's own: a unit that only reads takes no write lock, so a
    # screen reading while another unit writes never waits. A unit known to write
    # (Tongxin.unit(write=True)) takes the write lock at once and waits its turn (busy
    # timeout) instead of reading a snapshot it may then not write on.
    if conn.get_execution_options().get("tongxin_immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _pg_program_view(dbapi_conn: Any, _record: Any) -> None:
    # A person's own role reads interactions through migration 0004's view, which shows
    # a confidential one it may not read with its notes masked, as the program does on
    # SQLite (the owner of the tables reads them; before 0004 there is nothing to do).
    dbapi_conn.execute(
        "DO $$ BEGIN IF to_regprocedure('tongxin_program.enter()') IS NOT NULL THEN "
        "PERFORM tongxin_program.enter(); END IF; END $$"
    )
    dbapi_conn.commit()  # the search_path is the session's, not this transaction's


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (see :func:`normalize_url`), with tongxin's connection setup."""
    full = normalize_url(url)
    try:
        parsed = make_url(full)
    except ArgumentError as exc:
        raise DatabaseError(f"bad database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        from crm_core.extras import require

        require("psycopg", extra="postgres", feature=N_("A PostgreSQL database"))
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(parsed)
        if path is not None:
            # Private before SQLite opens it: SQLite then gives the WAL and SHM files
            # the main file's mode (0600), and a new data folder is 0700.
            make_private_dirs(path.parent)
            if _sqlite_may_create(parsed):
                create_private_file(path)
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _pg_program_view)
        return engine
    raise DatabaseError(
        f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
    )


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic config bound to ``engine`` (no alembic.ini needed)."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest migration this version of tongxin ships, read from the scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _schema_refused(engine: Engine, exc: DBAPIError) -> DatabaseError | None:
    """The clear error for a schema change the database refused to this login (a
    PostgreSQL role that does not own the tables; a SQLite file this OS user may not
    write), or None for any other failure."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "42501":  # insufficient_privilege
        with engine.connect() as conn:
            role = str(conn.exec_driver_sql("SELECT current_user").scalar())
        return DatabaseError.of(
            N_(
                "the database refused to change its schema for the role {role}: only the "
                "owner of the database (the role that owns its tables) may upgrade it. "
                "Ask them to run: tongxin db upgrade"
            ),
            role=role,
        )
    name = getattr(orig, "sqlite_errorname", "")
    if name.startswith("SQLITE_READONLY") or "readonly database" in str(orig):
        return DatabaseError.of(
            N_(
                "the database file {path} is not writable for {login}, so its schema cannot "
                "be changed: the owner of the file may upgrade it. Ask them to run: "
                "tongxin db upgrade"
            ),
            path=sqlite_file(engine.url) or engine.url.database,
            login=os_login(),
        )
    return None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to ``revision``. A login the database does not let change
    the schema gets a DatabaseError saying who can (never the raw SQL error)."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)
    except DBAPIError as exc:
        refused = _schema_refused(engine, exc)
        if refused is None:
            raise
        raise refused from exc


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the schema down to ``revision`` ("base" empties the database), without
    any check: front ends call :func:`crm_core.schema.downgrade_database`, which
    requires an administrator, backs the database up and audits it first."""
    from alembic import command

    try:
        command.downgrade(alembic_config(engine), revision)
    except DBAPIError as exc:
        refused = _schema_refused(engine, exc)
        if refused is None:
            raise
        raise refused from exc


def ensure_schema(engine: Engine) -> None:
    """Create or migrate the database on first use; refuse one newer than this program."""
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic.script import ScriptDirectory

    current = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config(engine))
    if current is not None and current not in {r.revision for r in script.walk_revisions()}:
        raise DatabaseError(
            f"the database is at revision {current}, newer than this program knows: upgrade tongxin"
        )
    upgrade(engine)
