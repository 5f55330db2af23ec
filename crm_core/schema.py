"""Changing the schema downwards, carefully: `tongxin db downgrade`.

A downgrade drops tables and columns with everything in them (``base`` empties the
database). So :func:`downgrade_database`

1. requires an administrator (:func:`require_schema_admin`): on SQLite the owner of
   the file SQLite opened or an active administrator account of the login; on
   PostgreSQL the owner of the tables (a superuser, or a member of the owning role),
   since only the owner may drop them anyway;
2. writes an audit entry (who, from which revision to which, where the backup goes)
   *before* the backup, so that the backup holds it;
3. backs the database up (:func:`crm_core.backup.backup`) and checks the backup as it
   lies (:func:`crm_core.backup.verify_backup`: checksum, integrity, row counts);
4. writes a second entry with the backup's SHA-256 (a file cannot hold its own
   checksum; this entry survives unless the downgrade drops the audit log itself);
5. and only then migrates down.

Asking for confirmation is the front end's part (the CLI asks on a terminal and
otherwise wants ``--yes``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Connection, Engine, insert, inspect, text

from crm_core import backup as backups
from crm_core import clock, db
from crm_core.config import APP_NAME
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.i18n import N_, _
from crm_core.identity import Login, login_of
from crm_core.models import AuditLog, table_of


@dataclass
class DowngradeResult:
    """A downgrade done: from and to which revision, by whom, and the checked backup."""

    login: str
    from_revision: str
    to_revision: str | None  # None: base (empty)
    backup: backups.BackupResult
    sha256: str

    def as_json(self) -> dict[str, Any]:
        """The JSON form (``tongxin db downgrade --json``)."""
        return {
            "login": self.login,
            "from": self.from_revision,
            "to": self.to_revision or "base",
            "backup": str(self.backup.path),
            "manifest": str(self.backup.manifest),
            "sha256": self.sha256,
        }


def default_backup_folder() -> Path:
    """Where a downgrade's backup goes unless told: ``backups`` in the data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "backups"


def _admin_account(conn: Connection, login: str) -> tuple[uuid.UUID, bool] | None:
    """(id, is an active administrator) of the account named ``login``, read with
    plain SQL so that it works at any revision that has accounts."""
    if not inspect(conn).has_table("account"):
        return None
    row = conn.execute(
        text("SELECT id, role, active FROM account WHERE username = :u"), {"u": login}
    ).first()
    if row is None:
        return None
    ident = row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(str(row[0]))
    return ident, str(row[1]) == "admin" and bool(row[2])


def require_schema_admin(engine: Engine) -> Login:
    """The login of ``engine`` if it may change the schema downwards, else
    PermissionDenied saying who may."""
    login = login_of(engine)
    if login.owner:
        return login
    if engine.dialect.name == "postgresql":
        raise PermissionDenied(
            _(
                "only the owner of the database (the role that owns its tables) may "
                "downgrade its schema; {login} is not: run tongxin db downgrade as that role"
            ).format(login=login.name)
        )
    with engine.connect() as conn:
        account = _admin_account(conn, login.name)
    if account is not None and account[1]:
        return login
    raise PermissionDenied(
        _(
            "only an administrator may downgrade the schema ({login} is neither the owner "
            "of the database file nor an administrator account)"
        ).format(login=login.name)
    )


def resolve_target(engine: Engine, revision: str) -> tuple[str, str | None]:
    """(current revision, target revision or None for base) for a downgrade to
    ``revision``: "base" or a revision id older than the current one; otherwise a
    ValidationError naming the revisions there are."""
    from alembic.script import ScriptDirectory

    current = db.current_revision(engine)
    if current is None:
        raise ValidationError.one(
            "revision", revision, N_("the database has no schema: there is nothing to downgrade")
        )
    script = ScriptDirectory.from_config(db.alembic_config(engine))
    below = [r.revision for r in script.iterate_revisions(current, "base")][1:]
    if revision == "base":
        return current, None
    if revision not in below:
        raise ValidationError.one(
            "revision",
            revision,
            N_("not a revision below the current {current}: use one of {choices}"),
            current=current,
            choices=", ".join([*below, "base"]),
        )
    return current, revision


def _audit(conn: Connection, login: Login, entity_id: str, after: dict[str, Any]) -> bool:
    """Append one ``downgrade`` entry to the audit log with the columns this revision
    has; False when the revision has no audit log."""
    if not inspect(conn).has_table("audit_log"):
        return False
    present = {c["name"] for c in inspect(conn).get_columns("audit_log")}
    account = _admin_account(conn, login.name)
    values = {
        "id": uuid.uuid4(),
        "at": clock.now(),
        "actor_id": account[0] if account else None,
        "actor": login.name,
        "real_actor_id": None,
        "action": "downgrade",
        "entity": "schema",
        "entity_id": entity_id,
        "before": None,
        "after": after,
    }
    table = table_of(AuditLog)
    conn.execute(insert(table).values({k: v for k, v in values.items() if k in present}))
    return True


def downgrade_database(
    engine: Engine, revision: str, *, backup_to: Path | str | None = None
) -> DowngradeResult:
    """Migrate ``engine``'s database down to ``revision`` ("base" empties it), as an
    administrator only, audited, after a checked backup (see the module's doc).
    ``backup_to`` is the backup file (default: a dated file in
    :func:`default_backup_folder`)."""
    login = require_schema_admin(engine)
    current, target = resolve_target(engine, revision)
    to = target or "base"
    ext = "sqlite" if engine.dialect.name == "sqlite" else "pgdump"
    if backup_to is None:
        stamp = clock.now().astimezone().strftime("%Y%m%d-%H%M%S")
        path = default_backup_folder() / f"before-downgrade-{current}-to-{to}-{stamp}.{ext}"
        n = 1
        while path.exists():
            path = path.with_name(f"before-downgrade-{current}-to-{to}-{stamp}-{n}.{ext}")
            n += 1
    else:
        path = Path(backup_to).expanduser().resolve()
    with engine.begin() as conn:
        _audit(conn, login, current, {"from": current, "to": to, "backup": str(path)})
    made = backups.backup(engine, path)
    sha = backups.verify_backup(made.path)
    with engine.begin() as conn:
        _audit(
            conn,
            login,
            current,
            {"from": current, "to": to, "backup": str(made.path), "sha256": sha},
        )
    engine.dispose()
    db.downgrade(engine, target or "base")
    engine.dispose()
    return DowngradeResult(login.name, current, target, made, sha)
