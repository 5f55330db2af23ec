"""Backups and restores, checked: the demo database round-trips with identical contents
on SQLite (online backup API) and PostgreSQL (pg_dump/pg_restore); a damaged or foreign
backup is refused before anything changes; rotation keeps the newest N.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import SQLModel

from crm_core import backup as backups
from crm_core import clock, db, demo
from crm_core.app import Tongxin
from crm_core.services import contacts

TODAY = date(2026, 11, 20)


def everything(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema revision), in primary-key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
        out["alembic_version"] = [
            tuple(r) for r in conn.execute(text("SELECT * FROM alembic_version"))
        ]
    return out


def test_backup_then_restore_round_trips_the_demo_database(
    app: Tongxin, tmp_path: Path, backend: str
) -> None:
    demo.generate(app, contacts=demo.MIN_CONTACTS, seed=2019, today=TODAY)
    original = everything(app.engine)
    assert len(original["person"]) >= demo.MIN_CONTACTS and original["interaction"]
    target = tmp_path / ("office.sqlite" if backend == "sqlite" else "office.pgdump")
    made = backups.backup(app.engine, target)
    assert made.path == target and made.manifest.exists()
    assert made.revision == db.head_revision()
    assert made.counts["person"] == len(original["person"])
    manifest = json.loads(made.manifest.read_text("utf-8"))
    assert manifest["counts"] == made.counts and len(manifest["sha256"]) == 64
    # Work goes on after the backup ... and is then undone by the restore.
    with app.unit() as unit:
        contacts.create_person(unit, name="备份之后")
        first = contacts.list_people(unit, limit=1).items[0]
        contacts.update_person(unit, first.id, title="改过")
    assert everything(app.engine) != original
    restored = backups.restore(app.engine, target, save_to=tmp_path / "before")
    assert restored.check.ok and restored.check.revision == db.head_revision()
    # Identical, but for the one audit entry that records the restore itself.
    now = everything(app.engine)
    added = [r for r in now["audit_log"] if r not in original["audit_log"]]
    assert len(added) == 1 and restored.audit_entry is not None
    assert added[0][0] == restored.audit_entry["id"]
    now["audit_log"].remove(added[0])
    assert now == original
    # The database as it was before the restore was kept, and is itself a good backup.
    assert restored.saved_before is not None and restored.saved_before.exists()
    assert (
        backups.read_manifest(restored.saved_before)["counts"]["person"]
        == len(original["person"]) + 1
    )
    # The program carries on with the restored database.
    with app.unit() as unit:
        assert contacts.search_people(unit, "备份之后").total == 0


def test_a_damaged_or_foreign_backup_is_refused_and_nothing_changes(
    app: Tongxin, tmp_path: Path, backend: str
) -> None:
    with app.unit() as unit:
        contacts.create_person(unit, name="张三")
    before = everything(app.engine)
    target = tmp_path / "good.bak"
    backups.backup(app.engine, target)
    damaged = tmp_path / "damaged.bak"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    (tmp_path / ("damaged.bak" + backups.MANIFEST_SUFFIX)).write_text(
        (tmp_path / ("good.bak" + backups.MANIFEST_SUFFIX)).read_text("utf-8"), "utf-8"
    )
    with pytest.raises(backups.BackupError, match=r"checksum|check"):
        backups.restore(app.engine, damaged)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup", "utf-8")
    with pytest.raises(backups.BackupError, match="not a tongxin backup"):
        backups.restore(app.engine, text_file)
    other = tmp_path / "other-kind.bak"
    other.write_bytes(b"PGDMP" if backend == "sqlite" else b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(backups.BackupError, match="backup; this database is"):
        backups.restore(app.engine, other)
    assert everything(app.engine) == before


def test_rotating_backups_keep_the_newest(app: Tongxin, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    made, names = [], []
    for day in range(1, 6):
        at = datetime(2026, 11, day, 2, 0, tzinfo=UTC)
        clock.freeze(at)
        made.append(backups.backup_rotating(app.engine, folder, keep=3))
        names.append(f"tongxin-{at.astimezone():%Y%m%d-%H%M%S}{made[-1].path.suffix}")
    assert [m.path.name for m in made] == names
    kept = sorted(p.name for p in folder.iterdir())
    assert [p for p in kept if not p.endswith(backups.MANIFEST_SUFFIX)] == names[2:]
    assert len(kept) == 6  # each with its manifest
    assert [p.name for p in made[-1].removed] == [names[1]]
    with pytest.raises(backups.BackupError):
        backups.backup_rotating(app.engine, folder, keep=0)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_sqlite_backup_is_one_checked_file(app: Tongxin, tmp_path: Path) -> None:
    target = tmp_path / "one.sqlite"
    backups.backup(app.engine, target)
    assert not Path(str(target) + "-wal").exists()
    check = backups.check_sqlite_file(target)
    assert check.ok and check.revision == db.head_revision()
