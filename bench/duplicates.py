"""Benchmark: finding duplicates at 100,000 people (issue 20).

    python -m bench.duplicates [--people 100000] [--db URL] [--repeat 5] [--seed 2019]

The people come from ``crm_core.demo.generate`` (no interactions: the search reads
people only) into ``bench/data/dupes-<people>-<seed>.db`` (git-ignored) or the database
``--db`` names (created if missing, e.g. ``postgresql://postgres@127.0.0.1:5432/benchdupes``),
then 60 planted pairs, ten for each default rule's case (same name and birth month, same
mobile, same name and employer, width/spaces, one character read alike) and ten more
of the same name and employer but born apart (that must not pair). Before timing, the
run checks that every planted pair is found under its rule and the others are not.

Timed in the same run, as medians:

* ``find_duplicates`` with every default rule (blocking in SQL, then names in Python);
* baseline 1: reading the same columns of every person (one plain SELECT, no
  comparison): the floor of any search that looks at everyone;
* baseline 2: comparing all pairs, measured on the first ``--sample`` people (every rule
  applied to every pair) and scaled by the number of pairs to the whole table
  (n·(n−1)/2): what the blocking saves.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import col

from crm_core import demo
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.db import normalize_url
from crm_core.models import Person, PersonStatus
from crm_core.plugins import PluginHost
from crm_core.services import contacts, duplicates
from crm_core.services.duplicates import PAIR_COLUMNS, fields_agree, name_pairs

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PLANT = 10  # pairs of each planted case


def _app(url: str) -> Tongxin:
    DATA.mkdir(exist_ok=True)
    empty = DATA / "empty-config.toml"
    empty.write_text("", "utf-8")
    host = PluginHost()
    host.load(entry_points_too=False)
    return Tongxin(load_config(empty), db_url=url, plugins=host)


def _ensure_pg(url: str) -> None:
    import psycopg

    parsed = make_url(normalize_url(url))
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def _plant(app: Tongxin) -> dict[str, list[frozenset[Any]]]:
    """The planted pairs by the rule that must find them ("" for must-not-pair)."""
    out: dict[str, list[frozenset[Any]]] = {}
    with app.unit() as unit:
        add = contacts.create_person

        def pair(rule: str, one: dict[str, Any], other: dict[str, Any]) -> None:
            a, b = add(unit, **one).id, add(unit, **other).id
            out.setdefault(rule, []).append(frozenset((a, b)))

        for i in range(PLANT):
            tag = "甲乙丙丁戊己庚辛壬癸"[i]
            pair("name_birth", {"name": f"欧阳{tag}瑾", "birth": "1961-07"},
                 {"name": f"欧阳{tag}瑾", "birth": "1961-07", "title": "教授"})  # fmt: skip
            pair("mobile", {"name": f"司马{tag}", "mobile": f"1990000{i:04d}"},
                 {"name": f"司马{tag}明", "mobile": f"1990000{i:04d}"})  # fmt: skip
            pair("name_employer", {"name": f"诸葛{tag}亮", "employer": "扬州基准研究院"},
                 {"name": f"诸葛{tag}亮", "employer": "扬州基准研究院"})  # fmt: skip
            latin = "ABCDEFGHIJ"[i]
            pair("name_width", {"name": f"Bench {latin} Li"}, {"name": f"Bench{latin}Li"})
            pair("name_sound", {"name": f"上官{tag}伟"}, {"name": f"上官{tag}玮"})
            apart = {"name": f"东方{tag}白", "employer": "扬州基准医院"}
            pair("", {**apart, "birth": "1960-01"}, {**apart, "birth": "1980-01"})
    return out


def dataset(args: argparse.Namespace) -> tuple[Tongxin, dict[str, list[frozenset[Any]]], float]:
    if args.db:
        url = args.db
        if make_url(normalize_url(url)).get_backend_name() == "postgresql":
            _ensure_pg(url)
    else:
        url = str(DATA / f"dupes-{args.people}-{args.seed}.db")
        for f in DATA.glob(Path(url).name + "*"):
            f.unlink()  # planted pairs are made fresh each run
    app = _app(url)
    with app.unit() as unit:
        if contacts.has_people(unit):
            sys.exit(f"{url} is not empty: name an empty database")
    print(f"building {args.people:,} people …", flush=True)
    started = time.perf_counter()
    demo.generate(app, contacts=args.people, seed=args.seed, interactions=0)
    planted = _plant(app)
    return app, planted, time.perf_counter() - started


def _median(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--sample", type=int, default=3_000)
    args = parser.parse_args(argv)
    app, planted, build = dataset(args)
    try:
        with app.unit() as unit:
            found = {frozenset((p.a, p.b)): p for p in duplicates.find_duplicates(unit)}
        for rule, pairs in planted.items():
            for key in pairs:
                got = found.get(key)
                if rule and (got is None or got.rule != rule):
                    sys.exit(f"planted pair of {rule} found as {got}")
                if not rule and got is not None:
                    sys.exit(f"planted non-pair found as {got}")
        rules = list(duplicates.rules_of_config(app.config).values())

        def search() -> int:
            with app.unit() as unit:
                return len(duplicates.find_duplicates(unit))

        def read_all() -> int:
            with app.unit() as unit:
                stmt = select(*(col(c) for c in PAIR_COLUMNS)).where(
                    col(Person.status) != PersonStatus.merged
                )
                return len(unit.session.execute(stmt).all())

        def all_pairs() -> int:
            with app.unit() as unit:
                stmt = (
                    select(*(col(c) for c in PAIR_COLUMNS))
                    .order_by(col(Person.id))
                    .limit(args.sample)
                )
                rows = unit.session.execute(stmt).all()
            hits = 0
            for x, y in itertools.combinations(rows, 2):
                for rule in rules:
                    if any(True for _p in name_pairs(rule, [x, y])) and fields_agree(rule, x, y):
                        hits += 1
            return hits

        t_search, n_pairs = _median(search, args.repeat)
        t_read, n_people = _median(read_all, args.repeat)
        t_sample, _hits = _median(all_pairs, 1)
        sample = min(args.sample, n_people)
        scale = (n_people * (n_people - 1)) / (sample * (sample - 1))
        t_naive = t_sample * scale
        backend = make_url(normalize_url(str(app.engine.url))).get_backend_name()
        print(f"\n{platform.machine()}, Python {platform.python_version()}, {backend}; "
              f"built in {build:.0f} s")  # fmt: skip
        print(f"{n_people:,} people, {n_pairs:,} pairs found (all planted pairs found)\n")
        print("| operation | time (s) | ratio to find_duplicates |")
        print("| --- | ---: | ---: |")
        print(f"| find_duplicates, every default rule | {t_search:.2f} | 1.0 |")
        print(f"| baseline: read every person's columns | {t_read:.2f} | {t_read / t_search:.2f} |")
        print(f"| baseline: all pairs ({sample:,} measured, scaled to {n_people:,}) "
              f"| {t_naive:,.0f} | {t_naive / t_search:,.0f} |")  # fmt: skip
    finally:
        app.close()


if __name__ == "__main__":
    main()
