"""Benchmark: core operations through the services, against hand-written SQL.

    python -m bench.core_ops [--people 100000] [--interactions 1000000] [--db URL]
                             [--repeat N] [--seed 2019] [--rebuild]

The dataset is made by ``crm_core.demo.generate`` (core kinds only, no entry-point
plugins) into ``bench/data/core-<people>-<interactions>-<seed>.db`` (git-ignored), or
into the database ``--db`` names (e.g. ``postgresql://postgres@127.0.0.1:5432/bench``,
created if missing), and reused by later runs with the same parameters. Then, in one
run, each operation is timed through the public service and through the best SQL query
written by hand for the same answer on the same database and indexes. The two answers
are compared (ids, and the total of a search) before any timing; the script prints a
Markdown table of median times and the ratio service / SQL.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import col

from crm_core import demo, pinyin, search_index
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.db import normalize_url
from crm_core.models import AuditLog, InteractionParticipant, Person
from crm_core.plugins import PluginHost
from crm_core.services import assignments, contacts, interactions
from crm_core.unit import Unit

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEARCHES = (
    ("search: initials `zs`", "zs"),
    ("search: pinyin prefix `zhangs`", "zhangs"),
    ("search: Chinese `张`", "张"),
    ("search: given name `建华`", "建华"),
    ("search: phone digits `1381`", "1381"),
    ("search: employer `扬州大学`", "扬州大学"),
)
LIMIT = 20


# ---------------------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------------------


def _app(url: str) -> Tongxin:
    DATA.mkdir(exist_ok=True)
    empty = DATA / "empty-config.toml"
    empty.write_text("", "utf-8")
    host = PluginHost()
    host.load(entry_points_too=False)  # the core's kinds only: the same data everywhere
    return Tongxin(load_config(empty), db_url=url, plugins=host)


def _built_with(app: Tongxin) -> dict[str, Any] | None:
    with app.unit() as unit:
        found = select(col(AuditLog.after)).where(col(AuditLog.action) == "demo")
        return unit.session.scalars(found).first()


def _recreate_pg(url: str) -> None:
    import psycopg

    parsed = make_url(normalize_url(url))
    name = parsed.database
    if name in (None, "postgres", "template0", "template1", "test"):
        sys.exit(f"refusing to drop the database {name!r}: name a database of its own")
    admin = parsed.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _ensure_pg_database(url: str) -> None:
    import psycopg

    parsed = make_url(normalize_url(url))
    admin = parsed.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def dataset(args: argparse.Namespace) -> tuple[Tongxin, float | None]:
    """The app on a database holding the demo with these parameters (built if needed),
    and how long the build took (None when reused)."""
    wanted = {"people": args.people, "interactions_requested": args.interactions, "seed": args.seed}
    if args.db:
        url = args.db
        is_pg = make_url(normalize_url(url)).get_backend_name() == "postgresql"
        if is_pg:
            (_recreate_pg if args.rebuild else _ensure_pg_database)(url)
    else:
        path = DATA / f"core-{args.people}-{args.interactions}-{args.seed}.db"
        if args.rebuild:
            for f in DATA.glob(path.name + "*"):
                f.unlink()
        url = str(path)
    app = _app(url)
    built = _built_with(app)
    if built is not None and all(built.get(k) == v for k, v in wanted.items()):
        return app, None
    if built is not None or _has_people(app):
        sys.exit(
            f"{url} holds other data than the dataset asked for (built with {built}): "
            "pass --rebuild to empty it (a SQLite file under bench/data, or a PostgreSQL "
            "database of its own)"
        )
    print(f"building {args.people:,} people and {args.interactions:,} interactions …")
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 10 or done == total:
            last[0] = time.perf_counter()
            print(f"  {done:,}/{total:,} rows ({time.perf_counter() - started:.0f} s)")

    demo.generate(
        app,
        contacts=args.people,
        interactions=args.interactions,
        seed=args.seed,
        progress=progress,
    )
    seconds = time.perf_counter() - started
    if app.engine.dialect.name == "postgresql":
        with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))  # what autovacuum does soon after a load
    return app, seconds


def _has_people(app: Tongxin) -> bool:
    with app.unit() as unit:
        return unit.session.scalar(select(col(Person.id)).limit(1)) is not None


# ---------------------------------------------------------------------------------------
# Hand-written SQL
# ---------------------------------------------------------------------------------------


def _instr(dialect: str, column: str, param: str) -> str:
    # A plain substring test: no LIKE pattern to compile, no escape character.
    if dialect == "sqlite":
        return f"instr({column}, :{param}) > 0"
    return f"strpos({column}, :{param}) > 0"


def sql_search(conn: Connection, query: str) -> tuple[list[uuid.UUID], int]:
    """The page of 20 and the total of ``search_people(unit, query, limit=20)``, in one
    statement: the total comes from a window count over the same scan."""
    dialect = conn.dialect.name
    q = pinyin.normalize_text(query)
    digits = q.replace(" ", "").replace("-", "").replace("+", "")
    params: dict[str, Any] = {"limit": LIMIT}
    if digits.isdigit() and len(digits) >= 3:
        where = _instr(dialect, "phone_digits", "d")
        rank = "CASE WHEN mobile = :d THEN 0 ELSE 1 END"
        params["d"] = digits
    elif pinyin.query_is_pinyin(q):
        p = q.lower()
        params.update(p=p, hi=p + "\U0010ffff")
        initials = "(name_initials >= :p AND name_initials < :hi)"
        full = "(name_pinyin >= :p AND name_pinyin < :hi)"
        where = f"({initials} OR {full})"
        rank = (
            f"CASE WHEN name_initials = :p OR name_pinyin = :p THEN 0 WHEN {full} THEN 1 ELSE 2 END"
        )
    else:
        name = pinyin.normalize_name(q)
        params.update(n=name, q=q, nhi=name + "\U0010ffff")
        in_name = _instr(dialect, "name", "n")
        where = (
            f"({in_name} OR {_instr(dialect, 'employer', 'q')} OR {_instr(dialect, 'title', 'q')})"
        )
        rank = (
            f"CASE WHEN name = :n THEN 0 WHEN name >= :n AND name < :nhi THEN 1 "
            f"WHEN {in_name} THEN 2 ELSE 3 END"
        )
    narrow = _grams_sql(q, digits, params)
    sql = (
        f"SELECT {ROW_COLUMNS}, count(*) OVER () AS total FROM person "
        f"WHERE status <> 'merged' AND {narrow}{where} "
        f"ORDER BY {rank}, name_pinyin, id LIMIT :limit"
    )
    rows = conn.execute(text(sql), params).all()
    return [_uuid(r[0]) for r in rows], (rows[0][-1] if rows else 0)


# The columns the service's light rows carry (contacts.PersonRow): the same answer.
ROW_COLUMNS = ", ".join(contacts.PersonRow._fields)


def _grams_sql(q: str, digits: str, params: dict[str, Any]) -> str:
    """The substring index's narrowing (person_gram), as the service uses it: the ids
    carrying every gram of the query (its character, its pairs, its runs of three
    digits), by index; the substring test then runs on those rows only."""
    if digits.isdigit() and len(digits) >= 3:
        grams = search_index.query_phone_grams(digits)
    elif pinyin.query_is_pinyin(q):
        return ""
    else:
        grams = search_index.query_text_grams(pinyin.normalize_name(q))
    parts = []
    for i, g in enumerate(grams):
        params[f"g{i}"] = g
        parts.append(f"SELECT person_id FROM person_gram WHERE gram = :g{i}")
    return f"id IN ({' INTERSECT '.join(parts)}) AND "


def sql_timeline(conn: Connection, person_id: uuid.UUID) -> list[uuid.UUID]:
    """Every column of a person's 50 latest interactions, as rows (no objects made)."""
    rows = conn.execute(
        text(
            "SELECT i.* FROM interaction_participant p "
            "JOIN interaction i ON i.id = p.interaction_id "
            "WHERE p.person_id = :pid ORDER BY i.start_at DESC, i.id LIMIT 50"
        ),
        {"pid": _db_uuid(conn, person_id)},
    ).all()
    return [_uuid(r[0]) for r in rows]


def sql_last_contacts(conn: Connection) -> dict[uuid.UUID, Any]:
    """For every assignment, the latest done interaction of keeper and contact together:
    from the contact's few participations to the keeper's row in the same interaction."""
    rows = conn.execute(
        text(
            "SELECT a.id, max(i.start_at) FROM assignment a "
            "LEFT JOIN interaction_participant c ON c.person_id = a.contact_id "
            "LEFT JOIN interaction_participant k "
            "  ON k.interaction_id = c.interaction_id AND k.account_id = a.keeper_id "
            "LEFT JOIN interaction i ON i.id = k.interaction_id AND i.status = 'done' "
            "GROUP BY a.id"
        )
    ).all()
    return {_uuid(r[0]): _utc(r[1]) for r in rows}


def _utc(value: Any) -> datetime | None:
    # SQLite hands back the stored text of an aggregate, PostgreSQL an aware datetime.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _db_uuid(conn: Connection, value: uuid.UUID) -> Any:
    return value.hex if conn.dialect.name == "sqlite" else value


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    service_ms: float
    sql_ms: float
    answer: str
    p95_ms: float | None = None

    @property
    def ratio(self) -> float:
        return self.service_ms / self.sql_ms if self.sql_ms else float("inf")


TIMES: list[float] = []  # the last median_ms's runs, for a p95


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def median_ms(fn: Callable[[], Any], repeat: int, before: Callable[[], None]) -> float:
    before()
    started = time.perf_counter()
    fn()  # warm the caches and the statement cache once
    if time.perf_counter() - started > 1.0:
        repeat = min(repeat, 3)  # a slow operation: a few runs tell enough
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    TIMES[:] = times
    return statistics.median(times)


def busiest_person(unit: Unit) -> uuid.UUID:
    """The person who takes part in most interactions."""
    participant = InteractionParticipant
    return unit.session.execute(
        select(col(participant.person_id))
        .where(col(participant.person_id).is_not(None))
        .group_by(col(participant.person_id))
        .order_by(func.count().desc(), col(participant.person_id))
        .limit(1)
    ).scalar_one()


def run(app: Tongxin, repeat: int) -> list[Result]:
    results: list[Result] = []
    with app.unit() as unit:
        session = unit.session
        conn = session.connection()
        fresh = session.expunge_all  # every service call starts from an empty session

        def nothing() -> None:
            return None

        for label, q in SEARCHES:
            page = contacts.search_people(unit, q, limit=LIMIT)
            ids, total = sql_search(conn, q)
            assert [p.id for p in page.items] == ids, (label, [p.id for p in page.items], ids)
            assert page.total == total, (label, page.total, total)
            service = median_ms(
                partial(contacts.search_people, unit, q, limit=LIMIT), repeat, fresh
            )
            service_p95 = p95(TIMES)
            sql = median_ms(partial(sql_search, conn, q), repeat, nothing)
            results.append(Result(label, service, sql, f"{len(ids)} of {total:,}", service_p95))
        pid = busiest_person(unit)
        fresh()
        shown = [i.id for i in interactions.timeline(unit, pid, limit=50)]
        assert shown == sql_timeline(conn, pid), "timeline"
        person_rows = select(func.count()).where(col(InteractionParticipant.person_id) == pid)
        n = session.scalar(person_rows) or 0
        service = median_ms(lambda: interactions.timeline(unit, pid, limit=50), repeat, fresh)
        sql = median_ms(lambda: sql_timeline(conn, pid), repeat, nothing)
        results.append(
            Result("timeline of the busiest person (50)", service, sql, f"{len(shown)} of {n:,}")
        )
        last = assignments.last_contacts(unit)
        by_sql = sql_last_contacts(conn)
        assert last == by_sql, "last_contacts"
        service = median_ms(lambda: assignments.last_contacts(unit), repeat, fresh)
        sql = median_ms(lambda: sql_last_contacts(conn), repeat, nothing)
        results.append(Result("last contact of every assignment", service, sql, f"{len(last)}"))
    return results


def table(results: Sequence[Result]) -> str:
    lines = [
        "| operation | service (ms) | service p95 (ms) | hand-written SQL (ms) | service / SQL "
        "| answer |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        tail = f"{r.p95_ms:.2f}" if r.p95_ms is not None else "–"
        lines.append(
            f"| {r.name} | {r.service_ms:.2f} | {tail} | {r.sql_ms:.2f} | {r.ratio:.2f} "
            f"| {r.answer} |"
        )
    return "\n".join(lines)


def machine(app: Tongxin) -> str:
    server = ""
    if app.engine.dialect.name == "postgresql":
        with app.engine.connect() as conn:
            server = " · " + str(conn.execute(text("SHOW server_version")).scalar())
    return (
        f"{os.cpu_count()} CPUs · {platform.machine()} · Python {platform.python_version()} "
        f"· SQLite {sqlite3.sqlite_version}{server} · {datetime.now(UTC):%Y-%m-%d}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.core_ops", description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--db", help="a database URL (default: a SQLite file in bench/data)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each operation")
    parser.add_argument("--rebuild", action="store_true", help="build the dataset anew")
    args = parser.parse_args(argv)
    app, seconds = dataset(args)
    backend = app.engine.dialect.name
    print(f"\n{machine(app)}")
    print(f"database: {backend} ({app.engine.url.render_as_string(hide_password=True)})")
    if seconds is not None:
        print(f"dataset built in {seconds:.1f} s")
    else:
        print("dataset reused (built earlier with the same parameters)")
    print(f"median of {args.repeat} runs each\n")
    print(table(run(app, args.repeat)))
    app.close()


if __name__ == "__main__":
    main()
