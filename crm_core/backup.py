"""Backups and restores, checked.

- SQLite: SQLite's online backup API copies a consistent snapshot while others keep
  working; the copy is a single self-contained file (no WAL).
- PostgreSQL: ``pg_dump`` (custom format) when it is installed, on one exported snapshot
  so that the row counts written beside the dump are exactly those of the dump;
  ``pg_restore --clean --single-transaction`` restores all or nothing.

Every backup gets a manifest beside it (``FILE.manifest.json``: format, schema
revision, row count of every table, SHA-256 of the file). A restore first checks the
backup (SQLite: ``integrity_check`` and ``foreign_key_check``), saves the current
database aside, restores, then checks the result: schema revision known to this
program, row counts equal to the manifest's (or the backup file's), foreign keys and
integrity. :func:`backup_rotating` keeps the newest N backups in a folder, for a timer
or a scheduler to call.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.engine import URL

from crm_core import clock, db, i18n
from crm_core.errors import TongxinError
from crm_core.i18n import N_
from crm_core.private_files import make_private_dirs, private_path, write_private_text

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
        said = i18n._(self.template)
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
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


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


# -- backup -------------------------------------------------------------------------------


def backup(engine: Engine, target: Path | str) -> BackupResult:
    """Back the database of ``engine`` up into the file ``target`` (replaced if it
    exists, only once the new backup is complete and checked), with its manifest."""
    target = Path(target).expanduser().resolve()
    make_private_dirs(target.parent)
    if engine.dialect.name == "sqlite":
        return _backup_sqlite(engine, target)
    if engine.dialect.name == "postgresql":
        return _backup_pg(engine, target)
    raise BackupError(N_("cannot back up a {dialect} database"), dialect=engine.dialect.name)


def _backup_sqlite(engine: Engine, target: Path) -> BackupResult:
    source = _sqlite_path(engine)
    # mkstemp: created 0600 with O_EXCL; SQLite writes into it (and its journal takes
    # its mode), so the backup is private from its first page.
    fd, tmp_name = tempfile.mkstemp(prefix=".tongxin-backup-", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(source, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # a consistent snapshot, page by page, while others work
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
            src.close()
        check = check_sqlite_file(tmp)
        if not check.ok:
            raise BackupError(
                N_("the backup failed its check: {problems}"), problems="; ".join(check.problems)
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    manifest = _write_manifest(target, "sqlite", check.revision, check.counts)
    return BackupResult(target, manifest, "sqlite", check.revision, check.counts)


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


def _backup_pg(engine: Engine, target: Path) -> BackupResult:
    pg_dump, _ = pg_tools()
    if pg_dump is None:
        raise BackupError(
            N_(
                "pg_dump is not installed: install the PostgreSQL client tools "
                "(Debian: apt install postgresql-client)"
            )
        )
    _need_owner(engine, "backing up")
    dsn, env = _libpq(engine.url)
    # pg_dump creates its --file with the umask's mode: it writes instead into a file
    # made 0600 beforehand (reopening it keeps the mode), renamed over the target once
    # the dump is complete.
    with private_path(target) as tmp:
        # One snapshot for the counts and the dump: they describe exactly the same data.
        with engine.connect() as conn:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            revision, counts = _revision(conn), _counts(conn)
            done = subprocess.run(
                [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                 f"--file={tmp}", f"--dbname={dsn}"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            conn.rollback()
        if done.returncode != 0:
            raise BackupError(N_("pg_dump failed: {reason}"), reason=done.stderr.strip())
    manifest = _write_manifest(target, "postgresql", revision, counts)
    return BackupResult(target, manifest, "postgresql", revision, counts)


def backup_rotating(engine: Engine, folder: Path | str, keep: int) -> BackupResult:
    """A new backup ``tongxin-YYYYMMDD-HHMMSS.sqlite|pgdump`` in ``folder``; then only
    the newest ``keep`` such backups (and their manifests) stay. For a systemd timer,
    cron or a scheduler job."""
    if keep < 1:
        raise BackupError(N_("keep at least one backup"))
    folder = make_private_dirs(Path(folder).expanduser().resolve())
    ext = "sqlite" if engine.dialect.name == "sqlite" else "pgdump"
    stamp = clock.now().astimezone().strftime("%Y%m%d-%H%M%S")
    target = folder / f"tongxin-{stamp}.{ext}"
    n = 1
    while target.exists():
        target = folder / f"tongxin-{stamp}-{n}.{ext}"
        n += 1
    result = backup(engine, target)
    made = sorted(
        (p for p in folder.iterdir() if ROTATED.match(p.name)),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    for old in made[:-keep]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + MANIFEST_SUFFIX).unlink(missing_ok=True)
        result.removed.append(old)
    return result


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


# -- restore ------------------------------------------------------------------------------


def backup_kind(path: Path) -> str:
    """ "sqlite" or "postgresql": what made the backup file."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(N_("{path} is not a tongxin backup (neither SQLite nor pg_dump)"), path=path)


def restore(
    engine: Engine,
    source: Path | str,
    *,
    save_to: Path | str | None = None,
    actor: str | None = None,
    actor_id: uuid.UUID | None = None,
    real_actor_id: uuid.UUID | None = None,
) -> RestoreResult:
    """Replace the database of ``engine`` with the backup ``source`` and check it.

    The backup is checked first (SQLite) and its manifest's checksum compared; the
    current database is backed up to ``save_to`` (default: beside the backup, named
    ``before-restore-…``), its audit log with it, so a mistaken restore can be undone
    and nothing the log said is lost; the result must have a known schema revision,
    the manifest's row counts, valid foreign keys and integrity, or BackupError says
    what is wrong (the saved copy is still there).

    The restored database then gets an audit entry ``restore`` (entity ``backup``, id
    the backup's SHA-256): who (``actor``, default the database login; ``actor_id`` and
    ``real_actor_id`` as in every entry), when, which file (path, SHA-256, manifest)
    and where the replaced database is (path and SHA-256 of the before-restore copy).
    A restore therefore never silently rewrites the trail: the restored log says it
    was restored, and the log it replaced is in the copy it points at."""
    source = Path(source).expanduser().resolve()
    if not source.exists():
        raise BackupError(N_("no such backup: {source}"), source=source)
    kind = backup_kind(source)
    if kind != engine.dialect.name:
        raise BackupError(
            N_("{name} is a {kind} backup; this database is {dialect}"),
            name=source.name,
            kind=kind,
            dialect=engine.dialect.name,
        )
    manifest = read_manifest(source)
    if manifest and manifest.get("sha256") not in (None, _sha256(source)):
        raise BackupError(
            N_("{name} does not match its manifest (checksum): damaged?"), name=source.name
        )
    expected: dict[str, int] | None = manifest["counts"] if manifest else None
    if kind == "sqlite":
        before = check_sqlite_file(source)
        if not before.ok:
            raise BackupError(
                N_("the backup failed its check: {problems}"), problems="; ".join(before.problems)
            )
        expected = expected or before.counts
    stamp = clock.now().astimezone().strftime("%Y%m%d-%H%M%S")
    ext = "sqlite" if kind == "sqlite" else "pgdump"
    saved = Path(save_to) if save_to else source.with_name(f"before-restore-{stamp}.{ext}")
    saved_before: Path | None = None
    anonymised: list[str] = []
    if _has_schema(engine):
        anonymised = _anonymised(engine)
        saved_before = backup(engine, saved).path
    engine.dispose()
    if kind == "sqlite":
        _restore_sqlite(engine, source)
    else:
        _restore_pg(engine, source)
    engine.dispose()
    check = check_database(engine)
    if expected is not None:
        for table in sorted(set(expected) | set(check.counts)):
            want, got = expected.get(table), check.counts.get(table)
            if want != got:
                check.problems.append(f"{table}: {got} rows restored, the backup holds {want}")
    again = _named_again(engine, anonymised) if check.ok else []
    entry = _restore_entry(
        engine, source, manifest, saved_before, check, actor, actor_id, real_actor_id
    )
    entry["after"]["anonymise_again"] = again
    recorded: dict[str, Any] | None = entry
    try:
        _write_entry(engine, entry)
    except Exception as exc:  # the data is restored: say so, and what is missing
        if check.ok:
            raise BackupError(
                N_(
                    "the backup was restored and checked, but the restore could not be "
                    "written into its audit log: {reason} (the database as it was is "
                    "saved in {saved})"
                ),
                reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                saved=saved_before,
            ) from exc
        recorded = None  # a restore that failed its check is reported below anyway
    if not check.ok:
        problems = "; ".join(check.problems)
        if saved_before:
            raise BackupError(
                N_(
                    "the restored database failed its check: {problems} "
                    "(the database as it was is saved in {saved})"
                ),
                problems=problems,
                saved=saved_before,
            )
        raise BackupError(
            N_("the restored database failed its check: {problems}"), problems=problems
        )
    return RestoreResult(source, saved_before, check, recorded, again)


def _anonymised(engine: Engine) -> list[str]:
    """The ids of the people anonymised in the database (its ``anonymise`` entries)."""
    from crm_core.models import AuditLog

    table = AuditLog.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        if "audit_log" not in inspect(conn).get_table_names():
            return []
        rows = conn.execute(
            select(table.c.entity_id).where(
                table.c.action == "anonymise", table.c.entity == "person"
            )
        )
        return sorted({str(r[0]) for r in rows})


def _named_again(engine: Engine, ids: list[str]) -> list[str]:
    """Those of ``ids`` whose person record in the database is not anonymised."""
    from crm_core.models import Person
    from crm_core.services.privacy import ANONYMOUS

    if not ids:
        return []
    table = Person.__table__  # type: ignore[attr-defined]
    wanted = [uuid.UUID(i) for i in ids]
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.id).where(table.c.id.in_(wanted), table.c.name != ANONYMOUS)
        )
        return sorted(str(r[0]) for r in rows)


def _restore_entry(
    engine: Engine,
    source: Path,
    manifest: dict[str, Any] | None,
    saved_before: Path | None,
    check: Check,
    actor: str | None,
    actor_id: uuid.UUID | None,
    real_actor_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The columns of the audit entry that records a restore (see :func:`restore`)."""
    if actor is None:
        from crm_core.identity import login_of

        actor = login_of(engine).name
    digest = _sha256(source)
    pointer = None
    if saved_before is not None:
        pointer = {
            "path": str(saved_before),
            "sha256": _sha256(saved_before),
            "manifest": str(saved_before.with_name(saved_before.name + MANIFEST_SUFFIX)),
        }
    return {
        "id": uuid.uuid4(),
        "at": clock.now(),
        "actor_id": actor_id,
        "actor": actor,
        "real_actor_id": real_actor_id,
        "action": "restore",
        "entity": "backup",
        "entity_id": digest,
        "before": {"before_restore": pointer},
        "after": {
            "source": str(source),
            "sha256": digest,
            "manifest": (
                {k: manifest.get(k) for k in ("file", "sha256", "made_at", "backend", "revision")}
                if manifest
                else None
            ),
            "revision": check.revision,
            "check": "ok" if check.ok else "; ".join(check.problems),
        },
    }


def _write_entry(engine: Engine, entry: dict[str, Any]) -> None:
    """Insert one audit entry into the database of ``engine`` as it is now (a restored
    backup may be of an older revision, without the newer columns)."""
    from crm_core.models import AuditLog

    table = AuditLog.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        present = {c["name"] for c in inspect(conn).get_columns("audit_log")}
        conn.execute(table.insert().values({k: v for k, v in entry.items() if k in present}))


def _has_schema(engine: Engine) -> bool:
    # A database downgraded to base keeps Alembic's empty version table: nothing to save.
    with engine.connect() as conn:
        return bool(set(_tables(conn)) - {"alembic_version"})


def _restore_sqlite(engine: Engine, source: Path) -> None:
    target = _sqlite_path(engine)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        # Page by page under the destination's write lock: other connections see the
        # old database or the new one, never a mixture.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


def _restore_pg(engine: Engine, source: Path) -> None:
    _, pg_restore = pg_tools()
    if pg_restore is None:
        raise BackupError(
            N_(
                "pg_restore is not installed: install the PostgreSQL client tools "
                "(Debian: apt install postgresql-client)"
            )
        )
    _need_owner(engine, "restoring")
    dsn, env = _libpq(engine.url)
    # The tables pg_restore creates must start with PostgreSQL's own default privileges,
    # as pg_dump assumes: the database's ALTER DEFAULT PRIVILEGES (migration 0003, which
    # --clean does not remove) would give the program's role UPDATE and DELETE on the
    # append-only audit log. The dump brings its default privileges back at the end.
    granted = _default_grants(engine)
    _set_default_grants(engine, granted, grant=False)
    done = subprocess.run(
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
         "--exit-on-error", f"--dbname={dsn}", str(source)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        _set_default_grants(engine, granted, grant=True)
        raise BackupError(
            N_("pg_restore failed, nothing was changed: {reason}"), reason=done.stderr.strip()
        )


def _default_grants(engine: Engine) -> list[tuple[str, str]]:
    """(grantee, privileges) of the owner's default privileges on tables in the schema."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.grantee::regrole::text, string_agg(a.privilege_type, ', ') "
                "FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace, "
                "aclexplode(d.defaclacl) a "
                "WHERE n.nspname = current_schema() AND d.defaclobjtype = 'r' "
                "AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user) "
                "AND a.grantee <> 0 GROUP BY a.grantee"
            )
        ).all()
    return [(str(g), str(p)) for g, p in rows]


def _set_default_grants(engine: Engine, grants: list[tuple[str, str]], *, grant: bool) -> None:
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        for grantee, privileges in grants:
            verb = (
                f"GRANT {privileges} ON TABLES TO"
                if grant
                else f"REVOKE {privileges} ON TABLES FROM"
            )
            conn.exec_driver_sql(f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" {verb} {grantee}')


def describe(result: BackupResult) -> dict[str, Any]:
    """The JSON form of a backup result."""
    data = asdict(result)
    data["path"] = str(result.path)
    data["manifest"] = str(result.manifest)
    data["removed"] = [str(p) for p in result.removed]
    return data
