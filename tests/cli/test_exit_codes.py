"""The exit codes of ``tongxin``: each code documented in docs/cli-json.md is the one a
real command ends with, and the docs list exactly the codes the code uses."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "cli-json.md"


def _documented() -> set[int]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Exit codes / 退出码", 1)[1].split("\n## ", 1)[0]
    english, chinese = section.split("每个", 1)
    codes = {int(c) for c in re.findall(r"^\| (\d+) \|", english, re.M)}
    assert codes == {int(c) for c in re.findall(r"^\| (\d+) \|", chinese, re.M)}
    return codes


def _used() -> set[int]:
    """The codes the CLI can end with: 0, Click's 2 (usage) and 1 (abort), and every
    literal or named code given to typer.Exit, sys.exit or returned by crm_cli.main.run."""
    codes = {0, 1, 2}
    names: dict[str, int] = {}
    for path in [*sorted((ROOT / "cli").glob("*.py")), ROOT / "crm_core" / "extras.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.startswith("EXIT_"):
                        names[target.id] = int(node.value.value)
    for path in sorted((ROOT / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            args: list[ast.expr] = []
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("typer.Exit", "sys.exit"):
                args = [*node.args, *(k.value for k in node.keywords if k.arg == "code")]
            elif isinstance(node, ast.Return) and node.value is not None:
                args = [node.value]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
                    codes.add(arg.value)
                elif isinstance(arg, ast.Name) and arg.id in names:
                    codes.add(names[arg.id])
    return codes


def test_the_docs_list_exactly_the_codes_the_cli_uses() -> None:
    assert _documented() == _used()


def _tongxin(tmp_path: Path, *args: str, block: tuple[str, ...] = ()) -> int:
    env = {**os.environ, "HOME": str(tmp_path), "TONGXIN_DB": str(tmp_path / "t.db")}
    if block:
        shim = tmp_path / "shim"
        shim.mkdir(exist_ok=True)
        (shim / "sitecustomize.py").write_text(
            textwrap.dedent(f"import sys\nfor n in {list(block)!r}:\n    sys.modules[n] = None\n")
        )
        env["PYTHONPATH"] = os.pathsep.join([str(shim), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "crm_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return done.returncode


@pytest.mark.parametrize(
    ("code", "args", "block"),
    [
        (0, ("contacts", "search", "张"), ()),
        (1, ("contacts", "show", "无此人"), ()),
        (2, ("--no-such-option",), ()),
        (2, (), ()),  # bare tongxin, no terminal
        (3, ("web",), ("textual_serve", "textual_serve.server")),
        # the sample roster has three bad cells: those rows are refused, the rest written
        (4, ("import", str(ROOT / "tests" / "data" / "sample-roster.xlsx")), ()),
    ],
)
def test_each_documented_code_is_what_a_real_command_ends_with(
    tmp_path: Path, code: int, args: tuple[str, ...], block: tuple[str, ...]
) -> None:
    assert code in _documented()
    assert _tongxin(tmp_path, *args, block=block) == code


def test_every_documented_code_has_a_command_above() -> None:
    assert _documented() == {0, 1, 2, 3, 4}
