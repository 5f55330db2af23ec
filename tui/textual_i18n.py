"""Textual's own words in the user's language: the command palette's prompt and keys,
the drop-down's "esc Dismiss menu", the system commands (theme, quit, screenshot …).

Textual writes them in English in its classes. The bindings of its widgets are copied
from the class into each instance when the instance is made, so the class's are
replaced by translated copies whenever the language is set (the English originals are
kept, so switching back works); the rest is given by the app (crm_tui.app)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.command import CommandPalette
from textual.widgets._select import SelectOverlay

from crm_core.i18n import N_, _

if TYPE_CHECKING:
    from textual.binding import BindingsMap
    from textual.dom import DOMNode

# Textual's texts, as it writes them: the msgids of our catalogue.
WORDS = (
    N_("Exit the command palette"),
    N_("Dismiss menu"),
    N_("Go to bottom"),
    N_("Go to top"),
    N_("Next command"),
    N_("Next page"),
    N_("Previous page"),
    N_("Previous command"),
)
PALETTE_PLACEHOLDER = N_("Search for commands…")
THEMES_PLACEHOLDER = N_("Search for themes…")

# The Textual classes whose bindings a user can see (in the footer).
CLASSES: tuple[type[DOMNode], ...] = (CommandPalette, SelectOverlay)
_ORIGINAL: dict[type[DOMNode], BindingsMap] = {}


def translate_textual() -> None:
    """Give Textual's widgets made from now on their keys' descriptions in the
    current language."""
    for cls in CLASSES:
        merged = cls._merged_bindings
        if merged is None:
            continue
        original = _ORIGINAL.setdefault(cls, merged.copy())
        fresh = original.copy()
        for key, bindings in fresh.key_to_bindings.items():
            fresh.key_to_bindings[key] = [
                replace(b, description=_(b.description) if b.description else "") for b in bindings
            ]
        cls._merged_bindings = fresh
