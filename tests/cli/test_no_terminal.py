"""Bare ``tongxin`` with no terminal attached (a pipe, cron, ``tongxin < /dev/null | cat``)
shows the commands and exits 2 instead of starting a UI that waits for keys forever."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_bare_tongxin_without_a_terminal_prints_the_commands_and_exits_2(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TONGXIN_DB": str(tmp_path / "t.db")}
    env.pop("TONGXIN_LANG", None)
    done = subprocess.run(
        [sys.executable, "-m", "crm_cli.main"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=60,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert "用法：tongxin" in done.stdout and "contacts" in done.stdout  # Typer's words too
    assert "终端" in done.stderr  # "the terminal UI needs a terminal" (in Chinese)
