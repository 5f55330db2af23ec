"""Benchmark: every report (built-in and the built-in plugins') against hand-written SQL.

    python -m bench.reports [--people 100000] [--interactions 1000000] [--db URL]
                            [--repeat N] [--seed 2019] [--rebuild]

The dataset is the demo with every built-in plugin (``crm_core.demo.generate`` with the
entry-point plugins loaded, ``today`` fixed), made once into
``bench/data/reports-<people>-<interactions>-<seed>.db`` (git-ignored) or into the
database ``--db`` names, and reused by later runs with the same parameters. Each report
is run through :func:`crm_core.reports.run_report` and its figures computed by the best
SQL written by hand on the same database; both answers are compared before any timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import col

from bench.core_ops import _ensure_pg_database, _recreate_pg
from crm_core import clock, demo
from crm_core.app import Tongxin
from crm_core.authz import acting_for
from crm_core.config import load_config
from crm_core.db import normalize_url
from crm_core.models import Account, AuditLog, Person, Role
from crm_core.plugins import PluginHost
from crm_core.reports import Period, report_json, run_report
from crm_core.reports.coverage import DIMENSIONS
from crm_core.unit import Unit

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
TODAY = date(2026, 12, 7)  # every dataset is anchored on the same day


def make_app(url: str) -> Tongxin:
    """The app on ``url`` with the default config and every built-in plugin."""
    DATA.mkdir(exist_ok=True)
    empty = DATA / "empty-config.toml"
    empty.write_text("", "utf-8")
    host = PluginHost()
    host.load(entry_points_too=True)
    return Tongxin(load_config(empty), db_url=url, plugins=host)


def _built_with(app: Tongxin) -> dict[str, Any] | None:
    with app.unit() as unit:
        found = select(col(AuditLog.after)).where(col(AuditLog.action) == "demo")
        return unit.session.scalars(found).first()


def _has_people(app: Tongxin) -> bool:
    with app.unit() as unit:
        return unit.session.scalar(select(col(Person.id)).limit(1)) is not None


def dataset(
    people: int,
    interactions: int,
    seed: int = 2019,
    db: str | None = None,
    rebuild: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[Tongxin, float | None]:
    """The app on a database holding the demo with these parameters (built if needed),
    and how long the build took (None when reused)."""
    wanted = {"people": people, "interactions_requested": interactions, "seed": seed}
    if db:
        url = db
        if make_url(normalize_url(url)).get_backend_name() == "postgresql":
            (_recreate_pg if rebuild else _ensure_pg_database)(url)
    else:
        path = DATA / f"reports-{people}-{interactions}-{seed}.db"
        if rebuild:
            for f in DATA.glob(path.name + "*"):
                f.unlink()
        url = str(path)
    app = make_app(url)
    built = _built_with(app)
    if built is not None and all(built.get(k) == v for k, v in wanted.items()):
        return app, None
    if built is not None or _has_people(app):
        sys.exit(f"{url} holds other data than asked for (built with {built}): pass --rebuild")
    log(f"building {people:,} people and {interactions:,} interactions …")
    started = time.perf_counter()
    demo.generate(app, contacts=people, interactions=interactions, seed=seed, today=TODAY)
    seconds = time.perf_counter() - started
    if app.engine.dialect.name == "postgresql":
        with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return app, seconds


# ---------------------------------------------------------------------------------------
# Hand-written SQL for the same figures
# ---------------------------------------------------------------------------------------

_PEOPLE = """
WITH r AS (
  SELECT DISTINCT ip.person_id FROM interaction_participant ip
  JOIN interaction i ON i.id = ip.interaction_id
  WHERE i.status = 'done' AND i.start_at >= :lo AND i.start_at < :hi
    AND ip.person_id IS NOT NULL),
pp AS (
  SELECT p.id, p.name, p.sector, p.region, p.membership,
         row_number() OVER (ORDER BY p.name_pinyin, p.id) AS pos,
         CASE WHEN r.person_id IS NULL THEN 0 ELSE 1 END AS got
  FROM person p LEFT JOIN r ON r.person_id = p.id
  WHERE p.status = 'active' {scope})
"""
_DIMS = {
    "all": ("NULL", "pp"),
    "category": ("c.category", "pp LEFT JOIN person_category c ON c.person_id = pp.id"),
    "sector": ("pp.sector", "pp"),
    "region": ("pp.region", "pp"),
    "committee": ("m.committee", "pp LEFT JOIN person_committee m ON m.person_id = pp.id"),
    "membership": ("pp.membership", "pp"),
}


def _bounds(conn: Connection, period: Period, tz: Any) -> dict[str, Any]:
    lo, hi = period.bounds(tz)
    if conn.dialect.name == "sqlite":  # as UTCDateTime stores them
        lo, hi = (d.astimezone(UTC).replace(tzinfo=None) for d in (lo, hi))
    return {"lo": lo, "hi": hi}


def sql_coverage(
    conn: Connection, period: Period, tz: Any, region: str | None, limit: int
) -> tuple[dict[tuple[str, str | None], tuple[int, int]], dict[tuple[str, str | None], list[str]]]:
    """The coverage counts per group, and the first ``limit`` names not reached of each
    group: two statements."""
    params = _bounds(conn, period, tz)
    scope = ""
    if region is not None:
        scope, params["region"] = "AND p.region = :region", region
    head = _PEOPLE.format(scope=scope)
    counts = " UNION ALL ".join(
        f"SELECT '{d}' AS dim, {code} AS code, count(*) AS n, sum(got) AS got FROM {src}"
        + ("" if d == "all" else f" GROUP BY {code}")
        for d, (code, src) in _DIMS.items()
    )
    figures = {
        (d, c): (int(n), int(g or 0))
        for d, c, n, g in conn.execute(text(head + counts), params)
        if n
    }
    names = " UNION ALL ".join(
        f"SELECT '{d}' AS dim, {code} AS code, pp.pos, pp.name FROM {src} WHERE got = 0"
        for d, (code, src) in _DIMS.items()
    )
    page = (
        head + ", nr AS (" + names + "), ranked AS (SELECT dim, code, pos, name, "
        "row_number() OVER (PARTITION BY dim, code ORDER BY pos) AS rn FROM nr) "
        "SELECT dim, code, name FROM ranked WHERE rn <= :limit ORDER BY dim, code, pos"
    )
    listed: dict[tuple[str, str | None], list[str]] = {}
    for d, c, name in conn.execute(text(page), {**params, "limit": limit}):
        listed.setdefault((d, c), []).append(name)
    return figures, listed


def service_coverage(
    unit: Unit, period: Period, limit: int
) -> tuple[dict[tuple[str, str | None], tuple[int, int]], dict[tuple[str, str | None], list[str]]]:
    """The same figures as ``tongxin report coverage --json`` computes them."""
    spec, result = run_report(unit, "coverage", period, lazy=True)
    data = report_json(spec, period, result, limit=limit)
    dims = {zh: key for key, zh, _en in DIMENSIONS}
    sections = {s["key"]: s for s in data["sections"]}
    codes = [r.get("code") for r in result.sections[0].rows]
    figures = {
        (dims[r["dimension"]], code): (r["total"], r["reached"])
        for r, code in zip(sections["coverage"]["rows"], codes, strict=True)
    }
    groups = result.sections[1]._groups  # type: ignore[attr-defined]
    listed = {
        (g["dim"], g["code"]): r["names"]
        for g, r in zip(groups, sections["not_reached"]["rows"], strict=True)
        if r["names"]
    }
    return figures, listed


_LIAISON = """
WITH pairs AS (
  SELECT DISTINCT keeper_id, contact_id FROM assignment
  WHERE start_on <= :last_day AND (end_on IS NULL OR end_on > :first_day)),
j AS (
  SELECT p.keeper_id, p.contact_id, max(i.start_at) AS last,
         count(CASE WHEN i.start_at >= :lo AND i.start_at < :hi THEN 1 END) AS n
  FROM pairs p
  JOIN interaction_participant c ON c.person_id = p.contact_id
  JOIN interaction_participant k
    ON k.interaction_id = c.interaction_id AND k.account_id = p.keeper_id
  JOIN interaction i ON i.id = c.interaction_id
  WHERE i.status = 'done' AND i.start_at < :hi
  GROUP BY p.keeper_id, p.contact_id)
SELECT keeper_id, sum(n), sum(CASE WHEN n > 0 THEN 1 ELSE 0 END), max(last) FROM j
GROUP BY keeper_id
"""


def sql_liaison(conn: Connection, period: Period, tz: Any) -> dict[str, tuple[Any, ...]]:
    """Per keeper: contacts assigned in the period, contacts made with them in it, the
    people reached and the day of the last contact (two statements)."""
    days = {"first_day": period.start, "last_day": period.end}
    assigned = {
        str(_uuid(k)): int(n)
        for k, n in conn.execute(
            text(
                "SELECT keeper_id, count(*) FROM assignment WHERE start_on <= :last_day "
                "AND (end_on IS NULL OR end_on > :first_day) GROUP BY keeper_id"
            ),
            days,
        )
    }
    made = {
        str(_uuid(k)): (int(n or 0), int(r or 0), _utc(last))
        for k, n, r, last in conn.execute(text(_LIAISON), {**days, **_bounds(conn, period, tz)})
    }
    out = {}
    for k, n in assigned.items():
        contacts, reached, last = made.get(k, (0, 0, None))
        out[k] = (n, contacts, reached, last.astimezone(tz).date() if last else None)
    return out


def service_liaison(unit: Unit, period: Period) -> dict[str, tuple[Any, ...]]:
    """The same figures from ``tongxin report liaison``."""
    _spec, result = run_report(unit, "liaison", period)
    return {
        r["keeper_id"]: (r["assigned"], r["contacts"], r["reached"], r["last_contact"])
        for r in result.sections[0].rows
        if r["assigned"]
    }


def _followup_sql(dialect: str, tz: Any) -> str:
    if dialect == "postgresql":
        raised = f"(created_at AT TIME ZONE '{tz.key}')::date"
        age = f"(coalesce(fin, CAST(:today AS date)) - {raised})"
    else:
        minutes = int(datetime(2026, 1, 1, tzinfo=tz).utcoffset().total_seconds() // 60)
        raised = f"date(created_at, '{minutes:+d} minutes')"
        age = f"CAST(julianday(coalesce(fin, :today)) - julianday({raised}) AS INTEGER)"
    return (
        "WITH f AS (SELECT id, status, created_at, title, due_on, "
        "CASE WHEN status NOT IN ('open', 'in_progress') "
        "THEN coalesce(closed_on, answered_on) END AS fin FROM follow_up "
        "WHERE created_at < :hi AND (created_at >= :lo OR status IN ('open', 'in_progress'))) "
        f"SELECT status, count(*), sum({age}), max({age}), "
        "sum(CASE WHEN status IN ('open', 'in_progress') AND due_on < :today "
        "THEN 1 ELSE 0 END) FROM f GROUP BY status"
    )


def sql_followups(
    conn: Connection, period: Period, tz: Any, today: date
) -> tuple[dict[str, tuple[int, float | None, int | None, int]], list[str]]:
    """Per status: how many follow-ups, their average and largest age in days, how many
    are past due; and the list's titles, read with the names joined (two statements)."""
    params = {**_bounds(conn, period, tz), "today": today}
    figures = {}
    for status, n, total, oldest, late in conn.execute(
        text(_followup_sql(conn.dialect.name, tz)), params
    ):
        figures[str(status)] = (int(n), round(int(total) / int(n), 1), int(oldest), int(late))
    listed = conn.execute(
        text(
            "SELECT f.title, p.name, a.display_name, f.due_on, f.status, f.answered_on, "
            "f.response FROM follow_up f LEFT JOIN person p ON p.id = f.person_id "
            "LEFT JOIN account a ON a.id = f.owner_id WHERE f.created_at < :hi "
            "AND (f.created_at >= :lo OR f.status IN ('open', 'in_progress')) "
            "ORDER BY f.created_at, f.id"
        ),
        params,
    ).all()
    return figures, [r[0] for r in listed]


def service_followups(
    unit: Unit, period: Period
) -> tuple[dict[str, tuple[int, float | None, int | None, int]], list[str]]:
    """The same figures from ``tongxin report followups``."""
    _spec, result = run_report(unit, "followups", period)
    figures = {
        r["status_code"]: (r["count"], r["average_days"], r["oldest_days"], r["overdue"])
        for r in result.sections[0].rows
        if r["status_code"] and r["count"]
    }
    return figures, [r["title"] for r in result.sections[1].rows]


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------


@dataclass
class Result:
    """One report (or section) timed through the service and by hand-written SQL."""

    name: str
    service_ms: float
    sql_ms: float
    answer: str

    @property
    def ratio(self) -> float:
        """Service time over SQL time."""
        return self.service_ms / self.sql_ms if self.sql_ms else float("inf")


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    """The median of ``repeat`` timed runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def county_account(unit: Unit) -> Account:
    """A county-staff account of the demo (the one of the region with most people)."""
    rows = unit.session.scalars(
        select(Account).where(col(Account.role) == Role.county_staff).order_by(Account.username)
    ).all()
    counts = dict(
        unit.session.execute(
            select(col(Person.region), func.count()).group_by(col(Person.region))
        ).all()
    )
    return max(rows, key=lambda a: counts.get(a.region_scope, 0))


PERIOD = Period.quarter(TODAY.year, (TODAY.month + 2) // 3)  # the default: this quarter


def run(app: Tongxin, repeat: int, limit: int = 100) -> list[Result]:
    """Every report timed beside its hand-written SQL, after checking both agree."""
    results: list[Result] = []
    tz = app.config.tz
    with app.unit() as unit:
        conn = unit.session.connection()
        county = county_account(unit)
        for label, reader, region in (
            ("coverage (office)", unit, None),
            (
                f"coverage (county staff, {county.region_scope})",
                acting_for(unit, county),
                county.region_scope,
            ),
        ):
            got = service_coverage(reader, PERIOD, limit)
            want = sql_coverage(conn, PERIOD, tz, region, limit)
            assert got == want, (label, got[0], want[0])
            service = median_ms(lambda r=reader: service_coverage(r, PERIOD, limit), repeat)
            sql = median_ms(lambda g=region: sql_coverage(conn, PERIOD, tz, g, limit), repeat)
            everyone = want[0].get(("all", None), (0, 0))
            results.append(
                Result(label, service, sql, f"{everyone[1]:,} of {everyone[0]:,} reached")
            )
        got_l, want_l = service_liaison(unit, PERIOD), sql_liaison(conn, PERIOD, tz)
        assert got_l == want_l, ("liaison", got_l, want_l)
        service = median_ms(lambda: service_liaison(unit, PERIOD), repeat)
        sql = median_ms(lambda: sql_liaison(conn, PERIOD, tz), repeat)
        made = sum(v[1] for v in want_l.values())
        results.append(Result("liaison (office)", service, sql, f"{made:,} contacts made"))
        today = clock.today(tz)
        got_f, want_f = service_followups(unit, PERIOD), sql_followups(conn, PERIOD, tz, today)
        assert got_f == want_f, ("followups", got_f, want_f)
        service = median_ms(lambda: service_followups(unit, PERIOD), repeat)
        sql = median_ms(lambda: sql_followups(conn, PERIOD, tz, today), repeat)
        results.append(
            Result("followups (office)", service, sql, f"{len(want_f[1]):,} follow-ups listed")
        )
    return results


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| report | service (ms) | hand-written SQL (ms) | service / SQL | answer |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.service_ms:.1f} | {r.sql_ms:.1f} | {r.ratio:.2f} | {r.answer} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--db", help="a database URL (default: a SQLite file in bench/data)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each report")
    parser.add_argument("--rebuild", action="store_true", help="build the dataset anew")
    args = parser.parse_args(argv)
    app, seconds = dataset(args.people, args.interactions, args.seed, args.db, args.rebuild)
    print(
        f"database: {app.engine.dialect.name}; dataset "
        + ("reused" if seconds is None else f"built in {seconds:.0f} s")
    )
    print(table(run(app, args.repeat)))
    app.close()


if __name__ == "__main__":
    main()
