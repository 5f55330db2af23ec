"""What plugins add to the screens of the front ends: person-page panels, dashboard cards
and command-palette entries.

Registered through the ``register_panels``, ``register_dashboard_cards`` and
``register_palette_commands`` hooks. A panel, card or command's output renders to text or
a Rich renderable (``rich`` is a core dependency), never to a widget of a particular
toolkit, so the terminal UI (and any later front end) can show it without knowing the
plugin. A render function that raises is shown as an error in its own box and reported on
the plugins list; the rest of the screen works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crm_core.kinds import OpenTarget  # defined with Obligation; importable from here too

__all__ = ["CardSpec", "OpenTarget", "PaletteCommandSpec", "PanelSpec"]

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


@dataclass(frozen=True)
class PaletteCommandSpec:
    """An entry of the command palette (Ctrl+P), titled "group: action" ("联谊: 中秋联谊会名单").

    ``code`` is unique across plugins; ``group_zh``/``group_en`` and ``zh``/``en`` make the
    title, ``help_zh``/``help_en`` the line under it. ``run(unit)`` is called when the
    command is chosen, in one unit of work as the acting account, and returns what to
    show: None (a short "done" notice), a string (Rich markup allowed) or a Rich
    renderable (shown in a dialog titled by the command), or an :class:`OpenTarget`. What
    it writes is kept if it returns and undone if it raises; an exception is shown as an
    error and recorded against the plugin.
    """

    code: str
    group_zh: str
    group_en: str
    zh: str
    en: str
    run: Callable[[Unit], Any]
    help_zh: str = ""
    help_en: str = ""
    order: int = 100
    plugin: str = field(default="", compare=False)

    def label(self, lang: str) -> str:
        """The palette title in ``lang``: "group: action"."""
        if lang == "en":
            return f"{self.group_en}: {self.en}"
        return f"{self.group_zh}: {self.zh}"

    def help(self, lang: str) -> str:
        """The line under the title in ``lang``."""
        return self.help_en if lang == "en" else self.help_zh
