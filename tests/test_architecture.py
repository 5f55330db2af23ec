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

PACKAGES = ("crm_core", "crm_cli", "crm_tui", "crm_plugins", "crm_web_api")
FRONT_ENDS = ("crm_cli", "crm_tui", "crm_web_api")  # crm_web_api: the HTTP API


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


# No circle is left (issue 17: crm_core/demo's stages are typed against demo.state._State).
# A circle that must stay for a while is listed here; the test fails once it is gone.
KNOWN_CYCLES: list[list[str]] = []


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
        if _in(e.source, "crm_core")
        and _in(e.module, "crm_cli", "crm_tui", "crm_plugins", "crm_web_api")
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


# The one door between them, on purpose: bare `tongxin` starts the terminal UI. (A
# plugin's CLI commands reach the CLI through crm_cli.plugin_api only: see
# PLUGIN_API below.)
SIDEWAYS_ALLOWED = {
    "crm_cli.main": ("crm_tui.app",),
}


def test_front_ends_and_plugins_never_import_each_other() -> None:
    _, edges = _edges()
    bad = [
        f"{e.source}:{e.line} imports {e.module}"
        for e in edges
        if (_in(e.source, "crm_cli") and _in(e.module, "crm_tui"))
        or (_in(e.source, "crm_tui") and _in(e.module, "crm_cli"))
        or (_in(e.source, *FRONT_ENDS) and _in(e.module, "crm_plugins"))
        or (
            _in(e.source, "crm_plugins")
            and _in(e.module, *FRONT_ENDS)
            and (e.module, e.name) != (CLI_PLUGIN_API, "")
            and e.module != CLI_PLUGIN_API
        )
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
        m
        for m, targets in graph.items()
        if _in(m, "crm_tui") and "crm_tui.app" in targets and m not in ABOVE_THE_APP
    )
    assert bad == [], f"these modules import crm_tui.app (use crm_tui.ports): {bad}"
    assert not any(graph.get("crm_tui.app", set()) & ABOVE_THE_APP)


# Modules that start the app (nothing in the UI imports them): the plugin test harness.
ABOVE_THE_APP = {"crm_tui.testing"}


# The ground floor the hook specifications may stand on (ARCHITECTURE.md): types, models,
# the unit of work and the protocols of crm_core.ports; never a service, the app, the
# plugin host or authz, not even for type checking.
HOOKSPECS_MAY_REACH = {
    "crm_core.access_models",  # the tables of API tokens and webhooks (models.py imports it)
    "crm_core.calendar_models",
    "crm_core.dedupe_models",
    "crm_core.exchange_models",  # the exchange base tables (issue 19), like dedupe_models
    "crm_core.relation_models",  # relations and tags (issue 18): tables, like dedupe_models
    "crm_core.group_models",
    "crm_core.search_models",  # the substring index's table (issue 16), like dedupe_models
    "crm_core.clock",
    "crm_core.config",
    "crm_core.config_models",  # the config file's pydantic models: types, no services
    "crm_core.vocabulary",  # Term and Vocabulary, split from config (types, no services)
    "crm_core.demo_context",
    "crm_core.errors",
    "crm_core.i18n",
    "crm_core.identity",
    "crm_core.kinds",
    "crm_core.models",
    "crm_core.ports",
    "crm_core.pydantic_messages",
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


# What a plugin may import of tongxin (issue 13): crm_core.api, for its commands
# crm_cli.plugin_api, and its own package; any stdlib or third-party module besides.
# Anything else of crm_core (crm_core.unit, crm_core.models, crm_core.authz, ...) fails
# here: a plugin that needs it means crm_core.api lacks something.
PLUGIN_API = "crm_core.api"
CLI_PLUGIN_API = "crm_cli.plugin_api"
OURS = ("crm_core", "crm_cli", "crm_tui", "crm_plugins", "crm_config")


def _plugin_import_problems(edges: tuple[Edge, ...]) -> list[str]:
    """Every import of a plugin module that reaches tongxin outside the public API
    modules and the plugin's own package."""
    bad = []
    for e in edges:
        if not _in(e.source, "crm_plugins"):
            continue
        own = ".".join(e.source.split(".")[:2])  # crm_plugins.<name>
        allowed = (
            e.module in (PLUGIN_API, CLI_PLUGIN_API)
            or (e.module == "crm_core" and e.name == "api")
            or (e.module == "crm_cli" and e.name == "plugin_api")
            or _in(e.module, own)
            or (e.module == "crm_plugins" and e.source == "crm_plugins")
        )
        if _in(e.module, *OURS) and not allowed:
            what = f"from {e.module} import {e.name}" if e.name else f"import {e.module}"
            bad.append(f"{e.source}:{e.line} {what}")
    return bad


def test_plugins_import_only_the_public_api() -> None:
    _, edges = _edges()
    bad = _plugin_import_problems(edges)
    assert bad == [], (
        f"plugins import tongxin only through {PLUGIN_API} (and {CLI_PLUGIN_API} for their "
        "commands) and their own package (docs/plugins.md):\n" + "\n".join(bad)
    )


def test_the_plugin_rule_catches_a_core_import() -> None:
    """The rule is real: crm_core.unit, a model module, another plugin, the CLI context
    are refused; the API modules, the own package, stdlib and third-party pass."""
    edges = (
        Edge("crm_plugins.visits.hooks", "crm_core.unit", "Unit", 1),
        Edge("crm_plugins.visits.hooks", "crm_core", "authz", 2),
        Edge("crm_plugins.visits.hooks", "crm_core.models", "Person", 3),
        Edge("crm_plugins.visits.hooks", "crm_cli.context", "out", 4),
        Edge("crm_plugins.visits.hooks", "crm_plugins.heart_talks", "HEART_TALK", 5),
        Edge("crm_plugins.visits.hooks", "crm_core.api", "Unit", 6),
        Edge("crm_plugins.visits.hooks", "crm_core", "api", 7),
        Edge("crm_plugins.visits.hooks", "crm_cli.plugin_api", "JsonOpt", 8),
        Edge("crm_plugins.visits.hooks", "crm_plugins.visits.schema", "VISIT", 9),
        Edge("crm_plugins.visits.hooks", "sqlalchemy", "select", 10),
        Edge("crm_plugins.visits.hooks", "datetime", "date", 11),
        Edge("crm_core.reports", "crm_core.unit", "Unit", 12),
    )
    assert [b.split(":")[1].split()[0] for b in _plugin_import_problems(edges)] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]


def test_the_plugin_api_modules_stay_in_their_layers() -> None:
    """crm_core.api is core (it imports no front end: see above); crm_cli.plugin_api
    imports only the CLI's context and options, and the core."""
    _, edges = _edges()
    bad = [
        f"{e.source}:{e.line} imports {e.module}"
        for e in edges
        if e.source == CLI_PLUGIN_API
        and _in(e.module, *OURS)
        and not (
            _in(e.module, "crm_core")
            or e.module in ("crm_cli.context", "crm_cli.options")
            or (e.module == "crm_cli" and e.name == "context")
        )
    ]
    assert bad == [], "\n".join(bad)
