"""What plugins add to the screens (person-page panels, dashboard cards), rendered safely.

The UI knows no plugin by name: it shows every :class:`~crm_core.panels.PanelSpec` and
:class:`~crm_core.panels.CardSpec` registered. A render function that raises becomes an
error line in its own box, recorded against the plugin (plugins screen); the rest works.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from crm_core.app import Tongxin
from crm_core.i18n import _, language
from crm_core.panels import CardSpec, PanelSpec
from crm_core.unit import Unit


@dataclass
class Rendered:
    """One panel or card, ready to show: a title and a renderable, or an error."""

    code: str
    title: str
    body: Any
    error: str | None = None


def _specs(core: Tongxin, hook: str, cls: type) -> list[Any]:
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


def panels(core: Tongxin) -> list[PanelSpec]:
    """Every person-page panel plugins register, in display order."""
    return _specs(core, "register_panels", PanelSpec)


def cards(core: Tongxin) -> list[CardSpec]:
    """Every dashboard card plugins register, in display order."""
    return _specs(core, "register_dashboard_cards", CardSpec)


def _render(core: Tongxin, unit: Unit, spec: Any, hook: str, *args: Any) -> Rendered | None:
    title = spec.label(language())
    try:
        # A savepoint: whatever a misbehaving render function does is undone.
        with unit.savepoint():
            body = spec.render(unit, *args)
    except Exception as exc:
        core.plugins.record_failure(spec.plugin or spec.code, hook, exc)
        return Rendered(
            spec.code,
            title,
            None,
            _("This panel failed: {error}").format(error=f"{type(exc).__name__}: {exc}"),
        )
    if body is None:
        return None
    return Rendered(spec.code, title, body)


def render_panels(core: Tongxin, unit: Unit, person: Any) -> list[Rendered]:
    """Every panel for ``person``, rendered (failures as errors)."""
    out = []
    for spec in panels(core):
        r = _render(core, unit, spec, "register_panels", person)
        if r is not None:
            out.append(r)
    return out


def render_cards(core: Tongxin, unit: Unit) -> list[Rendered]:
    """Every dashboard card, rendered (failures as errors)."""
    out = []
    for spec in cards(core):
        r = _render(core, unit, spec, "register_dashboard_cards")
        if r is not None:
            out.append(r)
    return out
