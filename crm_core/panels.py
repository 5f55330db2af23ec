"""What plugins add to the screens of the front ends: person-page panels and dashboard cards.

Registered through the ``register_panels`` and ``register_dashboard_cards`` hooks. A
panel or card renders to text or a Rich renderable (``rich`` is a core dependency), never
to a widget of a particular toolkit, so the terminal UI (and any later front end) can show
it without knowing the plugin. A render function that raises is shown as an error in its
own box and reported on the plugins list; the rest of the screen works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crm_core.models import Person
    from crm_core.unit import Unit


@dataclass(frozen=True)
class PanelSpec:
    """A panel on a person's page.

    ``code`` is unique across plugins; ``zh`` and ``en`` are its title. ``render(unit,
    person)`` returns a string (Rich markup allowed) or a Rich renderable, or None to
    show nothing for this person. It runs inside a read-only use of ``unit``: read with
    the services, never write.
    """

    code: str
    zh: str
    en: str
    render: Callable[[Unit, Person], Any]
    order: int = 100
    plugin: str = field(default="", compare=False)

    def label(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class CardSpec:
    """A card on the dashboard (首页).

    Like :class:`PanelSpec`, but ``render(unit)`` receives only the unit: the acting
    account is ``unit.actor`` and today is ``crm_core.clock.today(unit.config.tz)``.
    """

    code: str
    zh: str
    en: str
    render: Callable[[Unit], Any]
    order: int = 100
    plugin: str = field(default="", compare=False)

    def label(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.en if lang == "en" else self.zh
