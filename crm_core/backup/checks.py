"""Checking backups: the manifest beside every backup, the checks of a SQLite file or a
live database (schema revision known to this program, row counts, foreign keys,
integrity) and :func:`verify_backup`; the errors and results the backup package shares."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL

from crm_core import clock, db, i18n
from crm_core.errors import TongxinError
from crm_core.i18n import N_
from crm_core.private_files import write_private_text

MANIFEST_SUFFIX = ".manifest.json"
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
ROTATED = re.compile(r"^tongxin-\d{8}-\d{6}(?:-\d+)?\.(?:sqlite|pgdump)$")


class BackupError(TongxinError):
    """A backup or restore could not be made, or its check failed.

    The message is ``template`` (a msgid marked ``N_``) formatted with ``params``: in
    English as raised (logs, tests), in the user's language as :attr:`text`."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)

    @property
    def text(self) -> str:
        """The message in the user's language."""
        said = i18n._(str(self.template))
        return said.format(**self.params) if self.params else said


@dataclass
class Check:
    """What a check of a database found: revision, row counts and problems."""

    revision: str | None
    counts: dict[str, int]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


@dataclass
class BackupResult:
    """A backup written: where, its manifest and what it holds."""

    path: Path
    manifest: Path
    backend: str
    revision: str | None
    counts: dict[str, int]
    removed: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    """A restore done: from where, the copy of the database as it was, the check, and
    the audit entry written into the restored database (:func:`restore`)."""

    source: Path
    saved_before: Path | None
    check: Check
    audit_entry: dict[str, Any] | None = None
    # People anonymised in the replaced database who have their data again in the
    # restored one (the backup is older than the anonymisation): to anonymise again.
    anonymise_again: list[str] = field(default_factory=list)


# -- helpers ------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sqlite_path(engine: Engine) -> Path:
    # The file SQLite opened, not the URL's text (a `file:` URI is not a path).
    with engine.connect() as conn:
        database = db.sqlite_main_file(conn)
    if database is None:
        raise BackupError(N_("an in-memory database cannot be backed up"))
    return Path(database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore, and the environment with the
    password (never on the command line, where `ps` shows it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tables(conn: Any) -> list[str]:
    return sorted(inspect(conn).get_table_names())


def _counts(conn: Any) -> dict[str, int]:
    q = conn.dialect.identifier_preparer.quote
    return {
        t: int(conn.execute(text(f"SELECT count(*) FROM {q(t)}")).scalar() or 0)
        for t in _tables(conn)
    }


def _revision(conn: Any) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    version: str | None = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return version


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config(None))  # type: ignore[arg-type]
    return {r.revision for r in script.walk_revisions()}


def pg_tools() -> tuple[str | None, str | None]:
    """Paths of pg_dump and pg_restore, or None where missing."""
    return shutil.which("pg_dump"), shutil.which("pg_restore")


# -- checking -----------------------------------------------------------------------------


def check_sqlite_file(path: Path) -> Check:
    """Check a SQLite file as it lies (a backup or a live database): integrity, foreign
    keys, schema revision, row counts."""
    problems: list[str] = []
    with path.open("rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(N_("{path} is not a SQLite database"), path=path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            problems += [f"integrity_check: {r}" for r in result]
        for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
            problems.append(f"foreign key: {table} row {rowid} points at a missing {parent}")
    finally:
        conn.close()
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with engine.connect() as c:
            revision, counts = _revision(c), _counts(c)
    finally:
        engine.dispose()
    _check_revision(revision, problems)
    return Check(revision, counts, problems)


def _check_revision(revision: str | None, problems: list[str]) -> None:
    if revision is None:
        problems.append("no schema revision: not a tongxin database")
    elif revision not in _known_revisions():
        problems.append(f"schema revision {revision} is newer than this program")


def check_database(engine: Engine) -> Check:
    """Check a live database: the same as :func:`check_sqlite_file` on SQLite; on
    PostgreSQL revision, row counts, and that every constraint is validated."""
    if engine.dialect.name == "sqlite":
        return check_sqlite_file(_sqlite_path(engine))
    problems: list[str] = []
    with engine.connect() as conn:
        revision, counts = _revision(conn), _counts(conn)
        for (name,) in conn.execute(
            text(
                "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = current_schema() AND NOT c.convalidated"
            )
        ):
            problems.append(f"constraint {name} is not validated")
        # The program's role must not have gained rights on the append-only log.
        loose = (
            conn.execute(
                text(
                    "SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p "
                    "WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tongxin_user') "
                    "AND to_regclass('audit_log') IS NOT NULL "
                    "AND has_table_privilege('tongxin_user', 'audit_log', p)"
                )
            )
            .scalars()
            .all()
        )
        problems += [f"tongxin_user may {p} the audit log" for p in loose]
    _check_revision(revision, problems)
    return Check(revision, counts, problems)


def _write_manifest(path: Path, backend: str, revision: str | None, counts: dict[str, int]) -> Path:
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    write_private_text(
        manifest,
        json.dumps(
            {
                "format": "tongxin-backup/1",
                "backend": backend,
                "file": path.name,
                "sha256": _sha256(path),
                "made_at": clock.now().isoformat(),
                "revision": revision,
                "counts": counts,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
    )
    return manifest


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest beside a backup file, or None when there is none."""
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    if not manifest.exists():
        return None
    data: dict[str, Any] = json.loads(manifest.read_text("utf-8"))
    return data


def _need_owner(engine: Engine, doing: str) -> None:
    from crm_core.identity import login_of

    if not login_of(engine).owner:
        # One whole sentence per case: a translation cannot be pieced together.
        raise BackupError(
            N_(
                "backing up a PostgreSQL database reads or replaces every row, around "
                "row-level security: run it as the owner of the database (the role that "
                "runs `tongxin db upgrade` and the backup timer)"
            )
            if doing == "backing up"
            else N_(
                "restoring a PostgreSQL database reads or replaces every row, around "
                "row-level security: run it as the owner of the database (the role that "
                "runs `tongxin db upgrade` and the backup timer)"
            )
        )


def verify_backup(path: Path | str) -> str:
    """Check a backup file as it lies, before anything relies on it (the downgrade does):
    its manifest's checksum; a SQLite backup's integrity, foreign keys, schema revision
    and the manifest's row counts; a pg_dump archive's table of contents, read whole by
    ``pg_restore --list``, holding the data of every table in the manifest. Returns
    the file's SHA-256; BackupError says what is wrong."""
    path = Path(path)
    manifest = read_manifest(path)
    if manifest is None:
        raise BackupError(N_("{name} has no manifest beside it"), name=path.name)
    sha = _sha256(path)
    if manifest.get("sha256") != sha:
        raise BackupError(
            N_("{name} does not match its manifest (checksum): damaged?"), name=path.name
        )
    problems: list[str] = []
    if backup_kind(path) == "sqlite":
        check = check_sqlite_file(path)
        problems += check.problems
        if check.counts != manifest["counts"]:
            problems.append("the row counts differ from the manifest's")
    else:
        _, pg_restore = pg_tools()
        if pg_restore is None:
            raise BackupError(
                N_(
                    "pg_restore is not installed: install the PostgreSQL client tools "
                    "(Debian: apt install postgresql-client)"
                )
            )
        listed = subprocess.run(
            [pg_restore, "--list", str(path)], capture_output=True, text=True, check=False
        )
        if listed.returncode != 0:
            problems.append(f"pg_restore --list: {listed.stderr.strip()}")
        else:
            data = set(re.findall(r"TABLE DATA \S+ (\S+) ", listed.stdout))
            problems += [f"no data for {t}" for t in sorted(set(manifest["counts"]) - data)]
    if problems:
        raise BackupError(
            N_("the backup failed its check: {problems}"), problems="; ".join(problems)
        )
    return sha


def backup_kind(path: Path) -> str:
    """ "sqlite" or "postgresql": what made the backup file."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(N_("{path} is not a tongxin backup (neither SQLite nor pg_dump)"), path=path)
