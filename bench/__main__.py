"""Every benchmark in one command, its tables written into bench/RESULTS.md.

    python -m bench [--people 100000] [--backend sqlite|postgresql|both] [--only NAME ...]
                    [--results bench/RESULTS.md] [--pg URL] [--data DIR] [--list]

Each benchmark of ``bench/`` runs in its own process (``python -m bench.NAME``) with its
sizes derived from ``--people`` (interactions ten per person, events and rows in
proportion) and, where it takes one, a database of the chosen backend. A benchmark times
each operation beside its baseline after checking that both give the same answer (it
stops with an error otherwise), so a run that exits 0 agreed. The Markdown tables it
prints replace the block between ``<!-- bench:NAME:BACKEND -->`` and
``<!-- /bench:NAME:BACKEND -->`` in the results file, with the machine, the command
and the time taken; a block not there yet is added at the end, under the heading of
the generated tables. Nothing else of the file changes: the prose stays.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADING = "## Every benchmark (`python -m bench`, generated)"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Size:
    """How big a run is, and where its databases go."""

    people: int
    data: Path  # SQLite files of the run
    pg: str  # the PostgreSQL server, without a database name

    def db(self, name: str, backend: str) -> str:
        """A database for benchmark ``name`` on ``backend`` at this size."""
        if backend == "postgresql":
            return f"{self.pg}/bench_{name}_{self.people}"
        return str(self.data / f"{name}-{self.people}.db")


@dataclass(frozen=True)
class Benchmark:
    """A benchmark module and the arguments it gets for a size and a backend."""

    name: str
    args: Callable[[Size, str], list[str]]
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    needs: tuple[str, ...] = ()  # programs it runs (a failure, saying so, when missing)
    ci: bool = True  # run by --ci (tests/test_bench.py): cheap at a tiny size


def _demo(s: Size, b: str, name: str, repeat: int = 3) -> list[str]:
    return [
        "--people",
        str(s.people),
        "--interactions",
        str(10 * s.people),
        "--db",
        s.db(name, b),
        "--repeat",
        str(repeat),
    ]


BENCHMARKS = (
    Benchmark("core_ops", lambda s, b: _demo(s, b, "core_ops")),
    Benchmark("reports", lambda s, b: _demo(s, b, "reports")),
    Benchmark(
        "duplicates",
        lambda s, b: [
            "--people",
            str(s.people),
            "--db",
            s.db("duplicates", b),
            "--repeat",
            "1",
            "--sample",
            str(min(3000, s.people)),
        ],
    ),
    Benchmark(
        "calendar_export",
        lambda s, b: [
            "--events",
            str(max(100, s.people // 10)),
            "--repeat",
            "3",
            "--db",
            s.db("calendar_export", b),
        ],
    ),
    Benchmark(
        "import_speed",
        lambda s, b: ["--rows", str(max(100, s.people))],
        backends=("sqlite",),
    ),
    Benchmark(
        "import_bounds",
        lambda s, b: (
            ["--rows", str(max(1000, s.people))]
            + (["--db", s.db("import_bounds", b)] if b == "postgresql" else [])
        ),
        ci=False,  # gigabyte zip bombs at any size: tests/security/test_import_bounds.py
    ),
    Benchmark(
        "feed_server",
        lambda s, b: [
            "--users",
            "5",
            "--seconds",
            "1" if s.people < 10_000 else "5",
            "--interactions",
            str(max(1000, s.people // 10)),
        ],
        backends=("sqlite",),
        needs=("wrk",),
    ),
    Benchmark(
        "caldav_push",
        lambda s, b: ["--items", str(max(50, s.people // 40)), "--per-item", "20"],
        backends=("sqlite",),
        needs=("radicale",),
    ),
    Benchmark(
        "tui_startup",
        lambda s, b: [
            "--people",
            str(s.people),
            "--interactions",
            str(10 * s.people),
            "--runs",
            "1" if s.people < 10_000 else "5",
            "--db",
            s.db("tui_startup", b),
        ],
        backends=("sqlite",),
        ci=False,  # starts a dozen Textual processes at any size; tests/tui cover start-up
    ),
)


@dataclass
class Outcome:
    """What one benchmark on one backend did."""

    name: str
    backend: str
    command: str
    code: int
    seconds: float
    tables: str
    error: str = ""

    @property
    def agreed(self) -> bool:
        """Whether it ran to the end (every pair compared equal before timing)."""
        return self.code == 0


def machine() -> str:
    """The machine a run measures: CPUs, architecture, Python, SQLite and the load."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs · {platform.machine()} · Python {platform.python_version()} "
        f"· SQLite {sqlite3.sqlite_version} · load average {load} · "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def _tables(stdout: str) -> str:
    """The Markdown tables of a benchmark's output (its lines starting with ``|``, a
    blank line between tables)."""
    out: list[str] = []
    for line in stdout.splitlines():
        if line.startswith("|"):
            out.append(line)
        elif out and out[-1] != "":
            out.append("")
    return "\n".join(out).strip()


def _have(program: str) -> bool:
    from shutil import which

    if program == "radicale":
        import importlib.util

        return importlib.util.find_spec("radicale") is not None
    return which(program) is not None


def run_one(bench: Benchmark, size: Size, backend: str, timeout: float) -> Outcome:
    """Run ``bench`` on ``backend`` in its own process."""
    argv = [sys.executable, "-m", f"bench.{bench.name}", *bench.args(size, backend)]
    shown = " ".join(["python", *argv[1:]])
    missing = [p for p in bench.needs if not _have(p)]
    if missing:
        return Outcome(bench.name, backend, shown, 127, 0.0, "", f"needs {', '.join(missing)}")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    except subprocess.TimeoutExpired:
        return Outcome(bench.name, backend, shown, 124, timeout, "", f"over {timeout:.0f} s")
    seconds = time.perf_counter() - started
    error = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1]
    return Outcome(
        bench.name, backend, shown, done.returncode, seconds, _tables(done.stdout), error
    )


def block(o: Outcome, where: str) -> str:
    """The generated block of one outcome, markers included."""
    status = "agreed" if o.agreed else f"FAILED (exit {o.code}): {o.error}"
    body = o.tables or "(no table)"
    return (
        f"<!-- bench:{o.name}:{o.backend} -->\n"
        f"### `{o.name}` on {o.backend}\n\n"
        f"{where}\n\n"
        f"Command: `{o.command}` · {o.seconds:.0f} s · {status}\n\n"
        f"{body}\n"
        f"<!-- /bench:{o.name}:{o.backend} -->"
    )


def rewrite(path: Path, outcomes: Sequence[Outcome], where: str) -> None:
    """Replace (or add) the generated block of every outcome in ``path``."""
    text = path.read_text("utf-8") if path.exists() else ""
    for o in outcomes:
        new = block(o, where)
        pattern = re.compile(
            rf"<!-- bench:{re.escape(o.name)}:{o.backend} -->.*?"
            rf"<!-- /bench:{re.escape(o.name)}:{o.backend} -->",
            re.S,
        )
        if pattern.search(text):
            text = pattern.sub(lambda _m, new=new: new, text)
        else:
            if HEADING not in text:
                text = text.rstrip("\n") + f"\n\n{HEADING}\n\n"
                text += (
                    "Rewritten by `python -m bench` between the `<!-- bench:… -->` markers; "
                    "the prose above is hand-written. Each block says the machine, the "
                    "load and the exact command.\n"
                )
            text = text.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(text, "utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--pg", default=PG_DEFAULT, help="the PostgreSQL server URL")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="SQLite files")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="seconds each")
    parser.add_argument("--list", action="store_true", help="list the benchmarks")
    parser.add_argument("--ci", action="store_true", help="only those cheap at a tiny size")
    args = parser.parse_args(argv)
    known = {b.name: b for b in BENCHMARKS}
    if args.list:
        for b in BENCHMARKS:
            if b.ci or not args.ci:
                print(f"{b.name}\t{','.join(b.backends)}")
        return 0
    unknown = [n for n in args.only if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(known)})")
    chosen = [known[n] for n in args.only] if args.only else list(BENCHMARKS)
    if args.ci:
        chosen = [b for b in chosen if b.ci]
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    args.data.mkdir(parents=True, exist_ok=True)
    size = Size(args.people, args.data, args.pg.rstrip("/"))
    outcomes = []
    for bench in chosen:
        for backend in backends:
            if backend not in bench.backends:
                continue
            print(f"{bench.name} on {backend} …", flush=True)
            o = run_one(bench, size, backend, args.timeout)
            print(f"  {'agreed' if o.agreed else 'FAILED: ' + o.error} ({o.seconds:.0f} s)")
            outcomes.append(o)
            rewrite(args.results, [o], f"Machine: {machine()}.")
    failed = [o for o in outcomes if not o.agreed]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
