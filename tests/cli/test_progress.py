"""Long work shows a progress bar on a terminal (cli/progress.py) and nothing on a pipe:
``tongxin demo`` and ``tongxin report`` run in a pseudo-terminal draw a rich bar on
stderr; run into pipes they print what they always printed, and nothing on stderr."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BAR = "━"  # rich's bar (and its tables' rules: checked only where no table is printed)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "HOME": str(tmp_path), "TONGXIN_LANG": "en", "COLUMNS": "100"}
    env.pop("TONGXIN_DB", None)
    return env


def _in_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``tongxin ARGS`` with stdout and stderr on a pseudo-terminal; its output."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crm_cli.main", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={**env, "TERM": "xterm-256color"},
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _w, _x = select.select([leader], [], [], 240)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def _piped(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_cli.main", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=300,
        text=True,
    )


@pytest.mark.timeout(900)  # four CLI processes, two of them making demo data
def test_demo_and_report_show_a_bar_on_a_terminal_and_nothing_on_a_pipe(
    db_url: str, migrated_templates: dict[str, str], tmp_path: Path
) -> None:
    env = _env(tmp_path)
    piped = _piped(["--db", db_url, "demo", "--contacts", "100"], env)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    lines = piped.stdout.splitlines()
    assert len(lines) == 2 and "\x1b" not in piped.stdout and BAR not in piped.stdout
    assert re.fullmatch(r"Demo data ready: \d+ people, .* assignments\.", lines[0]), lines
    assert lines[1].startswith("Database: ")

    fresh = tmp_path / "fresh.db"
    shutil.copy(migrated_templates["sqlite"], fresh)
    code, shown = _in_a_terminal(["--db", str(fresh), "demo", "--contacts", "100"], env)
    assert code == 0, shown
    assert BAR in shown and "Making demo data" in shown and "%" in shown
    assert "Demo data ready" in shown

    report = ["--db", db_url, "report", "coverage", "--year", "2026"]
    piped = _piped(report, env)
    assert piped.returncode == 0 and piped.stderr == ""
    assert "Running the report" not in piped.stdout and "\x1b" not in piped.stdout
    code, shown = _in_a_terminal(report, env)
    assert code == 0, shown
    assert "Running the report" in shown and "Coverage" in shown  # the bar, then the table
