"""Several processes at once, on SQLite (WAL, busy timeout, BEGIN IMMEDIATE for units
known to write, whole-unit retries) and on PostgreSQL: nothing is lost, no raw database
error reaches anyone, a process killed in the middle of a transaction leaves a
consistent database, and of two simultaneous edits of the same person the later one is
told (Conflict), never silently overwritten.

The other processes are real ones (``worker.py`` beside this file).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core import backup as backups
from crm_core import db
from crm_core.app import Tongxin
from crm_core.errors import Conflict
from crm_core.models import AuditLog, Interaction, Person
from crm_core.services import contacts

WORKER = Path(__file__).with_name("worker.py")
PROCESSES, WRITES = 4, 500


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_four_processes_of_500_writes_lose_nothing(app: Tongxin, db_url: str) -> None:
    workers = [spawn("writes", db_url, str(WRITES), f"w{n}") for n in range(PROCESSES)]
    for w in workers:
        _out, err = w.communicate(timeout=600)
        assert w.returncode == 0, err
        assert "Traceback" not in err, err
    with app.unit() as unit:
        names = set(unit.session.scalars(select(Person.name)))
        summaries = set(unit.session.scalars(select(Interaction.summary)))
        for n in range(PROCESSES):
            for i in range(WRITES):
                found = names if i == 0 or i % 2 else summaries
                assert f"w{n}-{i}" in found, f"w{n}-{i} was lost"
        people = unit.session.scalar(select(func.count()).select_from(Person))
        calls = unit.session.scalar(select(func.count()).select_from(Interaction))
        assert people == PROCESSES * (WRITES // 2 + 1)
        assert calls == PROCESSES * (WRITES // 2 - 1)
        # Every write left its audit entry, and only once (no retry wrote twice).
        logged = unit.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "create", AuditLog.entity.in_(["person", "interaction"]))
        )
        assert logged == people + calls


def test_a_process_killed_mid_transaction_leaves_the_database_consistent(
    app: Tongxin, db_url: str, backend: str, tmp_path: Path
) -> None:
    with app.unit() as unit:
        contacts.create_person(unit, name="before")
    ready = tmp_path / "ready"
    victim = spawn("hold", db_url, "killed", "200", str(ready))
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert victim.poll() is None, victim.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)  # in the middle of its transaction
    victim.wait(timeout=60)
    # Nothing of the killed unit is there, everything before it is, and the database
    # takes writes again at once (its lock died with it).
    with app.unit() as unit:
        assert set(unit.session.scalars(select(Person.name))) == {"before"}
        contacts.create_person(unit, name="after")
    with app.unit() as unit:
        assert set(unit.session.scalars(select(Person.name))) == {"before", "after"}
    engine = db.make_engine(db_url)
    try:
        check = backups.check_database(engine)
    finally:
        engine.dispose()
    assert check.ok, check.problems
    assert check.counts["person"] == 2


def test_simultaneous_edits_of_one_person_the_later_is_told(
    app: Tongxin, db_url: str, tmp_path: Path
) -> None:
    with app.unit() as unit:
        pid = str(contacts.create_person(unit, name="张三").id)
    a, b = tmp_path / "a", tmp_path / "b"
    first = spawn("edit", db_url, pid, "主任", str(a), str(b))
    second = spawn("edit", db_url, pid, "院长", str(b), str(a))
    results = []
    for p in (first, second):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(out.strip())
    assert sorted(results) == ["conflict", "saved"]
    winner = ["主任", "院长"][results.index("saved")]
    with app.unit() as unit:
        person = contacts.get_person(unit, pid)
        assert (person.title, person.version) == (winner, 2)
    # And in one process: the version read decides.
    with app.unit() as unit, pytest.raises(Conflict):
        contacts.update_person(unit, pid, title="秘书长", expected_version=1)


def test_run_retries_a_unit_that_met_a_concurrent_write(app: Tongxin, backend: str) -> None:
    with app.unit() as unit:
        pid = contacts.create_person(unit, name="张三").id
    calls = []

    def work(unit):  # type: ignore[no-untyped-def]
        calls.append(1)
        person = contacts.get_person(unit, pid)  # read first
        if len(calls) == 1:  # someone else changes the same row meanwhile
            with app.unit() as other:
                contacts.update_person(other, pid, employer="扬州大学")
        person.title = f"第{len(calls)}次"
        unit.session.flush()
        return person.title

    # On SQLite a deferred unit meets a stale snapshot; on PostgreSQL the version check.
    assert app.run(work, write=False) == "第2次"
    assert len(calls) == 2
    with app.unit() as unit:
        person = contacts.get_person(unit, pid)
        assert (person.title, person.employer) == ("第2次", "扬州大学")
    # A conflict with what the caller expected is never retried.
    calls.clear()
    with pytest.raises(Conflict):
        app.run(lambda u: calls.append(1) or contacts.update_person(u, pid, expected_version=1))
    assert calls == [1]
