"""``python -m bench`` at a tiny size, as CI runs it so that no benchmark rots: every
benchmark cheap at that size (``--ci``) runs, agrees with its baseline, and gets its
marked block in the results file, whose hand-written prose stays as it was."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROSE = "# Benchmarks\n\nHand-written prose that the command leaves alone.\n"


@pytest.mark.timeout(1800)  # about a minute on 2 idle cores; much longer on a shared machine
def test_python_m_bench_runs_every_benchmark_and_each_agrees(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(PROSE, "utf-8")
    args = ["--people", "100", "--backend", "sqlite", "--ci", "--results", str(results)]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--data", str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = results.read_text("utf-8")
    assert text.startswith(PROSE)
    listed = subprocess.run(
        [sys.executable, "-m", "bench", "--list", "--ci"], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    names = [line.split("\t")[0] for line in listed if "sqlite" in line.split("\t")[1]]
    assert {"core_ops", "reports", "duplicates", "calendar_export"} <= set(names)
    for name in names:
        found = re.search(
            rf"<!-- bench:{name}:sqlite -->(.*?)<!-- /bench:{name}:sqlite -->", text, re.S
        )
        assert found, name
        assert "· agreed" in found.group(1) and "| ---" in found.group(1), found.group(1)
    # A second run rewrites the blocks in place: one of each, prose unchanged.
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            *args,
            "--only",
            "reports",
            "--data",
            str(tmp_path / "data"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    text = results.read_text("utf-8")
    assert text.startswith(PROSE) and text.count("<!-- bench:reports:sqlite -->") == 1
