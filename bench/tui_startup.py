"""Terminal UI benchmark: start-up to a painted dashboard, search latency, peak memory.

    python bench/tui_startup.py                 # 100,000 people, 1,000,000 interactions
    python bench/tui_startup.py --people 10000 --interactions 100000   # a quicker run

The dataset is made once with the demo generator (seed 2019, "today" 2026-11-27) into
``bench/data/tui-{people}-{interactions}.db`` and reused. Every process runs with the
clock frozen at that day (TONGXIN_NOW), so the dashboard shows a real day's work.

Start-up is measured from spawning a fresh Python process to three moments of tongxin —
the shell painted (title, the sections marked "reading…", the footer's keys: what the
app paints before its core is open, crm_tui.shell), the dashboard painted with its
figures (today, follow-ups, the week, the month), and the overdue section filled too —
and to the first paint of a bare Textual app (a Static and a Footer) in the same run;
the median of ``--runs`` of each, and each one's ratio to the bare app.

Search latency is measured inside one app: from a keystroke in the contacts search box
to the table showing the new results (debounce included; 42 keystrokes: median, p95,
max), and the service call alone. Peak memory is the child process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TODAY = date(2026, 11, 27)
NOW = "2026-11-27T02:00:00+00:00"  # 10:00 in Yangzhou
SEED = 2019


def dataset(people: int, interactions: int) -> Path:
    """The benchmark database, made on first use."""
    path = HERE / "data" / f"tui-{people}-{interactions}.db"
    if path.exists():
        return path
    from crm_core.app import Tongxin
    from crm_core.config import load_config
    from crm_core.demo import generate

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.db")
    for leftover in path.parent.glob(tmp.name + "*"):
        leftover.unlink()
    started = time.perf_counter()
    core = Tongxin(load_config(), db_url=str(tmp))
    generate(core, contacts=people, interactions=interactions, seed=SEED, today=TODAY)
    core.close()
    tmp.rename(path)
    print(f"made {path.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


# -- children: one start-up each ----------------------------------------------------------


def _peak_mb() -> float:
    # VmHWM: this process's peak resident set (ru_maxrss can carry the parent's over exec).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _on_frames(on_frame: Callable[[Any, Any], None]) -> None:
    """Call ``on_frame(app, screen)`` each time Textual hands a frame to the terminal.

    Run headless, a frame is composed and handed to ``App._display`` as on a terminal,
    where only the write itself is left out: timing that call times the first paint a
    user would see. Not ``Pilot.pause()``: it waits for the process to go idle (up to a
    second), and the app's boot worker keeps the process busy while the shell is shown.
    """
    from textual.app import App

    real = App._display

    def display(self: Any, screen: Any, renderable: Any) -> None:
        real(self, screen, renderable)
        if renderable is not None and not self._batch_count:
            on_frame(self, screen)

    App._display = display  # type: ignore[method-assign]


def _say(**what: object) -> None:
    print(json.dumps(what), flush=True)


def child_bare() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("hello")
            yield Footer()

    def frame(app: Any, screen: Any) -> None:
        _say(painted=True, peak_mb=_peak_mb())
        app.exit()

    _on_frames(frame)
    Bare().run(headless=True, size=(120, 40))


def child_tongxin(db: str) -> None:
    from crm_tui.app import TongxinApp
    from crm_tui.shell import ShellScreen

    def open_core():  # type: ignore[no-untyped-def]
        # Imported in the app's boot worker, as `tongxin` does (cli/main.py:_open_tui).
        from crm_core.app import Tongxin

        return Tongxin(db_url=db)

    seen: set[str] = set()

    def frame(app: Any, screen: Any) -> None:
        # The first frame of each moment: the shell; the dashboard with its figures;
        # the overdue section filled too (read after the rest).
        if isinstance(screen, ShellScreen):
            moment = "shell"
        elif not getattr(screen, "loaded", False):
            return
        elif not getattr(screen, "complete", False):
            moment = "painted"
        else:
            moment = "complete"
        if moment in seen:
            return
        for earlier in ("shell", "painted")[: ("shell", "painted", "complete").index(moment)]:
            if earlier not in seen:  # reached in the same frame as the next moment
                seen.add(earlier)
                _say(**{earlier: True})
        seen.add(moment)
        if moment == "complete":
            _say(complete=True, peak_mb=_peak_mb())
            app.exit()
        else:
            _say(**{moment: True})

    _on_frames(frame)
    TongxinApp(open_core).run(headless=True, size=(120, 40))


def child_search(db: str) -> None:
    from crm_tui.app import TongxinApp

    from crm_core.app import Tongxin
    from crm_core.services import contacts

    core = Tongxin(db_url=db)
    typed = [
        "z",
        "zh",
        "zha",
        "zhan",
        "zhang",
        "zs",
        "w",
        "wj",
        "张",
        "扬",
        "扬州",
        "1",
        "13",
        "138",
    ]
    results: dict[str, list[float]] = {"keystroke_ms": [], "service_ms": []}

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        screen = app.screen
        box = screen.query_one("#search")
        for text in typed * 3:  # 42 keystrokes, for a p95
            box.value = text[:-1]
            await pilot.pause(0.3)
            await app.workers.wait_for_complete()
            await pilot.pause()
            before = screen.searches
            started = time.perf_counter()
            await pilot.press(text[-1])
            while screen.searches == before:
                await asyncio.sleep(0.001)
            await pilot.pause()  # the table repainted
            results["keystroke_ms"].append((time.perf_counter() - started) * 1000)
        with core.unit() as unit:
            for text in typed:
                started = time.perf_counter()
                contacts.search_people(unit, text, limit=100)
                results["service_ms"].append((time.perf_counter() - started) * 1000)
        print(json.dumps({**results, "peak_mb": _peak_mb()}), flush=True)
        app.exit()

    TongxinApp(core, start="contacts").run(headless=True, size=(120, 40), auto_pilot=run)


# -- the parent -------------------------------------------------------------------------


def _spawn(args: list[str]) -> tuple[float, dict[str, object]]:
    """Run a child; the time to its first JSON line, and its JSON lines merged (with the
    time to each line's first key as ``<key>_s``, to the last as ``last_s``)."""
    env = {**os.environ, "TONGXIN_NOW": NOW}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    first: float | None = None
    last: dict[str, object] = {}
    for line in proc.stdout:
        if line.startswith("{"):
            now = time.perf_counter() - started
            first = now if first is None else first
            got = json.loads(line)
            last = {**last, **got, f"{next(iter(got))}_s": now, "last_s": now}
    proc.wait(timeout=120)
    if first is None:
        raise RuntimeError(f"child {args} exited with {proc.returncode} before painting")
    return first, last


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(values), 1),
        "p95": round(p95, 1),
        "max": round(max(values), 1),
        "n": len(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", choices=["bare", "tongxin", "search"])
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.child == "bare":
        return child_bare()
    if args.child == "tongxin":
        return child_tongxin(args.db)
    if args.child == "search":
        return child_search(args.db)

    db = str(dataset(args.people, args.interactions))
    _spawn(["--child", "tongxin", "--db", db])  # warm the file cache once
    bare, shell, ours, full, bare_mb, ours_mb = [], [], [], [], [], []
    for _ in range(args.runs):  # interleaved, so drift hits both alike
        t, info = _spawn(["--child", "bare"])
        bare.append(t)
        bare_mb.append(float(info["peak_mb"]))  # type: ignore[arg-type]
        t, info = _spawn(["--child", "tongxin", "--db", db])
        shell.append(float(info["shell_s"]))  # type: ignore[arg-type]
        ours.append(float(info["painted_s"]))  # type: ignore[arg-type]
        full.append(float(info["complete_s"]))  # type: ignore[arg-type]
        ours_mb.append(float(info["peak_mb"]))  # type: ignore[arg-type]
    _t, search = _spawn(["--child", "search", "--db", db])
    base = statistics.median(bare)
    report = {
        "people": args.people,
        "interactions": args.interactions,
        "runs": args.runs,
        "bare_textual_startup_s": round(base, 3),
        "tongxin_shell_painted_s": round(statistics.median(shell), 3),
        "shell_ratio": round(statistics.median(shell) / base, 2),
        "tongxin_dashboard_with_figures_s": round(statistics.median(ours), 3),
        "figures_ratio": round(statistics.median(ours) / base, 2),
        "tongxin_dashboard_with_overdue_s": round(statistics.median(full), 3),
        "overdue_ratio": round(statistics.median(full) / base, 2),
        "search_keystroke_to_results_ms": _ms(search["keystroke_ms"]),  # type: ignore[arg-type]
        "search_service_ms": _ms(search["service_ms"]),  # type: ignore[arg-type]
        "peak_rss_mb": {
            "bare": round(statistics.median(bare_mb), 1),
            "tongxin_dashboard": round(statistics.median(ours_mb), 1),
            "tongxin_search": round(float(search["peak_mb"]), 1),  # type: ignore[arg-type]
        },
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
