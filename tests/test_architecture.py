"""The layer rules of docs/ARCHITECTURE.md, checked over the installed packages.

The import graph is read from the source with :mod:`ast` (every ``import``, including
those inside functions and ``if TYPE_CHECKING:`` blocks), so a circle that only a type
checker sees is a circle too; cycles are the strongly connected components (Tarjan).
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGES = ("crm_core", "crm_cli", "crm_tui", "crm_plugins")
FRONT_ENDS = ("crm_cli", "crm_tui")


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``name`` from ``module`` (``name`` "" for ``import module``)."""

    source: str
    module: str
    name: str
    line: int


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in root.rglob("*.py"):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


@cache
def _edges() -> tuple[dict[str, Path], tuple[Edge, ...]]:
    modules = _modules()
    edges: list[Edge] = []
    for source, path in modules.items():
        package = source.split(".") if path.name == "__init__.py" else source.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                edges += [Edge(source, a.name, "", node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                edges += [Edge(source, module, a.name, node.lineno) for a in node.names]
    return modules, tuple(edges)


def _target(edge: Edge, modules: dict[str, Path]) -> str | None:
    """The module of ours an import reaches (a submodule when the name is one)."""
    name = f"{edge.module}.{edge.name}" if edge.name else edge.module
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in modules else None


def _graph() -> dict[str, set[str]]:
    modules, edges = _edges()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        target = _target(edge, modules)
        if target is not None and target != edge.source:
            graph[edge.source].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def enter(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in sorted(graph):
        if root in index:
            continue
        enter(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    enter(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def _closure(start: str, graph: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _in(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_graph_is_read_from_the_installed_packages() -> None:
    graph = _graph()
    assert {"crm_core.hookspecs", "crm_cli.main", "crm_tui.app", "crm_plugins.visits"} <= set(graph)
    # Imports inside functions and TYPE_CHECKING blocks count too.
    assert "crm_tui.screens.person_edit" in graph["crm_tui.screens.person"]
    assert "crm_core.unit" in graph["crm_core.hookspecs"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


# The one circle left on 2026-12-07, for type checking only: people.py and writer.py
# annotate with generator._Generator, which imports them. crm_core/demo is being split
# (issue 17, helper "split"): when the circle is broken this list must be emptied (the
# test fails while it names a circle that is gone), and no other circle may appear.
KNOWN_CYCLES = [["crm_core.demo.generator", "crm_core.demo.people", "crm_core.demo.writer"]]


def test_no_import_cycle() -> None:
    cycles = _cycles(_graph())
    new = [c for c in cycles if c not in KNOWN_CYCLES]
    assert new == [], (
        "import cycles (TYPE_CHECKING and function-level imports count):\n"
        + "\n".join(" ↔ ".join(c) for c in new)
    )
    gone = [c for c in KNOWN_CYCLES if c not in cycles]
    assert gone == [], f"these circles are broken: remove them from KNOWN_CYCLES: {gone}"


def test_the_core_never_imports_a_front_end_or_a_plugin() -> None:
    _, edges = _edges()
    bad = [
        f"{e.source}:{e.line} imports {e.module}"
        for e in edges
        if _in(e.source, "crm_core") and _in(e.module, "crm_cli", "crm_tui", "crm_plugins")
    ]
    assert bad == [], "crm_core knows nothing of front ends or plugins:\n" + "\n".join(bad)


# What a front end may take from sqlalchemy: the exception classes it turns into messages.
FRONT_END_SQL_ALLOWED = {
    ("sqlalchemy.exc", "OperationalError"),
    ("sqlalchemy.exc", "SQLAlchemyError"),
}
QUERY_HELPERS = {"select", "col", "func", "or_", "and_", "text", "update", "delete", "insert"}


def test_front_ends_write_no_sql() -> None:
    """crm_cli and crm_tui call crm_core services; they never build a query (sqlalchemy,
    sqlmodel, or query helpers re-exported by crm_core such as ``select``)."""
    _, edges = _edges()
    bad = [
        f"{e.source}:{e.line} imports {e.module} {e.name}".rstrip()
        for e in edges
        if _in(e.source, *FRONT_ENDS)
        and (
            (
                _in(e.module, "sqlalchemy", "sqlmodel")
                and (e.module, e.name) not in FRONT_END_SQL_ALLOWED
            )
            or (_in(e.module, "crm_core") and e.name in QUERY_HELPERS)
        )
    ]
    assert bad == [], "front ends call services, never SQL:\n" + "\n".join(bad)


# The two doors between them, each on purpose: bare `tongxin` starts the terminal UI, and
# a plugin's CLI commands (hook register_cli) print through the CLI's context helpers
# (issue 13 decides whether these move to crm_core.api).
SIDEWAYS_ALLOWED = {
    "crm_cli.main": ("crm_tui.app",),
    "crm_plugins.heart_talks.cli": ("crm_cli.context", "crm_cli.options"),
    "crm_plugins.union_liaison.cli": ("crm_cli.context", "crm_cli.options"),
}


def test_front_ends_and_plugins_never_import_each_other() -> None:
    _, edges = _edges()
    bad = [
        f"{e.source}:{e.line} imports {e.module}"
        for e in edges
        if (_in(e.source, "crm_cli") and _in(e.module, "crm_tui"))
        or (_in(e.source, "crm_tui") and _in(e.module, "crm_cli"))
        or (_in(e.source, *FRONT_ENDS) and _in(e.module, "crm_plugins"))
        or (_in(e.source, "crm_plugins") and _in(e.module, *FRONT_ENDS))
    ]
    bad = [
        b for b in bad if b.split(" imports ")[1] not in SIDEWAYS_ALLOWED.get(b.split(":")[0], ())
    ]
    assert bad == [], "cli, tui and plugins stand side by side above crm_core:\n" + "\n".join(bad)


def test_no_screen_imports_the_app() -> None:
    """crm_tui.app imports the screens and the palette; they know the app only through
    crm_tui.ports, so the dependency points one way."""
    graph = _graph()
    bad = sorted(
        m for m, targets in graph.items() if _in(m, "crm_tui") and "crm_tui.app" in targets
    )
    assert bad == [], f"these modules import crm_tui.app (use crm_tui.ports): {bad}"


# The ground floor the hook specifications may stand on (ARCHITECTURE.md): types, models,
# the unit of work and the protocols of crm_core.ports; never a service, the app, the
# plugin host or authz, not even for type checking.
HOOKSPECS_MAY_REACH = {
    "crm_core.calendar_models",
    "crm_core.clock",
    "crm_core.config",
    "crm_core.demo_context",
    "crm_core.errors",
    "crm_core.i18n",
    "crm_core.identity",
    "crm_core.kinds",
    "crm_core.models",
    "crm_core.ports",
    "crm_core.types",
    "crm_core.unit",
    "crm_core.validation",
}
HOOKSPECS_EXTERNAL = {"__future__", "collections.abc", "datetime", "typing", "pluggy"}


def test_hookspecs_depend_only_on_types() -> None:
    reach = _closure("crm_core.hookspecs", _graph())
    assert reach - HOOKSPECS_MAY_REACH == set(), (
        "crm_core.hookspecs reaches (directly or through its imports) "
        f"{sorted(reach - HOOKSPECS_MAY_REACH)}: the hook specifications depend on types only"
    )
    _, edges = _edges()
    external = {
        e.module
        for e in edges
        if e.source == "crm_core.hookspecs" and not _in(e.module, "crm_core")
    }
    assert external <= HOOKSPECS_EXTERNAL, (
        f"hookspecs imports {sorted(external - HOOKSPECS_EXTERNAL)}"
    )


# Everything the built-in plugins import from crm_core today (issue 13 decides which of
# these become crm_core.api): a new import, above all of a private name, fails here and
# is added on purpose, or the hook set is missing something.
PLUGINS_MAY_IMPORT = {
    ("crm_core", ""),
    ("crm_core", "authz"),
    ("crm_core", "clock"),
    ("crm_core", "hookimpl"),
    ("crm_core", "lunar"),
    ("crm_core.calendar.series", "may_write_series"),
    ("crm_core.demo_context", "DemoContext"),
    ("crm_core.errors", "Ambiguous"),
    ("crm_core.errors", "FieldError"),
    ("crm_core.errors", "NotFound"),
    ("crm_core.errors", "ValidationError"),
    ("crm_core.i18n", "N_"),
    ("crm_core.i18n", "_"),
    ("crm_core.i18n", "language"),
    ("crm_core.kinds", "FollowUpDraft"),
    ("crm_core.kinds", "KindSpec"),
    ("crm_core.kinds", "Obligation"),
    ("crm_core.models", "Account"),
    ("crm_core.models", "FollowUp"),
    ("crm_core.models", "Interaction"),
    ("crm_core.models", "InteractionParticipant"),
    ("crm_core.models", "InteractionStatus"),
    ("crm_core.models", "Membership"),
    ("crm_core.models", "Organisation"),
    ("crm_core.models", "Person"),
    ("crm_core.models", "PersonCategory"),
    ("crm_core.models", "PersonCommittee"),
    ("crm_core.models", "PersonStatus"),
    ("crm_core.models", "Role"),
    ("crm_core.models", "Rsvp"),
    ("crm_core.models", "Series"),
    ("crm_core.panels", "OpenTarget"),
    ("crm_core.panels", "PaletteCommandSpec"),
    ("crm_core.reports", "Column"),
    ("crm_core.reports", "Period"),
    ("crm_core.reports", "ReportSpec"),
    ("crm_core.reports", "ReportTable"),
    ("crm_core.reports", "Section"),
    ("crm_core.reports", "share"),
    ("crm_core.services", "contacts"),
    ("crm_core.services", "followups"),
    ("crm_core.services", "interactions"),
    ("crm_core.services", "organisations"),
    ("crm_core.services.contacts", "describe"),
    ("crm_core.services.interactions", "Participant"),
    ("crm_core.services.interactions", "Participation"),
    ("crm_core.services.interactions", "participants_of"),
    ("crm_core.unit", "Unit"),
}


def test_plugins_import_only_public_core_names() -> None:
    _, edges = _edges()
    used = {
        (e.module, e.name)
        for e in edges
        if _in(e.source, "crm_plugins") and _in(e.module, "crm_core")
    }
    private = sorted(f"{m}.{n}" for m, n in used if (n.startswith("_") and n != "_") or "._" in m)
    assert private == [], f"plugins import private names of crm_core: {private}"
    new = sorted(
        f"from {m} import {n}" if n else f"import {m}" for m, n in used - PLUGINS_MAY_IMPORT
    )
    assert new == [], (
        "plugins import crm_core names not on the public list (issue 13; add one to "
        "PLUGINS_MAY_IMPORT only if it is meant to be public):\n" + "\n".join(new)
    )
