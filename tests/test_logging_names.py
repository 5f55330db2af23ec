"""One logger hierarchy: every logger of tongxin is named ``tongxin.<area>``, so an office
turns all of them up or down (or sends them to one file) with the single name ``tongxin``."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crm_core", "cli", "tui", "plugins")
# The terminal UI sends every library's records (the root logger's) to its log file, so
# nothing is written over the screen: the one call that names no logger.
ROOT_LOGGER_ALLOWED = {("tui/app.py", "run")}


def _calls() -> list[tuple[str, str, ast.Call]]:
    """Every ``….getLogger(…)`` call: (file, enclosing function or "", the call)."""
    found: list[tuple[str, str, ast.Call]] = []

    def visit(node: ast.AST, rel: str, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = (
                child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func
            )
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "getLogger"
            ):
                found.append((rel, func, child))
            visit(child, rel, inner)

    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            visit(ast.parse(path.read_text(encoding="utf-8")), rel, "")
    return found


def test_every_logger_is_named_tongxin_dot_something() -> None:
    calls = _calls()
    assert len({(r, c.lineno) for r, _n, c in calls}) >= 8  # the scan sees the loggers
    wrong = []
    for rel, func, call in calls:
        if not call.args and not call.keywords:
            if (rel, func) not in ROOT_LOGGER_ALLOWED:
                wrong.append(f"{rel}:{call.lineno}: getLogger() (the root logger)")
            continue
        arg = call.args[0] if call.args else call.keywords[0].value
        if not (
            isinstance(arg, ast.Constant)
            and isinstance(arg.value, str)
            and (arg.value == "tongxin" or arg.value.startswith("tongxin."))
        ):
            wrong.append(f"{rel}:{call.lineno}: getLogger({ast.unparse(arg)})")
    assert not wrong, "loggers outside the tongxin.* hierarchy:\n" + "\n".join(wrong)


def test_the_loggers_of_the_ui_agenda_and_plugins_are_children_of_tongxin() -> None:
    import crm_tui.app

    import crm_core.plugins
    import crm_core.services.agenda

    for module in (crm_tui.app, crm_core.services.agenda, crm_core.plugins):
        assert module.log.name.startswith("tongxin."), module.log.name
        assert logging.getLogger("tongxin") in _ancestors(module.log)


def _ancestors(logger: logging.Logger) -> list[logging.Logger]:
    out = []
    parent = logger.parent
    while parent is not None:
        out.append(parent)
        parent = parent.parent
    return out
