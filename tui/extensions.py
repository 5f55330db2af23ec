"""What plugins add to the screens (person-page panels, dashboard cards, palette
commands), rendered and run safely.

The UI knows no plugin by name: it shows every :class:`~crm_core.panels.PanelSpec`,
:class:`~crm_core.panels.CardSpec` and :class:`~crm_core.panels.PaletteCommandSpec`
registered. A render or run function that raises becomes an error (in its own box, or a
notification), recorded against the plugin (plugins screen); the rest works.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from crm_core.i18n import _, language
from crm_core.panels import CardSpec, OpenTarget, PaletteCommandSpec, PanelSpec
from crm_core.ports import AppPort
from crm_core.unit import Unit


@dataclass
class Rendered:
    """One panel or card, ready to show: a title and a renderable, or an error."""

    code: str
    title: str
    body: Any
    error: str | None = None


def _specs(core: AppPort, hook: str, cls: Any) -> list[Any]:
    specs: dict[str, Any] = {}
    for plugin, spec in core.plugins.collect(hook):
        if not isinstance(spec, cls):
            core.plugins.record_failure(plugin, hook, TypeError(f"not a {cls.__name__}: {spec!r}"))
        elif spec.code in specs:
            core.plugins.record_failure(
                plugin, hook, ValueError(f"{spec.code!r} already registered")
            )
        else:
            specs[spec.code] = replace(spec, plugin=plugin)
    return sorted(specs.values(), key=lambda s: (s.order, s.code))


def panels(core: AppPort) -> list[PanelSpec]:
    """Every person-page panel plugins register, in display order."""
    return _specs(core, "register_panels", PanelSpec)


def cards(core: AppPort) -> list[CardSpec]:
    """Every dashboard card plugins register, in display order."""
    return _specs(core, "register_dashboard_cards", CardSpec)


def _render(core: AppPort, unit: Unit, spec: Any, hook: str, *args: Any) -> Rendered | None:
    title = spec.label(language())
    body: Any = None
    # A savepoint: whatever a misbehaving render function does is undone.
    with core.plugins.isolated(spec.plugin or spec.code, hook) as call, unit.savepoint():
        body = spec.render(unit, *args)
    if (exc := call.error) is not None:
        return Rendered(
            spec.code,
            title,
            None,
            _("This panel failed: {error}").format(error=f"{type(exc).__name__}: {exc}"),
        )
    if body is None:
        return None
    return Rendered(spec.code, title, body)


def render_panels(core: AppPort, unit: Unit, person: Any) -> list[Rendered]:
    """Every panel for ``person``, rendered (failures as errors)."""
    out = []
    for spec in panels(core):
        r = _render(core, unit, spec, "register_panels", person)
        if r is not None:
            out.append(r)
    return out


def render_cards(core: AppPort, unit: Unit) -> list[Rendered]:
    """Every dashboard card, rendered (failures as errors)."""
    out = []
    for spec in cards(core):
        r = _render(core, unit, spec, "register_dashboard_cards")
        if r is not None:
            out.append(r)
    return out


def palette_commands(core: AppPort) -> list[PaletteCommandSpec]:
    """Every command-palette entry plugins register, in order."""
    return _specs(core, "register_palette_commands", PaletteCommandSpec)


@dataclass
class Outcome:
    """What running a palette command gave: something to show (``body``), somewhere to
    go (``target``), nothing (both None), or an ``error`` to tell."""

    title: str
    body: Any = None
    target: OpenTarget | None = None
    error: str | None = None


def _showable(value: Any) -> bool:
    return (
        isinstance(value, str) or hasattr(value, "__rich_console__") or hasattr(value, "__rich__")
    )


def run_command(core: AppPort, unit: Unit, spec: PaletteCommandSpec) -> Outcome:
    """Run a plugin's palette command in ``unit``. What it writes is undone if it raises
    (a savepoint); an exception or a result the UI cannot show is recorded against the
    plugin and returned as an error."""
    hook = "register_palette_commands"
    title = spec.label(language())
    result: Any = None
    # The error is shown by the caller (a notification of its own): not told twice.
    with (
        core.plugins.isolated(spec.plugin or spec.code, hook, tell=False) as call,
        unit.savepoint(),
    ):
        result = spec.run(unit)
        if result is not None and not isinstance(result, OpenTarget) and not _showable(result):
            raise TypeError(
                f"{spec.code}: run() returned {type(result).__name__}; expected None, "
                "a string, a Rich renderable or an OpenTarget"
            )
    if (exc := call.error) is not None:
        return Outcome(
            title,
            error=_("This command failed: {error}").format(error=f"{type(exc).__name__}: {exc}"),
        )
    if isinstance(result, OpenTarget):
        return Outcome(title, target=result)
    return Outcome(title, body=result)
