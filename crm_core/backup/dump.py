"""Making backups: SQLite's online backup API or ``pg_dump`` on one exported snapshot,
a manifest beside each, and :func:`backup_rotating` for a timer or a scheduler."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from crm_core import clock, db
from crm_core.backup.checks import (
    MANIFEST_SUFFIX,
    ROTATED,
    BackupError,
    BackupResult,
    _counts,
    _libpq,
    _need_owner,
    _revision,
    _sqlite_path,
    _write_manifest,
    check_sqlite_file,
    pg_tools,
)
from crm_core.i18n import N_
from crm_core.private_files import make_private_dirs, private_path

# -- backup -------------------------------------------------------------------------------


def backup(
    engine: Engine, target: Path | str, progress: Callable[[int, int], None] | None = None
) -> BackupResult:
    """Back the database of ``engine`` up into the file ``target`` (replaced if it
    exists, only once the new backup is complete and checked), with its manifest;
    ``progress(done, total)`` is called as it goes (SQLite: pages copied)."""
    target = Path(target).expanduser().resolve()
    make_private_dirs(target.parent)
    if engine.dialect.name == "sqlite":
        return _backup_sqlite(engine, target, progress)
    if engine.dialect.name == "postgresql":
        if progress is not None:
            progress(0, 1)
        result = _backup_pg(engine, target)
        if progress is not None:
            progress(1, 1)
        return result
    raise BackupError(N_("cannot back up a {dialect} database"), dialect=engine.dialect.name)


def _backup_sqlite(
    engine: Engine, target: Path, progress: Callable[[int, int], None] | None = None
) -> BackupResult:
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
            # A consistent snapshot, page by page, while others work.
            if progress is None:
                src.backup(dst)
            else:
                src.backup(
                    dst, pages=4096, progress=lambda _s, left, total: progress(total - left, total)
                )
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


def backup_rotating(
    engine: Engine,
    folder: Path | str,
    keep: int,
    progress: Callable[[int, int], None] | None = None,
) -> BackupResult:
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
    result = backup(engine, target, progress)
    made = sorted(
        (p for p in folder.iterdir() if ROTATED.match(p.name)),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    for old in made[:-keep]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + MANIFEST_SUFFIX).unlink(missing_ok=True)
        result.removed.append(old)
    return result


def describe(result: BackupResult) -> dict[str, Any]:
    """The JSON form of a backup result."""
    data = asdict(result)
    data["path"] = str(result.path)
    data["manifest"] = str(result.manifest)
    data["removed"] = [str(p) for p in result.removed]
    return data
