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

from crm_core.backup.checks import (
    MANIFEST_SUFFIX,
    PGDUMP_MAGIC,
    ROTATED,
    SQLITE_MAGIC,
    BackupError,
    BackupResult,
    Check,
    RestoreResult,
    backup_kind,
    check_database,
    check_sqlite_file,
    pg_tools,
    read_manifest,
    verify_backup,
)
from crm_core.backup.dump import backup, backup_rotating, describe
from crm_core.backup.restoring import restore

__all__ = [
    "MANIFEST_SUFFIX",
    "PGDUMP_MAGIC",
    "ROTATED",
    "SQLITE_MAGIC",
    "BackupError",
    "BackupResult",
    "Check",
    "RestoreResult",
    "backup",
    "backup_kind",
    "backup_rotating",
    "check_database",
    "check_sqlite_file",
    "describe",
    "pg_tools",
    "read_manifest",
    "restore",
    "verify_backup",
]
