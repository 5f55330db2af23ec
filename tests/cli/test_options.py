"""Shared command-line options are declared once (crm_cli.options): ``--json`` and the
others read the same in every command, the plugins' ones included."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest
from crm_cli.main import run

ROOT = Path(__file__).resolve().parents[2]


def _options() -> list[tuple[str, str]]:
    """Every ``typer.Option(...)`` of cli/ and plugins/: (file, its source text)."""
    found = []
    for package in ("cli", "plugins"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "Option"
                    and any(k.arg == "help" for k in node.keywords)
                ):
                    found.append((path.relative_to(ROOT).as_posix(), ast.unparse(node)))
    return found


def test_json_is_declared_once_in_cli_options() -> None:
    places = [f for f, src in _options() if "'--json'" in src]
    assert places == ["cli/options.py"]


def test_no_option_is_declared_twice() -> None:
    counts = Counter(src for _f, src in _options())
    twice = sorted(src for src, n in counts.items() if n > 1)
    assert not twice, "declare these once in cli/options.py:\n" + "\n".join(twice)


def test_every_json_flag_says_where_its_format_is_documented(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "heart_talks")
    # Once "Print JSON." only (db current, plugins, the heart-talks plugin's coverage).
    for args in (["db", "current"], ["plugins"], ["talks", "coverage"], ["report", "run"]):
        code = run(["--db", db_url, "--lang", "en", *args, "--help"])
        out = capsys.readouterr().out
        assert code == 0, (args, out)
        assert "--json" in out and "docs/cli-json.md" in out, (args, out)


def test_from_last_month_first_as_the_help_says(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run(["--db", db_url, "export", "interactions", "-o", str(tmp_path / "i.csv"),
                "--from", "上月1日", "--to", "上月底"])  # fmt: skip
    assert code == 0, capsys.readouterr()  # was: cannot read '上月1日' as a date/time
    assert (tmp_path / "i.csv").exists()


def test_help_shows_no_value_for_a_flag_and_one_value_for_a_repeatable_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Typer 0.29 prints "<bool>" beside a flag (which takes no value) and "<list[str]>"
    # beside a repeatable option (which takes one value each time it is given).
    monkeypatch.setenv("COLUMNS", "200")
    code = run(["--db", str(tmp_path / "t.db"), "contacts", "add", "--help"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "<bool>" not in out and "list[" not in out, out
    tag = next(line for line in out.splitlines() if "--tag " in line)
    assert "<str>…" in tag, tag
    json_line = next(line for line in out.splitlines() if "--json" in line)
    assert "<" not in json_line, json_line
