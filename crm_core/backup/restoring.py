"""Restoring a backup: checked first, the current database saved aside with its audit
log, restored all or nothing, then checked again; people anonymised since the backup
are named for anonymising again."""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select, text

from crm_core import clock, db
from crm_core.backup.checks import (
    MANIFEST_SUFFIX,
    BackupError,
    Check,
    RestoreResult,
    _libpq,
    _need_owner,
    _sha256,
    _sqlite_path,
    _tables,
    backup_kind,
    check_database,
    check_sqlite_file,
    pg_tools,
    read_manifest,
)
from crm_core.backup.dump import backup
from crm_core.i18n import N_


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
    from crm_core.models import AuditLog, table_of

    table = table_of(AuditLog)
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
    from crm_core.models import Person, table_of
    from crm_core.services.privacy import ANONYMOUS

    if not ids:
        return []
    table = table_of(Person)
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
    from crm_core.models import AuditLog, table_of

    table = table_of(AuditLog)
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
