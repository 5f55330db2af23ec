"""Every hook is documented (docstring and plugin guide) and exercised by a test —
datasette's habit, so the plugin API cannot grow an undocumented corner."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from crm_core import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name
    for name, fn in vars(hookspecs).items()
    if inspect.isfunction(fn) and hasattr(fn, "tongxin_spec")
)


def test_the_hooks_are_found() -> None:
    assert {"register_kinds", "validate_interaction", "collect_follow_ups"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 80, (
        f"{hook} needs a docstring that says when it is called and what it returns"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_in_the_plugin_guide(hook: str) -> None:
    guide = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    assert re.search(rf"^### {hook}\(", guide, re.M), f"docs/plugins.md has no section for {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    # A test implements the hook (def HOOK) or calls it through the host.
    sources = "\n".join(
        p.read_text("utf-8")
        for p in (ROOT / "tests").rglob("test_*.py")
        if p.name != "test_docs.py"
    )
    assert re.search(rf"def {hook}\(|\"{hook}\"", sources), f"no test exercises the hook {hook}"


def _tests_defined_in(paths: list[Path]) -> set[str]:
    """The test functions defined in ``paths``."""
    defined: set[str] = set()
    for path in paths:
        defined |= set(
            re.findall(r"^(?:async )?def (test_[a-z0-9_]+)", path.read_text("utf-8"), re.M)
        )
    return defined


def test_the_security_guide_names_only_tests_that_exist() -> None:
    """docs/security.md proves each promise by naming its tests: every file and test it
    names must exist (a renamed or deleted test would leave a promise unproven)."""
    guide = (ROOT / "docs" / "security.md").read_text("utf-8")
    folder = ROOT / "tests" / "security"
    files = set(re.findall(r"\b(test_[a-z0-9_]+\.py)\b", guide))
    tests = set(re.findall(r"(?<![./\w])(test_[a-z0-9_]+)\b(?!\.py)", guide))
    assert len(files) >= 10 and len(tests) >= 10
    for name in files:
        path = folder / name
        assert path.is_file(), f"docs/security.md names {name}, which is not in tests/security"
    assert sorted(tests - _tests_defined_in(sorted(folder.glob("test_*.py")))) == []
    for item in range(1, 11):
        assert re.search(rf"^{item}\. \*\*", guide, re.M), f"promise {item} is not in the guide"


def test_the_architecture_guide_names_only_tests_that_exist() -> None:
    """docs/ARCHITECTURE.md names the test of each rule as ``tests/FILE.py::test_NAME``:
    each must exist, in both languages (a renamed test would leave a rule unchecked)."""
    guide = (ROOT / "docs" / "ARCHITECTURE.md").read_text("utf-8")
    zh, en = guide.split("\n## English\n")
    named = re.findall(r"(tests/[a-z0-9_/]+\.py)::(test_[a-z0-9_]+)", guide)
    assert len(named) >= 20
    for path, test in sorted(set(named)):
        assert (ROOT / path).is_file(), f"docs/ARCHITECTURE.md names {path}, which does not exist"
        assert test in _tests_defined_in([ROOT / path]), f"{path} has no {test}"
    pattern = r"tests/[a-z0-9_/]+\.py::test_[a-z0-9_]+"
    assert sorted(set(re.findall(pattern, zh))) == sorted(set(re.findall(pattern, en)))
    readme = (ROOT / "README.md").read_text("utf-8")
    assert readme.count("docs/ARCHITECTURE.md") >= 2


# -- the README's quick start installs what it then uses ---------------------------------

# A command (or URL) the README may name, and the extra it needs (crm_core.extras.require).
GATED = {"tongxin web": "web", "sync caldav": "caldav", "postgresql://": "postgres"}


def _extras_within(extra: str) -> set[str]:
    """The extras that bring ``extra`` with them (itself, ``all``, ``test`` …), from
    pyproject.toml."""
    import tomllib

    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras: dict[str, list[str]] = table["project"]["optional-dependencies"]

    def brings(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        out = {name}
        for req in extras.get(name, []):
            if m := re.match(r"tongxin\[([^\]]+)\]", req):
                for inner in m[1].split(","):
                    if inner.strip() not in seen:
                        out |= brings(inner.strip(), seen | {name})
        return out

    return {name for name in extras if extra in brings(name)}


def _usage_sections() -> list[str]:
    """Each language's quick start and everyday use: up to the next ``## `` heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for heading in ("### 快速开始", "### Quick start"):
        start = text.index(heading)
        end = text.find("\n## ", start)
        found.append(text[start : end if end > 0 else len(text)])
    return found


def test_the_quick_start_installs_each_extra_before_naming_its_command() -> None:
    assert _extras_within("web") >= {"web", "all", "test"}
    for section in _usage_sections():
        assert "tongxin web" in section  # the check below has something to check
        installs: list[tuple[int, set[str]]] = [
            (m.start(), set(re.findall(r"\[([a-z,]+)\]", m[0])) | {"plain"})
            for m in re.finditer(r"pip install [^\n`]*", section)
        ]
        for command, extra in GATED.items():
            for hit in re.finditer(re.escape(command), section):
                # [test] brings every extra but is the suite's install, not the user's.
                wanted = _extras_within(extra) - {"test"}
                before = [
                    names
                    for at, names in installs
                    if at < hit.start() and {x for n in names for x in n.split(",")} & wanted
                ]
                context = section[max(0, hit.start() - 80) : hit.end()]
                assert before, (
                    f"README names {command!r} (needs tongxin[{extra}]) before any "
                    f"install line with [{extra}] or [all]: …{context}"
                )


def _api_section() -> str:
    """The section of the plugin guide that lists what a plugin may use."""
    guide = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    start = guide.index("## What a plugin may use")
    return guide[start : guide.index("\n## ", start + 1)]


def test_every_name_of_the_plugin_api_is_documented() -> None:
    """Every public name of crm_core.api and crm_cli.plugin_api (their ``__all__``) is
    named in inline code in the plugin guide's section on what a plugin may use."""
    import crm_cli.plugin_api

    import crm_core.api

    section = _api_section()
    prose = re.sub(r"```.*?```", "", section, flags=re.S)  # the example is not the list
    spans = re.findall(r"`([^`]+)`", prose)  # inline code, as `name(...)` or `list[Name]`
    named = {word for span in spans for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span)}
    missing = sorted(
        name for name in [*crm_core.api.__all__, *crm_cli.plugin_api.__all__] if name not in named
    )
    assert missing == [], f"docs/plugins.md does not document: {missing}"
    assert "crm_core.api" in section and "crm_cli.plugin_api" in section


def test_the_plugin_api_exports_what_it_lists() -> None:
    import crm_cli.plugin_api

    import crm_core.api

    for module in (crm_core.api, crm_cli.plugin_api):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"
