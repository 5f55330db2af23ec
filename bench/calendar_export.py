"""Benchmark: exporting a calendar of 10,000 events, against icalendar's own serialisation.

    python -m bench.calendar_export [--events 10000] [--repeat 5] [--db URL] [--rebuild]

The dataset is the demo (``crm_core.demo.generate``, core kinds only) with as many
interactions as ``--events`` asks, in ``bench/data/calendar-<events>.db`` (git-ignored)
or the database ``--db`` names; the office calendar over the whole span holds them all.
In one run, and on the same events, it times:

- ``export``: ``crm_core.calendar.export_ics`` (query, build every VEVENT, the plugins'
  hooks, serialise), what ``tongxin export ics`` and the feed do;
- ``build``: the same without serialising (``build_calendar``);
- ``icalendar``: ``Calendar.to_ical()`` of that built calendar, icalendar's own
  serialisation of the very same events, the floor any icalendar-based export pays;

and prints the medians and the ratio export / icalendar (taken round by round).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from crm_core import clock, demo
from crm_core.app import Tongxin
from crm_core.calendar import build_calendar, calendar_range, export_ics
from crm_core.config import load_config
from crm_core.models import Interaction
from crm_core.plugins import PluginHost

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
TODAY = date(2026, 9, 1)


def _app(url: str) -> Tongxin:
    host = PluginHost()
    host.load(entry_points_too=False)
    return Tongxin(load_config(), db_url=url, plugins=host)


def dataset(events: int, db: str | None, rebuild: bool) -> Tongxin:
    """The demo database with ``events`` interactions (made once, then reused)."""
    url = db or str(DATA / f"calendar-{events}.db")
    if db is None and rebuild:
        Path(url).unlink(missing_ok=True)
    DATA.mkdir(exist_ok=True)
    app = _app(url)
    with app.unit() as unit:
        have = unit.session.scalar(select(func.count()).select_from(Interaction)) or 0
    if have == 0:
        t = time.perf_counter()
        demo.generate(app, contacts=1000, interactions=events, today=TODAY)
        print(f"made the dataset in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return app


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    """Seconds one call of ``fn`` takes."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", default=None)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    clock.freeze(datetime.combine(TODAY, datetime.min.time(), UTC) + timedelta(hours=2))
    app = dataset(args.events, args.db, args.rebuild)
    with app.unit() as unit:
        rng = calendar_range(
            unit, scope="office", start=TODAY - timedelta(days=400), end=TODAY + timedelta(days=60)
        )
        body = export_ics(unit, rng)  # warm up (and sync the series once)
        cal = build_calendar(unit, rng)
        n = len(cal.walk("VEVENT"))
        assert cal.to_ical() == body, "the built calendar serialises to the export"
        # Interleaved, round by round, so a busy machine slows all three alike; the
        # ratio is taken within each round.
        rounds = []
        for _ in range(args.repeat):
            e = timed(lambda: export_ics(unit, rng))
            b = timed(lambda: build_calendar(unit, rng))
            i = timed(cal.to_ical)
            rounds.append((e, b, i, e / i))
        export, build, ical, ratio = (statistics.median(r[k] for r in rounds) for k in range(4))
        low, high = min(r[3] for r in rounds), max(r[3] for r in rounds)
    print(
        f"{n} events, {len(body) / 1e6:.1f} MB; {platform.python_implementation()} "
        f"{platform.python_version()}, icalendar {__import__('icalendar').__version__}, "
        f"median of {args.repeat}"
    )
    print()
    print("| step | median | events/s |")
    print("| --- | ---: | ---: |")
    for name, secs in (
        ("export_ics (query, build, hooks, serialise)", export),
        ("build_calendar (without serialising)", build),
        ("icalendar Calendar.to_ical() of the same events", ical),
    ):
        print(f"| {name} | {secs * 1000:.0f} ms | {n / secs:,.0f} |")
    print()
    print(
        f"ratio export / icalendar serialisation: median {ratio:.2f} (rounds: {low:.2f}–{high:.2f})"
    )
    app.close()


if __name__ == "__main__":
    main()
