"""An audit trail that a restore cannot rewrite (issue 11, item 7): role changes and
disabling/enabling an account are audited; `tongxin restore` writes into the restored
database who restored which backup (path, SHA-256, manifest) and when, and where the
replaced database is kept; that before-restore copy holds the replaced audit log, and
its entries are read back from it.

Every test runs on SQLite and PostgreSQL, through the real CLI, as real logins (on
PostgreSQL LOGIN roles under row-level security; restores as the owner, as required).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crm_core import backup as backups
from crm_core import db, identity
from crm_core.app import Tongxin
from crm_core.services import accounts

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def office(app: Tongxin, names: Callable[[str], str]) -> dict[str, str]:
    n = {k: names(k) for k in ("office", "xiaoli")}
    with app.unit() as unit:
        accounts.create_account(unit, username=n["office"], display_name="办公室", role="admin")
        accounts.create_account(unit, username=n["xiaoli"], display_name="小李")
    return n


def audit_log(tx: Cli, login: str, *args: str) -> list[dict[str, Any]]:
    code, out, err = tx("audit", "--json", "--limit", "1000", *args, login=login)
    assert code == 0, err
    entries: list[dict[str, Any]] = json.loads(out)
    return entries


def test_role_changes_and_disabling_are_audited(tx: Cli, office: dict[str, str]) -> None:
    admin, xiaoli = office["office"], office["xiaoli"]
    # Refused for someone who is not an administrator: and nothing is recorded.
    code, _out, err = tx("users", "role", xiaoli, "admin", login=xiaoli)
    assert code == 1 and "only an administrator" in err
    assert tx("users", "role", xiaoli, "county_staff", "--region", "guangling", login=admin)[0] == 0
    assert tx("users", "role", xiaoli, "leader", login=admin)[0] == 0
    assert tx("users", "disable", xiaoli, login=admin)[0] == 0
    assert tx("users", "enable", xiaoli, login=admin)[0] == 0
    changes = [
        (e["actor"], e["before"], e["after"])
        for e in reversed(audit_log(tx, admin, "--entity", "account"))
        if e["action"] == "update"
    ]
    assert [(actor, {k: b[k] for k in sorted(a)}, a) for actor, b, a in changes] == [
        (admin, {"region_scope": None, "role": "staff"},
         {"region_scope": "guangling", "role": "county_staff"}),
        (admin, {"region_scope": "guangling", "role": "county_staff"},
         {"region_scope": None, "role": "leader"}),
        (admin, {"active": True}, {"active": False}),
        (admin, {"active": False}, {"active": True}),
    ]  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_restore_is_recorded_and_the_replaced_log_is_kept_readable(
    tx: Cli, office: dict[str, str], backend: str, db_url: str, tmp_path: Path
) -> None:
    admin = office["office"]
    # On PostgreSQL backups and restores read around row-level security: the owner's.
    owner = admin if backend == "sqlite" else None
    backup = tmp_path / "office.bak"
    assert tx("backup", str(backup), login=owner)[0] == 0
    manifest = backups.read_manifest(backup)
    assert manifest is not None
    # Work after the backup, audited: what the restore replaces.
    code, _out, err = tx("contacts", "add", "--name", "备份之后的人", login=admin)
    assert code == 0, err
    assert tx("users", "role", office["xiaoli"], "leader", login=admin)[0] == 0
    replaced = audit_log(tx, admin)
    later = [e for e in replaced if e["entity"] in ("person", "account")][:2]
    assert {e["entity"] for e in later} == {"person", "account"}

    code, out, err = tx("restore", str(backup), "--yes", "--json", login=owner)
    assert code == 0, err
    shown = json.loads(out)
    saved = Path(shown["saved_before"])
    assert saved.exists() and saved.name.startswith("before-restore-")

    # The restored database says who restored what, when, and where the old one is.
    now = audit_log(tx, admin)
    [entry] = [e for e in now if e["action"] == "restore"]
    assert entry["id"] == shown["audit_entry_id"] and now[0]["id"] == entry["id"]  # newest
    who = admin if backend == "sqlite" else identity.login_of(db.make_engine(db_url)).name
    assert entry["actor"] == who
    assert entry["entity"] == "backup" and entry["entity_id"] == sha256(backup)
    assert entry["after"]["source"] == str(backup.resolve())
    assert entry["after"]["sha256"] == sha256(backup) == manifest["sha256"]
    assert entry["after"]["manifest"]["made_at"] == manifest["made_at"]
    pointer = entry["before"]["before_restore"]
    assert pointer["path"] == str(saved) and pointer["sha256"] == sha256(saved)
    # The entries written after the backup are gone from the restored log ...
    assert not {e["id"] for e in later} & {e["id"] for e in now}
    # ... and kept whole in the copy the entry points at: read it as it lies,
    replaced_ids = {e["id"] for e in replaced}
    assert replaced_ids <= audit_ids_in(saved, backend)
    # and with tongxin itself, by restoring it (undoing the restore).
    code, out, err = tx("restore", pointer["path"], "--yes", "--json", login=owner)
    assert code == 0, err
    back = audit_log(tx, admin)
    assert replaced_ids <= {e["id"] for e in back}
    [undo] = [e for e in back if e["action"] == "restore"]  # the copy predates the first
    assert undo["entity_id"] == pointer["sha256"]
    code, out, _err = tx("contacts", "search", "备份之后的人", "--json", login=admin)
    assert json.loads(out)["total"] == 1


def audit_ids_in(copy: Path, backend: str) -> set[str]:
    """The ids of the audit entries in a before-restore copy, read with the database's
    own tools (sqlite3; pg_restore), not with tongxin."""
    if backend == "sqlite":
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            raw = [r[0] for r in conn.execute("SELECT id FROM audit_log")]
        finally:
            conn.close()
        return {f"{r[:8]}-{r[8:12]}-{r[12:16]}-{r[16:20]}-{r[20:]}" for r in raw}
    _dump, pg_restore = backups.pg_tools()
    assert pg_restore is not None
    sql = subprocess.run(
        [pg_restore, "--data-only", "--table=audit_log", "--file=-", str(copy)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = sql.split("COPY ", 1)[1].split("\n\\.", 1)[0].splitlines()[1:]
    return {line.split("\t", 1)[0] for line in rows}
