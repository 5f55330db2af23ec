"""A separate tongxin process for the concurrency tests (run as a script, never
collected): ``python worker.py MODE DB_URL ARGS...``.

- ``writes DB N TAG``: N units of work: every other one creates a person (a unit that
  writes at once), the others log a call with the worker's first person (a unit that
  reads, then writes: on SQLite the kind that meets a stale snapshot and is retried).
- ``hold DB TAG COUNT READY``: in ONE unit, create COUNT people, flush, touch READY,
  then keep the transaction open until killed.
- ``edit DB PERSON TITLE MINE OTHER``: read the person (unit 1), touch MINE, wait for
  OTHER, then save a new title with the version read (unit 2); print "saved" or
  "conflict".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from crm_core.app import Tongxin
from crm_core.errors import Conflict
from crm_core.services import contacts, interactions


def writes(app: Tongxin, count: int, tag: str) -> None:
    first = app.run(lambda u: contacts.create_person(u, name=f"{tag}-0").id)
    for i in range(1, count):
        if i % 2:
            app.run(lambda u, i=i: contacts.create_person(u, name=f"{tag}-{i}"))
        else:
            app.run(
                lambda u, i=i: interactions.log_interaction(
                    u, kind="call", people=[first], summary=f"{tag}-{i}"
                ),
                write=False,  # deferred: reads first, then must upgrade to a writer
            )


def hold(app: Tongxin, tag: str, count: int, ready: Path) -> None:
    with app.unit() as unit:
        for i in range(count):
            contacts.create_person(unit, name=f"{tag}-{i}")
        unit.session.flush()
        ready.touch()
        time.sleep(600)  # killed long before


def edit(app: Tongxin, person: str, title: str, mine: Path, other: Path) -> None:
    with app.unit() as unit:
        version = contacts.get_person(unit, person).version
    mine.touch()
    deadline = time.monotonic() + 60
    while not other.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        app.run(lambda u: contacts.update_person(u, person, title=title, expected_version=version))
    except Conflict:
        print("conflict")
    else:
        print("saved")


def main() -> None:
    mode, url, *args = sys.argv[1:]
    app = Tongxin(db_url=url)
    try:
        if mode == "writes":
            writes(app, int(args[0]), args[1])
        elif mode == "hold":
            hold(app, args[0], int(args[1]), Path(args[2]))
        elif mode == "edit":
            edit(app, args[0], args[1], Path(args[2]), Path(args[3]))
        else:
            raise SystemExit(f"unknown mode {mode}")
    finally:
        app.close()


if __name__ == "__main__":
    main()
