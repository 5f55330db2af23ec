"""In Chinese (the default), no screen of the terminal UI and no `--help` of the CLI
shows English words: Textual's and Typer's own included. Codes (report names, kinds'
codes typed on the command line), names (tongxin, SQLite, CalDAV), placeholders
(FILE, DOCUMENT), options (--from) and units are allowed; an English phrase (two
Latin words in a row), an internal identifier (heart_talks, app.contacts, in_progress)
or one of the known English labels is not."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from crm_cli.main import run
from crm_tui.app import MAIN_SCREENS, TongxinApp

from crm_core.app import Tongxin
from crm_core.i18n import set_language

from .conftest import settle

# Names and codes that stay as they are in a Chinese text.
ALLOWED_PHRASES = re.compile(
    r"tongxin(?: [a-z][a-z-]*)*|textual-serve|Ctrl\+\w+|Radicale \w+|DAVx5?|"
    r"[A-Z]{2,}(?: [A-Z]{2,})*"
)
# What never belongs in the Chinese UI: Textual's and Typer's words, statuses' codes.
FORBIDDEN_WORDS = {
    "open",
    "closed",
    "planned",
    "done",
    "Usage",
    "Options",
    "Commands",
    "Arguments",
    "Dismiss",
    "Search",
    "Show",
    "default",
    "required",
}
# Codes the CLI's help quotes for the user to type: a config key, an example name.
CLI_CODES = {"sync_minutes", "baoying_visits"}
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)*")


def english_in(text: str) -> list[str]:
    """The English words and internal identifiers in ``text`` (see the module)."""
    text = re.sub(r"https?://\S+|\S*/\S*|--?[\w-]+|<[\w ]+>|\S+@\S+|`[^`]*`", " ", text)
    # A code followed by what it means ("open（待办）", "visit (走访)") is explained.
    text = re.sub(r"[A-Za-z_]+ ?[（(](?=[^)）]*[\u4e00-\u9fff])", "（", text)
    text = re.sub(r"\b\w+\.(?:xlsx|xls|ods|csv|ics|toml|db|svg|png|pdf|docx)\b", " ", text)
    text = ALLOWED_PHRASES.sub(" ", text)
    found: list[str] = []
    previous_end, previous = -10, ""
    for match in TOKEN.finditer(text):
        word = match.group()
        if "_" in word or re.fullmatch(r"[a-z]+\.[a-z_.]+", word):
            found.append(word)  # an internal identifier
        elif word in FORBIDDEN_WORDS:
            found.append(word)
        elif (
            text[previous_end : match.start()] == " "
            and len(word) > 1
            and len(previous) > 1
            and not word.isupper()
        ):
            found.append(f"{previous} {word}")  # an English phrase
        previous_end, previous = match.end(), word
    return found


def test_the_detector_finds_what_it_should() -> None:
    assert english_in("Show this message and exit.")
    assert english_in("╭─ Options ─╮") == ["Options"]
    assert english_in("状态 in_progress") == ["in_progress"]
    assert english_in("谈心谈话 heart_talks") == ["heart_talks"]
    assert english_in("键位 app.contacts") == ["app.contacts"]
    assert english_in("esc Dismiss menu")
    assert not english_in("报表：coverage、liaison、visits（--list 列出全部）")
    assert not english_in("用法：tongxin import [选项] FILE.xlsx  数据库（TONGXIN_DB）SQLite")
    assert not english_in("--status open（待办）、in_progress（办理中）；与 `export ics` 同")
    assert english_in("状态：open")
    assert not english_in("第 1 / 6 条  ^f 筛选  f1 帮助  Ctrl+P  <int>  postgresql://x/y")


# -- the CLI ----------------------------------------------------------------------------


def _paths(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, sub in sorted(getattr(group, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            out.extend(_paths(sub, (*prefix, name)))
    return out


def test_every_cli_help_is_in_chinese(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("TONGXIN_DB", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("COLUMNS", "200")  # whole lines: a phrase is not cut by a wrap
    from crm_cli import main as cli_main

    seen: list[Any] = []
    real = typer.main.get_command

    def keep(app: Any) -> Any:
        seen.append(real(app))
        return seen[-1]

    monkeypatch.setattr(cli_main.typer.main, "get_command", keep)
    run(["--help"])
    capsys.readouterr()
    paths = _paths(seen[-1])
    assert len(paths) > 20  # every command and group
    problems = {}
    for path in paths:
        run([*path, "--help"])
        shown = capsys.readouterr().out
        assert "用法" in shown, (path, shown)
        words = [w for w in english_in(shown) if w not in CLI_CODES]
        if words:
            problems[" ".join(path) or "tongxin"] = words
    set_language("zh")
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


# -- the terminal UI --------------------------------------------------------------------


def _screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips(app.size))


async def test_every_screen_is_in_chinese(core: Tongxin) -> None:
    app = TongxinApp(core, actor="office")
    problems = {}
    async with app.run_test(size=(120, 40)) as pilot:
        for name in (*MAIN_SCREENS, "help"):
            if name == "help":
                await pilot.press("f1")
            else:
                app.goto(name)
            await settle(pilot)
            await settle(pilot)
            # A plugin's name is a name (as config and `tongxin plugins` spell it).
            names = {info.name for info in core.plugins.plugins()}
            words = [w for w in english_in(_screen_text(app)) if w not in names]
            if words:
                problems[name] = words
        app.goto("contacts")
        await settle(pilot)
        await pilot.press("ctrl+p")  # Textual's command palette
        await settle(pilot)
        if words := english_in(_screen_text(app)):
            problems["palette"] = words
        await pilot.press("escape", "ctrl+f", "tab")  # a drop-down of the filters, open
        await pilot.press("enter")
        await settle(pilot)
        if words := english_in(_screen_text(app)):
            problems["drop-down"] = words
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


# Click's own error messages (Typer's vendored Click writes them as English f-strings).
WRONG_COMMANDS = (
    ["contacts", "show"],  # Missing argument
    ["contacts", "--bogus"],  # No such option
    ["nosuch"],  # No such command
    ["contacts", "show", "a", "b"],  # unexpected extra argument
    ["report", "visits", "--from"],  # an option without its value
)


def test_typers_own_errors_are_in_chinese(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("TONGXIN_DB", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    problems = {}
    for argv in WRONG_COMMANDS:
        code = run(argv)
        assert code == 2, (argv, code)  # a usage error, as Click reports it
        shown = capsys.readouterr()
        text = shown.out + shown.err
        assert "错误" in text, (argv, text)
        words = [w for w in english_in(text) if w not in CLI_CODES]
        if words or re.search(r"Missing|No such|Invalid value|Got unexpected|Try ", text):
            problems[" ".join(argv)] = (words, text)
    set_language("zh")
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
